"""One program's answer (scripts/why.sh, docs/why.md): what it kept at one moment, why, and what each way
out would cost it, from its recording and the replays of that recording.

Three runs go in, all of one program: the recording (./bench --record, one row `command/<own>` under the
allocator the program gets without ./bench), its replays as recorded (./bench --replay, one row a
configuration, the settle period long enough to cover what the program did after the moment), and,
optionally, its `fast` replays (the allocator's cost a call, repeated). Nothing here runs anything.

The moment: the program's last own phase (the recorder's `exit` snapshot is none) where it reports phases,
otherwise its exit (the recorder's snapshot of each process as it exits). Its idle time is what the program
did after that moment without calling the allocator: the recording's time from the moment to its next call
(each replay reads its RSS just before making that call, not at a sample near it), or to its end where it makes
none.

The rule (RULE, stated in the README and on every page):

  1. nothing to return: the recording finds less than SMALL_BYTES free and pinned at the moment;
  2. pinned: pinned pages hold at least PINNED_SHARE of the free and pinned ones. No release call, knob or
     allocator returns them while their blocks live: the page names the sites that pin them;
  3. free: the ways out are the replayed configurations, each measured by what it keeps IDLE after the moment
     (`idle` is the program's idle time: a knob that returns later than the program stays idle is not
     counted). A way out *returns it* when it keeps at least RETURNS_SHARE of the recording's free bytes
     less than the program's own configuration does in its replay, and raises the replay's peak by at
     most PEAK_ALLOWANCE of it (or 5 MB). Of those, the first kind that has one wins — a knob of the
     program's own allocator (no change to the program), then a release call of its own allocator (one
     line in the program, at the moment), then another allocator (its defaults or a knob of its) — and
     within the kind, the one whose fast replay cost the allocator least a call (the others of the kind
     whose cost ranges overlap its, or that have under two fast repetitions, are named as within the noise:
     the choice between them is not the measurement's);
  4. free, but no way out returns it within the program's idle time: the page says so, and which way
     returns most by the end of the settle period.

Where the replay of the program's own configuration is not within the fidelity tolerance of its recorded
live run (benchlib/fidelity.py's rule, one live repetition), the replays do not stand for the program: the
answer says so (`fidelity.within` False) and scripts/why.sh runs the advised way live to check it.
"""

import statistics

from . import fidelity

SMALL_BYTES = 5e6
PINNED_SHARE = 0.5
RETURNS_SHARE = 0.8
PEAK_ALLOWANCE = 0.25
PEAK_ALLOWANCE_BYTES = 5e6
KINDS = ("knob", "release call", "allocator")  # the order of preference, cheapest change first
KIND_TEXT = {
    "own": "the program's own allocator at its defaults",
    "knob": "a knob of the program's own allocator (no change to the program)",
    "release call": "a release call of its own allocator, made at the moment (one line in the program)",
    "allocator": "another allocator (its defaults or a knob of its)",
}
RULE = (
    "nothing to return when the recording finds under 5 MB free and pinned at the moment; pinned when pinned "
    "pages hold at least half of them (no way out returns those while their blocks live: the sites are named); "
    "otherwise the ways out that keep, at the end of the program's idle time after the moment, at least 80 % of "
    "the recording's free bytes less than its own allocator does in its replay, without raising the replay's "
    "peak by more than 25 % (or 5 MB): of those, a knob of its own allocator first, then a release call of its "
    "own allocator at the moment, then another allocator, and within the kind the one whose fast replay cost "
    "the allocator least a call (those whose cost ranges overlap its are named as within the noise)"
)


class AnswerError(ValueError):
    pass


def _only_row(run, prefix):
    rows = [r for r in run.rows if r.run_type == "iteration" and r.name.startswith(prefix)]
    if not rows:
        raise AnswerError(f"{run.path} has no row {prefix}…")
    failed = [r for r in rows if r.error]
    if len(failed) == len(rows):
        raise AnswerError(f"{rows[0].name} failed: {rows[0].error}")
    return [r for r in rows if not r.error][0]


