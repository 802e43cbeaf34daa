"""The verifier's copy of the revocation feed (``GET /oauth/revocations``).

Polled on demand rather than by a background thread: :meth:`ensure_fresh`
runs before every verification and reads the feed when the last read is
older than the poll period. So a cached answer is never trusted beyond the
poll period on any host, whatever the process model (gunicorn forks, sleeping
workers, no threads), and an idle service makes no requests at all. The
request that finds the copy stale pays one small HTTP round trip.

Fail closed: when the feed cannot be read, verification raises (the
decorator answers 503) rather than trusting a copy of unknown age. Retries
are throttled to one per second so an outage does not multiply requests.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import requests

from sdk.auth.exceptions import (
    ConfigurationError,
    NetworkError,
    ScopegateError,
    error_from_response,
)

log = logging.getLogger(__name__)

#: Seconds between two attempts after a failed read.
RETRY_AFTER_FAILURE = 1.0
#: The server's largest page: a full page means "ask again at once".
PAGE = 1000
#: Pages read in one refresh at most (a mass revocation is read over several polls).
MAX_PAGES = 50


class RevocationFeed:
    """Token ids revoked and not yet expired, as of the last successful read."""

    def __init__(self, session: requests.Session, url: str, auth: tuple[str, str],
                 poll: float, timeout: float) -> None:
        self._session, self._url, self._auth = session, f"{url}/oauth/revocations", auth
        #: Seconds a read is trusted (``SCOPEGATE_REVOCATION_POLL``).
        self.poll, self._timeout = poll, timeout
        #: token_id -> exp; read without the lock (a dict lookup is atomic).
        self.revoked: dict[str, int] = {}
        self._cursor: str | None = None
        #: Monotonic time the last successful read was *sent* (what it reflects).
        self.checked_at = float("-inf")
        self._failed_at = float("-inf")
        self._error: ScopegateError | None = None
        self._lock = threading.Lock()

    def is_stale(self, at: float) -> bool:
        return at - self.checked_at >= self.poll

    def ensure_fresh(self) -> None:
        """Read the feed if the copy is older than the poll period."""
        if not self.is_stale(time.monotonic()):
            return
        with self._lock:
            at = time.monotonic()
            if not self.is_stale(at):
                return  # another thread read it meanwhile
            if at - self._failed_at < RETRY_AFTER_FAILURE and self._error is not None:
                raise self._error
            try:
                self._read_pages()
            except ScopegateError as error:
                self._failed_at, self._error = at, error
                log.warning("Revocation feed unreadable: %s", error)
                raise
            self.checked_at, self._error = at, None
            self._forget_expired()

    def _read_pages(self) -> None:
        for _ in range(MAX_PAGES):
            body = self._get(self._cursor)
            for item in body["items"]:
                self.revoked[item["token_id"]] = item.get("exp") or 0
            self._cursor = body["next_cursor"]
            if len(body["items"]) < PAGE:
                return

    def _get(self, since: str | None) -> dict[str, Any]:
        try:
            response = self._session.get(
                self._url, params={"since": since} if since else None, auth=self._auth,
                timeout=self._timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise NetworkError(f"GET /oauth/revocations failed: {type(exc).__name__}.") from exc
        if response.status_code in (401, 403):
            raise ConfigurationError("The resource-server credentials were refused by the "
                                     "revocation feed (SCOPEGATE_RS_CLIENT_ID/SECRET).",
                                     status_code=response.status_code)
        if response.status_code != 200:
            raise error_from_response(response)
        return response.json()

    def _forget_expired(self) -> None:
        now = time.time()
        if len(self.revoked) > 1000:
            self.revoked = {k: exp for k, exp in self.revoked.items() if exp > now}
