"""The report's sections "What the numbers say" and "Which configuration for which need", for the primary
workload at its largest N: who keeps the memory, who gives it back and when, the speed verdicts (the noise rule
and the run's controls), and the choice for each need (summary.choices). Not for a heap-map run: its RSS and
speeds include the interposer's.
"""

from .. import mdformat as fmt
from .. import stats, summary
from ..section import WORKLOADS
from ..summary import GIVES_BACK_PCT, KEEPS_PCT, format_size

RUNS = (WORKLOADS,)


def _lazy_note(results):
    """Pages released with MADV_FREE are given back but still counted in RSS: say so where there are."""
    lazy = [r for r in results if (r.median("lazyfree_final") or 0) > 1e6]
    if not lazy:
        return ""
    return (
        " (but for the lazily freed pages that RSS still counts: "
        + ", ".join(f"{r.configuration} {fmt.bytes_mb(r.median('lazyfree_final'))}" for r in lazy)
        + ")"
    )


def _kept(r):
    spread = r.spread("kept_pct_final")
    return f"{fmt.pct(r.median('kept_pct_final'))}, {fmt.mb(r.median('kept_mb_final'))} MB" + fmt.disagreement(
        spread.values if spread else None
    )


def _insert_speed(r, results):
    """The insert rate a speed statement about `results` rests on: speed-scaled when the run has the
    probe (summary.rate_key), so that the figure shown is the one compared."""
    key = summary.rate_key(results, "insert_rate")
    scaled = key != "insert_rate"
    return f"{fmt.rate(r.median(key))} M/s{' speed-scaled' if scaled else ''}"


def _given_back_text(r):
    how, seconds = summary.when_given_back(r)
    if how == "clear":
        return f"already {summary.cleared_moment(r)}"
    if how == "release":
        return f"by its release step ({fmt.ms(summary.release_step_ms(r))} ms)"
    if how == "settle":
        return f"while settling, 90 % within {fmt.duration(seconds)}" if seconds else "while settling"
    if r.workload_info is not None and r.workload_info.uses_rounds:
        return "by the end of its last round (release step and pause)"
    if r.settle_seconds <= 0:
        return "by the end of the run"
    return "by the end of the settle period"


def _readings_text(r, units):
    """'; 66.0 MB kept at `rss_cleared_threads_alive`': the workload's own earlier readings."""
    readings = summary.extra_readings(r, units)
    return "".join(f"; {fmt.mb(mb)} MB kept at `{counter}`" for counter, mb in readings)


def _retention_findings(rs, settle, units):
    keepers, givers, middle = summary.classify(rs)
    ok = [r for r in rs if r.ok]
    after = f"after {settle} of settle" if settle else "after settle"
    out = []
    if keepers:
        out.append(
            f"- **RSS does not go down.** {len(keepers)} of {len(ok)} configurations keep ≥ {KEEPS_PCT:g} % {after}: "
            + ", ".join(f"**{r.configuration}** ({_kept(r)})" for r in keepers)
            + ". The memory was freed to the allocator, not to the operating system"
            + _lazy_note(keepers)
            + "."
        )
    if givers:
        out.append(
            f"- **Given back** (≤ {GIVES_BACK_PCT:g} % kept {after}): "
            + "; ".join(f"**{r.configuration}** ({_kept(r)}, {_given_back_text(r)}{_readings_text(r, units)})" for r in givers)
            + "."
        )
    if middle:
        out.append(
            "- **Partly given back**: "
            + ", ".join(f"**{r.configuration}** ({_kept(r)}{_readings_text(r, units)})" for r in middle)
            + "."
        )
    outliers = summary.peak_outliers(ok)
    if outliers:
        out.append(
            "- **Mind the peak**: "
            + ", ".join(
                f"{r.configuration} grew {r.median('growth_mb') / typical:.0f}× the typical configuration "
                f"(+{fmt.mb(r.median('growth_mb'))} MB against +{fmt.mb(typical)} MB)"
                for r, typical in outliers
            )
            + "; their percentages are of that larger peak, so compare them in MB."
        )
    failed = [r for r in rs if not r.ok]
    if failed:
        out.append(
            "- **No result** (every repetition failed): "
            + "; ".join(f"{r.configuration} ({r.errors[0][1] if r.errors else 'no data'})" for r in failed)
            + "."
        )
    return out