def recording_row(record):
    rows = [r for r in record.rows if r.run_type == "iteration" and r.name.startswith("command/")]
    if not rows:
        raise AnswerError(f"{record.path} holds no run of a program (./bench --record -- PROGRAM)")
    if rows[0].error:
        raise AnswerError(f"the recorded run {rows[0].name} failed: {rows[0].error}")
    return rows[0]


def moment_of(record, row, wanted=None):
    """(moment, how it was chosen, seconds into the program, idle seconds after it): the phase `wanted`
    (why.sh --moment) where one is asked for, else the program's last phase, else its exit."""
    series = fidelity.series_of(record, row) or {}
    phases = {k: float(v) for k, v in (series.get("phases") or {}).items()}
    end = float(series["seconds"][-1]) if series.get("seconds") else 0.0
    own = [p for p in sorted(phases, key=phases.get) if p != "exit" and f"trace_{p}_free" in row.counters]
    if wanted:
        if wanted not in own:
            raise AnswerError(
                f"--moment={wanted}: the program reported no such phase"
                + (f" (its phases: {', '.join(own)})" if own else " (it reports none)")
            )
        return wanted, f"`{wanted}`, the phase asked for (`--moment`)", phases[wanted], max(0.0, end - phases[wanted])
    if own:
        moment = own[-1]
        at = phases[moment]
        return moment, f"the program's last phase, `{moment}`", at, max(0.0, end - at)
    return "exit", "the program's exit (it reports no phase of its own)", end, 0.0


def classes(row, moment):
    c = row.counters
    keys = ("free", "pinned", "used", "outside", "live")
    if not all(f"trace_{moment}_{k}" in c for k in keys):
        raise AnswerError(f"the recording has no residency snapshot at `{moment}` (trace_{moment}_free…)")
    return {k: c[f"trace_{moment}_{k}"] for k in keys}


def pinning_sites(record, row, moment, count=5):
    for heap_map in record.suite.trace_maps.get(row.name, []):
        if heap_map.repetition != row.repetition_index:
            continue
        for m in heap_map.moments:
            if m.moment == moment:
                return [{"bytes": s.bytes, "blocks": s.blocks, "frames": list(s.frames)} for s in m.sites[:count]]
    return []


def quiet_seconds(replay, idle):
    """(seconds, ends at a call) for the program's idle time after its moment: the recording's time from the
    moment to its next allocator call, or to its end where it makes none (the replay's replay_quiet_s, on the
    recording's clock: the same in every row; True, False). A replay too old to say: `idle` (the moment to the
    recorded run's last sample), None."""
    for row in replay.rows:
        if row.ok_iteration and row.name.startswith("replay:") and "replay_quiet_s" in row.counters:
            return row.counters["replay_quiet_s"], "rss_resumed" in row.counters
    return idle, None


def _kept_after(run, row, seconds):
    """RSS above the replay's baseline at the end of the program's idle time after its free phase: read by
    the replay just before the program's next call (rss_resumed) where it makes one — a sample near that
    call could fall on either side of the frees it makes — otherwise the last settle sample at or before
    `seconds` (the first one if none is)."""
    if "rss_resumed" in row.counters:
        return row.counters["rss_resumed"] - row.counters["rss_base"]
    series = fidelity.series_of(run, row)
    if not series or not series.get("seconds"):
        return None
    value = series["rss_bytes"][0]
    for t, rss in zip(series["seconds"], series["rss_bytes"]):
        if float(t) <= seconds:
            value = rss
    return float(value) - row.counters["rss_base"]


def kind_of(suite, own, name):
    if name == own:
        return "own"
    c, o = suite.configurations.get(name), suite.configurations.get(own)
    if c is not None and o is not None and c.library == o.library:
        return "release call" if c.release_step else "knob"
    return "allocator"


