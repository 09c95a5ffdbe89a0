"""The report's closing section "How to read the numbers", written from what the run contains: a
program's run, real programs (scenarios) or workloads, their settle periods (idle, active, none), rounds, rates, repetitions."""

from .. import summary
from ..section import EVERY_RUN
from ..summary import GIVES_BACK_PCT, KEEPS_PCT
from .exact import MIN_PCT
from .programs import FAULT_RATIO, MIN_GROWTH_MB, MOST_PCT, TIMED_PHASES

RUNS = EVERY_RUN


def _settle_text(suite, workloads):
    if suite.settle_seconds <= 0:
        return "there is no settle period in this run (--settle=0): *after settle* is read right after the last step"
    settling = [w for w in workloads if not w.uses_rounds]
    what = {"idle": "the process waits idle"} if any(w.activity is None for w in settling) else {}
    for w in settling:
        if w.activity is not None:
            what.setdefault(w.mode, f"the process keeps working ({w.mode}: {w.activity.description})")
    return f"**after settle** at the end of the settle period ({summary.settle_label(suite)}), in which " + " or ".join(
        what.values()
    )


def _repetitions_text(suite):
    order = (
        "interleaved (repetition 1 of every configuration, then repetition 2, ...), so that a slow spell of the machine "
        "falls on every configuration alike"
        if suite.order.startswith("rounds")
        else "in random order"
    )
    n = suite.repetitions
    return f"- Each of the {n} repetition{'s' if n != 1 else ''} runs in a fresh process; repetitions are {order}."


def _interval_text():
    return (
        "Values are medians over the successful repetitions; in parentheses the distribution-free 95 % confidence "
        "interval of the median (order statistics; ≥ 6 repetitions) or, marked *range*, the min–max with its lower coverage."
    )


def _noise_rule_text(what, scaled, controls):
    text = f"- **The noise rule**: two {what} differ only when their intervals do not overlap; otherwise the report says *within noise*."
    if scaled:
        text += (
            " Speed comparisons use each rate scaled by the machine-speed probe timed in the same process (`probe_ns`: a "
            "fixed walk through memory), which takes the machine's slow spells out of the comparison; the tables show the "
            "raw rates."
        )
    if not controls:  # no configuration with the same timed code as its reference: nothing to check against
        return text
    return text + (
        " A difference no larger than the run's controls (configurations with the same timed code as their reference) "
        "differ by is *not shown* (the noise section lists the controls): below 6 repetitions always, with real "
        "intervals when a control pair differs by the noise rule."
    )


def _scenarios_text():
    return [
        "- Each scenario is a real program; it reports its phases and bench reads the measured process's RSS from outside "
        "at each (`rss_<phase>`, `/proc/<pid>/smaps_rollup`). *MB* are above the first phase (*base*), MB = 10⁶ bytes; "
        "*growth* is the largest phase reading above base; *kept* at a phase = its reading above base / growth, given in MB "
        f"alone when the growth is under {MIN_GROWTH_MB:g} MB. Values are medians over the successful repetitions, each "
        "quantity computed per repetition first.",
        f"- At the last phase, ≤ {GIVES_BACK_PCT:g} % kept counts as *gives it back*, under {MOST_PCT:g} % as *gives most of "
        f"it back*, ≥ {KEEPS_PCT:g} % as *keeps it*; *by* names the first phase after the peak at which that held.",
        f"- {TIMED_PHASES.replace('*timed*', '*Timed*', 1)}. Each one's time is since the previous phase "
        "(`<phase>_seconds`). Settling phases are not timed: other programs may run beside them (a client, a load).",
        "- **The noise rule**: a phase's time differs from the reference's only when the intervals of the two medians do not "
        "overlap (the distribution-free 95 % confidence interval of the median with ≥ 6 repetitions, the min–max range "
        "below, which two equal configurations fail to overlap more often); otherwise it is *not shown to differ*. Lower "
        "is better. Among many comparisons some *differ* by chance: the section says how many to expect.",
        f"- Minor page faults (`minflt`, the whole run) are named beside the reference's when {FAULT_RATIO:g}× apart or more "
        "and their intervals do not overlap.",
        "- The program's own figures are the counters `<figure>_<phase>` it reported at each phase, shown beside "
        "`rss_<phase>`: what the program counts, beside what the kernel has resident for it.",
    ]


