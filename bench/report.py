#!/usr/bin/env python3
"""One table from the shared harness's JSON results: medians per (server, mode, op) and
Scopegate's ratio to each peer. Stdlib only.

    python3 bench/report.py bench/results/<run>            # side by side
    python3 bench/report.py --scale bench/results/<run>    # cost vs live tokens

Ratios (same mode, same op):
  req/s x   = Scopegate req/s / peer req/s          (> 1: Scopegate serves more)
  CPU x     = peer CPU ms/req / Scopegate CPU ms/req (> 1: Scopegate cheaper per request)
The first table is issue 14's: server CPU ms per request for each operation, with
each server's ratio to node-oidc-provider (its CPU / node's, the best node of the run:
below 1 is cheaper than node). Targets (issue 14): Scopegate <= 1.5x node on both
operations (0.9x is the next goal), p99 <= 15 ms at 16 connections, 0 errors and
wrong bodies, flat +-10 % from 10^3 to 10^6 live tokens. The long table under it is
every row measured, with the older issue-6 checks.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import statistics
import sys

CPU_TARGET_MS = 0.35
P99_TARGET_MS = 15.0
NODE_RATIO_TARGET = 1.5
NODE_RATIO_NEXT = 0.9


def load(d: str) -> dict:
    groups: dict = {}
    for f in sorted(glob.glob(os.path.join(d, "**", "*.json"), recursive=True)):
        try:
            with open(f) as fh:
                r = json.load(fh)
        except (OSError, ValueError):
            continue
        if not isinstance(r, dict) or "ops" not in r:
            continue
        mode = re.sub(r"-r\d+$", "", r.get("tag") or "-")
        for op, v in r["ops"].items():
            groups.setdefault((r["name"], mode, op), []).append(v)
    return groups


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else float("nan")


def summarize(vs: list) -> dict:
    return {
        "runs": len(vs),
        "rps": med([v["rps"] for v in vs]),
        "rps_min": min(v["rps"] for v in vs), "rps_max": max(v["rps"] for v in vs),
        "p50": med([v["lat_ms"]["p50"] for v in vs]),
        "p99": med([v["lat_ms"]["p99"] for v in vs]),
        "cpu": med([v.get("server_cpu_ms_per_req") for v in vs]),
        "cores": med([v.get("server_cpu_cores") for v in vs]),
        "bad": sum(v["non200"] + v["bad_body"] + v["errors"]["timeout"]
                   + v["errors"]["connect"] + v["errors"]["read"] + v["errors"]["write"]
                   for v in vs),
        "first_bad": next((v.get("first_bad") for v in vs if v.get("first_bad")), ""),
    }


def fmt_x(x: float) -> str:
    return "—" if x != x else (f"{x:.2f}×" if x < 10 else f"{x:.0f}×")


def ratio_table(s: dict, target: str) -> str:
    """Issue 14's table: CPU ms/req per operation and the ratio to node-oidc-provider."""
    out = []
    for mode in sorted({k[1] for k in s}):
        ops = ("token", "introspect")
        node = {op: min((v["cpu"] for (n, m, o), v in s.items()
                         if m == mode and o == op and n.startswith("oidc-provider")),
                        default=float("nan")) for op in ops}
        names = sorted({n for (n, m, _o) in s if m == mode}, key=lambda n: (n != target, n))
        out += [f"Mode `{mode}` (ratio = server CPU / best node-oidc-provider of the run):", "",
                "| server | token ms CPU/req (p99 ms) | × node | introspect ms CPU/req "
                "(p99 ms, req/s) | × node |", "|---|---|---|---|---|"]
        for name in names:
            cells = []
            for op in ops:
                r = s.get((name, mode, op))
                if r is None:
                    cells += ["—", "—"]
                    continue
                extra = f"{r['p99']:.0f} ms"
                if op == "introspect":
                    extra += f", {r['rps']:,.0f} req/s"
                x = r["cpu"] / node[op] if node[op] == node[op] and node[op] else float("nan")
                cells += [f"{r['cpu']:.3f} ({extra})", "—" if x != x else f"{x:.2f}×"]
            label = f"**{name}**" if name == target else name
            out.append(f"| {label} | " + " | ".join(cells) + " |")
        for op in ops:
            r = s.get((target, mode, op))
            if r is None or node[op] != node[op]:
                continue
            x = r["cpu"] / node[op]
            ok = lambda b: "PASS" if b else "FAIL"  # noqa: E731
            nxt = "reached" if x <= NODE_RATIO_NEXT else f"{x / NODE_RATIO_NEXT:.2f}× away"
            p99_ok = ok(r["p99"] <= P99_TARGET_MS)
            out.append(f"- {target} {op}: {x:.2f}× node ≤ {NODE_RATIO_TARGET}: "
                       f"{ok(x <= NODE_RATIO_TARGET)} (next goal {NODE_RATIO_NEXT}×: {nxt});"
                       f" p99 {r['p99']:.1f} ms ≤ {P99_TARGET_MS:.0f}: {p99_ok};"
                       f" bad {r['bad']} = 0: {ok(r['bad'] == 0)}")
        out.append("")
    return "\n".join(out) + "\n"


