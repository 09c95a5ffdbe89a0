// The file Google Benchmark writes for --benchmark_out: `<out>.partial-<pid>`, created exclusively
// before anything runs, renamed to `<out>` only at the end, removed on any early exit. Only a parent
// killed by SIGKILL (or a crash) leaves it behind; the next run with the same --benchmark_out names
// such leftovers. An existing file is never replaced.
#pragma once

#include <string>
#include <vector>

namespace bench {

class OutputFile {
 public:
  OutputFile(std::string final_path, std::string partial_path) : final_(std::move(final_path)), partial_(std::move(partial_path)) {}
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  // Refuses an existing final file (even a dangling symlink) and checks that the location is writable
  // by creating the partial file. Returns an error message, empty on success.
  std::string create();

  // Replaces "incomplete": "false" in the partial JSON (the run was interrupted).
  void mark_incomplete() const;

  // Moves the partial file to the final name, never replacing a file that appeared meanwhile.
  // Returns an error message, empty on success.
  std::string commit();

  // `<out>.partial-<pid>` files whose process no longer exists: left by a parent that was killed.
  std::vector<std::string> leftovers() const;

 private:
  std::string final_, partial_;
  bool created_ = false;
  bool committed_ = false;
};

}  // namespace bench
