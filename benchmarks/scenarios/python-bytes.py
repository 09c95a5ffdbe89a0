#!/usr/bin/python3
# Scenario: Debian's python3 builds 200,000 bytes objects of 1,000 B (above pymalloc's 512-byte limit, so each is a malloc of its own), deletes them and idles: what each allocator keeps of blocks big enough to coalesce when freed
# Needs: /usr/bin/python3 (python3)
# Phase base: the interpreter is up, nothing built
# Phase built: 200,000 objects bytes(1000) held in a list (about 210 MB)
# Phase freed: the list deleted: every object freed
# Phase idle (settling): the process has done nothing for the settle period
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenario  # noqa: E402

scenario.phase("base")
objects = [bytes(1000) for _ in range(scenario.scaled(200_000))]
scenario.phase("built")
del objects
scenario.phase("freed")
time.sleep(scenario.SETTLE_SECONDS)
scenario.phase("idle")
