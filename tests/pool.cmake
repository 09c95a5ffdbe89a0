# Tests for allocators/pool.h. Included from the top-level CMakeLists.txt, which has already run
# find_package(GTest REQUIRED), include(GoogleTest) and enable_testing().
#
# Targets:
#   bench_pool_test            unit and property tests, warnings on
#   bench_pool_test_sanitized  the same sources under AddressSanitizer + UBSan (ctest label
#                              "sanitizer"); the RSS test skips itself there.
include_guard(GLOBAL)

set(BENCH_POOL_TEST_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/pool_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/pool_property_test.cc)

function(bench_add_pool_test target)
  add_executable(${target} ${BENCH_POOL_TEST_SOURCES})
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_features(${target} PRIVATE cxx_std_20)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow -Wconversion)
  target_link_libraries(${target} PRIVATE GTest::gtest_main)
endfunction()

bench_add_pool_test(bench_pool_test)
gtest_discover_tests(bench_pool_test PROPERTIES LABELS pool)

set(BENCH_SANITIZER_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer
                          -fno-sanitize-recover=all)
bench_add_pool_test(bench_pool_test_sanitized)
target_compile_options(bench_pool_test_sanitized PRIVATE ${BENCH_SANITIZER_FLAGS})
target_link_options(bench_pool_test_sanitized PRIVATE ${BENCH_SANITIZER_FLAGS})
# One ctest entry for the whole binary: one instrumented process instead of one per test case.
add_test(NAME bench_pool_test_sanitized COMMAND bench_pool_test_sanitized)
set_tests_properties(bench_pool_test_sanitized PROPERTIES
  LABELS "pool;sanitizer"
  ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1;UBSAN_OPTIONS=print_stacktrace=1")