def _exact_text(suite, rounds):
    """An exact run (./bench --exact): counts, not times; what the cycles estimate models and what it leaves out."""
    m = suite.measurement
    out = [
        f"- **Counts, not times.** Every child ran under valgrind's {m.tool} ({m.valgrind}), which runs the program on its "
        "synthetic CPU with a simulated cache and counts, in the timed phases only: instructions (Ir), data reads and writes (Dr + Dw: *data "
        "accesses*), L1 misses (instruction fetches and data accesses that missed a first-level cache: I1mr + D1mr + "
        "D1mw) and LL misses (those that missed the last level too: ILmr + DLmr + DLmw). *Per operation* is the phase's "
        "count ÷ N, the entries of the instance; a release step is one call and its counts are per call. Medians over "
        "the repetitions.",
        "- Counts do not depend on the machine's load or speed: there is **no noise rule** and no interval. They need not "
        "be identical from one process to the next, though: how far repetitions and control pairs (the same timed code) "
        "differ is measured in the section (*How far the counts repeat*), and a difference is *shown* only when it exceeds "
        "twice the larger side's difference between its own repetitions, the control pairs' largest difference of that "
        f"count and phase, and {MIN_PCT:g} %.",
        f"- The **cycles estimate** (`{m.cycles_formula}`) weighs each L1 miss as 10 cycles and each LL miss as 100, on "
        "caches of a fixed geometry (the section gives it). It does not model the TLB, DRAM's real latency and bandwidth "
        "(every LL miss costs the same 100), hardware prefetching, branch prediction"
        + ("" if "--branch-sim=yes" in m.command else " (not simulated in this run)")
        + ", instructions overlapping in an out-of-order core, or anything of the kernel: page faults and system calls "
        "are not counted. A timed run measures all of that, with its noise; the estimate is a model of the user-space work alone.",
        f"- **RSS and times of this run are valgrind's** ({m.rss_note}): the report shows neither, and neither may be "
        "compared with a timed run's; `scripts/results_csv.py` still lists them as the rows have them.",
    ]
    if rounds:
        out.append(
            f"- {', '.join(f'`{w.name}`' for w in rounds)} repeats its work {suite.rounds} times in one process (insert, "
            "look up, clear, the release step, a pause), each round counted on its own (`round<k>_…`); a later round's "
            "difference from round 1 is what reusing (or refilling) memory changes in user space."
        )
    out.append(
        "- Configurations are compared like for like: *allocator* (the same code, another malloc or knob) and *container "
        "allocator* (the same node-based container with another allocator); a *different container* is in the tables only."
    )
    return out


def render(report):
    results, suite = report.results, report.suite
    ws = summary.workloads(results, suite)
    out = ["## How to read the numbers", "", _repetitions_text(suite)]
    if suite.exact:
        described = [suite.workloads[w] for w in ws if w in suite.workloads]
        return out + _exact_text(suite, [w for w in described if w.uses_rounds])
    if ws == ["command"]:
        return out + [
            "- The program runs once per repetition under each configuration, its RSS sampled from outside "
            "(`/proc/<pid>/smaps_rollup`); *peak*, *mean* and *at the end* are of those samples, the *integral* is the RSS "
            "over the program's life (MB·s); MB = 10⁶ bytes. " + _interval_text(),
            _noise_rule_text("wall times", False, False),
        ]
    if ws and all(w in suite.scenarios for w in ws):
        return out + _scenarios_text()
    described = [suite.workloads[w] for w in ws if w in suite.workloads]
    moments = sorted({w.cleared_moment for w in described if not w.uses_rounds})
    one_pass = [w for w in described if not w.uses_rounds]
    rounds = [w for w in described if w.uses_rounds]
    if one_pass:
        out.append(
            "- **rss_base** is RSS before the workload allocates anything, **rss_peak** at its fullest; *growth* = peak − "
            "base. *Kept* at a step = (RSS at that step − base) / growth: **after clear** ("
            + " / ".join(moments)
            + "), **after release step** (the configuration's call, if any), "
            + _settle_text(suite, one_pass)
            + "."
        )
    if rounds:
        out.append(
            f"- {', '.join(f'`{w.name}`' for w in rounds)} repeats its work {suite.rounds} times in one process (insert, "
            "look up, clear, the release step, a pause), each round measured on its own (`round<k>_…`); round 1 starts "
            "from a fresh process, later rounds reuse (or fault in again) what the allocator kept."
        )
    out.append(f"- ≥ {KEEPS_PCT:g} % kept counts as *keeps*, ≤ {GIVES_BACK_PCT:g} % as *gives back*.")
    has_rates = any(suite.unit(c) == "items_per_second" for c in suite.units)
    scaled = any(name.endswith(summary.SPEED_SUFFIX) for r in results for name in r.quantities)
    out.append(("- Rates are items per second (M = 10⁶); " if has_rates else "- ") + "MB = 10⁶ bytes. " + _interval_text())
    controls = any(suite.is_control(r.configuration) for r in results)
    out.append(_noise_rule_text("rates", scaled, controls))
    out.append(
        "- Configurations are compared like for like: *allocator* (the same code, another malloc or knob), *container "
        "allocator* (the same node-based container with another allocator) and *different container*."
    )
    return out
