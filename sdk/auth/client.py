"""The SDK client: one :class:`AuthClient` per admin token, one method per call.

Each method sends one admin-API or OAuth request (list methods: one per page)
and returns the server's JSON (a ``dict``; a ``list`` for ``list_*``).
Failures raise the typed exceptions of :mod:`sdk.auth.exceptions`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import math
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from requests.auth import AuthBase
from urllib3.exceptions import NewConnectionError

from sdk import __version__
from sdk.auth.exceptions import (
    ConfigurationError,
    InsecureURLWarning,
    NetworkError,
    ScopegateError,
    ServerError,
    ValidationError,
    error_from_response,
    parse_retry_after,
)
from sdk.auth.redaction import looks_like_secret, printable, redact
from sdk.auth.scopes import CATALOG, Scope

__all__ = [
    "DEFAULT_URL", "TOKEN_ENV", "URL_ENV", "AuthClient", "ShownOnce", "connect_to_auth_client",
]

logger = logging.getLogger("sdk.auth")

#: Environment variable holding the admin's (unscoped) token.
TOKEN_ENV = "SCOPEGATE_TOKEN"  # noqa: S105 (a variable name, not a secret)
#: Environment variable holding the server's base URL.
URL_ENV = "SCOPEGATE_URL"
#: Where ``make run`` serves Scopegate.
DEFAULT_URL = "http://127.0.0.1:5000"
#: Sent on every request so that server logs can tell SDK traffic apart.
USER_AGENT = f"scopegate-sdk/{__version__}"

# Reads are safe to repeat; anything else only when the request never left.
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Answers to a read worth trying again: overload and gateway hiccups. A plain
# 500 is usually a bug that a retry would only delay.
_RETRY_STATUSES = frozenset({429, 502, 503, 504})
_ROLES = ("admin", "member")
_TOKEN_KINDS = ("personal", "scoped", "app", "refresh")
# The largest page list_activity(limit=...) asks for (the server allows up to 500).
_MAX_PAGE = 200
# Loopback traffic never goes through a proxy: HTTP_PROXY would otherwise see
# the bearer token in clear on its way to http://127.0.0.1.
_NO_PROXY = {"http": None, "https": None, "all": None}


def connect_to_auth_client(
    token: str | None = None,
    url: str | None = None,
    *,
    timeout: float | tuple[float, float] = 10.0,
    verify: bool | str = True,
    retries: int = 3,
) -> AuthClient:
    """Connect to Scopegate with an admin's unscoped token.

    ``token`` defaults to ``$SCOPEGATE_TOKEN`` and ``url`` to ``$SCOPEGATE_URL``
    (else ``http://127.0.0.1:5000``). ``timeout`` (seconds) applies to every
    request; ``verify`` is passed to requests (``False`` or a CA bundle path);
    ``retries`` bounds the retries of reads and of failed connections.
    No request is sent until the first call.

    Raises :class:`~sdk.auth.exceptions.ConfigurationError` (a ``ValueError``)
    when no token is found or the URL is unusable.
    """
    if token is None:
        token = os.environ.get(TOKEN_ENV)
    if not token or not token.strip():
        raise ConfigurationError(
            f"No Scopegate token: pass token=... or set {TOKEN_ENV} to your admin token (sgp_...)."
        )
    if not url:
        url = os.environ.get(URL_ENV) or DEFAULT_URL
    return AuthClient(token, url, timeout=timeout, verify=verify, retries=retries)


class ShownOnce(dict):
    """An answer holding a secret shown once (``token``, ``client_secret``).

    A plain ``dict``, except that printing it masks the secret: a notebook's
    saved output, a log line or a screen share never holds a live credential.
    Read the secret itself with ``answer["token"]`` (or ``["client_secret"]``).
    """

    _SECRETS = ("token", "client_secret", "invite_url", "reset_url")

    def __repr__(self) -> str:
        return repr({k: f"{v[:4]}… (hidden when printed: read [{k!r}])"
                     if k in self._SECRETS and isinstance(v, str) else v
                     for k, v in self.items()})

    __str__ = __repr__


class AuthClient:
    """Manage machine users, their scoped tokens and the organization's people
    with an admin token.

    Usually made by :func:`connect_to_auth_client`. Holds one
    :class:`requests.Session` (connection reuse); use it as a context manager
    or call :meth:`close` to release it.
    """

    def __init__(
        self,
        token: str,
        url: str = DEFAULT_URL,
        *,
        timeout: float | tuple[float, float] = 10.0,
        verify: bool | str = True,
        retries: int = 3,
        backoff_factor: float = 0.5,
        max_backoff: float = 8.0,
        session: requests.Session | None = None,
    ) -> None:
        token = (token or "").strip() if isinstance(token, str) else ""
        if not token or not (token.isascii() and token.isprintable()) or " " in token:
            raise ConfigurationError(
                "The Scopegate token is empty or holds whitespace or invisible characters "
                "(a byte-order mark or zero-width space copied along with it?); copy it again."
            )
        url = (url or "").strip() if isinstance(url, str) else ""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(
                f"Scopegate URL must look like https://host[:port], not {printable(redact(url))!r}."
            )
        if parts.username is not None or parts.password is not None:
            # requests would send them as Basic auth instead of the bearer token.
            raise ConfigurationError(
                "Scopegate URL must not hold a user name or password (user:pw@host): "
                "the SDK authenticates with the token."
            )
        #: Base URL of the server, without a trailing slash.
        self.url = url.rstrip("/")
        #: Most seconds a call may take, retries included (or a ``(connect, read)``
        #: pair bounding each socket operation; the call then ends within their sum).
        self.timeout = _check_timeout(timeout)
        self._deadline = sum(self.timeout) if isinstance(self.timeout, tuple) else self.timeout
        #: How many times a read, or a connection that failed, is tried again.
        self.retries = max(0, int(retries))
        #: Wait before retry n (0-based) is ``backoff_factor * 2**n`` seconds...
        self.backoff_factor = backoff_factor
        #: ... capped at this many seconds (a longer ``Retry-After`` is not waited for).
        self.max_backoff = max_backoff
        #: The one session every request goes through (yours when given: the SDK
        #: passes its headers and token per request and never writes into it).
        self.session = session or requests.Session()
        self._own_session = session is None
        #: TLS verification: ``True``, ``False`` or a CA bundle path. Passed on
        #: every request because requests lets ``REQUESTS_CA_BUNDLE`` override
        #: a session-level setting.
        self.verify = verify
        self._headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        self._auth = _Bearer(token)
        self._proxies = _NO_PROXY if _is_loopback(parts.hostname) else None
        # The caller's identity (GET /api/v1/me), looked up once for log lines.
        self._me: dict | None = None
        # Replaced by tests so that retries take no time.
        self._sleep: Callable[[float], None] = time.sleep
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            warnings.warn(
                f"Scopegate URL {self.url} is plain HTTP: the token travels unencrypted; "
                "use https outside local development.",
                InsecureURLWarning,
                stacklevel=3,
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.url!r})"

    def __enter__(self) -> AuthClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session (a session you passed in stays yours to close)."""
        if self._own_session:
            self.session.close()

    # -- machine users ---------------------------------------------------

    def create_user(self, name: str, scopes: Iterable[str | Scope] | None = None) -> dict:
        """Create a machine user; ``scopes`` is its ceiling (default: the whole catalog).

        Returns the user: ``name``, ``email`` (its generated unique ID),
        ``user_type``, ``scopes``, ``created_by``, ``created_at``, ``active``.
        """
        body: dict[str, Any] = {"name": _text(name, "name")}
        if scopes is not None:
            body["scopes"] = _scopes(scopes)
        user = self._request("POST", "/api/v1/users", json=body)
        if logger.isEnabledFor(logging.INFO):
            logger.info(
                "Machine user %s(%s) created by %s.",
                user.get("name", name),
                user.get("email"),
                self._who(user.get("created_by")),
            )
        if user.get("active"):
            logger.info("User activated.")
        return user

    def get_user(self, name: str) -> dict:
        """Return one user by name."""
        return self._request("GET", f"/api/v1/users/{_seg(name, 'name')}")

    def list_users(self) -> list[dict]:
        """Return every user of the organization (all pages)."""
        return list(self._pages("/api/v1/users", {}))

    def delete_user(self, name: str) -> None:
        """Delete a machine user; every token of the user is revoked with it."""
        self._request("DELETE", f"/api/v1/users/{_seg(name, 'name')}", shape=None)
        logger.info("Machine user %s deleted; its tokens are revoked.", name)

    def create_client_credentials(self, name: str) -> dict:
        """Give a machine user a new client secret (replacing the previous one).

        Returns ``client_id`` and ``client_secret``, shown this once, for
        standard ``client_credentials`` requests to ``/oauth/token``.
        """
        creds = ShownOnce(
            self._request("POST", f"/api/v1/users/{_seg(name, 'name')}/credentials"))
        logger.info(
            "Client credentials created for machine user %s(%s).", name, creds.get("client_id")
        )
        return creds

    # -- people ----------------------------------------------------------

    def invite_person(self, email: str, role: str = "member") -> dict:
        """Invite a person to the organization as ``"admin"`` or ``"member"``.

        Returns the person (``email``, ``uid``: their unique ID, ``role``,
        ``status`` ``"invited"``) and ``invite_url``: a one-time link, valid
        24 h and shown this once, where they choose their password. Hand it
        over yourself; it is never logged.
        """
        body = {"email": _text(email, "email"), "role": _role(role)}
        person = ShownOnce(self._request("POST", "/api/v1/people", json=body))
        logger.info("Person %s(%s) invited as %s.", person.get("email", email),
                    person.get("uid"), person.get("role", role))
        return person

    def list_people(self) -> list[dict]:
        """Return every person of the organization (all pages)."""
        return list(self._pages("/api/v1/people", {}))

    def get_person(self, email: str) -> dict:
        """Return one person by email (or unique ID)."""
        return self._request("GET", f"/api/v1/people/{_seg(email, 'email')}")

    def update_person(self, email: str, role: str | None = None,
                      disabled: bool | None = None) -> dict:
        """Change a person's ``role`` and/or disable (``disabled=True``) or
        enable them. Disabling ends their dashboard sessions and revokes every
        token they hold at once; a role change revokes their personal tokens.
        The last admin cannot be demoted or disabled (:class:`Conflict`).
        """
        body: dict[str, Any] = {}
        if role is not None:
            body["role"] = _role(role)
        if disabled is not None:
            if not isinstance(disabled, bool):
                raise ValidationError(f"disabled must be True or False, not {disabled!r}.")
            body["disabled"] = disabled
        if not body:
            raise ValidationError("Give role= and/or disabled=.")
        person = self._request("PATCH", f"/api/v1/people/{_seg(email, 'email')}", json=body)
        logger.info("Person %s updated: role %s, %s.", email, person.get("role"),
                    "disabled" if person.get("disabled") else "enabled")
        return person

    def delete_person(self, email: str) -> None:
        """Delete a person: their sessions and tokens end at once."""
        self._request("DELETE", f"/api/v1/people/{_seg(email, 'email')}", shape=None)
        logger.info("Person %s deleted; their sessions and tokens ended.", email)

    def reset_password_link(self, email: str) -> dict:
        """Issue a new one-time link for a person who forgot their password
        (a new invitation if they never joined); their previous link dies.

        Returns ``email``, ``purpose`` (``"reset"`` or ``"invite"``),
        ``reset_url`` (shown this once, never logged) and ``expires_at``.
        """
        link = ShownOnce(
            self._request("POST", f"/api/v1/people/{_seg(email, 'email')}/reset-link"))
        logger.info("New one-time %s link issued for %s.", link.get("purpose", "reset"), email)
        return link

    def create_person_token(self, email: str, name: str | None = None,
                            expires_in: int | dt.timedelta | None = None) -> dict:
        """Issue a personal token to a member (or yourself): it acts as that
        person. A member's token carries no scope and reaches only their own
        things. Returns ``token`` (shown this once), ``token_id``, ``role``,
        ``expires_at`` and the rest of the token's metadata.
        """
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = _text(name, "name")
        if expires_in is not None:
            body["expires_in"] = _seconds(expires_in)
        token = ShownOnce(self._request(
            "POST", f"/api/v1/people/{_seg(email, 'email')}/tokens", json=body))
        logger.info("Personal token %s created for %s (%s), expires %s.",
                    token.get("token_id"), email, token.get("role"), token.get("expires_at"))
        return token

    # -- apps (OpenID Connect sign-in) ------------------------------------

    def create_app(self, name: str, redirect_uris: Iterable[str], public: bool = False) -> dict:
        """Register an app people sign in to with Scopegate (OpenID Connect).

        ``redirect_uris`` are matched exactly (``https``, or ``http`` to a
        loopback address). Returns ``client_id``, ``name``, ``redirect_uris``,
        ``public`` and, for a confidential app, ``client_secret`` (shown this once).
        """
        if isinstance(redirect_uris, str):
            raise ValidationError("redirect_uris must be a list of URIs, not one string.")
        body = {"name": _text(name, "name"),
                "redirect_uris": [_text(u, "redirect URI") for u in redirect_uris],
                "public": bool(public)}
        app = ShownOnce(self._request("POST", "/api/v1/apps", json=body))
        logger.info("App %s(%s) registered (%s).", app.get("name", name), app.get("client_id"),
                    "public" if app.get("public") else "confidential")
        return app

    def list_apps(self) -> list[dict]:
        """Return every app of the organization (all pages)."""
        return list(self._pages("/api/v1/apps", {}))

    def get_app(self, client_id: str) -> dict:
        """Return one app by ``client_id`` (never its secret)."""
        return self._request("GET", f"/api/v1/apps/{_seg(client_id, 'client_id')}")

    def delete_app(self, client_id: str) -> None:
        """Delete an app; every token issued to it is revoked with it."""
        self._request("DELETE", f"/api/v1/apps/{_seg(client_id, 'client_id')}", shape=None)
        logger.info("App %s deleted; its tokens are revoked.", client_id)

    def rotate_app_secret(self, client_id: str) -> dict:
        """Give a confidential app a new ``client_secret`` (shown this once);
        the previous one stops working at once."""
        app = ShownOnce(
            self._request("POST", f"/api/v1/apps/{_seg(client_id, 'client_id')}/secret"))
        logger.info("Secret of app %s rotated.", client_id)
        return app

    # -- tokens ----------------------------------------------------------

    def create_token(
        self,
        user_id: str,
        scopes: Iterable[str | Scope],
        expires_in: int | dt.timedelta | None = None,
    ) -> dict:
        """Create a scoped token for machine user ``user_id`` (its name).

        ``scopes`` must come from the catalog (:class:`~sdk.auth.scopes.Scope`)
        and the user's ceiling; ``expires_in`` is in seconds (default and
        maximum: 30 days). Returns ``token`` (shown this once), ``token_id``,
        ``user_id``, ``email``, ``scopes`` and ``expires_at``.
        """
        body: dict[str, Any] = {"scopes": _scopes(scopes)}
        if expires_in is not None:
            body["expires_in"] = _seconds(expires_in)
        token = ShownOnce(self._request(
            "POST", f"/api/v1/users/{_seg(user_id, 'user_id')}/tokens", json=body))
        logger.info(
            "Token %s created for user %s(%s) with scopes %s, expires %s.",
            token.get("token_id"),
            token.get("user_id", user_id),
            token.get("email"),
            " ".join(token.get("scopes") or body["scopes"]),
            token.get("expires_at"),
        )
        return token

    def token_info(self, token: str) -> dict:
        """Introspect a token (RFC 7662) and return the answer.

        An active token gives ``active: True`` with its ``scope``, ``user_id``,
        ``email``, ``token_id``, ``exp`` and more; anything invalid, expired,
        revoked or unknown gives ``{"active": False}`` (not an exception).
        """
        value = _text(token, "token").strip()
        return self._request("POST", "/oauth/introspect", data={"token": value})

    def revoke_token(self, token_id: str) -> None:
        """Revoke a token by its ``token_id`` (idempotent)."""
        self._request("DELETE", f"/api/v1/tokens/{_seg(token_id, 'token_id')}", shape=None)
        logger.info("Token %s revoked.", token_id)

    def renew_token(self, token_id: str, expires_in: int | dt.timedelta | None = None) -> dict:
        """Extend a token's lifetime; never past issue time + the maximum lifespan.

        Returns the token's metadata with the new ``expires_at``.
        """
        body: dict[str, Any] = {}
        if expires_in is not None:
            body["expires_in"] = _seconds(expires_in)
        meta = self._request(
            "POST", f"/api/v1/tokens/{_seg(token_id, 'token_id')}/renew", json=body
        )
        logger.info(
            "Token %s renewed, expires %s%s.",
            token_id,
            meta.get("expires_at"),
            " (clamped to issue time + the maximum lifespan)" if meta.get("clamped") else "",
        )
        return meta

    def list_tokens(
        self,
        user: str | None = None,
        active: bool | None = None,
        kind: str | None = None,
    ) -> list[dict]:
        """Return token metadata (never the secrets), every page.

        Filters: ``user`` (name or unique ID), ``active`` (``True``: only live
        tokens, ``False``: only expired or revoked), ``kind``
        (``"personal"`` or ``"scoped"``).
        """
        params: dict[str, Any] = {}
        if user is not None:
            params["user"] = _text(user, "user")
        if active is not None:
            params["active"] = "true" if active else "false"
        if kind is not None:
            if kind not in _TOKEN_KINDS:
                kinds = ", ".join(_TOKEN_KINDS)
                raise ValidationError(f"kind must be one of {kinds}, not {kind!r}.")
            params["kind"] = kind
        return list(self._pages("/api/v1/tokens", params))

    # -- activity, catalog, identity -------------------------------------

    def list_activity(
        self,
        user: str | Iterable[str] | None = None,
        actor: str | None = None,
        action: str | None = None,
        since: dt.datetime | dt.date | str | None = None,
        until: dt.datetime | dt.date | str | None = None,
        limit: int | None = None,
    ) -> list[dict]:
        """Return audit events, newest first.

        ``user``: a name or unique ID, or several; matches events where that
        user acted or is the subject. ``actor``: only where it acted.
        ``action``: e.g. ``"token.create"``. ``since``/``until``: datetimes
        (naive ones are taken as UTC) or ISO 8601 strings. ``limit``: at most
        this many events (default: all of them, page by page).
        """
        params: dict[str, Any] = {}
        if user is not None:
            users = [user] if isinstance(user, str) else list(user)
            params["user"] = [_text(u, "user") for u in users]
        if actor is not None:
            params["actor"] = _text(actor, "actor")
        if action is not None:
            params["action"] = _text(action, "action")
        if since is not None:
            params["since"] = _timestamp(since, "since")
        if until is not None:
            params["until"] = _timestamp(until, "until")
        bad_limit = isinstance(limit, bool) or not isinstance(limit, int) or limit < 1
        if limit is not None and bad_limit:
            raise ValidationError(f"limit must be a positive integer, not {limit!r}.")
        events: list[dict] = []
        for event in self._pages("/api/v1/activity", params, limit=limit):
            events.append(event)
            if limit is not None and len(events) >= limit:
                break
        return events

    def scopes(self) -> Any:
        """Return the server's scope catalog, with a description of each scope."""
        return self._request("GET", "/api/v1/scopes", shape=(dict, list))

    def whoami(self) -> dict:
        """Return the caller's identity and the metadata of the token in use."""
        return self._request("GET", "/api/v1/me")

    def _who(self, uid: str | None) -> str | None:
        """A readable name for a unique ID in log lines: the caller's email when
        ``uid`` is the caller (the server records creators by unique ID).

        Costs one ``GET /api/v1/me`` per client, and only when INFO logging is on;
        if that fails the unique ID is logged as it is.
        """
        if self._me is None:
            try:
                self._me = self.whoami() or {}
            except ScopegateError as exc:
                logger.debug("Could not look up the caller's identity: %s", exc)
                self._me = {}
        if uid and uid == self._me.get("sub") and self._me.get("email"):
            return self._me["email"]
        return uid

    # -- HTTP ------------------------------------------------------------

    def _pages(
        self, path: str, params: Mapping[str, Any], limit: int | None = None
    ) -> Iterator[dict]:
        """Yield the items of every page, following ``next_cursor``."""
        query = dict(params)
        seen: set[str] = set()
        remaining = limit
        while True:
            if remaining is not None:
                query["limit"] = min(remaining, _MAX_PAGE)
            page = self._request("GET", path, params=query, shape=(dict, list))
            if isinstance(page, list):  # an unpaginated answer
                yield from page
                return
            items = page.get("items") or []
            if not isinstance(items, list):
                raise ServerError(f"GET {path} answered a page whose items are not a list.")
            yield from items
            if remaining is not None:
                remaining -= len(items)
                if remaining <= 0:
                    return
            cursor = page.get("next_cursor")
            if not cursor or not items:
                return
            if cursor in seen:
                raise ServerError(f"The server repeated a page cursor for {path}.")
            seen.add(cursor)
            query["cursor"] = cursor

    def _request(
        self, method: str, path: str, *, shape: type | tuple[type, ...] | None = dict,
        **kwargs: Any,
    ) -> Any:
        """Send one request (retrying what is safe) and return its JSON.

        ``shape`` is what a 2xx answer must hold (``None``: no body is needed).
        The whole call, retries included, ends within ``timeout`` seconds.
        """
        deadline = time.monotonic() + self._deadline
        attempt = 0
        while True:
            outcome = self._send(method, path, deadline, kwargs)
            if isinstance(outcome, requests.Response):
                response = outcome
                status = response.status_code
                retry = method in _SAFE_METHODS and status in _RETRY_STATUSES
                wait = parse_retry_after(response) if retry else None
                delay = max(self._backoff(attempt), wait or 0.0)
                if (retry and attempt < self.retries and (wait is None or wait <= self.max_backoff)
                        and time.monotonic() + delay < deadline):
                    attempt += 1
                    logger.info("%s %s answered %d; retry %d of %d in %.1f s.",
                                method, path, status, attempt, self.retries, delay)
                    self._sleep(delay)
                    continue
                break
            exc = outcome
            retryable = ((method in _SAFE_METHODS or _never_sent(exc)) and not _refused(exc)
                         and not isinstance(exc, requests.exceptions.SSLError))
            delay = self._backoff(attempt)
            if (isinstance(exc, requests.ConnectionError | requests.Timeout) and retryable
                    and attempt < self.retries and time.monotonic() + delay < deadline):
                attempt += 1
                logger.info("%s %s failed (%s); retry %d of %d in %.1f s.",
                            method, path, type(exc).__name__, attempt, self.retries, delay)
                self._sleep(delay)
                continue
            # Raised here, outside any except block: no chained traceback, and
            # nothing of the request (its headers hold the token) rides along.
            raise self._failure(exc, method, path)
        return self._answer(response, method, path, shape)

    def _send(
        self, method: str, path: str, deadline: float, kwargs: Mapping[str, Any]
    ) -> requests.Response | BaseException:
        """One attempt, body included, cut off at ``deadline``: the response or the failure.

        The attempt runs in a helper thread because socket timeouts bound each
        read, not the whole answer (a server sending one byte at a time would
        never time out).
        """
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return _DeadlineExceeded()
        result: list[requests.Response | BaseException] = []

        def attempt() -> None:
            try:
                response = self.session.request(
                    method, self.url + path, timeout=self._socket_timeout(remaining),
                    verify=self.verify, allow_redirects=False, headers=self._headers,
                    auth=self._auth, proxies=self._proxies, **kwargs,
                )
                response.content  # noqa: B018 - read the body inside the deadline
                result.append(response)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                result.append(exc)

        worker = threading.Thread(target=attempt, name="scopegate-sdk-request", daemon=True)
        worker.start()
        worker.join(remaining)
        return result[0] if result else _DeadlineExceeded()

    def _socket_timeout(self, remaining: float) -> float | tuple[float, float]:
        if isinstance(self.timeout, tuple):
            return tuple(min(t, remaining) for t in self.timeout)  # type: ignore[return-value]
        return min(self.timeout, remaining)

    def _failure(self, exc: BaseException, method: str, path: str) -> ScopegateError:
        """The typed error for an attempt that got no answer."""
        maybe = "" if method in _SAFE_METHODS or _never_sent(exc) else (
            " The request may have been applied; check before repeating it.")
        if isinstance(exc, _DeadlineExceeded | requests.Timeout):
            return NetworkError(f"{method} {path} got no complete answer from {self.url} "
                                f"within {self.timeout} s.{maybe}")
        if _refused(exc):
            return NetworkError(
                f"Could not connect to Scopegate at {self.url}: connection refused. "
                f"Is the server running (`make run` serves {DEFAULT_URL})? If it runs "
                f"elsewhere, set {URL_ENV} to its address."
            )
        if isinstance(exc, requests.exceptions.SSLError):
            return NetworkError(f"TLS verification failed for {self.url}: {_reason(exc)}")
        if isinstance(exc, requests.ConnectionError):
            if method in _SAFE_METHODS or _never_sent(exc):
                return NetworkError(f"Could not connect to Scopegate at {self.url}: "
                                    f"{_reason(exc)}. Is {URL_ENV} right?")
            return NetworkError(f"The connection failed during {method} {path} "
                                f"({_reason(exc)}).{maybe}")
        if isinstance(exc, requests.RequestException):
            return NetworkError(f"{method} {path} failed: {_reason(exc)}")
        if isinstance(exc, OSError):  # e.g. REQUESTS_CA_BUNDLE names a missing file
            return ConfigurationError(
                f"{method} {path} could not be sent: {_reason(exc)} "
                "(check verify= and REQUESTS_CA_BUNDLE)."
            )
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise exc
        # Anything else (its message may quote the request, and so the token).
        return ScopegateError(f"{method} {path} failed before an answer arrived "
                              f"({type(exc).__name__}).")

    def _answer(self, response: requests.Response, method: str, path: str,
                shape: type | tuple[type, ...] | None) -> Any:
        """The JSON of a final answer, or the typed error it stands for."""
        status = response.status_code
        logger.debug("%s %s -> %d", method, path, status)
        if 300 <= status < 400:
            where = printable(redact(response.headers.get("Location", "elsewhere")))
            raise ConfigurationError(
                f"The server redirected {method} {path} to {where}; "
                f"set {URL_ENV} (or url=) to the address it should be reached at.",
                status_code=status,
                error="redirect",
                response=response,
            )
        if status >= 400:
            raise error_from_response(response)
        body: Any = None
        if response.content:
            try:
                body = response.json()
            except ValueError:
                body = _NOT_JSON
        if shape is None or isinstance(body, shape):
            return body
        applied = "" if method in _SAFE_METHODS else (
            " The server may have acted: check (e.g. with list_tokens) before repeating it.")
        what = ("a body that is not JSON" if body is _NOT_JSON else "an empty body"
                if body is None else f"JSON that is not an object ({type(body).__name__})")
        raise ServerError(
            f"{method} {path} answered {status} with {what}.{applied}",
            status_code=status,
            error="invalid_response",
            response=response,
        )

    def _backoff(self, attempt: int) -> float:
        return min(self.max_backoff, self.backoff_factor * (2**attempt))


# -- argument checks (all raise ValidationError before any request) --------


def _text(value: Any, what: str) -> str:
    if isinstance(value, Scope):
        value = value.value
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{what} must be a non-empty string, not {value!r}.")
    return value


def _role(value: Any) -> str:
    if value not in _ROLES:
        raise ValidationError(f"role must be one of {', '.join(_ROLES)}, not {value!r}.")
    return value


def _seg(value: Any, what: str) -> str:
    """A checked value as one URL path segment (``/``, ``?``, ``#``, ``@`` escaped).

    A token where an id goes is refused: in a URL path it would reach access
    logs and proxies (revoke_token wants the ``token_id``, not the token).
    ``.`` and ``..`` are refused too: requests and urllib3 unescape ``%2E``
    and resolve dot segments, so they would reach another path.
    """
    text = _text(value, what)
    if looks_like_secret(text):
        raise ValidationError(
            f"{what} looks like a token or client secret, not a {what}; it was not sent. "
            "Use the token_id that create_token returned (or token_info(token)['token_id'])."
        )
    if text.strip() in (".", ".."):
        raise ValidationError(f"{what} cannot be {text.strip()!r}.")
    return quote(text, safe="")


def _check_timeout(value: Any) -> float | tuple[float, float]:
    values = value if isinstance(value, tuple) else (value,)
    ok = len(values) in (1, 2) and all(
        isinstance(v, int | float) and not isinstance(v, bool) and 0 < v < math.inf
        and not math.isnan(v) for v in values)
    if not ok:
        raise ConfigurationError(
            f"timeout must be a finite number of seconds above 0 (or a (connect, read) pair), "
            f"not {value!r}."
        )
    return value if isinstance(value, tuple) else float(value)


def _scopes(scopes: Iterable[str | Scope]) -> list[str]:
    """Catalog scope names, in order, without duplicates; unknown names fail here."""
    if isinstance(scopes, str):  # "a b" (the OAuth form) rather than its characters
        scopes = scopes.split()
    try:
        names = [s.value if isinstance(s, Scope) else s for s in scopes]
    except TypeError:
        raise ValidationError(f"scopes must be a list of scope names, not {scopes!r}.") from None
    unknown = [s for s in names if s not in CATALOG]
    if unknown:
        raise ValidationError(
            f"Unknown scope{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(s) for s in unknown)}; valid scopes: {', '.join(CATALOG)}.",
            error="invalid_scope",
        )
    return list(dict.fromkeys(names))


def _seconds(value: int | dt.timedelta) -> int:
    if isinstance(value, dt.timedelta):
        value = value.total_seconds()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"expires_in must be a positive number of seconds, not {value!r}.")
    return value


