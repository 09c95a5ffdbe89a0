"""A run's journal (benchmarks/driver/journal.h): the rows a ./bench killed by SIGKILL had finished,
turned back into the JSON of a run, marked incomplete.

The journal is one JSON object a line: a header {"journal": 1, "context", "suite"}, then one
{"benchmark", "suite"} per finished repetition, whose "suite" part merges into the header's by
merge_into()'s rule in driver/description.h: objects key by key, arrays appended, anything else
replaced. A last line cut short by the kill is left out and counted.
"""

import json

from .gbjson import InputError


def merge_into(document, part):
    for key, value in part.items():
        into = document.get(key)
        if isinstance(value, dict) and (isinstance(into, dict) or into is None):
            document[key] = into if into is not None else {}
            merge_into(document[key], value)
        elif isinstance(value, list) and (isinstance(into, list) or into is None):
            document[key] = (into or []) + value
        else:
            document[key] = value


def recover(path):
    """(the run's JSON document, the number of torn lines left out). Raises InputError."""
    try:
        with open(path, "rb") as f:
            lines = f.read().split(b"\n")
    except OSError as e:
        raise InputError(path, f"cannot read: {e.strerror}") from None
    if lines and lines[-1] == b"":
        lines.pop()
    if not lines:
        raise InputError(path, "empty: not a run's journal")
    parsed, torn = [], 0
    for number, line in enumerate(lines, 1):
        try:
            parsed.append(json.loads(line.decode("utf-8")))
        except (UnicodeDecodeError, json.JSONDecodeError):
            if number != len(lines):
                raise InputError(
                    path, f"line {number} is not JSON, and it is not the last line (a kill cuts only the last)"
                ) from None
            torn += 1
    header = parsed[0] if parsed else None
    if not isinstance(header, dict) or header.get("journal") != 1:
        raise InputError(path, 'the first line is not a journal header ({"journal": 1, ...}): not a run\'s journal')
    suite = header.get("suite") or {}
    benchmarks = []
    for entry in parsed[1:]:
        if not isinstance(entry, dict) or not isinstance(entry.get("benchmark"), dict):
            raise InputError(path, "a line after the header is not a finished row")
        benchmarks.append(entry["benchmark"])
        merge_into(suite, entry.get("suite") or {})
    if not benchmarks:
        raise InputError(path, "no row had finished: there is nothing to recover")
    context = dict(header.get("context") or {})
    context["incomplete"] = "true"
    return {"context": context, "benchmarks": benchmarks, "suite": suite}, torn
