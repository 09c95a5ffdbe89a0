"""The flat CSV of a run: one row per benchmark entry (each repetition and each aggregate).

Columns: workload, configuration, size, repetition (index, or the aggregate's name), run_type, error,
real_time_ms, every counter of the run (gbjson.counter_sort_key order), then malloc_library,
new_library, library_version from the label. A counter a row lacks is an empty cell. For the `cv`
aggregate, values are ratios (stddev / mean), as Google Benchmark writes them, including real_time_ms.
"""

import csv

LEADING = ("workload", "configuration", "size", "repetition", "run_type", "error", "real_time_ms")
TRAILING = ("malloc_library", "new_library", "library_version")


def columns(run):
    return list(LEADING) + run.counter_names() + list(TRAILING)


def table(run):
    """Header and rows as lists of strings/numbers, in file order."""
    counters = run.counter_names()
    rows = []
    for r in run.rows:
        rows.append([r.workload, r.configuration, "" if r.size is None else r.size, r.repetition,
                     r.run_type, r.error, _cell(r.real_time_ms)]
                    + [_cell(r.counters.get(c)) for c in counters]
                    + [r.label.malloc_library, r.label.new_library, r.label.version])
    return columns(run), rows


def _cell(value):
    if value is None:
        return ""
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else repr(value)


def write(fileobj, run):
    header, rows = table(run)
    w = csv.writer(fileobj, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
