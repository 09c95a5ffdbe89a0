#include "benchmarks/protocol/program_protocol.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace bench {

bool valid_report_name(std::string_view name) {
  if (name.empty() || name.size() > 48 || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

std::vector<ProgramMessage> ProgramReportReader::consume(std::string_view bytes, std::int64_t now_ns) {
  std::vector<ProgramMessage> messages;
  if (over_) return messages;
  pending_.append(bytes);
  std::size_t start = 0;
  for (std::size_t newline; (newline = pending_.find('\n', start)) != std::string::npos; start = newline + 1) {
    if (newline - start > kMaxLine) {  // whole, but too long: the same error as one still arriving
      messages.push_back({ProgramMessage::Kind::malformed, pending_.substr(start, 80) + "... (a line longer than 4096 bytes)"});
      continue;
    }
    ProgramMessage message = parse_line(std::string_view(pending_).substr(start, newline - start));
    if (std::string broken = limit_broken(message, now_ns); !broken.empty()) {
      messages.push_back({ProgramMessage::Kind::over_limit, std::move(broken)});
      over_ = true;
      pending_.clear();
      return messages;
    }
    messages.push_back(std::move(message));
  }
  pending_.erase(0, start);
  if (pending_.size() > kMaxLine) {
    messages.push_back({ProgramMessage::Kind::malformed, pending_.substr(0, 80) + "... (a line longer than 4096 bytes)"});
    pending_.clear();
  }
  return messages;
}

std::string ProgramReportReader::limit_broken(const ProgramMessage& message, std::int64_t now_ns) {
  // The oldest of the last kMax + 1 messages, this one included, must lie a whole window back.
  recent_.push_back(now_ns);
  if (recent_.size() > kMaxProgramMessagesPerWindow) {
    const std::int64_t oldest = recent_.front();
    recent_.pop_front();
    if (now_ns - oldest < kProgramMessageWindowNs)
      return "the program sent more than " + std::to_string(kMaxProgramMessagesPerWindow) +
             " report messages within one second, the protocol's bound (protocol/program_protocol.h)";
  }
  if (message.kind == ProgramMessage::Kind::phase && ++phases_ > kMaxProgramPhases)
    return "the program reported more than " + std::to_string(kMaxProgramPhases) +
           " phases, the protocol's bound (protocol/program_protocol.h)";
  if (message.kind == ProgramMessage::Kind::counter && counters_.insert(message.counter->name).second &&
      counters_.size() > kMaxProgramCounters)
    return "the program reported more than " + std::to_string(kMaxProgramCounters) +
           " distinct counters, the protocol's bound (protocol/program_protocol.h)";
  return {};
}

ProgramMessage ProgramReportReader::parse_line(std::string_view line) const {
  const ProgramMessage malformed{ProgramMessage::Kind::malformed, std::string(line)};
  const std::size_t space = line.find(' ');
  const std::string_view verb = line.substr(0, space);
  const std::string_view rest = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  if (verb == "phase") return valid_report_name(rest) ? ProgramMessage{ProgramMessage::Kind::phase, std::string(rest)} : malformed;
  if (verb == "error") return {ProgramMessage::Kind::error, rest.empty() ? std::string("(no text)") : std::string(rest)};
  if (verb == "counter") {
    const std::size_t first = rest.find(' ');
    const std::size_t second = first == std::string_view::npos ? first : rest.find(' ', first + 1);
    if (second == std::string_view::npos) return malformed;
    const std::optional<Unit> unit = unit_from_name(rest.substr(0, first));
    const std::string_view name = rest.substr(first + 1, second - first - 1);
    const std::string value_text(rest.substr(second + 1));
    char* end = nullptr;
    errno = 0;
    const double value = std::strtod(value_text.c_str(), &end);
    if (!unit || !valid_report_name(name) || value_text.empty() || end != value_text.c_str() + value_text.size() || errno != 0 ||
        !std::isfinite(value))
      return malformed;
    return {ProgramMessage::Kind::counter, std::string(name), CounterValue{std::string(name), value, *unit}};
  }
  return malformed;
}

}  // namespace bench