def _fast_costs(fast, name):
    if fast is None:
        return None
    rows = [r for r in fast.rows if r.ok_iteration and r.configuration == name and "replay_ns_per_call_in_thread" in r.counters]
    if not rows:
        return None
    return {
        "ns_per_call": statistics.median(r.counters["replay_ns_per_call_in_thread"] for r in rows),
        "ns_per_call_range": [
            min(r.counters["replay_ns_per_call_in_thread"] for r in rows),
            max(r.counters["replay_ns_per_call_in_thread"] for r in rows),
        ],
        "minor_faults": statistics.median(r.counters.get("replay_minflt", 0) for r in rows),
        "repetitions": len(rows),
    }


def ways_out(replay, fast, own, idle):
    out = []
    for row in replay.rows:
        if not row.ok_iteration or not row.name.startswith("replay:"):
            continue
        c = row.counters
        if not all(k in c for k in ("rss_base", "rss_cleared", "rss_final", "rss_peak")):
            continue
        kept_idle = _kept_after(replay, row, idle)
        config = replay.suite.configurations.get(row.configuration)
        out.append(
            {
                "configuration": row.configuration,
                "kind": kind_of(replay.suite, own, row.configuration),
                "summary": config.summary if config else "",
                "release_call": config.release_call if config else None,
                "environment": dict(config.environment) if config else {},
                "kept_at_moment": c["rss_cleared"] - c["rss_base"],
                "kept_after_idle": kept_idle,
                "kept_at_end": c["rss_final"] - c["rss_base"],
                "peak": c["rss_peak"] - c["rss_base"],
                "return_50pct_s": c.get("return_50pct_s"),
                "return_90pct_s": c.get("return_90pct_s"),
                "release_seconds": c.get("release_seconds") if config and config.release_step else None,
                "replay_ns_per_call_in_thread": c.get("replay_ns_per_call_in_thread"),
                "minor_faults": c.get("replay_minflt"),
                "fast": _fast_costs(fast, row.configuration),
            }
        )
    return out


def own_fidelity(record, row, replay, own):
    """The replay of the program's own configuration held against its recorded live run (one repetition:
    the tolerance is 10 % or 5 MB)."""
    name = next(iter(replay.suite.replays), None)
    info = replay.suite.replays.get(name, {}) if name else {}
    free_phase = info.get("free_phase", "")
    last_phase = ([p for p in info.get("phases", []) if p != "exit"] or [""])[-1]
    replayed = [r for r in replay.rows if r.ok_iteration and r.configuration == own and r.name.startswith("replay:")]
    live = fidelity.live_figures(record, row, free_phase, last_phase)
    again = fidelity.replay_figures(replayed[0], last_phase) if replayed else None
    if live is None or again is None:
        return {"within": None, "why": "no replay of its own configuration to hold against it", "figures": {}}
    ring = row.counters.get("record_ring_bytes", 0)
    note = ""
    if live["growth"] is not None and ring:
        live["growth"] -= ring  # the recorded run's RSS holds the recorder's rings; the replay has none
        note = f"The live growth leaves out the recorder's rings ({ring / 1e6:,.1f} MB), which the recorded run's RSS holds."
    figures, misses = {}, []
    for figure in fidelity.FIGURES:
        if live[figure] is None:
            continue
        allowed = fidelity.tolerance([live[figure]])
        difference = again[figure] - live[figure]
        figures[figure] = {
            "live": live[figure],
            "replay": again[figure],
            "tolerance": allowed,
            "within": abs(difference) <= allowed,
        }
        if abs(difference) > allowed:
            misses.append(figure)
    return {"within": not misses, "misses": misses, "figures": figures, "free_phase": free_phase, "note": note}


