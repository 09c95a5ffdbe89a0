"""`./bench --heap-map`: the interposer's page map against a heap of known shape
(tests/heap_shape_program.cc), against the map and fragment workloads, and its effect on served-by.

Run by ctest (label `heap_map`) with BENCH_BINARY and BENCH_HEAP_SHAPE set. No assertion depends
on a duration.
"""

import os
import unittest

from benchrun import available, rows, run_bench

SHAPE = os.environ.get("BENCH_HEAP_SHAPE", "build/tests/bench_heap_shape")
PAGES = 2048
PAGE = 4096


def run_shape(configurations, *args):
    proc, data = run_bench(
        "--heap-map",
        f"--benchmark_filter=^command/({'|'.join(configurations)})$",
        "--command-output=discard",
        "--",
        SHAPE,
        str(PAGES),
        *args,
        check=False,
        timeout=600,
    )
    if data is None:
        raise AssertionError(f"bench wrote no results ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return proc, rows(data), data["suite"]


class KnownShape(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.configurations = [c for c in ("glibc", "mimalloc") if c in available()]
        cls.proc, cls.rows, cls.suite = run_shape(cls.configurations)

    def test_pinned_and_free_pages_are_counted_within_a_few_pages(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        # Region A's live blocks: one in 64; region B: all freed. 48-byte blocks take 64 bytes under
        # glibc (a chunk header), 48 under mimalloc: region A spans 2,048 or 1,536 pages.
        # mimalloc carves small blocks from 64 KiB pages of its own: a region's first and last share
        # theirs with other blocks, so its edges are known to 16 OS pages, glibc's to a few.
        spans = {"glibc": PAGES, "mimalloc": PAGES * 64 * 48 // PAGE}
        slack = {"glibc": 3, "mimalloc": 16}
        for configuration in self.configurations:
            row = self.rows[f"command/{configuration}"]
            self.assertFalse(row.get("error_occurred"), row.get("error_message"))
            expected, within = spans[configuration] * PAGE, slack[configuration] * PAGE
            self.assertLessEqual(abs(row["heap_exit_pinned"] - expected), within, configuration)
            self.assertLessEqual(abs(row["heap_exit_free"] - expected), within, configuration)
            self.assertGreaterEqual(row["heap_exit_used"], 2**20, "the 1 MiB block is used")
            self.assertEqual(row["heap_unknown_frees"], 0)
            self.assertGreater(row["heap_record_ns"], 0, "the interposer's cost per call is measured")

    def test_the_pinning_site_is_the_test_programs_function(self):
        for configuration in self.configurations:
            moments = self.suite["heap_maps"][f"command/{configuration}"][0]["moments"]
            exit_moment = next(m for m in moments if m["moment"] == "exit")
            top = exit_moment["sites"][0]
            self.assertTrue(top["frames"][0].startswith("keep_one_per_page("), top["frames"])
            self.assertGreater(top["bytes"], 0.95 * self.rows[f"command/{configuration}"]["heap_exit_pinned"])

    def test_the_interposer_changes_no_served_by_verdict(self):
        for configuration in self.configurations:
            label = self.rows[f"command/{configuration}"]["label"]
            self.assertIn("verified in 1 measured process", label)
        self.assertIn("interposer", self.suite["measurement"]["heap_map"])

    def test_an_allocation_function_it_does_not_cover_is_reported(self):
        _, rows, _ = run_shape(["glibc"], "--uncovered=100")  # __libc_malloc, then free(): glibc only
        self.assertEqual(rows["command/glibc"]["heap_unknown_frees"], 100)


class Workloads(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        names = [c for c in ("glibc", "glibc-trim", "jemalloc", "tbbmalloc") if c in available()]
        cls.proc, data = run_bench(
            "--heap-map", f"--benchmark_filter=^(map|fragment)/({'|'.join(names)})/", "--sizes=200000", "--settle=200ms"
        )
        cls.rows = rows(data)
        cls.suite = data["suite"]

    def row(self, name):
        row = self.rows.get(f"{name}/200000")
        if row is None:
            self.skipTest(f"{name} is unavailable")
        self.assertFalse(row.get("error_occurred"), row.get("error_message"))
        return row

    @staticmethod
    def nodes_growth(row):
        """What the map's nodes made RSS grow: the growth without the interposer's own tables."""
        return row["rss_peak"] - row["rss_base"] - row["heap_cleared_own"]

    def test_a_cleared_map_is_free_by_choice_and_a_fragmented_one_pinned(self):
        cleared = self.row("map/glibc")
        growth = self.nodes_growth(cleared)
        self.assertGreater(cleared["heap_cleared_free"], 0.9 * growth)
        self.assertLess(cleared["heap_cleared_pinned"], 0.02 * growth)
        fragmented = self.row("fragment/glibc")
        self.assertGreater(fragmented["heap_cleared_pinned"], 0.9 * self.nodes_growth(fragmented))
        self.assertLess(fragmented["heap_cleared_free"], 0.05 * growth)

    def test_a_release_step_returns_the_free_part_not_the_pinned_part(self):
        trimmed = self.row("map/glibc-trim")
        self.assertLess(trimmed["heap_released_free"], 0.02 * trimmed["heap_cleared_free"])
        pinned = self.row("fragment/glibc-trim")
        self.assertGreater(pinned["heap_released_pinned"], 0.95 * pinned["heap_cleared_pinned"])

    def test_served_by_is_the_library_behind_the_interposer(self):
        for name, library in (
            ("map/glibc", "libc.so.6"),
            ("map/jemalloc", "libjemalloc"),
            ("map/tbbmalloc", "libtbbmalloc_proxy"),
        ):
            row = self.row(name)
            self.assertIn(f"malloc=/usr/lib/x86_64-linux-gnu/{library}", row["label"])
            self.assertIn("behind the heap map's interposer", row["label"])

    def test_the_map_nodes_are_the_fragments_pinning_site(self):
        moments = self.suite["heap_maps"]["fragment/glibc/200000"][0]["moments"]
        top = next(m for m in moments if m["moment"] == "cleared")["sites"][0]
        self.assertTrue(any("fragment<" in frame for frame in top["frames"]), top["frames"])
        self.assertGreaterEqual(self.row("fragment/glibc")["heap_calls"], 200000 + 200000 * 63 // 64)


if __name__ == "__main__":
    unittest.main()
