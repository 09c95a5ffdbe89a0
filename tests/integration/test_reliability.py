"""Reliability tests: ./bench (and scripts/run.sh) under faults, bad input, memory limits and signals.

Run by ctest (tests/reliability.cmake, label `reliability`) with:
  BENCH_BINARY            build/bench
  BENCH_WITHOUT_JEMALLOC  ./bench built as if CMake had not found libjemalloc.so.2
  BENCH_RUN_SCRIPT        scripts/run.sh
  BENCH_SANITIZED_BINARY  ./bench under ASan + UBSan (only for the SanitizedBench entry)

Children are found from /proc: a child is `<bench> --child <workload> <configuration> ...` whose
parent is the bench process. No assertion depends on a duration; the timeouts are for safety only.
Sizes are small and settle periods at most 500 ms (long enough to catch a child alive).
"""
import json
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

BENCH = os.environ.get("BENCH_BINARY", "build/bench")
WITHOUT_JEMALLOC = os.environ.get("BENCH_WITHOUT_JEMALLOC", "build/tests/bench_without_jemalloc")
RUN_SCRIPT = os.environ.get("BENCH_RUN_SCRIPT", os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "run.sh"))
RECOVER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(RUN_SCRIPT)), "recover.py")
SANITIZED = os.environ.get("BENCH_SANITIZED_BINARY")
SAFETY_TIMEOUT = 120  # seconds; a run that takes longer is a hang, not a slow machine
GLIBC_CONFIGS = "^map/(glibc|glibc-trim|glibc-tuned|pool)/"  # preload nothing: always available, in this order


# --- processes -------------------------------------------------------------------------------------


def parent_pid_of(pid):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    return int(stat[stat.rindex(")") + 2 :].split()[1])  # the command name may hold spaces and ')'


