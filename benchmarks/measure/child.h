// The child process: started by the parent with execve of this same binary (protocol/child_protocol.h),
// it runs exactly one instance — one workload, one configuration, one size, one repetition — and
// reports to the parent on kResultFd.
#pragma once

namespace bench {

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

int child_main(int argc, char** argv);

}  // namespace bench
