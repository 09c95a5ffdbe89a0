"""The flat CSVs of a run.

bench.csv: one row per benchmark entry (each repetition and each aggregate). Columns: workload,
configuration, (in a run of ./bench --compare-recorders only) observer, kind, size, repetition (index, or
the aggregate's name), run_type, error, real_time_ms, every counter of the run (the workloads' headline
counters first, then by name), then malloc_library, new_library, library_version from the label. A
counter a row lacks is an empty cell. For the `cv` aggregate, values are ratios (stddev / mean), as
Google Benchmark writes them.

timeline.csv: one row per RSS sample of the description's series: benchmark, workload,
configuration, size, repetition, seconds (after the release step, or since a program started),
rss_bytes.
"""

import csv

LEADING = ("workload", "configuration", "kind", "size", "repetition", "run_type", "error", "real_time_ms")
TRAILING = ("malloc_library", "new_library", "library_version")
TIMELINE = ("benchmark", "workload", "configuration", "size", "repetition", "seconds", "rss_bytes")


def counter_order(run):
    """The run's counters: every workload's headline counters first (in the description's order),
    then the rest by name."""
    present = set(run.counter_names())
    headline = [c for w in run.suite.workloads.values() for c in w.headline if c in present]
    headline = list(dict.fromkeys(headline))
    return headline + sorted(present - set(headline))


def leading(run):
    """LEADING, with the observer after the configuration in a run whose instances have one (--compare-recorders):
    there a configuration's program ran four times, and only the observer tells the rows apart."""
    if not run.suite.observed:
        return list(LEADING)
    return list(LEADING[:2]) + ["observer"] + list(LEADING[2:])


def columns(run):
    return leading(run) + counter_order(run) + list(TRAILING)


def table(run):
    """Header and rows as lists of strings/numbers, in file order."""
    counters = counter_order(run)
    observed = run.suite.observed
    rows = []
    for r in run.rows:
        config = run.suite.configuration(r.configuration)
        rows.append(
            [r.workload, r.configuration]
            + ([r.observer or ""] if observed else [])
            + [
                config.kind if config else "",
                "" if r.size is None else r.size,
                r.repetition,
                r.run_type,
                r.error,
                _cell(r.real_time_ms),
            ]
            + [_cell(r.counters.get(c)) for c in counters]
            + [r.label.malloc_library, r.label.new_library, r.label.version]
        )
    return columns(run), rows


def timeline_rows(run):
    for name, entries in run.suite.series.items():
        instance = run.suite.instances.get(name)
        for entry in entries:
            for seconds, rss in zip(entry.get("seconds", []), entry.get("rss_bytes", [])):
                yield (
                    name,
                    instance.workload if instance else "",
                    instance.configuration if instance else "",
                    "" if instance is None or instance.size is None else instance.size,
                    entry.get("repetition", ""),
                    _cell(seconds),
                    _cell(rss),
                )


def _cell(value):
    if value is None:
        return ""
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else repr(value)


def write(fileobj, run):
    header, rows = table(run)
    w = csv.writer(fileobj, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)


def write_timeline(fileobj, run):
    w = csv.writer(fileobj, lineterminator="\n")
    w.writerow(TIMELINE)
    w.writerows(timeline_rows(run))
