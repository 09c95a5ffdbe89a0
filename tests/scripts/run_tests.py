#!/usr/bin/python3
"""Runs the scripts tests (unittest discover in this folder) for ctest, with an exit status that
says what happened: 0 every test ran and passed, 1 a test failed, SKIPPED (77, the SKIP_RETURN_CODE
of tests/scripts.cmake) when all that ran passed but something was skipped — a skipped test or
subtest must show as "Skipped" in ctest, never as "Passed".

Run: /usr/bin/python3 tests/scripts/run_tests.py [START_DIR]   (default: this folder)
"""

import os
import sys
import unittest

SKIPPED = 77


def main():
    start = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    suite = unittest.defaultTestLoader.discover(start)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    if not result.wasSuccessful():
        return 1
    if result.skipped:
        print(f"run_tests.py: {len(result.skipped)} test(s) skipped, so this run is not a pass:", file=sys.stderr)
        for test, reason in result.skipped:
            print(f"  {test}: {reason}", file=sys.stderr)
        return SKIPPED
    return 0


if __name__ == "__main__":
    sys.exit(main())
