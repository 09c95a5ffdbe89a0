// The child process: started by the parent with execve of this same binary and `--child`, it runs
// exactly one instance (one workload, one configuration, one size, one repetition) and reports to
// the parent through the protocol in child_report.h.
#pragma once

namespace bench {

inline constexpr const char* kChildFlag = "--child";
// The parent puts the result pipe and the key file on these descriptors before execve.
inline constexpr int kChildResultFd = 3;
inline constexpr int kChildKeyFd = 4;

// argv: bench --child <workload|probe> <configuration> <size> <settle-ns>
int child_main(int argc, char** argv);

}  // namespace bench
