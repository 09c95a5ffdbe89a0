"""Writing output files atomically.

Contract: after write_file() returns, `path` holds the complete new content; if it raises (or the
process dies), `path` still holds whatever it held before and no temporary file is left behind by a
clean failure. The temporary file lives in the same directory, so os.replace() is a rename(2) within
one file system, which POSIX makes atomic.
"""

import os
import tempfile

# The process umask, read once: mkstemp creates files 0600, the final file should get the usual mode.
_UMASK = os.umask(0)
os.umask(_UMASK)


def write_file(path, fill, binary=False, newline=None):
    """Create `path` from fill(fileobj), atomically (see the module docstring)."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        mode = "wb" if binary else "w"
        kwargs = {} if binary else {"encoding": "utf-8", "newline": newline}
        with os.fdopen(fd, mode, **kwargs) as f:
            fill(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_text(path, text):
    write_file(path, lambda f: f.write(text))
