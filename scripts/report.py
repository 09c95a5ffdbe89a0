#!/usr/bin/python3
"""Write a Markdown report of a ./bench run: context, tables, plots, errors, and what the numbers say.

Usage: scripts/report.py RUN.json [--plots-dir RELDIR] [--timed TIMED.json] -o REPORT.md
RELDIR is where scripts/plot.py wrote the figures, relative to REPORT.md (default: next to it). For an exact
run (./bench --exact), --timed sets a timed run of the same workload beside the counts (give plot.py the same).
Bad input: message on stderr, exit status 2.
"""

import argparse
import os
import sys

from benchlib import atomic, cli, gbjson, markdown, sections, summary
from benchlib.sections import exact


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("run", metavar="RUN.json", help="JSON written by ./bench --benchmark_out")
    parser.add_argument("-o", "--output", required=True, metavar="REPORT.md", help="Markdown file to write")
    parser.add_argument(
        "--plots-dir", default="", metavar="RELDIR", help="directory of the PNGs from plot.py, relative to REPORT.md"
    )
    parser.add_argument(
        "--timed",
        metavar="TIMED.json",
        help="for an exact run: a timed run of the same workload, whose rates are set beside the counts",
    )
    args = parser.parse_args(argv)
    run = gbjson.load_run(args.run)
    results = summary.summarize(run)
    timed = exact.load_timed(args.timed, run, results) if args.timed else None
    report = sections.make_report(run, results, args.plots_dir, timed)
    atomic.write_text(args.output, markdown.render(report))
    plots_at = os.path.join(os.path.dirname(os.path.abspath(args.output)), args.plots_dir)
    missing = [p.stem for p in report.plan if not os.path.exists(os.path.join(plots_at, f"{p.stem}.png"))]
    if missing:
        print(
            f"{os.path.basename(sys.argv[0])}: note: {len(missing)} embedded plot(s) not found in "
            f"{plots_at} ({', '.join(missing)}): run scripts/plot.py {args.run} --out {plots_at}"
            + (f" --timed {args.timed}" if args.timed else ""),
            file=sys.stderr,
        )


if __name__ == "__main__":
    sys.exit(cli.run(main))