def _timestamp(value: dt.datetime | dt.date | str, what: str) -> str:
    """ISO 8601 in UTC for the query string; strings are passed as given."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ValidationError(f"{what} must be a datetime or an ISO 8601 string, not {value!r}.")


# -- network helpers -------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Bearer(AuthBase):
    """Puts the token on each request. Given to requests as ``auth=``, it also
    keeps ``~/.netrc`` from replacing the token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def __repr__(self) -> str:
        return "_Bearer(<token>)"


class _DeadlineExceeded(Exception):
    """The call's deadline passed before a complete answer arrived."""


_NOT_JSON = object()


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, what it wraps (urllib3's ``reason``) and its causes."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [getattr(current, "reason", None), current.__cause__, current.__context__,
                  *getattr(current, "args", ())]
        todo += [e for e in linked if isinstance(e, BaseException)]


def _refused(exc: BaseException) -> bool:
    """True when nothing listens at the address: retrying cannot help."""
    return any(isinstance(e, ConnectionRefusedError) for e in _causes(exc))


def _never_sent(exc: BaseException) -> bool:
    """True when the connection itself failed, so no request reached the server."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    inner = exc.args[0] if exc.args else None
    return isinstance(getattr(inner, "reason", None), NewConnectionError)


def _reason(exc: BaseException) -> str:
    inner = exc.args[0] if exc.args else exc
    reason = getattr(inner, "reason", None) or inner
    return printable(redact(" ".join(str(reason).split()))) or type(exc).__name__
