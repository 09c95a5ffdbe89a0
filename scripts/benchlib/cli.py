"""What every script does with failures, so they all behave alike.

Bad input (missing, empty, invalid or non-benchmark JSON): one line `<script>: error: <file>: <problem>`
on stderr, exit status 2, and no output file touched (inputs are read and validated before anything is
written). An output that cannot be written: one line, exit status 1.
"""

import os
import sys

from .gbjson import InputError

EXIT_BAD_INPUT = 2
EXIT_CANNOT_WRITE = 1


def run(main, argv=None):
    """Call main(argv) and turn failures into the documented message and exit status."""
    prog = os.path.basename(sys.argv[0]) or "benchlib"
    try:
        return main(argv) or 0
    except InputError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        # stdout closed early (`compare.py a b | head`): not an error worth a traceback.
        sys.stderr.close()
        return 0
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        print(f"{prog}: error: {where}{e.strerror or e}", file=sys.stderr)
        return EXIT_CANNOT_WRITE
