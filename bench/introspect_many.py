"""Introspection of many different tokens, with the server's CPU per request.

The shared harness introspects one token again and again; on SQLite that one token is
answered by the remembered rows (``models.prepared.Remembered``) and never reaches the
token index. The scaling run (``make bench-scale``) must read the index at each size, so
this runs wrk with ``bench/introspect_many.lua`` over the token values the seeder sampled
(``bench/seed_tokens.py --sample-file``), and writes the result as the harness does
(``ops["introspect-many"]``), so ``bench/report.py --scale`` shows it as a row of its own.
A sample small enough to be remembered whole (the 10^3 level) is ``introspect-many-remembered``.

    python3 bench/introspect_many.py --server-pid PID --base-url URL --client-id ID \\
        --client-secret SECRET --tokens FILE --name scopegate --tag tokens1000-r1 --out DIR
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from thread_cpu import _threads, _tree  # noqa: E402

from app.models.prepared import Remembered  # noqa: E402

#: Introspections per second the warm-up is sized for (the slowest seen, each a first use).
WARM_RATE = 1000


def basic(client_id: str, secret: str) -> str:
    quote = lambda s: urllib.parse.quote(s, safe="")  # noqa: E731
    return "Basic " + base64.b64encode(f"{quote(client_id)}:{quote(secret)}".encode()).decode()


def run_wrk(args, seconds: int, env: dict) -> str:
    command = ["wrk", "-t1", f"-c{args.connections}", f"-d{seconds}s",
               "-s", str(HERE / "introspect_many.lua"), f"{args.base_url}/oauth/introspect"]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"wrk failed ({done.returncode}): {done.stdout}{done.stderr}")
    return done.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    for name in ("--server-pid", "--base-url", "--client-id", "--client-secret", "--tokens",
                 "--name", "--tag", "--out", "--shared-bench"):
        ap.add_argument(name, required=True)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args()
    env = dict(os.environ, WRK_AUTH=basic(args.client_id, args.client_secret),
               WRK_TOKENS=args.tokens, WRK_EXPECT='"active"%s*:%s*true',
               WRK_BASE_SCRIPT=os.path.join(args.shared_bench, "harness", "post_form.lua"))
    with open(args.tokens) as fh:
        sampled = sum(1 for line in fh if line.strip())
    # The warm-up goes over every sampled token at least once (one wrk thread walks the file
    # in order): a token's first use writes last_used_at, and the measured run then only
    # reads (a token's next write is SCOPEGATE_LAST_USED_RESOLUTION, 60 s, away). First uses
    # are slower at 10^6 tokens, so it runs again, longer, until one run covered them all.
    seconds = max(args.warmup, -(-sampled // WARM_RATE))
    while True:
        warmed = json.loads(re.search(r"WRK_JSON (\{.*\})", run_wrk(args, seconds, env))
                            .group(1))["requests"]
        if warmed >= sampled:
            break
        if seconds > 600:
            print(f"warning: the warm-up reached {warmed} of {sampled} tokens; the measured "
                  "run also writes first uses", file=sys.stderr, flush=True)
            break
        seconds *= 2
    # No more tokens than the fast path's connection remembers: they are answered from
    # there, not the index, so the row is named apart.
    op = "introspect-many" if sampled > Remembered.MAX_ROWS else "introspect-many-remembered"
    pids = _tree(int(args.server_pid))
    before, started = _threads(pids), time.monotonic()
    text = run_wrk(args, args.duration, env)
    wall, after = time.monotonic() - started, _threads(pids)
    stats = json.loads(re.search(r"WRK_JSON (\{.*\})", text).group(1))
    ticks = sum(sum(after[key]) - sum(before.get(key, (0, 0))) for key in after)
    seconds = ticks / os.sysconf("SC_CLK_TCK")
    stats.update(server_cpu_cores=round(seconds / wall, 2),
                 server_cpu_ms_per_req=round(seconds * 1000 / max(stats["requests"], 1), 3),
                 server_pids=pids, wrk_raw=text)
    result = {"name": args.name, "tag": args.tag, "connections": args.connections,
              "duration_s": args.duration, "warmup_s": args.warmup,
              "sampled_tokens": sampled, "ops": {op: stats}}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.name}-{args.tag}-many.json").write_text(json.dumps(result, indent=1))
    lat = stats["lat_ms"]
    print(f"[{args.name}] {op} ({sampled} tokens): {stats['rps']:.1f} req/s p50={lat['p50']:.2f}ms "
          f"p99={lat['p99']:.2f}ms non200={stats['non200']} bad={stats['bad_body']} "
          f"server_cpu={stats['server_cpu_ms_per_req']:.3f} ms/req", flush=True)


if __name__ == "__main__":
    main()
