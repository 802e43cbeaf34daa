"""CPU per request of each thread of a server, while a load command runs.

    python3 bench/thread_cpu.py <server pid> -- wrk ... (a post_form.lua run)

Reads utime+stime of every thread of the server's process tree from /proc before and after
the command, and divides by the requests the command reports (``WRK_JSON`` from
harness/post_form.lua, or wrk's "N requests in"). Separates granian's Rust runtime
threads from the Python thread (bench/RESULTS.md §15). Not a test; asserts nothing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                data = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            children.setdefault(int(data[data.rindex(")") + 2:].split()[1]), []).append(int(entry))
    found, i = [root], 0
    while i < len(found):
        found += children.get(found[i], [])
        i += 1
    return found


def _threads(pids: list[int]) -> dict[tuple[int, int, str], int]:
    ticks = {}
    for pid in pids:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                data = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
            except OSError:
                continue
            fields = data[data.rindex(")") + 2:].split()
            ticks[(pid, int(tid), data[data.index("(") + 1:data.rindex(")")])] = (
                int(fields[11]) + int(fields[12]))
    return ticks


def main() -> None:
    root, command = int(sys.argv[1]), sys.argv[sys.argv.index("--") + 1:]
    pids = _tree(root)
    before = _threads(pids)
    out = subprocess.run(command, capture_output=True, text=True)
    after = _threads(pids)
    text = out.stdout + out.stderr
    match = re.search(r"WRK_JSON (\{.*\})", text)
    stats = json.loads(match.group(1)) if match else {}
    requests = stats.get("requests") or int(re.search(r"(\d+) requests in", text).group(1))
    print(f"requests {requests} p99 {stats.get('lat_ms', {}).get('p99')} ms")
    per_name: dict[tuple[int, str], int] = {}
    for key, value in after.items():
        per_name[(key[0], key[2])] = per_name.get((key[0], key[2]), 0) + value - before.get(key, 0)
    tick = os.sysconf("SC_CLK_TCK")
    for (pid, name), used in sorted(per_name.items(), key=lambda item: -item[1]):
        if used:
            print(f"pid {pid} {name}: {used / tick / requests * 1000:.3f} ms/req")
    print(f"total {sum(per_name.values()) / tick / requests * 1000:.3f} ms/req")


if __name__ == "__main__":
    main()
