#!/usr/bin/python3
# Scenario: Debian's redis-server (it links jemalloc and turns on jemalloc's background thread) filled with 1,000,000 keys of 200-byte values, 9 of every 10 deleted, left idle, lightly used, then flushed and asked to MEMORY PURGE: how far its RSS stays above Redis's own used_memory, with Redis's INFO memory recorded beside what is read from outside
# Needs: /usr/bin/redis-server (redis-server)
# Measure: redis-server
# Phase base: the server is up on a Unix socket (no TCP port, no persistence), empty
# Phase built: 1,000,000 keys key:<i> with 200-byte values (DEBUG POPULATE)
# Phase freed: 900,000 keys deleted, every tenth kept (a Lua loop of DEL): Redis's used_memory falls by about 90 %
# Phase idle (settling): the server has been idle for 40 % of the settle period
# Phase used (settling): then 30 % of the settle period of light traffic: every 10 ms, 20 SET of new 200-byte keys and 20 GET
# Phase flushed (settling): FLUSHALL SYNC (every key freed; Redis then purges jemalloc's arenas itself, src/db.c), then idle for 30 % of the settle period
# Phase purged (settling): after MEMORY PURGE, Redis's own release call (jemalloc's arena purge; under another allocator it purges jemalloc's empty arenas only)
import os
import shlex
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenario  # noqa: E402

KEYS = scenario.scaled(1_000_000, least=100)
VALUE_BYTES = 200
REDIS = "/usr/bin/redis-server"
SOCKET_PATH = os.path.join(scenario.SCRATCH, "redis.sock")


class Redis:
    """A RESP client on the server's Unix socket; every read is bounded by the socket's timeout."""

    def __init__(self, path):
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.socket.settimeout(300)  # a slow configuration under --heap-map needs minutes for 900,000 DELs
        self.socket.connect(path)
        self.replies = self.socket.makefile("rb")

    @staticmethod
    def encode(command):
        parts = [str(a).encode() if not isinstance(a, bytes) else a for a in command]
        return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)

    def call(self, *commands):
        """Sends the commands in one pipeline; returns their replies."""
        self.socket.sendall(b"".join(self.encode(c) for c in commands))
        return [self.read() for _ in commands]

    def read(self):
        line = self.replies.readline()
        if not line:
            raise ConnectionError("the server closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.replies.read(n + 2)[:-2]
        if kind == b"*":
            return [self.read() for _ in range(int(rest))]
        raise RuntimeError(f"unexpected reply {line!r}")


def start():
    args = [REDIS, "--port", "0", "--unixsocket", SOCKET_PATH, "--save", "", "--appendonly", "no", "--daemonize", "no"]
    args += ["--dir", scenario.SCRATCH, "--enable-debug-command", "local", "--loglevel", "warning"]
    args += shlex.split(os.environ.get("SCENARIO_REDIS_ARGS", ""))  # more options, from the caller
    server = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=sys.stderr)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if server.poll() is not None:
            scenario.fail(f"redis-server did not start: it exited with status {server.returncode} ({' '.join(args)})")
        try:
            return server, Redis(SOCKET_PATH)
        except OSError:
            time.sleep(0.01)
    server.kill()
    server.wait()
    scenario.fail("redis-server did not accept connections within 10 s")


def memory_counters(redis, phase):
    """INFO memory, as Redis sees itself: used_memory is what it allocated (by malloc_usable_size),
    used_memory_rss its own reading of RSS; allocator_* are jemalloc's statistics (mallctl), which
    describe the heap only when jemalloc serves malloc."""
    info = dict(line.split(":", 1) for line in redis.call(("INFO", "memory"))[0].decode().splitlines() if ":" in line)
    for field in ("used_memory", "used_memory_rss", "allocator_allocated", "allocator_active", "allocator_resident"):
        if field in info:
            scenario.counter("bytes", f"redis_{field}_{phase}", float(info[field]))


def mark(redis, phase):
    scenario.phase(phase)
    memory_counters(redis, phase)


def main():
    server, redis = start()
    try:
        mark(redis, "base")
        redis.call(("DEBUG", "POPULATE", KEYS, "key", VALUE_BYTES))
        mark(redis, "built")
        deleted = redis.call(
            (
                "EVAL",
                "local n = 0 for i = 0, ARGV[1] - 1 do if i % 10 ~= 0 then n = n + redis.call('DEL', 'key:' .. i) end end return n",
                0,
                KEYS,
            )
        )[0]
        if deleted != KEYS - (KEYS + 9) // 10:
            scenario.fail(f"deleted {deleted} keys, expected {KEYS - (KEYS + 9) // 10}")
        mark(redis, "freed")
        time.sleep(0.4 * scenario.SETTLE_SECONDS)
        mark(redis, "idle")
        end, n = time.monotonic() + 0.3 * scenario.SETTLE_SECONDS, 0
        value = b"v" * VALUE_BYTES
        while time.monotonic() < end:
            redis.call(*[("SET", f"light:{n + i}", value) for i in range(20)], *[("GET", f"light:{n + i}") for i in range(20)])
            n += 20
            time.sleep(0.01)
        mark(redis, "used")
        redis.call(("FLUSHALL", "SYNC"))
        time.sleep(0.3 * scenario.SETTLE_SECONDS)
        mark(redis, "flushed")
        redis.call(("MEMORY", "PURGE"))
        mark(redis, "purged")
        try:
            redis.call(("SHUTDOWN", "NOSAVE"))
        except (ConnectionError, OSError):
            pass  # the server closes the connection as it exits
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


main()
