#!/usr/bin/python3
"""Hold a replay against its live program: the fidelity table (benchlib/fidelity.py), written into the replay run.

Usage: scripts/fidelity.py LIVE.json REPLAY.json [--recording RECORDED.json]
LIVE.json is a run of ./bench -- PROGRAM (plain, its repetitions); REPLAY.json a run of ./bench --replay= of a
recording of the same program (RECORDED.json, the run that recorded it, for what lay outside malloc). Adds the
table to REPLAY.json as suite.fidelity (the file rewritten whole, or not at all), and prints it. Exit status 0;
2 for bad input (either file unreadable, not the run it should be).
"""

import argparse
import json

from benchlib import atomic, cli, fidelity, gbjson


def mb(value):
    return f"{value / 1e6:.1f}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("live", metavar="LIVE.json", help="the program's live run (./bench -- PROGRAM)")
    parser.add_argument(
        "replay", metavar="REPLAY.json", help="the run of its replays (./bench --replay=...); the table goes into it"
    )
    parser.add_argument("--recording", metavar="RECORDED.json", help="the run that recorded the program (./bench --record)")
    args = parser.parse_args(argv)
    live = gbjson.load_run(args.live)
    replay = gbjson.load_run(args.replay)
    recording = gbjson.load_run(args.recording) if args.recording else None
    try:
        found = fidelity.table(live, replay, recording)
    except ValueError as e:
        raise gbjson.InputError(args.replay if "replays no" in str(e) else args.live, str(e)) from None
    with open(args.replay, encoding="utf-8") as f:
        doc = json.load(f)
    doc["suite"]["fidelity"] = found
    atomic.write_text(args.replay, json.dumps(doc, indent=2) + "\n")
    for name, t in found.items():
        print(f"{name}: free phase {t['free_phase'] or 'the end of the calls'}; MB, live vs replay")
        for e in t["configurations"]:
            cells = "  ".join(f"{f} {mb(e[f]['live'])} vs {mb(e[f]['replay'])}" if e[f] else f"{f} —" for f in fidelity.FIGURES)
            print(f"  {e['configuration']:<22} {cells}  {'misses ' + ', '.join(e['misses']) if e['misses'] else 'within'}")
        o = t["order"]
        print(f"  order: {o['same']} of {o['pairs']} pairs that differ live ordered the same way")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main))
