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
import os
import threading
import time
import weakref
from math import ceil, floor

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
    """``limits``' in-memory storage, with one long-lived thread to expire old entries,
    and sliding window counters kept as one small list per key.

    The stock storage starts a new ``threading.Timer`` every 10 ms while counters are
    hit, and the request that starts it waits until the thread runs: measured at about
    150 µs per request on the OAuth hot paths (bench/RESULTS.md §14). Expiry only frees
    memory -- a window never counts entries older than itself -- so one daemon thread
    per process (:data:`EXPIRER`, shared by every instance: an app per test made one
    thread each, hundreds waking every second) keeps memory bounded at no cost per
    request.

    The stock sliding window counter is two string-keyed counters with their own
    expiry bookkeeping, about a dozen storage calls per check; here a key's window is
    ``[window number, count, previous window's count, window length]`` under one lock,
    with the same arithmetic, so it answers as the stock one does
    (tests/test_properties.py compares them) at a fraction of the cost.
    """

    STORAGE_SCHEME = ["scopegate-memory"]

    def __init__(self, *args, **kwargs) -> None:
        self._windows: dict[str, list] = {}
        self._windows_lock = threading.Lock()
        super().__init__(*args, **kwargs)
        EXPIRER.watch(self)

    def _window(self, key: str, expiry: int, now: float) -> list:
        """The key's counters, moved on to the window ``now`` falls in."""
        number = int(now / expiry)
        window = self._windows.get(key)
        if window is None or window[0] < number - 1:
            window = self._windows[key] = [number, 0, 0, expiry]
        elif window[0] == number - 1:
            window[:3] = [number, 0, window[1]]
        return window

    @staticmethod
    def _previous_ttl(previous: int, expiry: int, now: float) -> float:
        return 0.0 if previous == 0 else (1 - (((now - expiry) / expiry) % 1)) * expiry

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        now = time.time()
        with self._windows_lock:
            _, current, previous, _ = self._window(key, expiry, now)
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        return previous, self._previous_ttl(previous, expiry, now), current, current_ttl

    def acquire_sliding_window_entry(self, key: str, limit: int, expiry: int,
                                     amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        self._MemoryStorage__schedule_expiry()
        with self._windows_lock:
            window = self._window(key, expiry, now)
            weighted = window[2] * self._previous_ttl(window[2], expiry, now) / expiry + window[1]
            if floor(weighted) + amount > limit:
                return False
            window[1] += amount
            return True

    def admit(self, checks: tuple[tuple[str, int, int, bool], ...]) -> int:
        """Several limits of one request, in order, under one lock: each check is
        ``(key, limit, expiry, count)``; one with ``count`` counts this request as
        :meth:`acquire_sliding_window_entry` does, one without only tests it as the
        sliding window counter's ``test`` does (the weighted count is below the limit).
        The index of the first check that refuses (the later ones are not looked at,
        as Flask-Limiter stops at the first breach), or -1."""
        now = time.time()
        self._MemoryStorage__schedule_expiry()
        with self._windows_lock:
            for index, (key, limit, expiry, count) in enumerate(checks):
                window = self._window(key, expiry, now)
                weighted = window[2] * self._previous_ttl(window[2], expiry, now) / expiry \
                    + window[1]
                if count:
                    if floor(weighted) + 1 > limit:
                        return index
                    window[1] += 1
                elif not weighted < limit:
                    return index
        return -1

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        with self._windows_lock:
            self._windows.pop(key, None)

    def reset(self) -> int | None:
        with self._windows_lock:
            self._windows.clear()
        return super().reset()

    def _expire_windows(self) -> None:
        now = time.time()
        with self._windows_lock:
            for key, window in list(self._windows.items()):
                if window[0] < int(now / window[3]) - 1:  # both windows are over
                    del self._windows[key]

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - overrides the stock one
        EXPIRER.start()

    def expire(self) -> None:
        """Drop every entry and window that no limit can count any more."""
        self._MemoryStorage__expire_events()
        self._expire_windows()


class Expirer:
    """One daemon thread per process that expires every live :class:`MemoryCounters`
    once a second. It holds them weakly (a dropped app's counters go with it) and is
    started at the first count, again in a forked worker (threads do not survive a
    fork)."""

    EVERY = 1.0

    def __init__(self) -> None:
        self.live: weakref.WeakSet[MemoryCounters] = weakref.WeakSet()
        self.started = False
        self._lock = threading.Lock()

    def watch(self, counters: MemoryCounters) -> None:
        self.live.add(counters)

    def start(self) -> None:
        if self.started:
            return
        with self._lock:
            if not self.started:
                threading.Thread(target=self._run, daemon=True,
                                 name="scopegate-counter-expiry").start()
                self.started = True

    def forked(self) -> None:
        self.started = False

    def _run(self) -> None:
        while True:
            time.sleep(self.EVERY)
            for counters in list(self.live):
                counters.expire()


EXPIRER = Expirer()
os.register_at_fork(after_in_child=EXPIRER.forked)


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
            return max(1, ceil(reset - time.time()))

        return self._with_fallback(count)

    def clear(self, name: str, key: str, amount: int, seconds: int) -> None:
        """Forget the attempts counted under ``key`` (after a success)."""
        item = RateLimitItemPerSecond(amount, seconds, namespace="SCOPEGATE")
        self._with_fallback(lambda limiter: limiter.clear(item, name, key))


def init_app(app: Flask) -> None:
    app.extensions["scopegate.throttle"] = Throttle(storage_uri(app.config))


def current() -> Throttle:
    return current_app.extensions["scopegate.throttle"]
