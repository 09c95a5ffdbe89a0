#!/usr/bin/python3
"""Write a Markdown report of a ./bench run: context, tables, plots, errors, and what the numbers say.

Usage: scripts/report.py RUN.json [--plots-dir RELDIR] -o REPORT.md
RELDIR is where scripts/plot.py wrote the figures, relative to REPORT.md (default: next to it).
Bad input: message on stderr, exit status 2.
"""

import argparse
import os
import sys

from benchlib import atomic, cli, gbjson, markdown, summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("run", metavar="RUN.json", help="JSON written by ./bench --benchmark_out")
    parser.add_argument("-o", "--output", required=True, metavar="REPORT.md", help="Markdown file to write")
    parser.add_argument(
        "--plots-dir", default="", metavar="RELDIR", help="directory of the PNGs from plot.py, relative to REPORT.md"
    )
    args = parser.parse_args(argv)
    run = gbjson.load_run(args.run)
    results = summary.summarize(run)
    text = markdown.render(run, results, args.plots_dir)
    atomic.write_text(args.output, text)
    plots_at = os.path.join(os.path.dirname(os.path.abspath(args.output)), args.plots_dir)
    missing = [
        p.stem for p in summary.plan_plots(results, run.suite) if not os.path.exists(os.path.join(plots_at, f"{p.stem}.png"))
    ]
    if missing:
        print(
            f"{os.path.basename(sys.argv[0])}: note: {len(missing)} embedded plot(s) not found in "
            f"{plots_at} ({', '.join(missing)}): run scripts/plot.py {args.run} --out {plots_at}",
            file=sys.stderr,
        )


if __name__ == "__main__":
    sys.exit(cli.run(main))