def _speed_findings(rs, controls):
    """Per like-for-like group: the fastest (with its ties) and each knob against its reference, every
    verdict judged with the run's controls."""
    out = []
    if any(r.ok and r.repetitions < 2 for r in rs):
        return [
            "- **Speed**: a single repetition per configuration, so no interval and no verdict on speed (the noise "
            "rule needs at least 2; the report's speed statements need a run with --benchmark_repetitions)."
        ]
    groups = summary.by_kind(rs)
    versus = summary.against_reference(rs, controls)
    n = min(r.repetitions for r in rs if r.ok)
    if n < 6:
        out.append(
            f"- **How far to trust these speed verdicts**: with {n} repetitions an interval is the range (min–max), and two "
            f"configurations that are in truth equally fast have ranges that do not overlap {stats.range_false_alarm(n, n) * 100:.0f} % "
            "of the time: among many comparisons, expect a few false *differs*. The run with 10 repetitions "
            "(95 % intervals) is the one to judge speed by."
        )
    for kind, members in groups.items():
        if kind == "different container":
            continue
        best, tied = summary.fastest(members, controls=controls)
        if best is not None:
            text = f"- **Fastest insert among {kind} configurations**: **{best.configuration}** ({_insert_speed(best, members)})"
            text += (f"; not shown to be slower: {fmt.names(tied)}" if tied else "; every other is slower beyond the noise") + "."
            out.append(text)
        knobs = [r for r in members if r.configuration in versus]
        differing = [(r, c) for r in knobs for c in versus[r.configuration] if summary.shown(c)]
        if differing:
            out.append(
                f"- **Speed against the reference ({kind})**, only the differences beyond the noise: "
                + "; ".join(
                    f"{r.configuration} {c.rate.replace('_rate', '')} {c.change_pct:+.1f} % vs {c.other.configuration}"
                    for r, c in differing
                )
                + "."
            )
        same = [r for r in knobs if all(c.verdict == stats.WITHIN_NOISE for c in versus[r.configuration])]
        not_shown = [(r, c) for r in knobs for c in versus[r.configuration] if c.verdict == stats.NOT_SHOWN]
        if not_shown:
            out.append(
                f"- **Not shown ({kind})**: beyond the noise rule, but no larger than the run's controls differ by "
                "(configurations with the same timed code as their reference: see the noise section): "
                + "; ".join(
                    f"{r.configuration} {c.rate.replace('_rate', '')} {c.change_pct:+.1f} % vs {c.other.configuration} "
                    f"(the controls differ by up to {c.control_pct:.1f} %)"
                    for r, c in not_shown
                )
                + "."
            )
        if same:
            out.append(
                f"- **No difference beyond the noise from their reference** (every rate, {kind}): "
                + ", ".join(f"{r.configuration} (vs {versus[r.configuration][0].other.configuration})" for r in same)
                + "."
            )
        front = summary.pareto_front(members)
        if len(front) > 1 or (front and len(members) > 1):
            out.append(
                f"- **Pareto set ({kind}, on medians)**: no other {kind} configuration has both a higher median insert rate "
                "and less kept: "
                + ", ".join(
                    f"**{r.configuration}** ({_insert_speed(r, members)}, {fmt.mb(r.median('kept_mb_final'))} MB)" for r in front
                )
                + "."
            )
    return out


def _refill_text(results, r):
    """', and refilling it costs 15,618 minor faults and 106 ms of system time per round in `cycle`'."""
    found = summary.refill(results, r.configuration)
    if found is None:
        return ""
    workload, size, rows = found
    return f"; giving it back costs a refill the next time: in `{workload}` (N = {format_size(size)}) " + ", ".join(
        f"round {k} {faults:,.0f} minor faults" + (f", {sys_s * 1e3:,.0f} ms system time" if sys_s is not None else "")
        for k, faults, sys_s in rows
    )


def _choices(rs, settle, controls, results):
    out = []
    after = f"after settle ({settle})" if settle else "after settle"
    for kind, members in summary.by_kind(rs).items():
        if kind == "different container":
            continue
        picked = summary.choices(members, controls)
        lines = []
        if "memory" in picked:
            r = picked["memory"]
            lines.append(
                f"  - memory must go back (long-running services, memory limits): **{r.configuration}**, least kept {after} ({_kept(r)})"
            )
        if "speed" in picked:
            best, tied = picked["speed"]
            lines.append(
                f"  - speed only (short-lived or batch processes): **{best.configuration}**"
                + (f", or not shown to be slower {fmt.names(tied)}" if tied else "")
                + f"; keeps {_kept(best)}"
            )
        if "both" in picked:
            best, tied = picked["both"]
            if picked["both_by"] == "job_seconds":
                key = summary.rate_key(members, "job_seconds")
                how = (
                    "the shortest whole job (insert, lookup, clear and the release step"
                    + (", speed-scaled" if key != "job_seconds" else "")
                    + f": {best.median(key):.3g} s"
                    + (
                        f", of it release step {fmt.ms(summary.release_step_ms(best))} ms"
                        if summary.release_step_ms(best)
                        else ""
                    )
                    + ") of those that give memory back"
                )
                others = ", ".join(f"`{r.configuration}` {r.median(key):.3g} s" for r in tied)
            else:
                how = "the fastest insert of those that give memory back"
                others = fmt.names(tied)
            lines.append(
                f"  - both: **{best.configuration}**, {how}"
                + (f" (not shown to be slower: {others})" if tied else "")
                + f"; keeps {_kept(best)}"
                + _refill_text(results, best)
            )
        if lines:
            out += [f"- Among {kind} configurations:"] + lines
    return out


def render(report):
    # A heap-map or recorded run's RSS and speeds include its observers' costs: no findings from them.
    if report.suite.heap_map is not None or report.suite.record is not None:
        return []
    rs, settle = report.primary_results, report.settle
    findings = _retention_findings(rs, settle, report.suite.units) + _speed_findings(rs, report.controls)
    if not findings:
        return []
    out = [
        "## What the numbers say",
        "",
        f"For `{report.primary}` at N = {format_size(report.largest)} (medians over repetitions; kept = RSS above the baseline "
        "as a share of what the workload made the process grow):",
        "",
    ] + findings
    choices = _choices(rs, settle, report.controls, report.results)
    if choices:
        out += ["", "### Which configuration for which need", ""] + choices
    return out
