#!/usr/bin/python3
"""Draw the figures of a ./bench run (PNG and SVG) into one or more directories.

Usage: scripts/plot.py RUN.json --out DIR [--out DIR2 ...] [--timed TIMED.json]
Figures (scripts/benchlib/summary.py, plan_plots): retention[_<workload>], rates, tradeoff, breakdown,
timeline, cost, scaling, command, and for real programs (./bench --scenario) programs and
programs_timeline (scripts/benchlib/program_plots.py) — each made only when the run holds the data it needs.
An exact run (./bench --exact) has exact[_<workload>] (scripts/benchlib/exact_plots.py), and with --timed (a
timed run of the same workload) exact_vs_timed[_<workload>]. A heap-map run (./bench --heap-map) also has
heap_map (scripts/benchlib/heap_plots.py). Bad input: exit status 2.
"""

import argparse
import os
import sys

from benchlib import atomic, cli, exact_section, gbjson, summary


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
        "--timed",
        metavar="TIMED.json",
        help="for an exact run: a timed run of the same workload, drawn against the counts (exact_vs_timed)",
    )
    args = parser.parse_args(argv)
    run = gbjson.load_run(args.run)
    results = summary.summarize(run)
    timed = exact_section.load_timed(args.timed, run, results) if args.timed else None
    plan = summary.plan_plots(results, run.suite, timed)
    if not plan:
        what = "counted benchmark" if run.suite.exact else "successful benchmark with RSS counters"
        print(f"{os.path.basename(sys.argv[0])}: {args.run}: no {what}, nothing to plot", file=sys.stderr)
        return 0
    from benchlib import plots  # matplotlib is imported only once the input is known to be good

    for directory in args.out:
        os.makedirs(directory, exist_ok=True)
    for planned, fig in plots.render(run, results, plan, timed):
        for directory in args.out:
            for fmt in plots.FORMATS:
                path = os.path.join(directory, f"{planned.stem}.{fmt}")
                atomic.write_file(path, lambda f: fig.savefig(f, format=fmt), binary=True)


if __name__ == "__main__":
    sys.exit(cli.run(main))
