#!/usr/bin/python3
# Scenario: Debian's python3 builds 500,000 small records (a dict, a string and an int each, every object under 512 B, so pymalloc's own arenas serve them), deletes them and idles: what is left when the interpreter's allocator, not malloc, holds the objects
# Needs: /usr/bin/python3 (python3)
# Phase base: the interpreter is up, nothing built
# Phase built: 500,000 records {"id": i, "name": "user<i>"} held in a list
# Phase freed: the list deleted: every record freed
# Phase idle (settling): the process has done nothing for the settle period
# Variant python-small-malloc: PYTHONMALLOC=malloc - every object from malloc instead of pymalloc's arenas
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenario  # noqa: E402

scenario.phase("base")
records = [{"id": i, "name": f"user{i}"} for i in range(scenario.scaled(500_000))]
scenario.phase("built")
del records
scenario.phase("freed")
time.sleep(scenario.SETTLE_SECONDS)
scenario.phase("idle")
