"""The report's section "What giving memory back costs": each knob against its base in a workload of
rounds (cycle), round by round, and what holds over every round after round 1 (summary.over_rounds),
naming the rounds where it does not."""

from .. import mdformat as fmt
from .. import stats, summary
from ..gbjson import format_offset
from ..section import WORKLOADS
from ..summary import format_size

RUNS = (WORKLOADS,)


def versus_round1(entry):
    """'0.95 / 1.43 (differs)': a round's insert rate over round 1 of the same child, knob / base."""
    if entry is None:
        return "—"
    mine, theirs, verdict = entry
    return f"{mine:.2f} / {theirs:.2f}" + (f" ({verdict})" if verdict else "")


def render(report):
    """The section, or [] when the run has no knob of a workload of rounds with its base."""
    results, suite = report.results, report.suite
    cycle = [r for r in results if r.workload in suite.workloads and suite.workloads[r.workload].uses_rounds]
    if not cycle:
        return []
    size = max((r.size for r in cycle if isinstance(r.size, int)), default=None)
    cycle = [r for r in cycle if r.size == size]
    found = summary.costs(cycle, summary.controls_of(cycle))
    if not found:
        return []
    rounds = sorted({k for c in found for k in c.insert})
    out = [
        "## What giving memory back costs",
        "",
        f"`cycle` runs insert N, look up, clear, the release step and a pause of {format_offset(suite.pause_seconds)} "
        f"{suite.rounds} times in one process (N = {format_size(size)}). Memory an allocator keeps is reused by the next "
        "round; memory a knob gave back faults in again. Each knob against its base configuration, round by round: the "
        "insert rate (speed-scaled medians, with the noise rule), then knob / base for minor page faults, system time and "
        "the 99.9th percentile of a single insert's latency. Round 1 starts from a fresh process for both: the control. "
        "Where the control already differs, a slow spell hit one side's children; the column *vs round 1* compares each "
        "child's round with its own round 1, which cancels that (knob / base, medians, noise rule).",
        "",
    ]
    rows = []
    for c in found:
        for k in rounds:
            mf, ms, p = c.minflt.get(k, (None, None)), c.sys_s.get(k, (None, None)), c.insert_p999_ns.get(k, (None, None))
            rows.append(
                [
                    c.knob.configuration if k == rounds[0] else "",
                    c.base.configuration if k == rounds[0] else "",
                    (fmt.ms(c.release_ms) + f" / {fmt.mb(c.kept_final_mb)} / {fmt.mb(c.base_kept_final_mb)}")
                    if k == rounds[0]
                    else "",
                    str(k),
                    fmt.change(c.insert.get(k), short=True),
                    versus_round1(c.vs_round1.get(k)),
                    f"{mf[0]:,.0f} / {mf[1]:,.0f}" if None not in mf else "—",
                    f"{ms[0] * 1e3:,.0f} / {ms[1] * 1e3:,.0f}" if None not in ms else "—",
                    f"{p[0] / 1e3:,.1f} / {p[1] / 1e3:,.1f}" if None not in p else "—",
                ]
            )
    out.append(
        fmt.table(
            (
                "knob",
                "base",
                "release step (ms) / kept at end (MB), knob / base",
                "round",
                "insert vs base",
                "insert vs round 1",
                "minor faults",
                "sys (ms)",
                "insert p99.9 (µs)",
            ),
            rows,
        )
    )
    return out + [""] + ["- " + note for note in conclusions(found, rounds)]


def _insert_in(c, ks):
    return ", ".join(f"round {k} {c.insert[k].change_pct:+.1f} %" for k in ks)


def _faults_in(c, ks):
    return ", ".join(f"round {k}: {c.minflt[k][0]:,.0f} against the base's {c.minflt[k][1]:,.0f}" for k in ks)


def _insert_verdicts_in(c, ks):
    return ", ".join(f"round {k} {fmt.change(c.insert.get(k), short=True)}" for k in ks)


def chance_sentence(comparisons):
    """How many of these knob-against-base insert comparisons (SpeedComparison) the noise rule would call different
    by chance alone, were every knob as fast as its base, beside how many it does; None for fewer than two judged."""
    judged = [c for c in comparisons if c.verdict != stats.NO_VERDICT]
    if len(judged) < 2:
        return None
    n = min(min(c.subject.spread(c.rate).n, c.other.spread(c.rate).n) for c in judged)
    how = f"with {n} repetitions an interval is the range" if n < summary.RANGE_BELOW else "95 % intervals of the median"
    differ = sum(1 for c in judged if summary.shown(c))
    return (
        f"Of these {len(judged)} insert comparisons (each knob against its base, rounds after round 1; {how}), about "
        f"{summary.expected_false_alarms(judged):.1f} would differ by chance alone were every knob as fast as its base; "
        f"{differ} {'does' if differ == 1 else 'do'}."
    )


