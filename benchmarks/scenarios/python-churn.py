#!/usr/bin/python3
# Scenario: Debian's python3 spends its time allocating, as a service does: it serialises and parses a 45 KB JSON document 2,000 times (thousands of short-lived objects and a 45 KB string each round), then reads a 64 MiB file 8 times in 64 KiB chunks (a fresh 64 KiB bytes object each read): what each allocator's way of returning memory costs in time
# Needs: /usr/bin/python3 (python3)
# Phase base: the interpreter is up, a 64 MiB file written to the scratch folder
# Phase json: 2,000 rounds of json.dumps and json.loads of 600 records, each round's objects freed before the next
# Phase read: the file read 8 times in 64 KiB chunks, each chunk checksummed (zlib.crc32) and freed
# Phase idle (settling): the process has done nothing for the settle period
import json
import os
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenario  # noqa: E402

path = os.path.join(scenario.SCRATCH, "data.bin")
block = bytes(range(256)) * 256
with open(path, "wb") as f:
    for _ in range(scenario.scaled(1024)):  # 64 KiB a block
        f.write(block)
document = [{"id": i, "name": f"item{i}", "tags": ["a", "b", str(i)], "score": i * 0.5} for i in range(600)]
del block

scenario.phase("base")
for _ in range(scenario.scaled(2000)):
    text = json.dumps(document)
    parsed = json.loads(text)
    del text, parsed
scenario.phase("json")
checksum = 0
for _ in range(8):
    with open(path, "rb") as f:
        while chunk := f.read(65536):
            checksum = zlib.crc32(chunk, checksum)
scenario.phase("read")
time.sleep(scenario.SETTLE_SECONDS)
scenario.phase("idle")
