# Tests of scripts/ (results_csv.py, plot.py, report.py, compare.py, regenerate.py) against the JSON in
# tests/scripts/fixtures ("scripts"), and of every committed run: what its folder holds is what its run
# produces ("regenerate": scripts/regenerate.py --check, reports and CSVs byte for byte, figures as SVG).
# include() this file after enable_testing().
#
# The scripts need matplotlib and numpy. Debian's /usr/bin/python3 has them (python3-matplotlib,
# python3-numpy from scripts/setup.sh); a python3 earlier on PATH (pyenv, a venv) may not, so the
# first interpreter that can import both is used: BENCH_PYTHON if set, then /usr/bin/python3, then
# python3 on PATH. Without one, the test "scripts" is still registered and reports "Skipped" (it
# never passes with nothing run). tests/scripts/run_tests.py exits with 77 when any test or subtest
# was skipped, which ctest shows as "Skipped" too (SKIP_RETURN_CODE).

function(bench_python_has_plotting python result_var)
  execute_process(COMMAND "${python}" -c "import matplotlib, numpy"
                  RESULT_VARIABLE status OUTPUT_QUIET ERROR_QUIET)
  if(status EQUAL 0)
    set(${result_var} TRUE PARENT_SCOPE)
  else()
    set(${result_var} FALSE PARENT_SCOPE)
  endif()
endfunction()

set(_bench_python_candidates)
if(BENCH_PYTHON)
  list(APPEND _bench_python_candidates "${BENCH_PYTHON}")
endif()
list(APPEND _bench_python_candidates /usr/bin/python3)
find_program(_bench_python3_on_path NAMES python3 NO_CACHE)
if(_bench_python3_on_path)
  list(APPEND _bench_python_candidates "${_bench_python3_on_path}")
endif()

set(_bench_python_found "")
foreach(candidate IN LISTS _bench_python_candidates)
  if(EXISTS "${candidate}")
    bench_python_has_plotting("${candidate}" _bench_python_ok)
    if(_bench_python_ok)
      set(_bench_python_found "${candidate}")
      break()
    endif()
  endif()
endforeach()

if(BENCH_PYTHON AND NOT _bench_python_found STREQUAL BENCH_PYTHON)
  message(WARNING "BENCH_PYTHON=${BENCH_PYTHON} cannot import matplotlib and numpy; trying others")
endif()

if(_bench_python_found)
  set(BENCH_PYTHON "${_bench_python_found}" CACHE FILEPATH
      "Python interpreter with matplotlib and numpy, for scripts/ and their tests" FORCE)
  message(STATUS "Scripts tests: ${BENCH_PYTHON}")
  add_test(NAME scripts
           COMMAND ${BENCH_PYTHON} ${CMAKE_CURRENT_LIST_DIR}/scripts/run_tests.py
           WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  add_test(NAME regenerate
           COMMAND ${BENCH_PYTHON} ${PROJECT_SOURCE_DIR}/scripts/regenerate.py --check
           WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  set_tests_properties(scripts regenerate PROPERTIES
                       LABELS scripts
                       SKIP_RETURN_CODE 77
                       # Tests write only to temporary directories; keep __pycache__ out of the source tree.
                       ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;MPLBACKEND=Agg")
else()
  set(_bench_python_missing "No Python interpreter with matplotlib and numpy (tried: ${_bench_python_candidates}); "
                            "the scripts tests cannot run. Install python3-matplotlib python3-numpy (scripts/setup.sh) "
                            "or set -DBENCH_PYTHON=/path/to/python3.")
  string(REPLACE ";" " " _bench_python_missing "${_bench_python_missing}")
  message(WARNING "${_bench_python_missing}")
  # Registered all the same, so that ctest -L scripts says "Skipped" instead of passing with nothing run.
  foreach(name scripts regenerate)
    add_test(NAME ${name} COMMAND sh -c "echo '${_bench_python_missing}' >&2; exit 77")
    set_tests_properties(${name} PROPERTIES LABELS scripts SKIP_RETURN_CODE 77)
  endforeach()
endif()
