#!/usr/bin/python3
"""Flatten a ./bench JSON run into CSV: one row per repetition and per aggregate, and the RSS timelines.

Usage: scripts/results_csv.py RUN.json -o OUT.csv [--timeline TIMELINE.csv]
Columns are documented in scripts/benchlib/csvout.py. Bad input: message on stderr, exit status 2.
"""

import argparse
import sys

from benchlib import atomic, cli, csvout, gbjson


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("run", metavar="RUN.json", help="JSON written by ./bench --benchmark_out")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.csv", help="CSV file to write")
    parser.add_argument("--timeline", metavar="TIMELINE.csv", help="also write every RSS sample of the timelines here")
    args = parser.parse_args(argv)
    run = gbjson.load_run(args.run)
    atomic.write_file(args.output, lambda f: csvout.write(f, run), newline="")
    if args.timeline:
        atomic.write_file(args.timeline, lambda f: csvout.write_timeline(f, run), newline="")


if __name__ == "__main__":
    sys.exit(cli.run(main))
