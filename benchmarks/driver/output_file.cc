#include "benchmarks/driver/output_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace bench {

OutputFile::~OutputFile() {
  if (created_ && !committed_) ::unlink(partial_.c_str());
}

std::string OutputFile::create() {
  struct stat st {};
  if (::lstat(final_.c_str(), &st) == 0)
    return "--benchmark_out=" + final_ + " already exists; it is not replaced (remove it or pick another name)";
  const int fd = ::open(partial_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return "cannot write --benchmark_out=" + final_ + " (creating " + partial_ + "): " + std::strerror(errno);
  ::close(fd);
  created_ = true;
  return {};
}

void OutputFile::mark_incomplete() const {
  std::ifstream in(partial_);
  std::stringstream text;
  text << in.rdbuf();
  std::string content = text.str();
  const std::string from = "\"incomplete\": \"false\"";
  if (const auto at = content.find(from); at != std::string::npos) {
    content.replace(at, from.size(), "\"incomplete\": \"true\"");
    std::ofstream(partial_, std::ios::trunc) << content;
  }
}

std::string OutputFile::commit() {
  committed_ = true;
  if (::renameat2(AT_FDCWD, partial_.c_str(), AT_FDCWD, final_.c_str(), RENAME_NOREPLACE) == 0) return {};
  if (errno == EINVAL || errno == ENOSYS) {  // a file system without RENAME_NOREPLACE: link fails on EEXIST too
    if (::link(partial_.c_str(), final_.c_str()) == 0) {
      ::unlink(partial_.c_str());
      return {};
    }
  }
  return "cannot move the results to --benchmark_out=" + final_ + ": " + std::strerror(errno) + "; they are in " + partial_;
}

std::vector<std::string> OutputFile::leftovers() const {
  namespace fs = std::filesystem;
  const fs::path final_path(final_);
  const fs::path directory = final_path.has_parent_path() ? final_path.parent_path() : fs::path(".");
  const std::string prefix = final_path.filename().string() + ".partial-";
  std::vector<std::string> found;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(directory, error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string pid = name.substr(prefix.size());
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    if (::kill(static_cast<pid_t>(std::stol(pid)), 0) != 0 && errno == ESRCH) found.push_back(entry.path().string());
  }
  return found;
}

}  // namespace bench
