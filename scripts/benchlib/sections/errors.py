"""The report's section "Errors": every failed repetition with its message.
"""

from ..section import EVERY_RUN

RUNS = EVERY_RUN


def _errors_section(run):
    failed = [r for r in run.rows if r.error]
    out = ["## Errors", ""]
    if not failed:
        return out + ["No benchmark reported an error."]
    for r in failed:
        rep = "" if r.repetition in (None, "") else f" repetition {r.repetition}"
        out.append(f"- `{r.run_name}`{rep}: {r.error}")
    return out


def render(report):
    return _errors_section(report.run)