def conclusions(found, rounds):
    """Sentences that hold over every round after round 1, each naming the knobs and rounds where its
    claim holds only in part."""
    notes = []
    later = [k for k in rounds if k > 1]
    if not later:
        return notes
    after = f"every round after round 1 ({fmt.rounds(later)})"
    pays = summary.over_rounds(found, summary.Cost.pays_again)
    if pays.every or pays.some:
        text = (
            f"Pay for the memory again (minor faults more than the base's by at least {summary.REFILL_PCT:g} % of the "
            "knob's growth in 4 KiB pages)"
        )
        parts = []
        if pays.every:
            parts.append(
                f" in {after}: " + "; ".join(f"**{c.knob.configuration}** ({_faults_in(c, c.later_rounds)})" for c in pays.every)
            )
        if pays.some:
            parts.append(
                " only in some rounds: "
                + "; ".join(
                    f"**{c.knob.configuration}** ({_faults_in(c, yes)}; not {_faults_in(c, no)})" for c, yes, no in pays.some
                )
            )
        notes.append(text + ";".join(parts) + ".")
    for name, holds in (("slower", summary.Cost.slower), ("faster", summary.Cost.faster)):
        found_over = summary.over_rounds(found, holds)
        parts = []
        if found_over.every:
            parts.append(
                f" in {after}: "
                + "; ".join(f"{c.knob.configuration} ({_insert_in(c, c.later_rounds)})" for c in found_over.every)
            )
        if found_over.some:
            parts.append(
                " only in some rounds: "
                + "; ".join(
                    f"{c.knob.configuration} ({_insert_in(c, yes)}; {_insert_verdicts_in(c, no)})"
                    for c, yes, no in found_over.some
                )
            )
        if parts:
            notes.append(f"Insert {name} than the base beyond the noise" + ";".join(parts) + ".")
    level = summary.over_rounds(found, summary.Cost.level)
    if level.every:
        notes.append(
            f"Insert not shown to differ from the base in {after}: " + ", ".join(c.knob.configuration for c in level.every) + "."
        )
    chance = chance_sentence([c.insert[k] for c in found for k in later if c.insert.get(k) is not None])
    if chance:
        notes.append(chance)
    not_shown = [(c, k) for c in found for k in rounds if c.insert.get(k) is not None and c.insert[k].verdict == stats.NOT_SHOWN]
    by_controls = [(c, k) for c, k in not_shown if not c.insert[k].by_round_1]
    by_round_1 = [(c, k) for c, k in not_shown if c.insert[k].by_round_1]
    if by_controls:
        limit = max(c.insert[k].control_pct for c, k in by_controls)
        notes.append(
            f"*Not shown*: beyond the noise, but no larger than round 1 of the run's control pairs differs (up to {limit:.1f} %; "
            "round 1 runs the same code on both sides: see the noise section)."
        )
    if by_round_1:
        notes.append(
            "*Not shown* either: "
            + "; ".join(
                f"{c.knob.configuration} round {k} {c.insert[k].change_pct:+.1f} % (round 1, before anything was given back, "
                f"already {c.insert[1].change_pct:+.1f} %)"
                for c, k in by_round_1
            )
            + " — the pair differs before any refill, and each child's round against its own round 1 does not differ."
        )
    apart = summary.p999_apart_pairs(found)
    judged = [c for c in found if c.insert_p999_range]
    if judged:
        notes.append(
            f"Insert p99.9 ranges (min–max over the repetitions) of knob and base do not overlap in some round for "
            f"{len(apart)} of {len(judged)} knob/base pairs"
            + (
                ": "
                + "; ".join(
                    f"{c.knob.configuration} / {c.base.configuration} ({fmt.rounds(ks)}: "
                    + ", ".join(f"{c.insert_p999_ns[k][0] / 1e3:,.1f} vs {c.insert_p999_ns[k][1] / 1e3:,.1f} µs" for k in ks)
                    + ")"
                    for c, ks in apart
                )
                if apart
                else ""
            )
            + "; "
            + ("they overlap for the others." if len(apart) < len(judged) else "no pair overlaps in every round.")
        )
    if any(c.insert.get(k) is not None and c.insert[k].verdict == stats.NO_VERDICT for c in found for k in rounds):
        notes.append("With one repetition there is no verdict on speed.")
    return notes
