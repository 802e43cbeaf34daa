#!/usr/bin/env python3
"""Hot spots from py-spy raw (collapsed) stacks: `frame;frame;... count` per line.

    python3 bench/pyspy_top.py results/.../token-*.txt [--top 25]

Over all given files (e.g. one per gunicorn worker) it prints:
  - inclusive % of samples per function (it or anything it calls), trunk frames (> 97 %) left out,
  - self % per function (the leaf frame: where the interpreter actually was),
  - % by package, twice: by the leaf frame's package, and by the "owner" (innermost frame that
    is not the standard library, so socket writes count for gunicorn, sqlite3 calls for sqlalchemy),
  - Scopegate's own lines (app/..., inclusive), to point at the call site to change.
Frames look like `function (pkg/module.py:line)`.
"""

from __future__ import annotations

import argparse
import collections
import re

FRAME = re.compile(r"^(?P<fn>.*?) \((?P<file>.+?)(?::(?P<line>\d+))?\)$")
OURS = ("app", "config", "wsgi.py")


def parse(frame: str) -> tuple[str, str, str]:
    """-> (function label, package, file:line)."""
    m = FRAME.match(frame.strip())
    if not m:
        return frame.strip(), "?", frame.strip()
    path = m.group("file")
    if path.startswith("<sqlalchemy"):
        path = "sqlalchemy/<generated>"
    head = path.split("/", 1)[0]
    if head in OURS:
        pkg = "scopegate"
    elif "/" not in path and path.endswith(".py") or head in (
            "json", "http", "email", "urllib", "logging", "concurrent", "importlib", "asyncio",
            "collections", "encodings", "sqlite3", "ctypes", "re"):
        pkg = "stdlib"
    elif path in ("gunicorn",):
        pkg = "gunicorn"
    else:
        pkg = head
    line = f"{path}:{m.group('line')}" if m.group("line") else path
    return f"{m.group('fn')} ({path})", pkg, line


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    incl: collections.Counter = collections.Counter()
    self_: collections.Counter = collections.Counter()
    leaf_pkg: collections.Counter = collections.Counter()
    owner_pkg: collections.Counter = collections.Counter()
    ours: collections.Counter = collections.Counter()
    total = 0
    lines = []
    for f in args.files:
        with open(f) as fh:
            lines.extend(fh)
    for raw in lines:
        raw = raw.rstrip("\n")
        stack, _, count = raw.rpartition(" ")
        if not stack:
            continue
        try:
            n = int(count)
        except ValueError:
            continue
        frames = [parse(fr) for fr in stack.split(";") if fr]
        if not frames:
            continue
        total += n
        for name in {fr[0] for fr in frames}:
            incl[name] += n
        for line in {fr[2] for fr in frames if fr[1] == "scopegate"}:
            ours[line] += n
        self_[frames[-1][0]] += n
        leaf_pkg[frames[-1][1]] += n
        owner = next((fr[1] for fr in reversed(frames) if fr[1] != "stdlib"), "stdlib")
        owner_pkg[owner] += n
    if not total:
        print("no samples")
        return
    pct = lambda n: 100.0 * n / total  # noqa: E731
    print(f"{total} samples from {len(args.files)} file(s)\n")
    print("| package | owner % (innermost non-stdlib frame) | leaf % |\n|---|---|---|")
    for label, n in owner_pkg.most_common():
        print(f"| {label} | {pct(n):.1f} | {pct(leaf_pkg.get(label, 0)):.1f} |")
    print("\n| inclusive % | function |\n|---|---|")
    shown = 0
    for name, n in incl.most_common():
        if pct(n) > 97:
            continue
        print(f"| {pct(n):.1f} | `{name}` |")
        shown += 1
        if shown >= args.top:
            break
    print("\n| self % | function |\n|---|---|")
    for name, n in self_.most_common(args.top):
        print(f"| {pct(n):.1f} | `{name}` |")
    print("\n| inclusive % | Scopegate line |\n|---|---|")
    for line, n in ours.most_common(args.top):
        print(f"| {pct(n):.1f} | `{line}` |")


if __name__ == "__main__":
    main()
