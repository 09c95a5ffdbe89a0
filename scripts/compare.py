#!/usr/bin/python3
"""Compare two ./bench runs counter by counter: ratio B/A and whether it exceeds the noise.

Usage: scripts/compare.py A.json B.json [--counters c1,c2] [--threshold-sigmas K] [--format text|csv]
A counter differs when |mean_B - mean_A| > K * sqrt(sd_A^2 + sd_B^2) over the repetitions
(scripts/benchlib/comparison.py). Prints to stdout; exit status 0, or 2 for bad input.
"""

import argparse
import csv
import sys

from benchlib import cli, comparison, gbjson


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("a", metavar="A.json", help="the baseline run")
    parser.add_argument("b", metavar="B.json", help="the run compared with it")
    parser.add_argument("--counters", default="",
                        help="comma-separated counters to compare (default: all, plus real_time_ms)")
    parser.add_argument("--threshold-sigmas", type=float, default=2.0, metavar="K",
                        help="how many standard deviations of the difference count as a real change (default 2)")
    parser.add_argument("--format", choices=("text", "csv"), default="text", help="output format (default text)")
    args = parser.parse_args(argv)
    if args.threshold_sigmas < 0:
        parser.error("--threshold-sigmas must be >= 0")
    run_a = gbjson.load_run(args.a)
    run_b = gbjson.load_run(args.b)
    counters = [c.strip() for c in args.counters.split(",") if c.strip()]
    k = args.threshold_sigmas
    lines, notes = comparison.compare(run_a, run_b, counters, k)
    if args.format == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(comparison.CSV_HEADER)
        w.writerows(comparison.csv_rows(lines))
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        return 0
    print(f"A = {args.a} ({run_a.context.get('date', 'no date')})")
    print(f"B = {args.b} ({run_b.context.get('date', 'no date')})")
    print(f"DIFFERS when |mean B - mean A| > {k:g} x sqrt(sd A^2 + sd B^2); sd over repetitions")
    print()
    if lines:
        print(comparison.text_table(lines, k))
    else:
        print("no benchmark with results in both runs")
    for note in notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
