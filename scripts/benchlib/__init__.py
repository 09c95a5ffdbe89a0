"""Reads the Google Benchmark JSON written by ./bench and turns it into tables, plots and reports.

The core, one module per concern, each usable on its own (none imports a section):

  description the run's description ("suite"): configurations, workloads, counters, scenarios, heap maps
  gbjson      load and validate a run (InputError on bad input), parse names, labels, counter order
  stats       the median's interval and the noise rule
  summary     per-configuration medians and spreads over repetitions, retention, controls, costs, choices, and
              the contract with ./bench (the counters the scripts read)
  mdformat    number and table formatting
  plots       what every figure is drawn with (matplotlib), and drawing a report's plan
  section     the interface of a report section (Report, PlannedPlot, the kinds of run)
  atomic      write an output file so that readers see the old file or the complete new one
  csvout      the flat CSV behind scripts/results_csv.py
  comparison  the A/B table behind scripts/compare.py
  cli         the error handling shared by the scripts (bad input: one line on stderr, exit status 2)

The report (scripts/report.py) and its figures (scripts/plot.py):

  sections    one module per section of the report — its analysis, its Markdown, its figures — listed once in
              sections.REPORT (see section.py for what a section implements)
  markdown    the report's frame: its title and the measurement's note, then the sections in order

Since a section's figures live beside its text, the report needs matplotlib as the figures do; compare.py and
results_csv.py do not.

Units follow the benchmark's convention: byte counters in bytes, rates in items/s, times in seconds
unless the name says otherwise. Derived values use MB = 10^6 bytes.
"""
