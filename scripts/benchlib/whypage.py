"""WHY.md and why.png: one program's answer (benchlib/answer.py) as one page and one picture."""

import os

from . import answer as rules

MB = 1e6


def mb(value):
    return "—" if value is None else f"{value / MB:,.1f} MB"


def seconds(value):
    if value is None:
        return "—"
    if value < 0:
        return "never"  # ./bench's return times are -1 when that share never came back
    return f"{value * 1000:,.1f} ms" if value < 1 else f"{value:,.2f} s"


def share(part, whole):
    return "—" if not whole or part is None else f"{100 * part / whole:,.0f} %"


def _way_text(way):
    if way["kind"] == "release call" and way.get("release_call"):
        return f"`{way['release_call']}` at the moment ({way['configuration']})"
    if way.get("environment"):
        settings = " ".join(f"{k}={v}" for k, v in sorted(way["environment"].items()))
        return f"`{settings}` ({way['configuration']}: {way['summary']})"
    return f"{way['configuration']} ({way['summary']})"


def headline(a):
    c, kept = a["classes"], a["rss_at_moment"]
    own, moment = a["own"], a["moment"]
    advice = a["advice"]
    growth = None if a["rss_start"] is None or kept is None else kept - a["rss_start"]
    grew = None if a["rss_start"] is None else a["rss_peak"] - a["rss_start"]
    start = f"At `{moment}` the program held {mb(kept)}" + (
        f", {share(growth, grew)} of the {mb(grew)} it grew by" if growth and grew else ""
    )
    if advice["verdict"] == "nothing to return":
        return f"{start}; {own} keeps only {mb(c['free'] + c['pinned'])} free or pinned there: nothing to return."
    if advice["verdict"] == "pinned":
        site = a["sites"][0]["frames"][0] if a["sites"] else "its live blocks"
        return (
            f"{start}; {mb(c['pinned'])} of it is **pinned** by live blocks (first by `{site}`), {mb(c['free'])} free: "
            f"no release call, knob or allocator returns pinned pages while their blocks live — the program has to "
            f"free them, or allocate them elsewhere."
        )
    way = next((w for w in a["ways"] if w["configuration"] == advice.get("configuration")), None)
    if way is not None:
        return (
            f"{start}; {mb(c['free'])} of it is **free**, kept by {own} by choice. Try first: {_way_text(way)} — "
            f"{rules.KIND_TEXT[way['kind']]}; in the replay it returns {mb(way['returned'])} within the program's "
            f"{seconds(a['idle_seconds'])} of idle time after `{moment}`."
        )
    latest = advice.get("by_the_end")
    return (
        f"{start}; {mb(c['free'])} of it is **free**, kept by {own} by choice, but no way out the suite knows "
        f"returns it within the program's {seconds(a['idle_seconds'])} of idle time after `{moment}`"
        + (f"; {latest} returns most by the end of the replay's settle period." if latest else ".")
    )


def choice(a):
    """How the rule came to the headline's advice: what passed its test, by kind, and what is within the noise
    of the choice (the headline itself is at the top of the page)."""
    advice = a["advice"]
    if advice["verdict"] in ("nothing to return", "pinned"):
        return [f"The rule's answer is **{advice['verdict']}** (above); no way out is weighed."]
    passed = [w for w in a["ways"] if w.get("returns_it")]
    if not passed:
        return [
            "No way out passed the rule's test (returns at least 80 % of the free bytes within the idle time, peak within bounds)."
        ]
    lines = ["The ways out that pass the rule's test, by kind, in the order the rule prefers:", ""]
    for kind in rules.KINDS:
        names = [w["configuration"] for w in passed if w["kind"] == kind]
        if names:
            lines.append(f"- {kind}: {', '.join(names)}")
    if advice.get("configuration"):
        tied = advice.get("within_noise") or []
        lines += [
            "",
            f"Chosen: **{advice['configuration']}**, the first kind that has one and within it the cheapest a call"
            + (
                f"; {', '.join(tied)} cost the same within the fast replays' noise (their ranges overlap, or fewer than two "
                f"repetitions): the choice between them is not the measurement's."
                if tied
                else "."
            ),
        ]
    return lines


