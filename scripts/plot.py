#!/usr/bin/python3
"""Draw the figures of a ./bench run (PNG and SVG) into one or more directories.

Usage: scripts/plot.py RUN.json --out DIR [--out DIR2 ...]
Figures (scripts/benchlib/summary.py, plan_plots): retention[_<workload>], rates, tradeoff, breakdown,
timeline, cost, scaling, command, and for real programs (./bench --scenario) programs and
programs_timeline (scripts/benchlib/program_plots.py) — each made only when the run holds the data it needs. Bad input:
exit status 2.
"""

import argparse
import os
import sys

from benchlib import atomic, cli, gbjson, summary


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
    args = parser.parse_args(argv)
    run = gbjson.load_run(args.run)
    results = summary.summarize(run)
    plan = summary.plan_plots(results, run.suite)
    if not plan:
        print(
            f"{os.path.basename(sys.argv[0])}: {args.run}: no successful benchmark with RSS " "counters, nothing to plot",
            file=sys.stderr,
        )
        return 0
    from benchlib import plots  # matplotlib is imported only once the input is known to be good

    for directory in args.out:
        os.makedirs(directory, exist_ok=True)
    for planned, fig in plots.render(run, results, plan):
        for directory in args.out:
            for fmt in plots.FORMATS:
                path = os.path.join(directory, f"{planned.stem}.{fmt}")
                atomic.write_file(path, lambda f: fig.savefig(f, format=fmt), binary=True)


if __name__ == "__main__":
    sys.exit(cli.run(main))
