# Tests of the harness's fault handling (issue 7): faults, bad input, memory limits, interrupts,
# atomic output, the children's environment, and the harness under sanitizers. Included from
# tests/CMakeLists.txt, which has already found GTest and the interpreter (bench_integration_python).
#
# Targets:
#   bench_without_jemalloc       ./bench built as if CMake had not found libjemalloc.so.2 (its
#                                BENCH_JEMALLOC_PATH is empty, exactly what bench_find_allocator
#                                leaves when find_library fails): the "unavailable" path, without a
#                                second configure and build of the whole tree.
#   bench_core_sanitized         bench_core's sources under AddressSanitizer + UBSan
#   bench_units_test_sanitized   tests/units_test.cc on bench_core_sanitized
#   bench_sanitized              ./bench on bench_core_sanitized (runs the configurations that
#                                preload nothing; the others are reported unavailable)
#
# ctest entries (label "reliability"; the sanitizer ones also "sanitizer"):
#   reliability                  tests/integration/test_reliability.py
#   bench_units_test_sanitized   the unit tests, one instrumented process
#   reliability_sanitized_bench  test_reliability.SanitizedBench on bench_sanitized
include_guard(GLOBAL)

# bench_core's and bench_workloads' sources and settings, read from the targets so that a source
# added there is instrumented here too.
get_target_property(bench_reliability_core_sources bench_core SOURCES)
get_target_property(bench_reliability_workload_sources bench_workloads SOURCES)
get_target_property(bench_reliability_core_dir bench_core SOURCE_DIR)
list(APPEND bench_reliability_core_sources ${bench_reliability_workload_sources})
list(TRANSFORM bench_reliability_core_sources PREPEND "${bench_reliability_core_dir}/" REGEX "^[^/]")
get_target_property(bench_reliability_core_definitions bench_core COMPILE_DEFINITIONS)
get_target_property(bench_reliability_core_libraries bench_core LINK_LIBRARIES)
set(bench_reliability_main ${PROJECT_SOURCE_DIR}/benchmarks/main.cc)

add_executable(bench_without_jemalloc ${bench_reliability_main} ${PROJECT_SOURCE_DIR}/allocators/jemalloc.cc)
target_compile_options(bench_without_jemalloc PRIVATE ${BENCH_WARNINGS})
# These objects define every symbol of jemalloc.cc, so the linker never takes bench_core's copy.
target_compile_definitions(bench_without_jemalloc PRIVATE BENCH_JEMALLOC_PATH="" BENCH_JEMALLOC_SONAME="libjemalloc.so.2"
  BENCH_JEMALLOC_PACKAGE="libjemalloc-dev")
target_link_libraries(bench_without_jemalloc PRIVATE bench_workloads bench_core)

if(BENCH_SANITIZE)
  # bench_core, bench and the unit tests are already instrumented: test ./bench itself.
  set(bench_reliability_sanitized_bench bench)
else()
  add_library(bench_core_sanitized OBJECT ${bench_reliability_core_sources})
  target_include_directories(bench_core_sanitized PUBLIC ${PROJECT_SOURCE_DIR})
  target_compile_options(bench_core_sanitized PRIVATE ${BENCH_WARNINGS})
  target_compile_definitions(bench_core_sanitized PRIVATE ${bench_reliability_core_definitions})
  target_compile_options(bench_core_sanitized PUBLIC ${BENCH_SANITIZER_FLAGS})
  target_link_options(bench_core_sanitized PUBLIC ${BENCH_SANITIZER_FLAGS})
  target_link_libraries(bench_core_sanitized PUBLIC ${bench_reliability_core_libraries})

  # The harness's unit tests in one instrumented binary (the latency test replaces operator new,
  # which ASan must own, and the served-by tests check glibc's allocator, which ASan replaces).
  add_executable(bench_units_test_sanitized ${CMAKE_CURRENT_LIST_DIR}/units_test.cc ${CMAKE_CURRENT_LIST_DIR}/flags_test.cc
                 ${CMAKE_CURRENT_LIST_DIR}/child_protocol_test.cc ${CMAKE_CURRENT_LIST_DIR}/memory_test.cc
                 ${CMAKE_CURRENT_LIST_DIR}/instances_test.cc ${CMAKE_CURRENT_LIST_DIR}/keys_test.cc
                 ${CMAKE_CURRENT_LIST_DIR}/configurations_test.cc)
  target_compile_options(bench_units_test_sanitized PRIVATE ${BENCH_WARNINGS})
  target_link_libraries(bench_units_test_sanitized PRIVATE bench_core_sanitized GTest::gtest_main)
  add_test(NAME bench_units_test_sanitized COMMAND bench_units_test_sanitized)
  set_tests_properties(bench_units_test_sanitized PROPERTIES
    LABELS "reliability;sanitizer"
    ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0;UBSAN_OPTIONS=print_stacktrace=1")

  add_executable(bench_sanitized ${bench_reliability_main})
  target_compile_options(bench_sanitized PRIVATE ${BENCH_WARNINGS})
  target_link_libraries(bench_sanitized PRIVATE bench_core_sanitized)
  set(bench_reliability_sanitized_bench bench_sanitized)
endif()

set(bench_reliability_directory ${CMAKE_CURRENT_LIST_DIR}/integration)
add_test(NAME reliability COMMAND ${bench_integration_python} -m unittest -v test_reliability
         WORKING_DIRECTORY ${bench_reliability_directory})
set_tests_properties(reliability PROPERTIES
  LABELS reliability
  TIMEOUT 600
  ENVIRONMENT "BENCH_BINARY=$<TARGET_FILE:bench>;BENCH_WITHOUT_JEMALLOC=$<TARGET_FILE:bench_without_jemalloc>;BENCH_RUN_SCRIPT=${PROJECT_SOURCE_DIR}/scripts/run.sh;PYTHONDONTWRITEBYTECODE=1")

# The sanitized ./bench: the parent (launcher, parsing, reporting) and the children (workload,
# protocol) under ASan + UBSan; any report aborts a process, which the test sees.
add_test(NAME reliability_sanitized_bench COMMAND ${bench_integration_python} -m unittest -v test_reliability.SanitizedBench
         WORKING_DIRECTORY ${bench_reliability_directory})
set_tests_properties(reliability_sanitized_bench PROPERTIES
  LABELS "reliability;sanitizer"
  TIMEOUT 300
  ENVIRONMENT "BENCH_SANITIZED_BINARY=$<TARGET_FILE:${bench_reliability_sanitized_bench}>")
