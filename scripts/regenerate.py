#!/usr/bin/python3
"""Regenerate what every committed run's folder derives from its bench.json — REPORT.md, bench.csv, timeline.csv
and the figures in results/<run>/plots/ and plots/<run>/ — with the scripts a user runs (report.py, plot.py,
results_csv.py, called in this process), and the generated blocks of README.md and docs/*.md (benchlib/docs.py).

Usage: scripts/regenerate.py [--check] [--root DIR] [RUN ...]

Each results/<run>/ has a regenerate.json, {"arguments": [...]}: what report.py and plot.py are given beside the
run's bench.json (an exact run set beside a timed one: ["--timed", "results/<timed run>/bench.json"]); paths are
relative to the repository root, where everything runs. scripts/run.sh writes it for every new run.

--check writes nothing: it lists every file (and block) that differs from what its run produces, and exits 1 if
one does.
Reports, CSVs and SVGs are compared byte for byte (the SVG holds every coordinate, text and colour of a figure);
a PNG, rasterized from the same figure by the same call, is checked for its pixel size (±1 px) rather than drawn
again, which would cost about half as much again and compare only the rasterizer. A figure file that no plan makes,
in a run's plots or in plots/ for a run that is not in results/, is stale: removed from a run's plots when
regenerating, named (and not removed) in plots/.
Bad input (a run folder without regenerate.json, one naming an argument the scripts refuse, a block that names
no part of its run): exit status 2. Given RUN names, only those folders are regenerated, and no page.
"""

import argparse
import contextlib
import filecmp
import io
import json
import os
import re
import struct
import sys
import tempfile

import plot
import report
import results_csv
from benchlib import atomic, cli, docs
from benchlib.gbjson import InputError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DERIVED = ("REPORT.md", "bench.csv", "timeline.csv")
FIGURE_FORMATS = (".png", ".svg")
# The PNGs are drawn at savefig.dpi (benchlib/plots.py) from a figure whose SVG gives its size in points.
_SVG_SIZE = re.compile(rb'<svg [^>]*width="([0-9.]+)pt" height="([0-9.]+)pt"')


def runs(root, names=()):
    """[(name, arguments)] of every run folder under root/results (or of `names`), its regenerate.json read."""
    results = os.path.join(root, "results")
    found = sorted(d for d in os.listdir(results) if os.path.isdir(os.path.join(results, d))) if not names else list(names)
    out = []
    for name in found:
        path = os.path.join(results, name, "regenerate.json")
        where = os.path.relpath(path, root)
        try:
            with open(path, encoding="utf-8") as f:
                spec = json.load(f)
        except FileNotFoundError:
            raise InputError(where, "missing: every run folder says how it is regenerated (scripts/regenerate.py)") from None
        except json.JSONDecodeError as e:
            raise InputError(where, f"invalid JSON at line {e.lineno}: {e.msg}") from None
        arguments = spec.get("arguments") if isinstance(spec, dict) else None
        if not isinstance(arguments, list) or not all(isinstance(a, str) for a in arguments):
            raise InputError(where, 'expected {"arguments": [strings given to report.py and plot.py]}')
        out.append((name, arguments))
    return out


def _call(main, argv, name):
    """One of the scripts' main(argv); its bad input becomes this run's. What it says on stderr is shown only when
    it fails (report.py notes PNGs missing where --check draws SVGs alone)."""
    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):
            main(argv)
    except SystemExit as e:  # argparse refused an argument
        raise InputError(
            f"results/{name}/regenerate.json", f"{main.__module__}.py refused {argv}: {said.getvalue().strip()}"
        ) from e


def produce(name, arguments, out, formats):
    """Write into `out` what results/<name>/ derives from its bench.json, as the scripts make it."""
    run = f"results/{name}/bench.json"
    os.makedirs(os.path.join(out, "plots"))
    _call(results_csv.main, [run, "-o", os.path.join(out, "bench.csv"), "--timeline", os.path.join(out, "timeline.csv")], name)
    _call(plot.main, [run, "--out", os.path.join(out, "plots"), *[f"--format={f}" for f in formats], *arguments], name)
    _call(report.main, [run, "--plots-dir", "plots", *arguments, "-o", os.path.join(out, "REPORT.md")], name)


def _png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    return struct.unpack(">II", head[16:24]) if head[:8] == b"\x89PNG\r\n\x1a\n" else None


def _png_expected(svg_path):
    """The pixel size plot.py draws the PNG of this SVG's figure at."""
    with open(svg_path, "rb") as f:
        m = _SVG_SIZE.search(f.read(2000))
    dpi = plot.plots.plt.rcParams["savefig.dpi"]
    return tuple(float(v) / 72 * dpi for v in m.groups()) if m else None


def _figures(folder):
    return sorted(f for f in os.listdir(folder) if f.endswith(FIGURE_FORMATS)) if os.path.isdir(folder) else []


