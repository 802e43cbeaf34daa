"""Prometheus metrics (prometheus-client), served at ``GET /metrics``.

Off unless ``SCOPEGATE_METRICS=1``, and never public: the path answers only a
bearer token equal to ``SCOPEGATE_METRICS_TOKEN`` (404 to everyone else, and
to everyone when no token is set), so it can share the public port behind any
proxy without leaking anything.

Labels are bounded and never secret: the URL *rule* (``/api/v1/users/<name>``,
never the raw path, so no user name, setup code or token id), the method, the
status, an audit action or a fixed word.

Several worker processes (granian, gunicorn) each count on their own; when
``PROMETHEUS_MULTIPROC_DIR`` is set (``config/serve.py`` sets it), every
process writes there and ``/metrics`` adds them up, whichever worker answers.
This module imports nothing from the app, so any layer may call it.
"""

from __future__ import annotations

import functools
import hmac
import os
import time

from flask import Flask, Response, abort, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter("scopegate_http_requests_total", "HTTP requests answered.",
                   ["endpoint", "method", "status"])
LATENCY = Histogram("scopegate_http_request_duration_seconds",
                    "Time from request start to response, by URL rule.", ["endpoint"],
                    buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10))
TOKENS_ISSUED = Counter("scopegate_tokens_issued_total", "Tokens issued.", ["how"])
TOKENS_INTROSPECTED = Counter("scopegate_tokens_introspected_total",
                              "Introspection answers, by whether the token was active.",
                              ["active"])
TOKENS_REVOKED = Counter("scopegate_tokens_revoked_total", "Tokens revoked.")
AUTH_FAILURES = Counter("scopegate_auth_failures_total",
                        "Refused authentications: client secrets, bearer tokens, sign-ins.",
                        ["kind"])
RATE_LIMITED = Counter("scopegate_rate_limited_total", "Requests refused with 429.",
                       ["endpoint"])
DB_POOL = Gauge("scopegate_db_pool_connections",
                "Database connections of the pools (summed over live processes). On "
                "PostgreSQL each thread that has served the fast path keeps one checked "
                "out for its reads.",
                ["state"], multiprocess_mode="livesum")

#: Audit events that are also counted here: (action, outcome) -> counter and label.
_FROM_AUDIT = {
    ("token.issue", "success"): (TOKENS_ISSUED, "client_credentials"),
    ("token.create", "success"): (TOKENS_ISSUED, "admin"),
    ("client.auth", "denied"): (AUTH_FAILURES, "client"),
    ("api.call", "denied"): (AUTH_FAILURES, "api"),
    ("login", "denied"): (AUTH_FAILURES, "login"),
}


def audited(action: str, outcome: str) -> None:
    """Called by ``services.audit.record`` for every event."""
    if (action, outcome) == ("token.revoke", "success"):
        TOKENS_REVOKED.inc()
        return
    counter, label = _FROM_AUDIT.get((action, outcome), (None, None))
    if counter is not None:
        counter.labels(label).inc()


@functools.cache
def _introspected(active: bool):
    """The labelled child, looked up once (``labels`` costs more than ``inc``; a child
    follows its process across a fork by itself)."""
    return TOKENS_INTROSPECTED.labels("true" if active else "false")


def introspected(active: bool) -> None:
    _introspected(bool(active)).inc()


def rate_limited(endpoint: str) -> None:
    RATE_LIMITED.labels(endpoint).inc()


def _rule() -> str:
    return request.url_rule.rule if request.url_rule else "(unmatched)"


def _pool_status(app: Flask) -> None:
    engine = app.extensions["sqlalchemy"].engine
    pool = engine.pool
    checked_out = getattr(pool, "checkedout", lambda: 0)()
    idle = getattr(pool, "checkedin", lambda: 0)()
    DB_POOL.labels("checked_out").set(checked_out)
    DB_POOL.labels("idle").set(idle)


def enabled(config) -> bool:
    return bool(int(config["SCOPEGATE_METRICS"] or 0))


def answered(app: Flask, rule: str, method: str, status: int, started: float | None) -> None:
    """Count one answered request (Flask's views and ``app.oauth.fastpath`` alike)."""
    if rule == "/metrics":
        return
    REQUESTS.labels(rule, method, str(status)).inc()
    LATENCY.labels(rule).observe(time.perf_counter() - (started or time.perf_counter()))
    _pool_status(app)


def render() -> bytes:
    """The exposition: this process's registry, or every process's files."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()


def _allowed(app: Flask) -> bool:
    expected = app.config["SCOPEGATE_METRICS_TOKEN"]
    scheme, _, presented = (request.headers.get("Authorization") or "").partition(" ")
    return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(
        presented.strip().encode(), expected.encode())


def init_app(app: Flask) -> None:
    if not enabled(app.config):
        return

    @app.before_request
    def _start_timer():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response):
        answered(app, _rule(), request.method, response.status_code, g.get("metrics_started"))
        return response

    @app.get("/metrics")
    def metrics_view():
        """Prometheus text format, for a scraper holding SCOPEGATE_METRICS_TOKEN."""
        if not _allowed(app):
            abort(404)
        return Response(render(), mimetype=CONTENT_TYPE_LATEST)
