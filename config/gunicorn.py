"""gunicorn settings for serving Scopegate in production.

    gunicorn -c config/gunicorn.py wsgi:app        (what `make serve` runs)

Every value can be changed without editing this file, through the
environment (``SCOPEGATE_BIND``, ``SCOPEGATE_WORKERS``, ``SCOPEGATE_THREADS``,
``SCOPEGATE_GRACEFUL_TIMEOUT``) or gunicorn's own ``GUNICORN_CMD_ARGS``.

Why these numbers (measured: README.md, Production, "Workers and threads",
and bench/RESULTS.md section 11): a request is mostly Python (hashing,
Authlib, SQLAlchemy, all under the GIL) plus one to three short database
round trips. On PostgreSQL a worker waits on those round trips, so two
processes per core keep the cores busy. On SQLite there is nothing to wait
for, and every extra process only adds contention for the one writer lock:
one process per core gave 37 % more introspections per second at 28 % less
CPU each, and half the p99. Extra threads per worker did not add throughput
(the GIL) and, on SQLite, made writers queue on the database lock (p99 up to
1 s at 8 threads). So: cores (SQLite) or 2 x cores (PostgreSQL) processes,
one thread each; the ``gthread`` worker still keeps idle keep-alive
connections off the request thread.

Access log: one JSON object per request on stdout, with the request id the
app puts on every response (``X-Request-Id``, kept from a proxy when sane),
so a log line, an audit event and a client's error report join on it.
"""

from __future__ import annotations

import json
import os
import sys
import time

from gunicorn import glogging

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _ROOT not in sys.path:  # gunicorn reads this file before it imports the app
    sys.path.insert(0, _ROOT)

from app.observability import redact  # noqa: E402
from config import load  # noqa: E402

_cores = os.cpu_count() or 1
_on_sqlite = load()["SCOPEGATE_DATABASE_URL"].startswith("sqlite")

bind = os.environ.get("SCOPEGATE_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("SCOPEGATE_WORKERS", (1 if _on_sqlite else 2) * _cores))
threads = int(os.environ.get("SCOPEGATE_THREADS", 1))
worker_class = "gthread"
#: Seconds a worker may take for one request before it is killed and replaced.
timeout = 30
#: On SIGTERM: stop accepting, finish in-flight requests for up to this long, exit.
graceful_timeout = int(os.environ.get("SCOPEGATE_GRACEFUL_TIMEOUT", 20))
#: Behind a load balancer keep idle connections a little longer than it does.
keepalive = 5
#: Each worker opens its own database pool after the fork (no preload): no
#: connection is ever shared between processes.
preload_app = False
#: gunicorn's runtime control socket is not used; several instances per host
#: (blue/green, tests) would otherwise share one path.
control_socket_disable = True

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("SCOPEGATE_LOG_LEVEL", "info")
#: The classic-format equivalent, for `--access-logformat` users; the
#: JsonAccessLogger below writes the same fields, JSON-escaped.
access_log_format = ('%(h)s "%(r)s" %(s)s %(B)s %(D)sus rid=%({x-request-id}o)s "%(a)s"')


class JsonAccessLogger(glogging.Logger):
    """Access log lines as JSON objects (values escaped, unlike a format string)."""

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        atoms = self.atoms_wrapper_class(self.atoms(resp, req, environ, request_time))
        record = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "request_id": atoms["{x-request-id}o"],
            "remote_addr": atoms["h"],
            "method": atoms["m"],
            "path": redact(atoms["U"]),
            "query": redact(atoms["q"]),
            "status": int(atoms["s"]) if str(atoms["s"]).isdigit() else atoms["s"],
            "bytes": atoms["B"],
            "duration_ms": round(atoms["D"] / 1000, 3),
            "user_agent": atoms["a"],
            "pid": os.getpid(),
        }
        try:
            self.access_log.info(json.dumps(record))
        except Exception:  # noqa: BLE001 - a log line must never fail a request
            self.exception("access log")


logger_class = JsonAccessLogger