def differences(root, name, made):
    """[(path, what)] where results/<name>/ and plots/<name>/ differ from `made` (produce() with SVG only)."""
    out = []
    folder = os.path.join(root, "results", name)
    for f in DERIVED:
        if not os.path.exists(os.path.join(folder, f)):
            out.append((f"results/{name}/{f}", "missing"))
        elif not filecmp.cmp(os.path.join(made, f), os.path.join(folder, f), shallow=False):
            out.append((f"results/{name}/{f}", "differs from what its run produces"))
    svgs = _figures(os.path.join(made, "plots"))
    stems = {s[: -len(".svg")] for s in svgs}
    for copy in (os.path.join("results", name, "plots"), os.path.join("plots", name)):
        committed = _figures(os.path.join(root, copy))
        for f in committed:
            if f.rsplit(".", 1)[0] not in stems:
                out.append((f"{copy}/{f}", "stale: no figure of the run's plan"))
        for svg in svgs:
            stem = svg[: -len(".svg")]
            mine = os.path.join(root, copy, svg)
            if not os.path.exists(mine):
                out.append((f"{copy}/{svg}", "missing"))
            elif not filecmp.cmp(os.path.join(made, "plots", svg), mine, shallow=False):
                out.append((f"{copy}/{svg}", "differs from what its run produces"))
            png = os.path.join(root, copy, f"{stem}.png")
            size, expected = (_png_size(png) if os.path.exists(png) else None), _png_expected(os.path.join(made, "plots", svg))
            if size is None:
                out.append((f"{copy}/{stem}.png", "missing or not a PNG"))
            elif expected is None or any(abs(a - b) > 1 for a, b in zip(size, expected)):
                out.append((f"{copy}/{stem}.png", f"{size[0]}×{size[1]} px, not the size of its figure: drawn from another one"))
    return out


def stale_plot_folders(root):
    """plots/<run>/ folders whose run is not in results/."""
    plots_dir = os.path.join(root, "plots")
    if not os.path.isdir(plots_dir):
        return []
    return [
        (f"plots/{d}", "stale: no results/" + d)
        for d in sorted(os.listdir(plots_dir))
        if os.path.isdir(os.path.join(plots_dir, d)) and not os.path.isdir(os.path.join(root, "results", d))
    ]


def install(root, name, made):
    """Copy what produce() made over results/<name>/ and plots/<name>/, removing figures no plan makes; the paths
    changed."""
    changed = []
    targets = [(f, os.path.join("results", name, f)) for f in DERIVED]
    for copy in (os.path.join("results", name, "plots"), os.path.join("plots", name)):
        os.makedirs(os.path.join(root, copy), exist_ok=True)
        made_figures = _figures(os.path.join(made, "plots"))
        targets += [(os.path.join("plots", f), os.path.join(copy, f)) for f in made_figures]
        for f in _figures(os.path.join(root, copy)):
            if f not in made_figures:
                os.unlink(os.path.join(root, copy, f))
                changed.append(os.path.join(copy, f) + " (removed)")
    for source, target in targets:
        path = os.path.join(root, target)
        if os.path.exists(path) and filecmp.cmp(os.path.join(made, source), path, shallow=False):
            continue
        with open(os.path.join(made, source), "rb") as f:
            data = f.read()
        atomic.write_file(path, lambda out: out.write(data), binary=True)
        changed.append(target)
    return changed


def pages(root, write):
    """Every generated block of README.md and docs/*.md made again from its run: written when `write`, else
    [(page, what)] for each block that differs."""
    problems, runs = [], docs.Runs(root)
    for page, text in docs.documents(root):
        fresh = docs.regenerate(root, page, text, runs)
        if fresh == text:
            continue
        if write:
            atomic.write_text(os.path.join(root, page), fresh)
            print(f"regenerate.py: wrote {page}")
        else:
            problems += [(page, f"block {b} differs from what its run produces") for b in docs.changed(text, fresh)]
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", metavar="RUN", help="run folders under results/ (default: every one)")
    parser.add_argument("--check", action="store_true", help="write nothing; list what differs; exit 1 if anything does")
    parser.add_argument("--root", default=ROOT, help="the tree whose results/, plots/, README.md and docs/ are read")
    args = parser.parse_args(argv)
    root = os.path.abspath(args.root)
    os.chdir(root)  # regenerate.json's paths, and the scripts' arguments, are relative to the root
    found = runs(root, args.runs)
    problems = [] if args.runs else stale_plot_folders(root)  # named in both modes, never removed
    for name, arguments in found:
        with tempfile.TemporaryDirectory() as tmp:
            made = os.path.join(tmp, name)
            produce(name, arguments, made, ("svg",) if args.check else plot.plots.FORMATS)
            if args.check:
                problems += differences(root, name, made)
            else:
                for path in install(root, name, made):
                    print(f"regenerate.py: wrote {path}")
    if not args.runs:
        problems += pages(root, write=not args.check)
    for path, what in problems:
        print(f"{path}: {what}")
    if args.check:
        print(f"regenerate.py: {len(found)} runs checked, {len(problems)} file(s) differ", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
