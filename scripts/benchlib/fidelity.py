"""How far a replay (./bench --replay) can stand for its live program: the fidelity table.

For each recording a replay run replayed and each configuration that ran both live (`command/<c>`, the program
run by ./bench -- PROGRAM, plain) and replayed (`replay:<name>/<c>`), three figures in MB. Both sides read their
peak exactly (the kernel's VmHWM; the replay's is reset at its baseline), but not the same start: the replay's
baseline holds the replayer's tables and ./bench's child, the live program's start is its first sample. So two
figures count down from the peak, which needs no start:

  returned_free  the peak less the RSS at the recording's free phase (./bench reads the program there:
                 rss_<phase>; the replay: rss_cleared)
  returned_end   the peak less the RSS at the recording's last phase (the recorder's `exit` snapshot is none):
                 the program's rss_<phase> and the replay's rss_at_<phase>. Not the live rss_end: the program
                 exits microseconds after its last calls, so whether its last sample saw them is chance; a
                 recording without phases compares rss_end with the replay's after its last call

and one counts up from the start, where the live start is known — a first sample within LIVE_START_SECONDS of
the program's start (a repetition whose first sample came later is left out of it; none left: no figure):

  growth         the peak less the start (the live program's start-up, its libraries, is in its growth)

A figure is *within* when the replay's median is no further from the live median than the live repetitions'
spread (largest less smallest) plus 10 % of the live median or 5 MB, whichever is larger (TOLERANCE_SHARE,
TOLERANCE_BYTES). The order: every pair of configurations whose live `returned_end` figures differ by more than both
their tolerances is a pair the replay must order the same way. Memory that never came from malloc (a runtime's
own arenas, stacks, the program's mappings) is in the live figures and not in the replay's: where the
recording's run is given, its `outside` class at the free phase (trace_<phase>_outside) is shown apart.

The table is a plain dict, written into the replay run's bench.json (suite.fidelity) by scripts/fidelity.py, so
that the report and the README read it from the committed run.
"""

import statistics

TOLERANCE_SHARE = 0.10
TOLERANCE_BYTES = 5e6
FIGURES = ("growth", "returned_free", "returned_end")
LIVE_START_SECONDS = 0.01


def series_of(run, row):
    """The timeline entry of `row`'s repetition in run.suite.series, or None."""
    for entry in run.suite.series.get(row.name, []):
        if entry.get("repetition") == row.repetition_index:
            return entry
    return None


def _live_start(run, row):
    entry = series_of(run, row)
    if entry and entry.get("rss_bytes"):
        return float(entry["rss_bytes"][0]) if float(entry["seconds"][0]) <= LIVE_START_SECONDS else None
    return None


def live_figures(run, row, free_phase, last_phase):
    c = row.counters
    free = c.get(f"rss_{free_phase}") if free_phase else c.get("rss_end")
    end = c.get(f"rss_{last_phase}") if last_phase else c.get("rss_end")
    if free is None or end is None or "rss_peak" not in c:
        return None
    start = _live_start(run, row)
    return {
        "growth": None if start is None else c["rss_peak"] - start,
        "returned_free": c["rss_peak"] - free,
        "returned_end": c["rss_peak"] - end,
    }


def replay_figures(row, last_phase):
    c = row.counters
    end = c.get(f"rss_at_{last_phase}") if last_phase else c.get("rss_replay_end")
    if end is None or not all(k in c for k in ("rss_base", "rss_peak", "rss_cleared")):
        return None
    return {
        "growth": c["rss_peak"] - c["rss_base"],
        "returned_free": c["rss_peak"] - c["rss_cleared"],
        "returned_end": c["rss_peak"] - end,
    }


def _by_configuration(rows, prefix):
    out = {}
    for row in rows:
        if row.ok_iteration and row.name.startswith(prefix) and row.observer in (None, "plain"):
            out.setdefault(row.configuration, []).append(row)
    return out


def tolerance(values):
    """The live repetitions' spread plus 10 % of their median or 5 MB, whichever is larger."""
    return (max(values) - min(values)) + max(TOLERANCE_SHARE * abs(statistics.median(values)), TOLERANCE_BYTES)


def table(live, replay, recording=None):
    """{recording name: {"free_phase", "configurations": [...], "order": {...}}} for the replay run `replay`
    against the live run `live` (gbjson.Run each); `recording`, the run that recorded it, for what lay outside
    malloc. Raises ValueError naming what is missing."""
    replays = replay.suite.replays
    if not replays:
        raise ValueError(f"{replay.path} replays no recording (a run of ./bench --replay=TRACE)")
    if live.suite.command is None:
        raise ValueError(f"{live.path} is no run of a program (./bench -- PROGRAM)")
    lives = _by_configuration(live.rows, "command/")
    out = {}
    for name, info in replays.items():
        free_phase = info.get("free_phase", "")
        last_phase = ([p for p in info.get("phases", []) if p != "exit"] or [""])[-1]
        replayed = _by_configuration(replay.rows, f"replay:{name}/")
        rows = []
        for configuration, replay_rows in replayed.items():
            live_rows = lives.get(configuration)
            if not live_rows:
                continue  # no live counterpart (a release step, mallopt): the replay alone speaks for it
            live_values = [f for f in (live_figures(live, r, free_phase, last_phase) for r in live_rows) if f]
            replay_values = [f for f in (replay_figures(r, last_phase) for r in replay_rows) if f]
            if not live_values or not replay_values:
                continue
            entry = {
                "configuration": configuration,
                "live_repetitions": len(live_values),
                "replay_repetitions": len(replay_values),
            }
            misses = []
            for figure in FIGURES:
                lv = [v[figure] for v in live_values if v[figure] is not None]
                rv = [v[figure] for v in replay_values]
                if not lv:
                    entry[figure] = None  # no live start known (growth)
                    continue
                allowed = tolerance(lv)
                difference = statistics.median(rv) - statistics.median(lv)
                entry[figure] = {
                    "live": statistics.median(lv),
                    "live_spread": max(lv) - min(lv),
                    "replay": statistics.median(rv),
                    "difference": difference,
                    "tolerance": allowed,
                    "within": abs(difference) <= allowed,
                }
                if abs(difference) > allowed:
                    misses.append(figure)
            entry["misses"] = misses
            if recording is not None:
                outside = [
                    r.counters.get(f"trace_{free_phase}_outside")
                    for r in recording.rows
                    if r.ok_iteration and r.configuration == configuration and f"trace_{free_phase}_outside" in r.counters
                ]
                entry["outside_at_free_phase"] = statistics.median(outside) if outside else None
            rows.append(entry)
        rows.sort(key=lambda e: e["returned_end"]["live"])
        out[name] = {
            "free_phase": free_phase,
            "last_phase": last_phase,
            "live_run": live.path,
            "configurations": rows,
            "order": order(rows),
        }
    return out


def order(rows):
    """The pairs of configurations whose live `returned_end` differs beyond both tolerances, and how many of
    them the replay orders the same way."""
    pairs, same, different = 0, 0, []
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            x, y = a["returned_end"], b["returned_end"]
            gap = y["live"] - x["live"]
            if abs(gap) <= x["tolerance"] + y["tolerance"]:
                continue
            pairs += 1
            if (y["replay"] - x["replay"]) * gap > 0:
                same += 1
            else:
                different.append([a["configuration"], b["configuration"]])
    return {"pairs": pairs, "same": same, "reversed": different}
