#!/usr/bin/python3
"""Draw the figures of a ./bench run (PNG and SVG) into one or more directories.

Usage: scripts/plot.py RUN.json --out DIR [--out DIR2 ...] [--format png|svg] [--timed TIMED.json]
Each figure belongs to the report section that embeds it (scripts/benchlib/sections/, the figures() of each):
retention[_<workload>], rates, tradeoff, breakdown, cost, scaling and timeline (results.py), knobs (busy.py),
command (command.py), for real programs (./bench --scenario) programs and programs_timeline (programs.py), for
a heap-map or recorded run (./bench --heap-map, --record) heap_map (heap.py), for an exact run (./bench --exact) exact[_<workload>]
and with --timed (a timed run of the same workload) exact_vs_timed[_<workload>] (exact.py) — each made only
when the run holds the data it needs. Bad input: exit status 2.
"""

import argparse
import os
import sys

from benchlib import atomic, cli, gbjson, plots, sections, summary
from benchlib.sections import exact


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("run", metavar="RUN.json", help="JSON written by ./bench --benchmark_out")
    parser.add_argument(
        "--out",
        action="append",
        required=True,
        metavar="DIR",
        help="directory to write the figures to (created if missing); repeatable",
    )
    parser.add_argument(
        "--format",
        action="append",
        choices=plots.FORMATS,
        metavar="FORMAT",
        help=f"write only this format ({' or '.join(plots.FORMATS)}); repeatable; default: both",
    )
    parser.add_argument(
        "--timed",
        metavar="TIMED.json",
        help="for an exact run: a timed run of the same workload, drawn against the counts (exact_vs_timed)",
    )
    args = parser.parse_args(argv)
    run = gbjson.load_run(args.run)
    results = summary.summarize(run)
    timed = exact.load_timed(args.timed, run, results) if args.timed else None
    report = sections.make_report(run, results, timed=timed)
    if not report.plan:
        what = "counted benchmark" if run.suite.exact else "successful benchmark with RSS counters"
        print(f"{os.path.basename(sys.argv[0])}: {args.run}: no {what}, nothing to plot", file=sys.stderr)
        return 0
    for directory in args.out:
        os.makedirs(directory, exist_ok=True)
    for planned, fig in plots.render(report):
        for directory in args.out:
            for fmt in args.format or plots.FORMATS:
                path = os.path.join(directory, f"{planned.stem}.{fmt}")
                atomic.write_file(path, lambda f: plots.save(fig, f, fmt), binary=True)


if __name__ == "__main__":
    sys.exit(cli.run(main))
