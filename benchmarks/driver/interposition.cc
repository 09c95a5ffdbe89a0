#include "benchmarks/driver/interposition.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "benchmarks/trace/analysis.h"
#include "benchmarks/trace/reader.h"

namespace bench {
namespace {

// A new folder in /tmp; with `in_memory`, in /dev/shm when there is one (the rings are memory both
// the recorded process and the writer map: tmpfs keeps them off the disk).
std::string temporary_directory(const char* prefix, bool in_memory = false) {
  for (const char* base : {"/dev/shm", "/tmp"}) {
    if (!in_memory && std::string_view(base) == "/dev/shm") continue;
    std::string pattern = std::string(base) + "/" + prefix + "-XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) return pattern;
  }
  throw std::runtime_error(std::string("mkdtemp (") + prefix + "): " + std::strerror(errno));
}

}  // namespace

Interposition::Interposition(InterpositionOptions options) : options_(std::move(options)) {
  if (options_.heap_map) {
    heap_map_directory_ = temporary_directory("bench-heapmap");
    environment_.push_back("BENCH_HEAPMAP_DIR=" + heap_map_directory_);
    if (options_.program) {  // each process listens for its phases' snapshots and takes one at its exit
      environment_.push_back("BENCH_HEAPMAP_LISTEN=1");
      environment_.push_back("BENCH_HEAPMAP_AT_EXIT=1");
    }
    forward_directory_ = heap_map_directory_;
  }
  if (options_.record) {
    ring_directory_ = temporary_directory("bench-ring", true);
    std::error_code error;
    if (!std::filesystem::create_directories(options_.row_directory, error) || error)
      throw std::runtime_error("cannot create the trace folder " + options_.row_directory +
                               (error ? ": " + error.message() : std::string(": it exists already")));
    environment_.push_back("BENCH_RECORD_DIR=" + ring_directory_);
    if (options_.program) environment_.push_back("BENCH_RECORD_AT_EXIT=1");  // each process's last moment, its exit
    if (forward_directory_.empty()) forward_directory_ = ring_directory_;
    writer_ = std::make_unique<trace::TraceWriter>(ring_directory_, options_.row_directory, options_.settings.residency_every);
  }
  if (!forward_directory_.empty()) {
    environment_.push_back("BENCH_INTERPOSER_DIR=" + forward_directory_);
    environment_.push_back("BENCH_RECORD_UNWIND=" + options_.settings.unwind);
    if (options_.settings.check_unwind) environment_.push_back("BENCH_RECORD_VALIDATE=1");
  }
}

Interposition::~Interposition() {
  writer_.reset();  // finishes it
  for (const std::string& directory : {heap_map_directory_, ring_directory_})
    if (!directory.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(directory, ignored);
    }
}

void Interposition::phase(const std::string& name, const std::vector<pid_t>& measured) {
  if (writer_) writer_->phase(name, measured);
}

InterpositionReading Interposition::finish() {
  InterpositionReading reading;
  if (finished_) return reading;
  finished_ = true;
  if (!heap_map_directory_.empty()) {
    HeapMapReading heap = read_heap_maps(heap_map_directory_);
    reading.counters = std::move(heap.counters);
    reading.heap_maps = std::move(heap.moments);
  }
  if (!writer_) return reading;
  const trace::WriterStats s = writer_->finish();
  auto add = [&](const char* name, double value, Unit unit) { reading.counters.push_back({name, value, unit}); };
  add("record_traces", static_cast<double>(s.traces), Unit::count);
  add("record_events", static_cast<double>(s.events), Unit::count);
  add("record_bytes", static_cast<double>(s.bytes), Unit::bytes);
  add("record_bytes_per_event", s.events > 0 ? static_cast<double>(s.bytes) / static_cast<double>(s.events) : 0, Unit::count);
  add("record_waits", static_cast<double>(s.waits), Unit::count);
  add("record_wait_s", static_cast<double>(s.wait_ns) / 1e9, Unit::seconds);
  add("record_dropped", static_cast<double>(s.dropped), Unit::count);
  add("record_residency_snapshots", static_cast<double>(s.residency_snapshots), Unit::count);
  add("record_sites", static_cast<double>(s.sites), Unit::count);
  add("record_unwind_misses", static_cast<double>(s.unwind_misses), Unit::count);
  add("record_unwind_checked", static_cast<double>(s.unwind_checked), Unit::count);
  add("record_unwind_disagreed", static_cast<double>(s.unwind_disagreed), Unit::count);
  add("record_one_frame_sites", static_cast<double>(s.one_frame_sites), Unit::count);
  add("record_cut_short", static_cast<double>(s.cut_short), Unit::count);
  add("record_writer_cpu_s", s.cpu_seconds, Unit::seconds);
  add("record_writer_max_rss", static_cast<double>(s.max_rss), Unit::bytes);
  add("record_ring_bytes", static_cast<double>(s.ring_bytes), Unit::bytes);
  for (const std::string& problem : s.problems) {
    if (problem.find("pagemap") != std::string::npos)
      reading.notes.push_back(problem);
    else if (reading.error.empty())
      reading.error = "the recording could not be written: " + problem + " (the program ran on; its trace in " + options_.row_directory +
                      " is incomplete)";
  }
  if (s.dropped > 0 && reading.error.empty())
    reading.error =
        "the recording lost " + std::to_string(s.dropped) + " events: a thread waited 30 s for the writer and stopped recording";
  if (!reading.error.empty()) return reading;
  try {
    trace::TraceAnalysis analysis = trace::analyse_recording(options_.row_directory);
    reading.counters.insert(reading.counters.end(), analysis.counters.begin(), analysis.counters.end());
    reading.trace_maps = std::move(analysis.moments);
    for (std::string& w : analysis.warnings) reading.notes.push_back(std::move(w));
  } catch (const trace::TraceError& e) {
    reading.error = std::string("the recording cannot be read: ") + e.what();
  }
  return reading;
}

}  // namespace bench