def side_by_side(groups: dict, target: str) -> str:
    s = {k: summarize(v) for k, v in groups.items()}
    lines = [
        "| server | mode | op | runs | req/s median (min–max) | p50 ms | p99 ms "
        f"| server CPU ms/req | bad | {target} req/s × | {target} CPU advantage × |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    order = sorted(s, key=lambda k: (k[2], k[1], k[0] != target, k[0]))
    for name, mode, op in order:
        r = s[(name, mode, op)]
        t = s.get((target, mode, op))
        if name == target or t is None:
            rx = cx = "—"
        else:
            rx = fmt_x(t["rps"] / r["rps"]) if r["rps"] else "—"
            cx = fmt_x(r["cpu"] / t["cpu"]) if t["cpu"] else "—"
        label = f"**{name}**" if name == target else name
        lines.append(
            f"| {label} | {mode} | {op} | {r['runs']} | {r['rps']:,.0f} ({r['rps_min']:,.0f}–"
            f"{r['rps_max']:,.0f}) | {r['p50']:.2f} | {r['p99']:.2f} | {r['cpu']:.3f} | "
            f"{r['bad']} | {rx} | {cx} |")
    checks = []
    for (name, mode, op), r in sorted(s.items()):
        if name != target:
            continue
        ok = lambda b: "PASS" if b else "FAIL"  # noqa: E731
        node = [v for (n, m, o), v in s.items()
                if m == mode and o == op and n.startswith("oidc-provider")]
        dot = [v for (n, m, o), v in s.items()
               if m == mode and o == op and n.startswith("dot-") and "plain" in n]
        parts = [f"CPU {r['cpu']:.3f} ms/req ≤ {CPU_TARGET_MS}: {ok(r['cpu'] <= CPU_TARGET_MS)}",
                 f"p99 {r['p99']:.1f} ms ≤ {P99_TARGET_MS:.0f}: {ok(r['p99'] <= P99_TARGET_MS)}",
                 f"bad {r['bad']} = 0: {ok(r['bad'] == 0)}"]
        if node:
            best = min(v["cpu"] for v in node)
            parts.append(f"vs best node-oidc-provider {best:.3f}: {ok(r['cpu'] < best)}")
        if dot:
            x = dot[0]["cpu"] / r["cpu"]
            parts.append(f"vs DOT {x:.1f}× ≥ 12×: {ok(x >= 12)}")
        checks.append(f"- {target} {mode} {op}: " + "; ".join(parts))
        if r["first_bad"]:
            checks.append(f"  - first bad response: `{r['first_bad'][:200]}`")
    return (ratio_table(s, target) + "\nAll rows:\n\n" + "\n".join(lines)
            + "\n\nTargets (issue 6):\n" + "\n".join(checks) + "\n")


def scale(groups: dict, target: str) -> str:
    """Cost per level: live tokens (``tokens<N>``), and audit events when seeded
    (``tokens<N>-audit<M>``), each against the smallest level."""
    rows = {}
    for (name, mode, op), vs in groups.items():
        m = re.match(r"tokens(\d+)(?:-audit(\d+))?", mode)
        if name == target and m:
            rows[(op, int(m.group(1)), int(m.group(2) or 0))] = summarize(vs)
    lines = ["| op | live tokens | audit events | runs | req/s | p50 ms | p99 ms | "
             "server CPU ms/req | CPU vs smallest | bad |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    verdict = []
    for op in sorted({k[0] for k in rows}):
        levels = sorted((n, a) for o, n, a in rows if o == op)
        base = rows[(op, *levels[0])]["cpu"]
        worst = 0.0
        for n, a in levels:
            r = rows[(op, n, a)]
            d = (r["cpu"] / base - 1) * 100 if base else float("nan")
            worst = max(worst, abs(d))
            lines.append(f"| {op} | {n:,} | {a:,} | {r['runs']} | {r['rps']:,.0f} | "
                         f"{r['p50']:.2f} | {r['p99']:.2f} | {r['cpu']:.3f} | {d:+.1f} % | "
                         f"{r['bad']} |")
        (n0, a0), (n1, a1) = levels[0], levels[-1]
        verdict.append(f"- {op}: largest change {worst:.1f} % from {n0:,} tokens / {a0:,} events "
                       f"to {n1:,} / {a1:,} (target ±10 %): {'PASS' if worst <= 10 else 'FAIL'}")
    return "\n".join(lines) + "\n\n" + "\n".join(verdict) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--target", default="scopegate")
    ap.add_argument("--scale", action="store_true")
    args = ap.parse_args()
    groups = load(args.results)
    if not groups:
        sys.exit(f"no results under {args.results}")
    out = scale(groups, args.target) if args.scale else side_by_side(groups, args.target)
    print(out)
    name = "scale.md" if args.scale else "report.md"
    with open(os.path.join(args.results, name), "w") as fh:
        fh.write(out)


if __name__ == "__main__":
    main()
