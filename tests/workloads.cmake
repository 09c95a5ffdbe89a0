# Tests of the workloads beyond `map` (tests/integration/test_workloads.py): each workload run end to
# end by ./bench at a small N, its defining observation checked. include()d by tests/CMakeLists.txt
# after the integration test, whose interpreter (bench_integration_python) it reuses.
add_test(NAME workloads COMMAND ${bench_integration_python} -m unittest -v test_workloads
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/integration)
set_tests_properties(workloads PROPERTIES LABELS workloads
  ENVIRONMENT "BENCH_BINARY=$<TARGET_FILE:bench>;PYTHONDONTWRITEBYTECODE=1")
