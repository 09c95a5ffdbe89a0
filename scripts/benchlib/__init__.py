"""Reads the Google Benchmark JSON written by ./bench and turns it into tables, plots and reports.

One module per concern, each usable on its own:

  gbjson      load and validate a run (InputError on bad input), parse names, labels, counter order
  summary     per-configuration medians and spreads over repetitions, retention, Pareto set, plot plan
  atomic      write an output file so that readers see the old file or the complete new one
  csvout      the flat CSV behind scripts/results_csv.py
  plots       the matplotlib figures behind scripts/plot.py (the only module that needs matplotlib)
  markdown    the report behind scripts/report.py
  programs    real programs (./bench --scenario): their phases' analysis and the report's section
  program_plots  the figures of a scenario run (programs, programs_timeline), drawn with plots' helpers
  exact_section  an exact run (./bench --exact): counts per operation, how far they repeat, what differs, and
                 beside a timed run (--timed) where counting and timing agree; the report's section
  exact_plots    the figures of an exact run (exact, exact_vs_timed), drawn with plots' helpers
  heap_section   a heap-map run (./bench --heap-map): what stays resident, by class (free, pinned, used,
                 outside), and where the pinning blocks were allocated; the report's section "Why it stays"
  heap_plots     the figure of a heap-map run (heap_map), drawn with plots' helpers
  comparison  the A/B table behind scripts/compare.py
  cli         the error handling shared by the scripts (bad input: one line on stderr, exit status 2)

Units follow the benchmark's convention: byte counters in bytes, rates in items/s, times in seconds
unless the name says otherwise. Derived values use MB = 10^6 bytes.
"""
