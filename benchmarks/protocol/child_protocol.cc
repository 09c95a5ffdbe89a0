#include "benchmarks/protocol/child_protocol.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace bench {
namespace {

constexpr std::string_view kSizeFlag = "--size=";
constexpr std::string_view kSettleFlag = "--settle-ns=";
constexpr std::string_view kRoundsFlag = "--rounds=";
constexpr std::string_view kPauseFlag = "--pause-ns=";
constexpr std::string_view kLatencyFlag = "--latency=";
constexpr std::string_view kActivityFlag = "--activity=";
constexpr std::string_view kActivityPeriodFlag = "--activity-period-ns=";
constexpr std::string_view kReplayFlag = "--replay=";
constexpr std::string_view kReplayTimingFlag = "--replay-timing=";
constexpr std::string_view kReplayFillFlag = "--replay-fill=";
constexpr std::string_view kReplayFreePhaseFlag = "--replay-free-phase=";

std::uint64_t whole_number(std::string_view flag, std::string_view text) {
  std::uint64_t value = 0;
  if (text.empty()) throw std::runtime_error("child argument " + std::string(flag) + " is empty");
  for (char c : text) {
    if (c < '0' || c > '9') throw std::runtime_error("child argument " + std::string(flag) + std::string(text) + " is not a whole number");
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

// Parses a double written by %.17g; false if the text is not exactly one number.
bool parse_double(std::string_view text, double* out) {
  const std::string copy(text);
  char* end = nullptr;
  errno = 0;
  *out = std::strtod(copy.c_str(), &end);
  return !copy.empty() && end == copy.c_str() + copy.size() && errno == 0;
}

}  // namespace

std::vector<std::string> ChildArguments::encode() const {
  std::vector<std::string> encoded = {kChildFlag,
                                      workload,
                                      configuration,
                                      std::string(kSizeFlag) + std::to_string(size),
                                      std::string(kSettleFlag) + std::to_string(settle.count()),
                                      std::string(kRoundsFlag) + std::to_string(rounds),
                                      std::string(kPauseFlag) + std::to_string(pause.count()),
                                      std::string(kLatencyFlag) + (time_operations ? "1" : "0"),
                                      std::string(kActivityFlag) + activity,
                                      std::string(kActivityPeriodFlag) + std::to_string(activity_period.count())};
  if (!replay.empty())
    for (std::string flag : {std::string(kReplayFlag) + replay, std::string(kReplayTimingFlag) + replay_timing,
                             std::string(kReplayFillFlag) + replay_fill, std::string(kReplayFreePhaseFlag) + replay_free_phase})
      encoded.push_back(std::move(flag));
  return encoded;
}

ChildArguments ChildArguments::decode(int argc, char** argv) {
  if (argc < 4 || std::string_view(argv[1]) != kChildFlag)
    throw std::runtime_error("child expects: --child <workload> <configuration> --size=N --settle-ns=NS --rounds=R --pause-ns=NS");
  ChildArguments arguments;
  arguments.workload = argv[2];
  arguments.configuration = argv[3];
  bool have_size = false, have_settle = false;
  for (int i = 4; i < argc; ++i) {
    const std::string_view argument = argv[i];
    auto value_of = [&](std::string_view flag) { return argument.substr(flag.size()); };
    if (argument.starts_with(kSizeFlag)) {
      arguments.size = whole_number(kSizeFlag, value_of(kSizeFlag));
      have_size = true;
    } else if (argument.starts_with(kSettleFlag)) {
      arguments.settle = std::chrono::nanoseconds(static_cast<std::int64_t>(whole_number(kSettleFlag, value_of(kSettleFlag))));
      have_settle = true;
    } else if (argument.starts_with(kRoundsFlag)) {
      arguments.rounds = static_cast<int>(whole_number(kRoundsFlag, value_of(kRoundsFlag)));
    } else if (argument.starts_with(kPauseFlag)) {
      arguments.pause = std::chrono::nanoseconds(static_cast<std::int64_t>(whole_number(kPauseFlag, value_of(kPauseFlag))));
    } else if (argument.starts_with(kActivityFlag)) {
      arguments.activity = std::string(value_of(kActivityFlag));
    } else if (argument.starts_with(kActivityPeriodFlag)) {
      arguments.activity_period =
          std::chrono::nanoseconds(static_cast<std::int64_t>(whole_number(kActivityPeriodFlag, value_of(kActivityPeriodFlag))));
    } else if (argument.starts_with(kReplayFlag)) {
      arguments.replay = std::string(value_of(kReplayFlag));
    } else if (argument.starts_with(kReplayTimingFlag)) {
      arguments.replay_timing = std::string(value_of(kReplayTimingFlag));
    } else if (argument.starts_with(kReplayFreePhaseFlag)) {
      arguments.replay_free_phase = std::string(value_of(kReplayFreePhaseFlag));
    } else if (argument.starts_with(kReplayFillFlag)) {
      arguments.replay_fill = std::string(value_of(kReplayFillFlag));
    } else if (argument.starts_with(kLatencyFlag)) {
      arguments.time_operations = whole_number(kLatencyFlag, value_of(kLatencyFlag)) != 0;
    } else {
      throw std::runtime_error("unknown child argument " + std::string(argument));
    }
  }
  if (!have_size || !have_settle) throw std::runtime_error("child arguments lack --size= or --settle-ns=");
  return arguments;
}

bool is_child_invocation(int argc, char** argv) { return argc > 1 && std::string_view(argv[1]) == kChildFlag; }

void ChildReport::line(std::string_view verb, std::string_view text) {
  char buffer[kMaxLine];
  int n = std::snprintf(buffer, sizeof buffer, "%.*s%s%.*s\n", static_cast<int>(verb.size()), verb.data(), text.empty() ? "" : " ",
                        static_cast<int>(text.size()), text.data());
  if (n < 0) return;
  if (static_cast<std::size_t>(n) >= sizeof buffer) {  // cut, keeping the newline
    n = static_cast<int>(sizeof buffer);
    buffer[n - 1] = '\n';
  }
  for (const char* p = buffer; n > 0;) {
    const ssize_t written = ::write(fd_, p, static_cast<std::size_t>(n));
    if (written <= 0) return;  // the parent is gone; nothing useful left to do
    p += written;
    n -= static_cast<int>(written);
  }
}

void ChildReport::ready(std::int64_t ns) {
  char text[32];
  std::snprintf(text, sizeof text, "%lld", static_cast<long long>(ns));
  line("ready", text);
}

void ChildReport::label(std::string_view text) { line("label", text); }

void ChildReport::counter(std::string_view name, double value, Unit unit) {
  char text[256];
  const std::string_view unit_word = unit_name(unit);
  std::snprintf(text, sizeof text, "%.*s %.*s %.17g", static_cast<int>(unit_word.size()), unit_word.data(), static_cast<int>(name.size()),
                name.data(), value);
  line("counter", text);
}

void ChildReport::time(double seconds) {
  char text[64];
  std::snprintf(text, sizeof text, "%.17g", seconds);
  line("time", text);
}

void ChildReport::settling() { line("settling", {}); }

void ChildReport::sample(double seconds, double rss_bytes) {
  char text[96];
  std::snprintf(text, sizeof text, "%.17g %.17g", seconds, rss_bytes);
  line("sample", text);
}

void ChildReport::error(std::string_view text) {
  char clean[2048];  // one line per message: newlines inside would split it
  std::size_t n = 0;
  for (char c : text) {
    if (n + 1 >= sizeof clean) break;
    clean[n++] = (c == '\n' || c == '\r') ? ' ' : c;
  }
  line("error", std::string_view(clean, n));
}

void ChildReport::done() { line("done", {}); }

void ChildReportReader::consume(std::string_view bytes) {
  pending_.append(bytes);
  std::size_t newline;
  while ((newline = pending_.find('\n')) != std::string::npos) {
    parse_line(std::string_view(pending_).substr(0, newline));
    pending_.erase(0, newline + 1);
  }
}

void ChildReportReader::parse_line(std::string_view line) {
  const std::size_t space = line.find(' ');
  const std::string_view verb = line.substr(0, space);
  const std::string_view rest = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  ChildMessages& m = messages_;
  auto malformed = [&] { m.malformed.emplace_back(line); };
  if (verb == "counter") {
    const std::size_t first = rest.find(' '), last = rest.rfind(' ');
    double value = 0;
    const std::optional<Unit> unit = first == std::string_view::npos ? std::nullopt : unit_from_name(rest.substr(0, first));
    if (!unit || first == last || !parse_double(rest.substr(last + 1), &value)) return malformed();
    m.counters.push_back({std::string(rest.substr(first + 1, last - first - 1)), value, *unit});
  } else if (verb == "sample") {
    const std::size_t split = rest.find(' ');
    TimelineSample sample{};
    if (split == std::string_view::npos || !parse_double(rest.substr(0, split), &sample.seconds) ||
        !parse_double(rest.substr(split + 1), &sample.rss_bytes))
      return malformed();
    m.samples.push_back(sample);
  } else if (verb == "ready") {
    const std::string text(rest);
    char* end = nullptr;
    const long long ns = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || end != text.c_str() + text.size()) return malformed();
    m.ready_ns = ns;
  } else if (verb == "label") {
    m.label = std::string(rest);
  } else if (verb == "time") {
    double seconds = 0;
    if (!parse_double(rest, &seconds)) return malformed();
    m.time = seconds;
  } else if (verb == "settling") {
    m.settling = true;
  } else if (verb == "error") {
    m.error = std::string(rest);
  } else if (verb == "done") {
    m.done = true;
  } else {
    malformed();
  }
}

}  // namespace bench