def render(a):
    c = a["classes"]
    held = sum(c[k] for k in ("free", "pinned", "used", "outside"))
    lines = [
        f"# Why `{' '.join(a['program'])}` keeps its memory",
        "",
        headline(a),
        "",
        "![RSS kept after the moment, by way out](why.png)",
        "",
        "## The moment",
        "",
        f"{a['moment_chosen'][0].upper()}{a['moment_chosen'][1:]}, {seconds(a['moment_seconds'])} into the program; "
        + {
            True: f"its next allocator call came {seconds(a['idle_seconds'])} after it. ",
            False: f"it made no allocator call after it, and ended {seconds(a['idle_seconds'])} later. ",
            None: f"it did {seconds(a['idle_seconds'])} more after it. ",
        }[a.get("idle_ends_at_a_call")]
        + f"Recorded once under **{a['own']}**, the allocator it "
        f"gets without ./bench ({a['own_why']}; verified: {a['own_label'].split(';')[0]}).",
        "",
        "## What it kept, and why",
        "",
        f"Its RSS: {mb(a['rss_start'])} at its first sample, {mb(a['rss_peak'])} at its peak, {mb(a['rss_at_moment'])} "
        f"at `{a['moment']}`. The recording's pages there (read from outside the process, joined with its live blocks):",
        "",
        "| class | MB | share | what it means |",
        "|---|---:|---:|---|",
        f"| free | {mb(c['free'])} | {share(c['free'], held)} | resident, no live block: kept by the allocator by choice (a release call or a knob can return it) |",
        f"| pinned | {mb(c['pinned'])} | {share(c['pinned'], held)} | resident, a few live blocks in each page: nothing returns it while they live |",
        f"| used | {mb(c['used'])} | {share(c['used'], held)} | the program's live blocks ({mb(c['live'])} of them) |",
        f"| outside malloc | {mb(c['outside'])} | {share(c['outside'], held)} | stacks, static buffers, memory the program maps itself |",
        "",
    ]
    if a["sites"] and c["pinned"] >= rules.SMALL_BYTES / 5:
        lines += ["What pins it, first by the bytes pinned:", "", "| pinned | blocks | allocated at |", "|---:|---:|---|"]
        for site in a["sites"]:
            lines.append(f"| {mb(site['bytes'])} | {site['blocks']:,.0f} | `{' ← '.join(site['frames'][:4])}` |")
        lines.append("")
    idle = seconds(a["idle_seconds"])
    lines += [
        "## Every way out, replayed",
        "",
        f"The recording replayed as recorded under each configuration (its threads, its gaps of 1 ms or more), "
        f"MB above the replay's baseline; *after {idle}* is the end of the program's own idle time after the moment"
        + (
            " (read by each replay just before that next call, not at a sample near it). "
            if a.get("idle_ends_at_a_call")
            else ". "
        )
        + "The costs are the allocator's in the replay, not the program's: its time a call (fast replays, median "
        "and range) and its minor faults.",
        "",
        f"| way out | kind | at the moment | after {idle} | returned | at the end | half back after | peak | allocator's ns a call | minor faults |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for way in a["ways"]:
        fast = way["fast"]
        cost = (
            "—"
            if not fast
            else f"{fast['ns_per_call']:,.0f} ({fast['ns_per_call_range'][0]:,.0f}–{fast['ns_per_call_range'][1]:,.0f})"
        )
        faults = "—" if not fast else f"{fast['minor_faults']:,.0f}"
        mark = "**" if way["configuration"] == a["advice"].get("configuration") else ""
        lines.append(
            f"| {mark}{way['configuration']}{mark} | {way['kind']} | {mb(way['kept_at_moment'])} | {mb(way['kept_after_idle'])} "
            f"| {mb(way.get('returned'))} | {mb(way['kept_at_end'])} | {seconds(way['return_50pct_s'])} | {mb(way['peak'])} "
            f"| {cost} | {faults} |"
        )
    lines += ["", "## What to try first", "", *choice(a), "", f"The rule: {a['rule']}.", ""]
    f = a["fidelity"]
    lines += ["## Does the replay stand for the program", ""]
    if f.get("within") is None:
        lines.append(f"Not known: {f.get('why', 'no figures')}.")
    else:
        verdict = (
            "it does" if f["within"] else "**it does not**: the advice above is the replay's and needs a live run to confirm it"
        )
        lines += [
            f"The replay under {a['own']} against the recorded live run (one repetition each; within 10 % or 5 MB): {verdict}.",
            "",
            "| figure | live | replay | tolerance | within |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, fig in f["figures"].items():
            lines.append(
                f"| {name} | {mb(fig['live'])} | {mb(fig['replay'])} | {mb(fig['tolerance'])} | {'yes' if fig['within'] else '**no**'} |"
            )
        if f.get("note"):
            lines += ["", f["note"]]
    plan = a["plan"]
    lines += [
        "",
        "## Evidence",
        "",
        f"- the command: `{a['command']}`; answered in {a['seconds'] / 60:,.1f} min (planned "
        f"{plan['estimate_seconds'] / 60:,.1f}: {plan['as_recorded_replays']} replays as recorded, each watched "
        f"{seconds(plan['settle_seconds'])} from the moment, and {plan['fast_replays']} fast ones)"
        + (
            "; each step planned / taken: "
            + ", ".join(
                f"{step} {plan['estimates'][step] / 60:,.1f} / {plan['took'][step] / 60:,.1f} min"
                for step in ("record", "as_recorded", "fast")
                if step in plan["took"]
            )
            if plan.get("took")
            else ""
        ),
        "- the recording: [record/REPORT.md](record/REPORT.md), [record/bench.json](record/bench.json), its trace in `record/traces/`",
        "- the replays: [replay/REPORT.md](replay/REPORT.md), [replay/bench.json](replay/bench.json)"
        + (", [replay-fast/REPORT.md](replay-fast/REPORT.md)" if plan["fast_replays"] else ""),
        "- this page's figures: [answer.json](answer.json)",
        "",
    ]
    return "\n".join(lines)


def plot(a, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ways = [w for w in a["ways"] if w["kept_after_idle"] is not None]
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(ways) + 1.6))
    names = [w["configuration"] for w in ways]
    colors = []
    for w in ways:
        if w["configuration"] == a["advice"].get("configuration"):
            colors.append("tab:green")
        elif w["kind"] == "own":
            colors.append("tab:red")
        else:
            colors.append({"knob": "tab:blue", "release call": "tab:purple"}.get(w["kind"], "tab:gray"))
    ax.barh(names, [w["kept_after_idle"] / MB for w in ways], color=colors)
    floor = (a["classes"]["pinned"] + a["classes"]["used"]) / MB
    ax.axvline(floor, color="black", linestyle="--", linewidth=1)
    ax.text(floor, -0.9, " pinned + used", fontsize=8, va="top")
    ax.invert_yaxis()
    ax.set_xlabel(f"MB above the replay's baseline {seconds(a['idle_seconds'])} after `{a['moment']}`")
    ax.set_title(
        f"{os.path.basename(a['program'][0])}: what each way out keeps (red: its own {a['own']}; green: try first)", fontsize=9
    )
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
