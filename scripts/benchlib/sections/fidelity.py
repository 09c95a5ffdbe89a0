"""The report's section "Does the replay stand for the program": the fidelity table of a replay run.

Reads suite.fidelity, which scripts/fidelity.py computed (benchlib/fidelity.py: the figures, the tolerance, the
order) from the replay run and the program's live run, and wrote into the replay run. A replay run without it
says how to make it; any other run has no such section.
"""

from .. import fidelity as rule
from .. import mdformat
from ..section import WORKLOADS

RUNS = (WORKLOADS,)

_FIGURE_TITLES = {
    "growth": "growth",
    "returned_free": "returned by the free phase",
    "returned_end": "returned by the last phase",
}


def _cells(figure):
    if figure is None:
        return ["—", "—"]
    mark = "" if figure["within"] else " ✗"
    return [mdformat.bytes_mb(figure["live"]), mdformat.bytes_mb(figure["replay"]) + mark]


def _table(name, t):
    phase = f"`{t['free_phase']}`" if t["free_phase"] else "the end of its calls"
    last = f"`{t['last_phase']}`" if t["last_phase"] else "the end of its calls"
    out = [
        f"### `replay:{name}` against the program's live run (`{t['live_run']}`)",
        "",
        f"Its free phase is {phase} and its last phase {last}; MB, medians over repetitions, live then replay "
        f"(✗: further apart than the live repetitions' spread plus {rule.TOLERANCE_SHARE * 100:.0f} % of the live figure "
        f"or {rule.TOLERANCE_BYTES / 1e6:.0f} MB, whichever is larger). Growth needs the program's start, read only where "
        f"its first sample came within {rule.LIVE_START_SECONDS * 1e3:.0f} ms (— otherwise).",
        "",
    ]
    header = ["configuration", "live reps", "replay reps"]
    for f in rule.FIGURES:
        header += [f"{_FIGURE_TITLES[f]}: live", "replay"]
    outside = any(e.get("outside_at_free_phase") is not None for e in t["configurations"])
    if outside:
        header.append("outside malloc at the free phase (the recording)")
    header.append("verdict")
    rows = []
    for e in t["configurations"]:
        row = [e["configuration"], str(e["live_repetitions"]), str(e["replay_repetitions"])]
        for f in rule.FIGURES:
            row += _cells(e[f])
        if outside:
            value = e.get("outside_at_free_phase")
            row.append("—" if value is None else mdformat.bytes_mb(value))
        row.append("within" if not e["misses"] else "misses " + ", ".join(_FIGURE_TITLES[m] for m in e["misses"]))
        rows.append(row)
    out += mdformat.table(header, rows).split("\n")
    o = t["order"]
    within = sum(1 for e in t["configurations"] if not e["misses"])
    out += [
        "",
        f"{within} of {len(t['configurations'])} configurations within on every figure. "
        f"Of the {o['pairs']} pairs of configurations whose live figures returned by the last phase differ beyond both "
        f"tolerances, the replay orders {o['same']} the same way"
        + (": reversed " + ", ".join(f"{a} / {b}" for a, b in o["reversed"]) if o["reversed"] else "")
        + ". Configurations with a release step or mallopt have no live counterpart: the replay alone speaks for them.",
    ]
    return out


def render(report):
    suite = report.suite
    if not suite.replays:
        return []
    out = ["## Does the replay stand for the program", ""]
    if not suite.fidelity:
        return out + [
            "This run holds no fidelity table: `scripts/fidelity.py LIVE.json bench.json` adds it, from a live run of "
            "the same program (`./bench --benchmark_repetitions=3 -- PROGRAM`)."
        ]
    for name, t in suite.fidelity.items():
        out += _table(name, t) + [""]
    return out[:-1]
