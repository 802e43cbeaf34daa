"""Production serving: granian (a Rust HTTP server) running ``wsgi:app``.

    python -m config.serve          (what `make serve` runs)

Why granian and not gunicorn (measured: README, Production, and
docs/production-limits.md): gunicorn's sync and gthread workers read a
request body on the worker thread, so two clients that send headers and then
stall the body took every worker (``/healthz`` timed out for 45 s). granian
reads connections on Rust's async runtime and hands Python a request only
when it is complete: with 300 stalled and 60 idle connections open,
``/healthz`` and a token request still answered in a few milliseconds.

Settings (environment): ``SCOPEGATE_BIND`` (host:port, default
127.0.0.1:5000), ``SCOPEGATE_WORKERS`` (processes; default one per core on
SQLite, two per core on PostgreSQL, as measured for gunicorn), and
``SCOPEGATE_THREADS`` (Python threads per process, default 1; the GIL makes
more useless, bench/RESULTS.md), ``SCOPEGATE_GRACEFUL_TIMEOUT`` (seconds a
worker may finish in-flight requests on SIGTERM). Access log: one JSON line
per request on stdout, written by the app (``app.observability``), so the
one-time setup code is redacted from it like from every other log.

With ``SCOPEGATE_METRICS=1`` the workers share a fresh
``PROMETHEUS_MULTIPROC_DIR`` (``instance/metrics`` unless set), so
``/metrics`` counts every process whichever one answers.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from config import load  # noqa: E402


def command(environ: dict | None = None) -> tuple[list[str], dict]:
    """The granian command line and its environment."""
    env = dict(os.environ if environ is None else environ)
    settings = load(env)
    cores = os.cpu_count() or 1
    on_sqlite = settings["SCOPEGATE_DATABASE_URL"].startswith("sqlite")
    host, _, port = env.get("SCOPEGATE_BIND", "127.0.0.1:5000").rpartition(":")
    workers = int(env.get("SCOPEGATE_WORKERS") or (1 if on_sqlite else 2) * cores)
    threads = int(env.get("SCOPEGATE_THREADS") or 1)
    env.setdefault("SCOPEGATE_ACCESS_LOG", "1")
    if int(settings["SCOPEGATE_METRICS"] or 0):
        metrics_dir = Path(env.setdefault("PROMETHEUS_MULTIPROC_DIR",
                                          str(ROOT / "instance" / "metrics")))
        shutil.rmtree(metrics_dir, ignore_errors=True)  # counters start at zero with the server
        metrics_dir.mkdir(parents=True, mode=0o700)
    granian = Path(sys.executable).with_name("granian")
    argv = [
        str(granian), "--interface", "wsgi", "--host", host or "127.0.0.1", "--port", port,
        "--workers", str(workers), "--blocking-threads", str(threads),
        # A client gets this long to send its request headers, then the connection closes.
        "--http1-header-read-timeout", "10000",
        "--workers-kill-timeout", env.get("SCOPEGATE_GRACEFUL_TIMEOUT", "20"),
        "--respawn-failed-workers", "--no-access-log", "--log-level",
        env.get("SCOPEGATE_LOG_LEVEL", "info"), "--working-dir", str(ROOT), "wsgi:app",
    ]
    return argv, env


def main() -> None:
    argv, env = command()
    os.execve(argv[0], argv, env)  # noqa: S606 - granian replaces this process (signals reach it)


if __name__ == "__main__":
    main()
