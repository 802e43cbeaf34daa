"""Counters that every process and every host share: sign-in attempts here,
request rate limits in ``app.ratelimits`` (same storage).

They live in Redis (``SCOPEGATE_REDIS_URL``), or in memory when it is unset
(one process: fine for ``make run`` and tests, not for several hosts). A hit
is one atomic operation in the store (a Lua script in Redis, a lock in
memory), taken *before* the work it guards, so concurrent attempts cannot
race past a limit the way counting rows after the fact could.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask, current_app
from limits import RateLimitItemPerSecond, storage, strategies

log = logging.getLogger(__name__)

#: Sign-in: the moving window, exact: 5 per 15 minutes is never 10 across a boundary.
STRATEGY = "moving-window"
#: Request rate limits: the sliding window counter (two counters per key, weighted
#: by how much of the previous window still overlaps). A moving window keeps one
#: entry per request and inserts at the front of a list, so its cost grew with the
#: allowance (3000/minute: thousands of entries per key) and was about 20 % of an
#: introspection (bench/RESULTS.md §14); the counter's cost is constant. It errs by
#: at most the previous window's share, only when traffic bunches at a boundary:
#: fine for abuse limits in the thousands, not for the five guesses of a password.
REQUEST_STRATEGY = "sliding-window-counter"


class MemoryCounters(storage.MemoryStorage):
    """``limits``' in-memory storage, with one long-lived thread to expire old entries.

    The stock storage starts a new ``threading.Timer`` every 10 ms while counters are
    hit, and the request that starts it waits until the thread runs: measured at about
    150 µs per request on the OAuth hot paths (bench/RESULTS.md §14). Expiry only frees
    memory -- a moving window never counts entries older than itself -- so one daemon
    thread expiring once a second keeps memory bounded at no cost per request.
    """

    STORAGE_SCHEME = ["scopegate-memory"]
    EXPIRE_EVERY = 1.0
    _expirer: threading.Thread | None = None

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - overrides the stock one
        # (Re)started lazily: a thread does not survive a fork into a server's workers.
        if self._expirer is None or not self._expirer.is_alive():
            self._expirer = threading.Thread(target=self._expire_forever, daemon=True,
                                             name="scopegate-counter-expiry")
            self._expirer.start()

    def _expire_forever(self) -> None:
        while True:
            time.sleep(self.EXPIRE_EVERY)
            self._MemoryStorage__expire_events()


#: This process's memory (one host only).
MEMORY = "scopegate-memory://"


def storage_uri(config: dict) -> str:
    """Where counters live: Redis when configured, else this process's memory."""
    return config["SCOPEGATE_REDIS_URL"] or MEMORY


def _strategy(uri: str) -> strategies.MovingWindowRateLimiter:
    return strategies.MovingWindowRateLimiter(storage.storage_from_string(uri))


class Throttle:
    """Named windows of ``amount`` hits per ``seconds`` over string keys.

    When Redis cannot be reached the counts go to this process's memory
    (logged), as Flask-Limiter's do: sign-in stays throttled, per process,
    instead of failing or letting every guess through."""

    def __init__(self, uri: str):
        self.limiter = _strategy(uri)
        self.fallback = _strategy(MEMORY) if uri != MEMORY else self.limiter

    def _with_fallback(self, call):
        try:
            return call(self.limiter)
        except Exception:  # noqa: BLE001 - any storage failure
            log.warning("counter storage unreachable; counting in process memory",
                        exc_info=True)
            return call(self.fallback)

    def hit(self, name: str, key: str, amount: int, seconds: int) -> int:
        """Count one attempt; 0 when it is allowed, else seconds until one would be."""
        item = RateLimitItemPerSecond(amount, seconds, namespace="SCOPEGATE")

        def count(limiter) -> int:
            if limiter.hit(item, name, key):
                return 0
            reset = limiter.get_window_stats(item, name, key).reset_time
            return max(1, int(reset - time.time()) + 1)

        return self._with_fallback(count)

    def clear(self, name: str, key: str, amount: int, seconds: int) -> None:
        """Forget the attempts counted under ``key`` (after a success)."""
        item = RateLimitItemPerSecond(amount, seconds, namespace="SCOPEGATE")
        self._with_fallback(lambda limiter: limiter.clear(item, name, key))


def init_app(app: Flask) -> None:
    app.extensions["scopegate.throttle"] = Throttle(storage_uri(app.config))


def current() -> Throttle:
    return current_app.extensions["scopegate.throttle"]
