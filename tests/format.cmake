# The format check (ctest label "format"): every C++ file of the project as .clang-format says, every
# Python file as pyproject.toml says (black). Both tools come from scripts/setup.sh.
file(GLOB_RECURSE bench_format_cpp CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/allocators/*.h ${PROJECT_SOURCE_DIR}/allocators/*.cc
     ${PROJECT_SOURCE_DIR}/benchmarks/*.h ${PROJECT_SOURCE_DIR}/benchmarks/*.cc
     ${PROJECT_SOURCE_DIR}/tests/*.h ${PROJECT_SOURCE_DIR}/tests/*.cc)
find_program(BENCH_CLANG_FORMAT NAMES clang-format clang-format-14 REQUIRED)
find_program(BENCH_BLACK NAMES black REQUIRED)
add_test(NAME format_cpp COMMAND ${BENCH_CLANG_FORMAT} --dry-run --Werror ${bench_format_cpp})
add_test(NAME format_python COMMAND ${BENCH_BLACK} --check --quiet scripts tests benchmarks/scenarios
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(format_cpp format_python PROPERTIES LABELS format ENVIRONMENT "BLACK_CACHE_DIR=${CMAKE_BINARY_DIR}/black-cache")
