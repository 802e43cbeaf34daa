"""CPU per request of each thread of a server, while a load command runs.

    python3 bench/thread_cpu.py <server pid> -- wrk ... (a post_form.lua run)

Reads utime and stime (user and kernel time) of every thread of the server's process
tree from /proc before and after the command, and divides by the requests the command
reports (``WRK_JSON`` from harness/post_form.lua, or wrk's "N requests in"). Separates
granian's Rust runtime threads from the Python thread (bench/RESULTS.md §15). Not a test;
asserts nothing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
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


def _threads(pids: list[int]) -> dict[tuple[int, int, str], tuple[int, int]]:
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
                int(fields[11]), int(fields[12]))
    return ticks


def connections_per_process(pids: list[int]) -> dict[int, int]:
    """Established TCP connections each server process holds (``ss -tnp``). A wrk
    connection stays with the worker that accepted it, so an uneven split gives one
    worker's queue more of the load and its latency (bench/RESULTS.md §21)."""
    listing = subprocess.run(["ss", "-tnpH", "state", "established"],
                             capture_output=True, text=True).stdout
    counts = {pid: 0 for pid in pids}
    for pid in map(int, re.findall(r"pid=(\d+)", listing)):
        if pid in counts:
            counts[pid] += 1
    return {pid: n for pid, n in counts.items() if n}


def main() -> None:
    root, command = int(sys.argv[1]), sys.argv[sys.argv.index("--") + 1:]
    pids = _tree(root)
    before = _threads(pids)
    load = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(2)
    split = connections_per_process(pids)
    text = load.communicate()[0]
    after = _threads(pids)
    print("connections per server process: "
          + ", ".join(f"pid {pid}: {n}" for pid, n in sorted(split.items())))
    match = re.search(r"WRK_JSON (\{.*\})", text)
    stats = json.loads(match.group(1)) if match else {}
    requests = stats.get("requests") or int(re.search(r"(\d+) requests in", text).group(1))
    print(f"requests {requests} p99 {stats.get('lat_ms', {}).get('p99')} ms")
    per_name: dict[tuple[int, str], list[int]] = {}
    for key, (user, system) in after.items():
        was_user, was_system = before.get(key, (0, 0))
        used = per_name.setdefault((key[0], key[2]), [0, 0])
        used[0] += user - was_user
        used[1] += system - was_system
    per_request = 1000 / os.sysconf("SC_CLK_TCK") / requests
    for (pid, name), (user, system) in sorted(per_name.items(), key=lambda item: -sum(item[1])):
        if user + system:
            print(f"pid {pid} {name}: {(user + system) * per_request:.3f} ms/req"
                  f" (user {user * per_request:.3f}, kernel {system * per_request:.3f})")
    user = sum(used[0] for used in per_name.values())
    system = sum(used[1] for used in per_name.values())
    print(f"total {(user + system) * per_request:.3f} ms/req"
          f" (user {user * per_request:.3f}, kernel {system * per_request:.3f})")


if __name__ == "__main__":
    main()
