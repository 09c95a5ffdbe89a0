#!/usr/bin/python3
"""Turn the journal a killed ./bench left (RUN.json.rows-<pid>.jsonl) into the JSON of its finished rows.

Usage: scripts/recover.py JOURNAL -o RUN.json
The run is marked incomplete ("incomplete": "true" in its context); a last line the kill cut short is left
out, with a note. An existing RUN.json is never replaced. Bad input: message on stderr, exit status 2.
"""

import argparse
import json
import os
import sys

from benchlib import atomic, cli, journal
from benchlib.gbjson import InputError


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("journal", metavar="JOURNAL", help="the <out>.rows-<pid>.jsonl a killed ./bench left")
    parser.add_argument("-o", "--output", required=True, metavar="RUN.json", help="JSON file to write (must not exist)")
    args = parser.parse_args(argv)
    if os.path.lexists(args.output):
        raise InputError(args.output, "already exists; it is not replaced")
    document, torn = journal.recover(args.journal)
    atomic.write_text(args.output, json.dumps(document, indent=2) + "\n")
    rows = len(document["benchmarks"])
    print(
        f"{os.path.basename(sys.argv[0])}: {rows} finished row(s) recovered into {args.output}, marked incomplete"
        + (f"; the last line was cut short by the kill and is left out" if torn else ""),
        file=sys.stderr,
    )


if __name__ == "__main__":
    sys.exit(cli.run(main))
