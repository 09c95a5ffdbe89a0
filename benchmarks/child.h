// The child process: started by the parent with execve of this same binary and `--child`, it runs
// exactly one instance (one workload, one configuration, one size, one repetition) and reports to
// the parent through the protocol in child_report.h.
#pragma once

namespace bench {

inline constexpr const char* kChildFlag = "--child";
// The parent puts the result pipe and the key file on these descriptors before execve.
inline constexpr int kChildResultFd = 3;
inline constexpr int kChildKeyFd = 4;

// True in a build with AddressSanitizer (BENCH_SANITIZE, or the sanitizer targets of
// tests/reliability.cmake). ASan's runtime then serves malloc and operator new in every process, so
// the preloaded configurations cannot run (LD_PRELOAD of another allocator conflicts with it) and
// the others run on ASan's allocator: such a build checks the harness, it does not measure.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizerBuild = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizerBuild = true;
#else
inline constexpr bool kAddressSanitizerBuild = false;
#endif
#else
inline constexpr bool kAddressSanitizerBuild = false;
#endif

// argv: bench --child <workload|probe> <configuration> <size> <settle-ns>
int child_main(int argc, char** argv);

}  // namespace bench
