#!/usr/bin/python3
"""Compare two ./bench runs counter by counter: did anything change beyond the noise?

Usage: scripts/compare.py A.json B.json [--all] [--counters c1,c2] [--format text|csv]
A counter changed only when the intervals of its medians (the 95 % confidence interval of the median
with >= 6 repetitions, the range below) do not overlap; rates are compared scaled by the
machine-speed probe (scripts/benchlib/comparison.py). Listed by default: what changed, plus each
workload's headline counters (marked *); --all lists every counter. An exact run (./bench --exact) is
compared only with another exact run. Prints to stdout; exit status 0, or 2 for bad input.
"""

import argparse
import csv
import sys

from benchlib import cli, comparison, gbjson


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("a", metavar="A.json", help="the baseline run")
    parser.add_argument("b", metavar="B.json", help="the run compared with it")
    parser.add_argument("--all", action="store_true", help="list every counter, changed or not")
    parser.add_argument("--counters", default="", help="comma-separated counters to compare (instead of the default selection)")
    parser.add_argument("--format", choices=("text", "csv"), default="text", help="output format (default text)")
    args = parser.parse_args(argv)
    run_a = gbjson.load_run(args.a)
    run_b = gbjson.load_run(args.b)
    if run_a.suite.exact != run_b.suite.exact:  # an exact run's RSS and times are valgrind's (./bench --exact)
        exact, timed = (args.a, args.b) if run_a.suite.exact else (args.b, args.a)
        raise gbjson.InputError(
            exact,
            f"is an exact run (./bench --exact) and {timed} a timed one: under valgrind RSS and times are valgrind's, so "
            "the two are not compared (compare exact runs with each other; scripts/report.py --timed sets one beside the other)",
        )
    counters = [c.strip() for c in args.counters.split(",") if c.strip()]
    lines, notes = comparison.compare(run_a, run_b, counters, show_all=args.all)
    if args.format == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(comparison.CSV_HEADER)
        w.writerows(comparison.csv_rows(lines))
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        for warning in comparison.warnings(lines):
            print(f"warning: {warning}", file=sys.stderr)
        return 0
    print(f"A = {args.a} ({run_a.context.get('date', 'no date')})")
    print(f"B = {args.b} ({run_b.context.get('date', 'no date')})")
    print(
        "CHANGED when the intervals of the medians do not overlap (95 % CI of the median with >= 6 repetitions, "
        "the range below); rates scaled by the machine-speed probe; bytes and counts change only by at least "
        "1 % (and 256 KiB or 16); * = headline counter"
    )
    changed = sum(1 for ln in lines if ln.verdict == comparison.CHANGED)
    print(
        f"{changed} changed of {len(lines)} listed"
        + ("" if args.all or counters else " (what changed and the headline counters; --all for everything)")
    )
    print()
    if lines:
        print(comparison.text_table(lines))
    else:
        print("no benchmark with results in both runs")
    for note in notes:
        print(f"note: {note}")
    for warning in comparison.warnings(lines):
        print(f"warning: {warning}")
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
