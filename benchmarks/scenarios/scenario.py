"""What a Python scenario needs to talk to ./bench (benchmarks/protocol/program_protocol.h): report a
phase and wait until bench has read the process there, report a figure of its own, or an error.

Run by hand (no BENCH_REPORT_FD), a scenario runs the same way and reports nothing.

BENCH_SCALE (--scenario-scale) scales how much a scenario builds; BENCH_SETTLE_SECONDS (--settle) is
how long its settling phases last together; BENCH_SCRATCH_DIR is a folder of its own, removed after.
"""

import os
import socket
import sys
import tempfile

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
SETTLE_SECONDS = float(os.environ.get("BENCH_SETTLE_SECONDS", "10"))
SCRATCH = os.environ.get("BENCH_SCRATCH_DIR") or tempfile.mkdtemp(prefix="scenario-")

_fd = os.environ.get("BENCH_REPORT_FD")
_socket = socket.socket(fileno=int(_fd)) if _fd else None
_replies = _socket.makefile("rb") if _socket else None


def scaled(count, least=1):
    """`count` at the run's scale, at least `least`."""
    return max(least, int(round(count * SCALE)))


def _send(line):
    if _socket is not None:
        _socket.sendall(line.encode() + b"\n")


def phase(name):
    """The process has reached `name`: returns once bench has read it here."""
    if _socket is None:
        return
    _send(f"phase {name}")
    reply = _replies.readline()
    if reply.strip() != f"ok {name}".encode():
        raise SystemExit(f"scenario: bench answered {reply!r} to phase {name}")


def counter(unit, name, value):
    """A figure of the program's own; unit is one of bench's words (bytes, count, seconds, ...)."""
    _send(f"counter {unit} {name} {value:.17g}")


def fail(text):
    """Report an error (the row becomes an error row) and exit with status 1."""
    _send(f"error {text}")
    print(f"scenario: {text}", file=sys.stderr)
    raise SystemExit(1)
