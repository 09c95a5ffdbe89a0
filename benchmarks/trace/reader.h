// Reading a trace file (format.h) outside any measured process: the analysis (analysis.h), the
// replay's converter and `./bench --replay` all read it through this one reader.
//
// Opening validates the whole file before anything is read from it: the header, every block's
// magic and checksum. A foreign file, another version, a torn block (wrong magic or checksum) is a
// TraceError naming the file and the offset; a file cut short — it ends at a block boundary
// without an `end` block, or inside its last block — opens, and `warning()` says where it stops:
// its whole blocks are a clean prefix.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "benchmarks/trace/format.h"
#include "benchmarks/trace/ring.h"

namespace bench::trace {

struct TraceError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One event, on the trace's clock (CLOCK_MONOTONIC nanoseconds).
struct Event {
  EventKind kind;
  std::uint8_t align_log2;
  std::uint32_t site;
  std::uint32_t thread;
  std::int64_t time_ns;
  std::uint64_t address;
  std::uint64_t size;   // the size asked for (allocations), the kind's value (control kinds)
  std::uint64_t slack;  // usable size - size (0xffff: at least that)
};

struct Residency {
  std::int64_t time_ns;
  std::string moment;
  // Resident pages: page numbers (address / 4096), in order.
  std::vector<std::uint64_t> pages;
};

struct Mapping {
  std::uint64_t start, end, offset;
  std::string path;
};

// What a reader is told, block by block, in file order. Events come a thread's chunk at a time
// (threads interleaved as the writer drained them; each thread's in order).
class TraceVisitor {
 public:
  virtual ~TraceVisitor() = default;
  // `pass_ns`: the start of the first drain after the writer's previous flush (format.h): once a
  // block with a later pass comes, every event of the image stamped before the pass before it is in.
  virtual void events(std::uint32_t /*thread*/, const std::vector<Event>& /*events*/, std::int64_t /*pass_ns*/) {}
  virtual void site(std::uint32_t /*index*/, const Site& /*site*/) {}
  virtual void maps(const std::vector<Mapping>& /*mappings*/) {}
  virtual void name(std::uint32_t /*offset*/, std::string_view /*name*/) {}
  virtual void phase(std::int64_t /*time_ns*/, std::string_view /*name*/) {}
  virtual void residency(const Residency& /*snapshot*/) {}
  virtual void end(const std::map<std::string, std::string>& /*fields*/) {}
};

class TraceFile {
 public:
  // Opens and validates `path` (see above). Throws TraceError.
  explicit TraceFile(std::string path);

  const std::string& path() const { return path_; }
  const std::map<std::string, std::string>& header() const { return header_; }
  std::string header_value(const std::string& key) const;
  int pid() const;
  int parent() const;
  int image() const;
  // Empty for a whole trace; else where and why it stops (a clean prefix before that).
  const std::string& warning() const { return warning_; }
  bool ended() const { return ended_; }
  std::uint64_t bytes() const { return size_; }
  // CLOCK_MONOTONIC nanoseconds of a time-stamp counter value (the writer's calibration pairs).
  std::int64_t time_of(std::uint64_t tsc) const;

  // Reads every whole block in order, telling `visitor`. Throws TraceError on a block it cannot decode.
  void read(TraceVisitor& visitor) const;

 private:
  struct Block {
    std::uint64_t offset;
    BlockHeader header;
  };
  std::string payload(const Block& block) const;
  std::string path_;
  std::map<std::string, std::string> header_;
  std::vector<Block> blocks_;
  std::string warning_;
  bool ended_ = false;
  std::uint64_t size_ = 0;
  std::uint64_t start_tsc_ = 0;
  std::int64_t start_ns_ = 0;
  double ns_per_tick_ = 0;
};

// The trace files of a recording folder (every `<pid>.<image>.trace`), in pid, image order.
std::vector<std::string> trace_files(const std::string& directory);

}  // namespace bench::trace
