"""``TokenVerifier``: is this bearer token active, and what may it do?

Opaque tokens (``sgt_…``, ``sgp_…``) are introspected (RFC 7662) once and
their claims cached; JWT access tokens (RFC 9068) are validated locally
against the JWKS and cached the same way. Either way:

- the cache is keyed by the SHA-256 digest of the token, never the token,
  so a memory dump of a service holds no usable credential;
- it is bounded (``max_entries``, oldest entry evicted first) and an entry
  lives at most ``cache_ttl`` seconds and never past the token's ``exp``;
- the revocation feed is read at most ``SCOPEGATE_REVOCATION_POLL`` seconds
  before any answer is given (:mod:`sdk.resource.revocations`), so a revoked
  token is refused within the poll period on every host;
- an inactive answer is cached briefly too (:data:`NEGATIVE_TTL`), so a
  flood of garbage tokens does not become a flood of introspections.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Iterable

import requests

from sdk.auth.client import DEFAULT_URL, URL_ENV
from sdk.auth.exceptions import (
    AuthenticationError,
    ConfigurationError,
    NetworkError,
    PermissionDenied,
    error_from_response,
)
from sdk.auth.scopes import ADMIN_SCOPE, CATALOG, Scope
from sdk.resource.access_jwt import JwtValidator, looks_like_jwt
from sdk.resource.revocations import RevocationFeed

CLIENT_ID_ENV = "SCOPEGATE_RS_CLIENT_ID"
CLIENT_SECRET_ENV = "SCOPEGATE_RS_CLIENT_SECRET"  # noqa: S105 - a variable name
POLL_ENV = "SCOPEGATE_REVOCATION_POLL"
#: Seconds an inactive answer is remembered.
NEGATIVE_TTL = 5.0
#: Longest bearer value looked at (a JWT with every member is under 2 kB).
MAX_TOKEN_LENGTH = 8192


_CATALOG = frozenset(CATALOG)
#: A cache entry: valid until (epoch s), the claims (None: inactive), the scopes.
_Entry = tuple[float, dict | None, frozenset]


def _inactive() -> AuthenticationError:
    return AuthenticationError("The access token is not active.", status_code=401)


class TokenVerifier:
    """Verifies bearer tokens for a resource server; one per process, shared
    by every thread (the cache and feed copy are safe to share)."""

    def __init__(self, url: str | None = None, client_id: str | None = None,
                 client_secret: str | None = None, cache_ttl: float = 300.0, *,
                 poll_interval: float | None = None, max_entries: int = 100_000,
                 audience: str | None = None, timeout: float = 5.0,
                 session: requests.Session | None = None) -> None:
        #: Scopegate's base URL (``$SCOPEGATE_URL``).
        self.url = (url or os.environ.get(URL_ENV) or DEFAULT_URL).rstrip("/")
        client_id = client_id or os.environ.get(CLIENT_ID_ENV)
        client_secret = client_secret or os.environ.get(CLIENT_SECRET_ENV)
        if not client_id or not client_secret:
            raise ConfigurationError(
                f"Resource-server credentials are needed: pass client_id and client_secret "
                f"or set {CLIENT_ID_ENV} and {CLIENT_SECRET_ENV} "
                "(flask --app wsgi create-resource-server NAME).")
        if poll_interval is None:
            poll_interval = float(os.environ.get(POLL_ENV) or 2.0)
        #: Longest a cached answer is reused, in seconds (never past ``exp``).
        self.cache_ttl = float(cache_ttl)
        #: Most tokens remembered at once.
        self.max_entries = int(max_entries)
        self._auth = (client_id, client_secret)
        self._timeout = timeout
        self._session = session or requests.Session()
        self._cache: dict[bytes, _Entry] = {}
        self.feed = RevocationFeed(self._session, self.url, self._auth, poll_interval, timeout)
        self._audience = audience
        self._jwt: JwtValidator | None = None  # built on the first JWT (needs the extra)

    def __repr__(self) -> str:
        return f"TokenVerifier(url={self.url!r}, client_id={self._auth[0]!r})"

    def verify(self, token: str, scopes: Iterable[str | Scope] = ()) -> dict:
        """The token's introspection claims, if it is active and carries every
        scope in ``scopes``. The dict is shared with the cache: read it, do not
        change it.

        Raises :class:`~sdk.auth.exceptions.AuthenticationError` (not active:
        unknown, expired, revoked, malformed), :class:`PermissionDenied`
        (``insufficient_scope``), or another ``ScopegateError`` when Scopegate
        cannot be asked (the caller should answer 503).
        """
        # The hit path, kept to a few dict lookups (bench/resource_side.py measures it).
        feed = self.feed
        if time.monotonic() - feed.checked_at >= feed.poll:
            feed.ensure_fresh()
        if not isinstance(token, str) or not 0 < len(token) <= MAX_TOKEN_LENGTH:
            raise _inactive()
        key = hashlib.sha256(token.encode()).digest()
        now = time.time()
        entry = self._cache.get(key)
        if entry is None or entry[0] <= now:
            entry = self._remember(key, token, now)
        _, claims, granted = entry
        if claims is None or claims["token_id"] in feed.revoked:
            raise _inactive()
        if scopes:
            if not isinstance(scopes, tuple | list | set | frozenset):
                scopes = tuple(scopes)  # an iterator is read twice below
            if not granted.issuperset(scopes):
                check_scopes(claims, scopes)
        return claims

    def _remember(self, key: bytes, token: str, now: float) -> _Entry:
        try:
            if looks_like_jwt(token):
                # The same members introspection gives; RFC 9068 names the id jti.
                payload = self._validator().validate(token, now)
                claims = {"active": True, **payload, "token_id": payload["jti"]}
            else:
                claims = self._introspect(token)
        except AuthenticationError:
            claims = None
        if claims is None:
            entry = (now + NEGATIVE_TTL, None, frozenset())
        else:
            entry = (min(now + self.cache_ttl, claims["exp"]), claims, granted_scopes(claims))
        cache = self._cache
        if len(cache) >= self.max_entries:
            # Evict the oldest insertion (dicts keep insertion order); another
            # thread may be doing the same.
            with contextlib.suppress(StopIteration, KeyError, RuntimeError):
                del cache[next(iter(cache))]
        cache[key] = entry
        return entry

    def _validator(self) -> JwtValidator:
        if self._jwt is None:
            self._jwt = JwtValidator(self._session, self.url, self._timeout, self._audience)
        return self._jwt

    def _introspect(self, token: str) -> dict | None:
        try:
            response = self._session.post(f"{self.url}/oauth/introspect", data={"token": token},
                                          auth=self._auth, timeout=self._timeout,
                                          allow_redirects=False)
        except requests.RequestException as exc:
            raise NetworkError(f"POST /oauth/introspect failed: {type(exc).__name__}.") from exc
        if response.status_code == 401:
            raise ConfigurationError("Scopegate refused the resource-server credentials "
                                     f"({CLIENT_ID_ENV}/{CLIENT_SECRET_ENV}).", status_code=401)
        if response.status_code != 200:
            raise error_from_response(response)
        claims = response.json()
        return claims if claims.get("active") is True else None

    def forget(self) -> None:
        """Drop every cached answer (the revocation copy stays)."""
        self._cache.clear()


def granted_scopes(claims: dict) -> frozenset[str]:
    """The scopes a token carries. An admin's personal token carries the
    reserved scope ``admin``: full access within its organization, so every
    catalog scope (the service still checks the organization, ``customer``)."""
    scopes = frozenset(claims["scope"].split())
    return scopes | _CATALOG if ADMIN_SCOPE in scopes else scopes


def has_scope(claims: dict, scope: str | Scope) -> bool:
    """The token carries this scope (claims as ``verify`` returns them)."""
    return scope in granted_scopes(claims)


def check_scopes(claims: dict, scopes: Iterable[str | Scope]) -> None:
    """Raise PermissionDenied (``insufficient_scope``) unless every scope is carried."""
    granted = granted_scopes(claims)
    missing = [str(s) for s in scopes if s not in granted]
    if missing:
        raise PermissionDenied(f"The token lacks the scope(s): {' '.join(missing)}.",
                               status_code=403, error="insufficient_scope")