def weigh(found, ways, own_way):
    """Each way's `returned` (what it keeps after the idle time less what the program's own configuration
    keeps then) and `returns_it` (the rule's test)."""
    peak_limit = None if own_way is None else own_way["peak"] + max(PEAK_ALLOWANCE * own_way["peak"], PEAK_ALLOWANCE_BYTES)
    for way in ways:
        known = own_way is not None and own_way["kept_after_idle"] is not None and way["kept_after_idle"] is not None
        way["returned"] = own_way["kept_after_idle"] - way["kept_after_idle"] if known else None
        way["returns_it"] = (
            known and way["kind"] != "own" and way["returned"] >= RETURNS_SHARE * found["free"] and way["peak"] <= peak_limit
        )


def _overlaps(a, b):
    """True when two ways' fast replay costs a call are not told apart by their repetitions: their ranges
    (min–max) overlap, or either has fewer than two repetitions (no range to tell them by)."""
    fa, fb = a["fast"], b["fast"]
    if not fa or not fb or fa["repetitions"] < 2 or fb["repetitions"] < 2:
        return True
    return fa["ns_per_call_range"][0] <= fb["ns_per_call_range"][1] and fb["ns_per_call_range"][0] <= fa["ns_per_call_range"][1]


def advise(found, ways, own_way):
    free, pinned = found["free"], found["pinned"]
    if free + pinned < SMALL_BYTES:
        return {"verdict": "nothing to return", "configuration": None}
    if pinned >= PINNED_SHARE * (free + pinned):
        return {"verdict": "pinned", "configuration": None}
    if own_way is None or own_way["kept_after_idle"] is None:
        return {"verdict": "free", "configuration": None, "why": "no replay of its own configuration"}
    for kind in KINDS:
        candidates = [w for w in ways if w["kind"] == kind and w["returns_it"]]
        if candidates:

            def cost(w):
                f = w["fast"]
                return (f["ns_per_call"] if f else w["replay_ns_per_call_in_thread"] or float("inf"), -w["returned"])

            best = min(candidates, key=cost)
            return {
                "verdict": "free",
                "configuration": best["configuration"],
                "kind": kind,
                "candidates": len(candidates),
                "within_noise": [w["configuration"] for w in candidates if w is not best and _overlaps(w, best)],
            }
    latest = max(ways, key=lambda w: own_way["kept_at_end"] - w["kept_at_end"], default=None)
    return {
        "verdict": "free, not within its idle time",
        "configuration": None,
        "by_the_end": latest["configuration"] if latest else None,
    }


def answer(record, replay, fast=None, moment=None):
    """The answer from the recorded run, its as-recorded replays and its fast ones, at the phase `moment`
    where one is asked for (the replays' free phase must be that phase: why.sh passes it to both)."""
    row = recording_row(record)
    own = row.configuration
    moment, chosen, at, idle = moment_of(record, row, moment)
    found = classes(row, moment)
    start = None
    series = fidelity.series_of(record, row)
    if series and series.get("rss_bytes"):
        start = float(series["rss_bytes"][0])
    rss_at = row.counters.get(f"rss_{moment}", row.counters.get("rss_end"))
    idle, until_a_call = quiet_seconds(replay, idle)
    ways = ways_out(replay, fast, own, idle)
    own_way = next((w for w in ways if w["kind"] == "own"), None)
    weigh(found, ways, own_way)
    advice = advise(found, ways, own_way)
    ways.sort(key=lambda w: (w["kept_after_idle"] is None, w["kept_after_idle"] or 0))
    return {
        "program": record.suite.command.get("argv", []) if record.suite.command else [],
        "measure": record.suite.command.get("measure") if record.suite.command else None,
        "own": own,
        "own_label": row.raw_label,
        "moment": moment,
        "moment_chosen": chosen,
        "moment_seconds": at,
        "idle_seconds": idle,
        "idle_ends_at_a_call": until_a_call,
        "rss_at_moment": rss_at,
        "rss_peak": row.counters.get("rss_peak"),
        "rss_start": start,
        "classes": found,
        "sites": pinning_sites(record, row, moment),
        "ways": ways,
        "advice": advice,
        "fidelity": own_fidelity(record, row, replay, own),
        "rule": RULE,
    }
