#include "benchmarks/driver/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "benchmarks/driver/description.h"
#include "benchmarks/driver/units.h"

namespace bench {

RunJournal::RunJournal(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw UsageError("cannot create the run's journal " + path_ + ": " + std::strerror(errno));
}

RunJournal::~RunJournal() {
  if (fd_ >= 0) ::close(fd_);
  ::unlink(path_.c_str());
}

void RunJournal::line(const nlohmann::json& value) {
  // One write a line (O_APPEND): a kill can cut only the line being written.
  const std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  const char* at = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, at, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a full disk: the JSON at the end still holds everything
    at += n;
    left -= static_cast<std::size_t>(n);
  }
}

void RunJournal::header(const nlohmann::json& context, const nlohmann::json& suite) {
  line({{"journal", 1}, {"context", context}, {"suite", suite}});
}

void RunJournal::row(const InstanceSpec& spec, int repetition, int repetitions, const InstanceResult& result) {
  line({{"benchmark", benchmark_entry(spec, repetition, repetitions, result)},
        {"suite", RunDescription::result_part(spec, repetition, result)}});
}

nlohmann::json benchmark_entry(const InstanceSpec& spec, int repetition, int repetitions, const InstanceResult& result) {
  nlohmann::json entry = {{"name", spec.name},
                          {"run_name", spec.name},
                          {"run_type", "iteration"},
                          {"repetitions", repetitions},
                          {"repetition_index", repetition},
                          {"threads", 1},
                          {"iterations", 1},
                          {"real_time", result.ok ? result.measured_seconds * 1e3 : 0.0},
                          {"cpu_time", 0.0},
                          {"time_unit", "ms"}};
  if (!result.ok) {
    entry["error_occurred"] = true;
    entry["error_message"] = result.error;
    return entry;
  }
  entry["label"] = result.label;
  for (const CounterValue& counter : result.counters) entry[counter.name] = counter.value;
  return entry;
}

}  // namespace bench