def command_line(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return [a.decode() for a in f.read().split(b"\0")[:-1]]


def bench_children(parent):
    """{pid: argv} of the children of `parent` that have executed `bench --child ...`."""
    try:
        with open(f"/proc/{parent}/task/{parent}/children") as f:
            candidates = [int(p) for p in f.read().split()]
    except OSError:  # kernel without CONFIG_PROC_CHILDREN: scan every process
        candidates = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    found = {}
    for pid in candidates:
        try:
            if parent_pid_of(pid) != parent:
                continue
            argv = command_line(pid)
        except (OSError, ValueError, IndexError):
            continue  # exited meanwhile
        if len(argv) > 3 and argv[1] == "--child":
            found[pid] = argv
    return found


def still_running(pid, argv):
    """True if `pid` is still the child it was (not exited, not reaped, not reused)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z" and command_line(pid) == argv
    except (OSError, IndexError):
        return False


def wait_until_gone(children):
    """The children still running after a safety timeout (PR_SET_PDEATHSIG acts asynchronously)."""
    deadline = time.monotonic() + 10
    alive = dict(children)
    while alive and time.monotonic() < deadline:
        alive = {pid: argv for pid, argv in alive.items() if still_running(pid, argv)}
        time.sleep(0.01)
    return alive


class BenchRun:
    """./bench started in the background, its output in files, its children watched from /proc."""

    def __init__(self, args, binary=BENCH, env=None, new_session=False, preexec_fn=None, command=None):
        self.tmp = tempfile.mkdtemp(prefix="bench-reliability-")
        self.stdout_path = os.path.join(self.tmp, "stdout")
        self.stderr_path = os.path.join(self.tmp, "stderr")
        with open(self.stdout_path, "w") as out, open(self.stderr_path, "w") as err:
            self.proc = subprocess.Popen(
                command or [binary, *args], stdout=out, stderr=err, env=env, start_new_session=new_session, preexec_fn=preexec_fn
            )
        self.seen = {}  # every child seen: pid -> argv
        self.handled = set()  # children already passed to finish()'s on_child
        self.deadline = time.monotonic() + SAFETY_TIMEOUT

    def poll_children(self, parent=None):
        current = bench_children(parent or self.proc.pid)
        for pid, argv in current.items():
            self.seen.setdefault(pid, argv)
        return current

    def wait_for_child(self, configuration, parent=None):
        """Pid of the running child of `configuration` (its argv[3])."""
        while True:
            for pid, argv in self.poll_children(parent).items():
                if argv[3] == configuration:
                    return pid
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"bench exited ({self.proc.returncode}) before a {configuration} child ran:\n{self.stderr()}"
                )
            self.check_deadline()
            time.sleep(0.002)

    def finish(self, on_child=None, parent=None):
        """Watches until bench exits, calling on_child(pid, argv) once per new child; returns the status."""
        while self.proc.poll() is None:
            for pid, argv in self.poll_children(parent).items():
                if on_child and pid not in self.handled:
                    self.handled.add(pid)
                    on_child(pid, argv)
            self.check_deadline()
            time.sleep(0.002)
        return self.proc.returncode

    def check_deadline(self):
        if time.monotonic() > self.deadline:
            self.proc.kill()
            raise AssertionError(f"bench did not finish within {SAFETY_TIMEOUT}s (safety timeout)")

    def stdout(self):
        with open(self.stdout_path) as f:
            return f.read()

    def stderr(self):
        with open(self.stderr_path) as f:
            return f.read()

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def load_rows(path):
    with open(path) as f:
        data = json.load(f)
    return data, {b["name"]: b for b in data["benchmarks"] if b.get("run_type") == "iteration"}


def run_to_end(args, binary=BENCH, **kwargs):
    """Runs bench to the end; returns (CompletedProcess)."""
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=SAFETY_TIMEOUT, **kwargs)


def jemalloc_preload_path():
    """The LD_PRELOAD path of the jemalloc configuration, or None if it is unavailable."""
    listing = {c["name"]: c for c in json.loads(run_to_end(["--list-configs=json"]).stdout)}
    jemalloc = listing.get("jemalloc")
    return jemalloc["library_path"] if jemalloc and jemalloc["available"] else None


# --- 1. a child that dies or overruns --------------------------------------------------------------


class ChildKilledFromOutside(unittest.TestCase):
    """Four instances; three children are killed from outside (SIGKILL, SIGSEGV as a crash, SIGABRT as
    an abort) while they run; the fourth is left alone."""

    SIGNALS = {"glibc": signal.SIGKILL, "glibc-trim": signal.SIGSEGV, "glibc-tuned": signal.SIGABRT}

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="bench-reliability-")
        cls.out = os.path.join(cls.tmp, "out.json")
        cls.bench = BenchRun(
            [f"--benchmark_filter={GLIBC_CONFIGS}", "--sizes=100000", "--settle=500ms", f"--benchmark_out={cls.out}"]
        )
        cls.killed = {}

        def kill(pid, argv):
            sig = cls.SIGNALS.get(argv[3])
            if sig is not None:
                os.kill(pid, sig)
                cls.killed[argv[3]] = pid

        cls.status = cls.bench.finish(on_child=kill)
        cls.data, cls.rows = load_rows(cls.out)

    @classmethod
    def tearDownClass(cls):
        cls.bench.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_every_child_was_found_and_signalled(self):
        self.assertEqual(set(self.killed), set(self.SIGNALS))

    def test_killed_children_are_error_rows_naming_the_cause(self):
        expected = {
            "glibc": "signal 9 (Killed)",
            "glibc-trim": "signal 11 (Segmentation fault)",
            "glibc-tuned": "signal 6 (Aborted)",
        }
        for configuration, cause in expected.items():
            row = self.rows[f"map/{configuration}/100000"]
            self.assertTrue(row.get("error_occurred"), row)
            self.assertIn(cause, row["error_message"])
            self.assertIn(f"child {self.killed[configuration]} killed", row["error_message"])
        # Which of the two is named depends on the system-wide OOM kill counter; here nothing ran out.
        self.assertRegex(self.rows["map/glibc/100000"]["error_message"], "sent from outside|OOM killer")

    def test_the_other_instance_ran_and_was_kept(self):
        row = self.rows["map/pool/100000"]
        self.assertFalse(row.get("error_occurred"), row.get("error_message"))
        self.assertGreater(row["rss_peak"], row["rss_base"])

    def test_console_and_stderr_name_the_instance_and_the_cause(self):
        stdout, stderr = self.bench.stdout(), self.bench.stderr()
        self.assertRegex(stdout, r"map/glibc/100000 +ERROR OCCURRED: '.*signal 9")
        self.assertIn("bench: map/glibc-trim/100000: child ", stderr)

    def test_exit_status_is_nonzero_and_the_run_complete(self):
        self.assertEqual(self.status, 1, self.bench.stderr())
        self.assertEqual(self.data["context"]["incomplete"], "false")

    def test_no_child_is_left_behind(self):
        self.assertEqual(wait_until_gone(self.bench.seen), {})


class QuietTimedPhases(unittest.TestCase):
    """A child enters its timed phases beside settling children only when they are quiet (under 2 % of
    one CPU over the last 100 ms, driver/launcher.h): beside an idle settler it starts at once, beside
    one whose settle period saturates a CPU it waits until that one has exited."""

    def most_at_once(self, activity_flags, filter_):
        run = BenchRun([f"--benchmark_filter={filter_}", "--sizes=20000", "--settle=1s", *activity_flags])
        most = 0
        try:
            while run.proc.poll() is None:
                most = max(most, len(run.poll_children()))
                run.check_deadline()
                time.sleep(0.002)
            self.assertEqual(run.proc.returncode, 0, run.stderr()[-2000:])
        finally:
            run.cleanup()
        return most

    def test_idle_settlers_let_the_next_child_measure(self):
        self.assertEqual(self.most_at_once([], "^map/(glibc|glibc-trim)/"), 2)

    def test_a_busy_settler_keeps_the_next_child_waiting(self):
        busy = ["--activity=batch:count=200000:size=64", "--activity-period=10ms"]
        self.assertEqual(self.most_at_once(busy, "^map_active:batch/(glibc|glibc-trim)/"), 1)


class TimeLimit(unittest.TestCase):
    """--timeout=1ms on top of a 500 ms settle period: no child can finish in time (each settles 500 ms
    after it has measured), so every instance is stopped; CSV output carries the error columns."""

    def test_overrunning_children_are_stopped_and_reported(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out.csv")
            run = BenchRun(
                [
                    "--benchmark_filter=^map/(glibc|pool)/",
                    "--sizes=1000",
                    "--settle=500ms",
                    "--timeout=1ms",
                    f"--benchmark_out={out}",
                    "--benchmark_out_format=csv",
                ]
            )
            try:
                status = run.finish()
                self.assertEqual(status, 1, run.stderr())
                with open(out) as f:
                    lines = [line for line in f if line.startswith('"map/')]
                self.assertEqual(len(lines), 2, lines)
                for line in lines:
                    self.assertIn(",true,", line)
                    self.assertIn("exceeded the per-instance time limit of 1ms beyond the 500ms settle period (--timeout)", line)
                self.assertIn("ERROR OCCURRED", run.stdout())
                self.assertEqual(wait_until_gone(run.seen), {})
            finally:
                run.cleanup()


class CsvOutput(unittest.TestCase):
    """Configurations report different counters (glibc's stat_arena, the pool's stat_pool_*); Google
    Benchmark's CSV reporter aborts on a counter its header lacks, so the suite reports CSV at the end."""

    def test_rows_with_different_counters_are_all_written(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out.csv")
            proc = run_to_end(
                [
                    "--benchmark_filter=^map/(glibc|pool)/",
                    "--sizes=1000",
                    "--settle=0",
                    "--benchmark_format=csv",
                    f"--benchmark_out={out}",
                    "--benchmark_out_format=csv",
                ]
            )
            self.assertEqual(proc.returncode, 0, proc.stderr[-4000:])
            with open(out) as f:
                text = f.read()
            for csv_text in (proc.stdout, text):
                header = next(line for line in csv_text.splitlines() if line.startswith("name,"))
                self.assertIn('"stat_arena"', header)
                self.assertIn('"map/glibc/1000"', csv_text)
                self.assertIn('"map/pool/1000"', csv_text)


# --- 2. interrupts ---------------------------------------------------------------------------------


class Interrupted(unittest.TestCase):
    """SIGINT or SIGTERM to bench once the first instance has finished (--max-settling=0: one child at a
    time, so the second configuration's child exists only after the first has ended)."""

    def interrupt(self, sig):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out.json")
            run = BenchRun(
                [
                    f"--benchmark_filter={GLIBC_CONFIGS}",
                    "--sizes=100000",
                    "--settle=500ms",
                    "--max-settling=0",
                    f"--benchmark_out={out}",
                ]
            )
            try:
                run.wait_for_child("glibc-trim")
                self.assertFalse(os.path.exists(out), "the final name appears only when the run ends")
                run.proc.send_signal(sig)
                status = run.finish()
                self.assertEqual(status, 130, run.stderr())
                self.assertEqual(os.listdir(tmp), ["out.json"], "no partial file is left")
                data, rows = load_rows(out)
                self.assertEqual(data["context"]["incomplete"], "true")
                self.assertFalse(rows["map/glibc/100000"].get("error_occurred"), rows["map/glibc/100000"])
                name = signal.Signals(sig).name
                self.assertIn(f"interrupted by {name} while running", rows["map/glibc-trim/100000"]["error_message"])
                self.assertIn(f"not run: the run was interrupted by {name}", rows["map/glibc-tuned/100000"]["error_message"])
                self.assertIn('marked "incomplete"', run.stderr())
                self.assertEqual(wait_until_gone(run.seen), {})
            finally:
                run.cleanup()

    def test_sigint(self):
        self.interrupt(signal.SIGINT)

    def test_sigterm(self):
        self.interrupt(signal.SIGTERM)


# --- 3. memory guard -------------------------------------------------------------------------------


def limit_address_space():
    """A safety net for the memory tests: should the guard fail, hashing 1e9 keys (a 16 GB mapping)
    fails at once instead of filling the machine."""
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def mem_available():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


@unittest.skipIf(mem_available() > 150 << 30, "this machine has memory for a map of 1e9 entries")
class MemoryGuard(unittest.TestCase):
    def test_refused_before_its_keys_are_hashed(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out.json")
            proc = run_to_end(
                ["--benchmark_filter=^map/glibc/", "--sizes=1000,1000000000", "--settle=0", f"--benchmark_out={out}"],
                preexec_fn=limit_address_space,
            )
            self.assertEqual(proc.returncode, 1, proc.stderr)
            _, rows = load_rows(out)
            # The small instance ran: the parent did not try to hash keys for the refused size.
            self.assertFalse(rows["map/glibc/1000"].get("error_occurred"), rows["map/glibc/1000"].get("error_message"))
            message = rows["map/glibc/1000000000"]["error_message"]
            self.assertIn("refused by the memory guard: estimated peak", message)
            self.assertIn("--ignore-memory-limit", message)
            self.assertIn("bench: map/glibc/1000000000: refused by the memory guard", proc.stderr)

    def test_ignore_memory_limit_lets_it_start(self):
        # Not run for real: under the address-space limit the key table cannot even be mapped.
        proc = run_to_end(
            ["--benchmark_filter=^map/glibc/", "--sizes=1000000000", "--settle=0", "--ignore-memory-limit"],
            preexec_fn=limit_address_space,
        )
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertNotIn("memory guard", proc.stderr)
        self.assertIn("bench: map/glibc/1000000000: could not start the child", proc.stderr)


# --- 4. bad input ----------------------------------------------------------------------------------


class BadInput(unittest.TestCase):
    """Each case: exit status 2, a message naming the problem, and the results folder untouched (the
    file already there unchanged, nothing new, no partial file)."""

    BASE = ["--benchmark_filter=^map/glibc/", "--sizes=1000", "--settle=0"]  # the bad flag comes after: it wins
    CASES = [
        ("--sizes=abc", "--sizes=abc: size 'abc' is not a positive whole number"),
        ("--sizes=0", "--sizes=0: size '0' is zero"),
        ("--sizes=1000,", "--sizes=1000,: empty size"),
        ("--sizes=99999999999999999999", "is too large"),
        ("--sizes=2000000000", "is too large"),
        ("--settle=fast", "--settle=fast: duration 'fast'"),
        ("--settle=10", "--settle=10: duration '10' has no unit"),
        ("--settle=1.2.3s", "is malformed"),
        ("--timeout=0", "--timeout=0"),
        ("--max-settling=many", "--max-settling=many"),
        ("--benchmark_filter=^nomatch/", "--benchmark_filter=^nomatch/ matches no benchmark"),
        ("--benchmark_filter=map/(glibc", "is not a valid extended regular expression"),
        ("--benchmark_out_format=xml", "unknown output format 'xml'"),
        ("--no-such-flag", "unrecognized command-line flag: --no-such-flag"),
    ]

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="bench-reliability-")
        self.kept = os.path.join(self.tmp, "kept.json")
        with open(self.kept, "w") as f:
            f.write('{"earlier": "results"}\n')
        past = time.time() - 3600
        os.utime(self.kept, (past, past))
        self.before = os.stat(self.kept)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def assert_untouched(self):
        self.assertEqual(os.listdir(self.tmp), ["kept.json"])
        after = os.stat(self.kept)
        self.assertEqual(
            (after.st_mtime_ns, after.st_size, after.st_ino), (self.before.st_mtime_ns, self.before.st_size, self.before.st_ino)
        )
        with open(self.kept) as f:
            self.assertEqual(f.read(), '{"earlier": "results"}\n')

    def test_bad_flags(self):
        for flag, message in self.CASES:
            with self.subTest(flag=flag):
                proc = run_to_end([*self.BASE, flag, f"--benchmark_out={os.path.join(self.tmp, 'new.json')}"])
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertIn(message, proc.stderr)
                self.assertEqual(proc.stdout, "", "nothing ran")
                self.assert_untouched()

    def test_existing_output_is_refused_and_untouched(self):
        proc = run_to_end([*self.BASE, f"--benchmark_out={self.kept}"])
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn(f"--benchmark_out={self.kept} already exists; it is not replaced", proc.stderr)
        self.assert_untouched()

    def test_existing_output_named_by_the_environment_is_refused_too(self):
        proc = run_to_end(self.BASE, env={**os.environ, "BENCHMARK_OUT": self.kept})
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("already exists", proc.stderr)
        self.assert_untouched()

    def test_unwritable_locations(self):
        # As root, permissions stop nothing: a path below a regular file, and /proc, cannot be created.
        for out, reason in (("/etc/hostname/x.json", "Not a directory"), ("/proc/bench-x.json", "")):
            with self.subTest(out=out):
                proc = run_to_end([*self.BASE, f"--benchmark_out={out}"])
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertIn(f"cannot write --benchmark_out={out}", proc.stderr)
                self.assertIn(reason, proc.stderr)
                self.assertFalse(os.path.exists(out))


class MissingLibrary(unittest.TestCase):
    """A configuration whose library CMake did not find is listed unavailable and becomes an error row
    with the reason; the others still run."""

    def test_listed_as_unavailable_with_the_reason(self):
        out = run_to_end(["--list-configs"], binary=WITHOUT_JEMALLOC).stdout
        line = next(l for l in out.splitlines() if l.startswith("jemalloc "))
        self.assertIn("UNAVAILABLE: libjemalloc.so.2 was not found when cmake configured the build", line)
        self.assertRegex(out, r"(?m)^glibc +process-level +available")

    def test_skipped_with_the_reason_and_the_rest_kept(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out.json")
            proc = run_to_end(
                ["--benchmark_filter=^map/(glibc|jemalloc)/", "--sizes=1000", "--settle=0", f"--benchmark_out={out}"],
                binary=WITHOUT_JEMALLOC,
            )
            self.assertEqual(proc.returncode, 1, proc.stderr)
            _, rows = load_rows(out)
            self.assertFalse(rows["map/glibc/1000"].get("error_occurred"))
            self.assertTrue(rows["map/jemalloc/1000"]["error_occurred"])
            self.assertIn("unavailable: libjemalloc.so.2 was not found", rows["map/jemalloc/1000"]["error_message"])
            self.assertIn("configuration jemalloc is unavailable", proc.stderr)
            data, _ = load_rows(out)
            self.assertEqual(data["context"]["library_jemalloc"], "unavailable")


# --- 5. atomic output ------------------------------------------------------------------------------


class ParentKilled(unittest.TestCase):
    """SIGKILL to bench mid-run: it cannot clean up. No file appears under the final name; the partial
    file stays (the next run with that name points at it); the children die with their parent."""

    def test_no_half_file_under_the_final_name(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out.json")
            run = BenchRun(
                [
                    f"--benchmark_filter={GLIBC_CONFIGS}",
                    "--sizes=100000",
                    "--settle=500ms",
                    "--max-settling=0",
                    f"--benchmark_out={out}",
                ]
            )
            try:
                run.wait_for_child("glibc-trim")  # the first row has been written to the partial file
                run.proc.kill()
                run.proc.wait()
                self.assertFalse(os.path.exists(out))
                partial = f"{out}.partial-{run.proc.pid}"
                journal = f"{out}.rows-{run.proc.pid}.jsonl"
                self.assertEqual(sorted(os.listdir(tmp)), sorted([os.path.basename(partial), os.path.basename(journal)]))
                self.assertEqual(wait_until_gone(run.seen), {}, "PR_SET_PDEATHSIG stops the children")
                # Every row that had finished is in the journal, and recover.py makes a run of them.
                recovered = os.path.join(tmp, "recovered.json")
                proc = subprocess.run(
                    ["/usr/bin/python3", RECOVER_SCRIPT, journal, "-o", recovered],
                    capture_output=True,
                    text=True,
                    timeout=SAFETY_TIMEOUT,
                )
                self.assertEqual(proc.returncode, 0, proc.stderr)
                data, rows = load_rows(recovered)
                self.assertEqual(data["context"]["incomplete"], "true")
                self.assertFalse(rows["map/glibc/100000"].get("error_occurred"))
                self.assertIn("map/glibc/100000", data["suite"]["series"])
                os.unlink(recovered)

                again = run_to_end(["--benchmark_filter=^map/glibc/", "--sizes=1000", "--settle=0", f"--benchmark_out={out}"])
                self.assertEqual(again.returncode, 0, again.stderr)
                self.assertIn(f"note: {partial} was left by an earlier bench that was killed", again.stderr)
                self.assertIn(f"that bench's finished rows are in {journal}", again.stderr)
                self.assertTrue(os.path.exists(partial), "a leftover is reported, never deleted")
                _, rows = load_rows(out)
                self.assertIn("map/glibc/1000", rows)
            finally:
                run.cleanup()


# --- 6. the children's environment -----------------------------------------------------------------


class CallerEnvironmentIgnored(unittest.TestCase):
    """The caller's MALLOC_CONF, LD_PRELOAD and GLIBC_TUNABLES reach neither the glibc child nor the
    jemalloc child: each gets exactly its configuration's environment."""

    def test_rows_served_and_configured_by_the_table_only(self):
        jemalloc = jemalloc_preload_path()
        if jemalloc is None:
            self.skipTest("jemalloc is unavailable in this build")
        hostile = {
            **os.environ,
            "MALLOC_CONF": "background_thread:true",
            "LD_PRELOAD": jemalloc,
            "GLIBC_TUNABLES": "glibc.malloc.mxfast=0",
            "BENCH_RELIABILITY_MARKER": "1",
        }
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out.json")
            run = BenchRun(
                ["--benchmark_filter=^map/(glibc|jemalloc)/", "--sizes=100000", "--settle=500ms", f"--benchmark_out={out}"],
                env=hostile,
            )
            environments = {}

            def record(pid, argv):
                try:
                    with open(f"/proc/{pid}/environ", "rb") as f:
                        environments[argv[3]] = dict(v.decode().split("=", 1) for v in f.read().split(b"\0") if v)
                except OSError:
                    pass

            try:
                status = run.finish(on_child=record)
                self.assertEqual(status, 0, run.stderr())
                _, rows = load_rows(out)
            finally:
                run.cleanup()
        glibc, jemalloc_row = rows["map/glibc/100000"], rows["map/jemalloc/100000"]
        self.assertRegex(glibc["label"], r"malloc=\S*/libc\.so")
        self.assertGreater(glibc["stat_fsmblks"], 0, "mxfast=0 from the caller would leave no fastbin chunks")
        self.assertRegex(jemalloc_row["label"], r"malloc=\S*libjemalloc")
        self.assertEqual(jemalloc_row["opt_background_thread"], 0)
        self.assertEqual(set(environments), {"glibc", "jemalloc"}, "both children were seen")
        self.assertEqual(set(environments["glibc"]), {"PATH", "LC_ALL"})
        self.assertEqual(environments["jemalloc"]["LD_PRELOAD"], jemalloc)
        self.assertNotIn("MALLOC_CONF", environments["jemalloc"])
        self.assertNotIn("BENCH_RELIABILITY_MARKER", environments["jemalloc"])


# --- scripts/run.sh --------------------------------------------------------------------------------


def has_plotting_python():
    return subprocess.run(["/usr/bin/python3", "-c", "import matplotlib, numpy"], capture_output=True).returncode == 0


class RunScript(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="bench-reliability-")
        self.env = {
            **os.environ,
            "BENCH_BINARY": BENCH,
            "BENCH_RESULTS_DIR": os.path.join(self.tmp, "results"),
            "BENCH_PLOTS_DIR": os.path.join(self.tmp, "plots"),
            "MPLBACKEND": "Agg",
        }

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_an_existing_run_folder_is_refused_and_untouched(self):
        folder = os.path.join(self.tmp, "results", "taken")
        os.makedirs(folder)
        with open(os.path.join(folder, "bench.json"), "w") as f:
            f.write("earlier\n")
        proc = subprocess.run(
            ["bash", RUN_SCRIPT, "--sizes=1000"],
            env={**self.env, "BENCH_RUN_ID": "taken"},
            capture_output=True,
            text=True,
            timeout=SAFETY_TIMEOUT,
        )
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("already exists; not overwriting it", proc.stderr)
        self.assertEqual(os.listdir(folder), ["bench.json"])
        with open(os.path.join(folder, "bench.json")) as f:
            self.assertEqual(f.read(), "earlier\n")

    def test_a_bad_run_id_is_refused(self):
        proc = subprocess.run(
            ["bash", RUN_SCRIPT],
            env={**self.env, "BENCH_RUN_ID": "../escape"},
            capture_output=True,
            text=True,
            timeout=SAFETY_TIMEOUT,
        )
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("is not a usable folder name", proc.stderr)

    @unittest.skipUnless(has_plotting_python(), "scripts/run.sh needs /usr/bin/python3 with matplotlib")
    def test_ctrl_c_leaves_a_usable_run_folder(self):
        """Ctrl-C: SIGINT to the whole foreground process group (run.sh, bench, tee)."""
        run = BenchRun(
            [],
            command=[
                "bash",
                RUN_SCRIPT,
                "--benchmark_repetitions=1",
                f"--benchmark_filter={GLIBC_CONFIGS}",
                "--sizes=100000",
                "--settle=500ms",
                "--max-settling=0",
            ],
            env={**self.env, "BENCH_RUN_ID": "interrupted"},
            new_session=True,
        )
        try:
            bench = None
            while bench is None:  # run.sh's child running BENCH
                for pid in bench_script_children(run.proc.pid):
                    bench = pid
                run.check_deadline()
                time.sleep(0.005)
            run.wait_for_child("glibc-trim", parent=bench)
            os.killpg(run.proc.pid, signal.SIGINT)
            status = run.finish(parent=bench)
            self.assertEqual(status, 130, run.stderr())
            folder = os.path.join(self.tmp, "results", "interrupted")
            for name in ("bench.json", "bench.csv", "REPORT.md", "environment.json", "console.txt"):
                self.assertTrue(os.path.getsize(os.path.join(folder, name)) > 0, name)
            data, rows = load_rows(os.path.join(folder, "bench.json"))
            self.assertEqual(data["context"]["incomplete"], "true")
            self.assertFalse(rows["map/glibc/100000"].get("error_occurred"))
            with open(os.path.join(folder, "console.txt")) as f:
                self.assertIn("interrupted by SIGINT", f.read(), "tee outlived the Ctrl-C")
            with open(os.path.join(folder, "REPORT.md")) as f:
                self.assertIn("interrupted", f.read().lower())
            self.assertEqual(wait_until_gone(run.seen), {})
            self.assertFalse([n for n in os.listdir(folder) if ".partial-" in n])
        finally:
            run.cleanup()


def descendants(pid):
    """{pid: argv} of every process below `pid`, from the process table."""
    parents = {}
    for p in (int(p) for p in os.listdir("/proc") if p.isdigit()):
        try:
            parents[p] = parent_pid_of(p)
        except (OSError, ValueError, IndexError):
            continue
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in found:
                try:
                    found[child] = command_line(child)
                except OSError:
                    continue
                frontier.append(child)
    return found


@unittest.skipUnless(has_plotting_python(), "scripts/run.sh needs /usr/bin/python3 with matplotlib")
class BenchKilledMidRun(unittest.TestCase):
    """SIGKILL to ./bench itself while a program runs (the Redis scenario, whose server is the
    program's child, not bench's; and the same behind the heap map): within seconds nothing it
    started runs (each row's reaper sees its control pipe close), and the run folder run.sh
    completes holds every row that had finished (from bench's journal)."""

    def kill_mid_run(self, *flags):
        tmp = tempfile.mkdtemp(prefix="bench-reliability-")
        self.addCleanup(shutil.rmtree, tmp, True)
        env = {
            **os.environ,
            "BENCH_BINARY": BENCH,
            "BENCH_RESULTS_DIR": os.path.join(tmp, "results"),
            "BENCH_PLOTS_DIR": os.path.join(tmp, "plots"),
            "BENCH_RUN_ID": "killed",
            "MPLBACKEND": "Agg",
        }
        command = ["bash", RUN_SCRIPT, "--scenario=redis", "--scenario-scale=0.05", "--settle=3s", "--benchmark_repetitions=2"]
        run = BenchRun([], command=[*command, "--benchmark_filter=/(glibc|glibc-arena2)$", *flags], env=env, new_session=True)
        try:
            bench = None
            while bench is None:
                bench = next(iter(bench_script_children(run.proc.pid)), None)
                run.check_deadline()
                time.sleep(0.005)
            started = {}
            while "[1/4]" not in run.stderr() or not any("redis-server" in " ".join(a) for a in started.values()):
                started.update(
                    (pid, argv) for pid, argv in descendants(bench).items() if argv
                )  # the first row finished, the next runs
                run.check_deadline()
                time.sleep(0.01)
            started = {pid: argv for pid, argv in started.items() if still_running(pid, argv)}
            os.kill(bench, signal.SIGKILL)
            self.assertEqual(run.proc.wait(timeout=SAFETY_TIMEOUT), 137, run.stderr()[-2000:])
            self.assertEqual(wait_until_gone(started), {}, "a process ./bench started outlived it")
            folder = os.path.join(tmp, "results", "killed")
            data, rows = load_rows(os.path.join(folder, "bench.json"))
            self.assertEqual(data["context"]["incomplete"], "true")
            finished = [b for b in data["benchmarks"] if b.get("run_type") == "iteration"]
            self.assertGreaterEqual(len(finished), 1)
            self.assertFalse(finished[0].get("error_occurred"), finished[0].get("error_message"))
            self.assertIn(finished[0]["name"], data["suite"]["series"])
            self.assertTrue(os.path.getsize(os.path.join(folder, "REPORT.md")) > 0)
            self.assertFalse([n for n in os.listdir(folder) if ".partial-" in n or ".rows-" in n])
        finally:
            run.cleanup()

    def test_in_a_scenario_run(self):
        self.kill_mid_run()

    def test_in_a_heap_map_run(self):
        self.kill_mid_run("--heap-map")


def bench_script_children(script_pid):
    """Pids of run.sh's children that run BENCH (not tee, not a subshell)."""
    found = []
    for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
        try:
            if parent_pid_of(pid) == script_pid and command_line(pid)[:1] == [BENCH]:
                found.append(pid)
        except (OSError, ValueError, IndexError):
            continue
    return found


# --- 7. the sanitizer build ------------------------------------------------------------------------


@unittest.skipUnless(SANITIZED, "BENCH_SANITIZED_BINARY is not set (ctest entry reliability_sanitized_bench)")
class SanitizedBench(unittest.TestCase):
    """./bench under ASan + UBSan (-fno-sanitize-recover=all: any finding aborts the process that made
    it, the parent or a child, and the row or the exit status shows it)."""

    # Every workload on the configurations that preload nothing (glibc's and the container-level ones).
    FILTER = "/(glibc[a-z0-9-]*|pool|boost-[a-z-]+|pmr-pool)/"

    def test_every_workload_runs_clean(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out.json")
            proc = run_to_end(
                [f"--benchmark_filter={self.FILTER}", "--sizes=2000", "--settle=0", "--pause=0", f"--benchmark_out={out}"],
                binary=SANITIZED,
            )
            self.assertEqual(proc.returncode, 0, proc.stderr[-6000:])
            data, rows = load_rows(out)
            self.assertIn("sanitized", data["context"])
            self.assertGreater(len(rows), 0)
            for name, row in rows.items():
                self.assertFalse(row.get("error_occurred"), f"{name}: {row.get('error_message')}")
                self.assertIn("libasan", row["label"], name)
                self.assertIn("AddressSanitizer build", row["label"], name)

    def test_preloaded_configurations_are_unavailable(self):
        proc = run_to_end(["--benchmark_filter=^map/(glibc|jemalloc)/", "--sizes=1000", "--settle=0"], binary=SANITIZED)
        self.assertEqual(proc.returncode, 1, proc.stderr[-6000:])
        self.assertIn("configuration jemalloc is unavailable: this is an AddressSanitizer build", proc.stderr)

    def test_fault_paths(self):
        """The parent's kill, timeout and interrupt paths under the sanitizers."""
        proc = run_to_end(
            ["--benchmark_filter=^map/(glibc|pool)/", "--sizes=1000", "--settle=300ms", "--timeout=1ms"], binary=SANITIZED
        )
        self.assertEqual(proc.returncode, 1, proc.stderr[-6000:])
        self.assertEqual(proc.stdout.count("exceeded the per-instance time limit"), 2)
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out.json")
            run = BenchRun(
                ["--benchmark_filter=^map/glibc", "--sizes=1000", "--settle=300ms", "--max-settling=0", f"--benchmark_out={out}"],
                binary=SANITIZED,
            )
            try:
                run.wait_for_child("glibc-trim")
                run.proc.send_signal(signal.SIGINT)
                self.assertEqual(run.finish(), 130, run.stderr()[-6000:])
                self.assertEqual(load_rows(out)[0]["context"]["incomplete"], "true")
            finally:
                run.cleanup()


if __name__ == "__main__":
    unittest.main()
