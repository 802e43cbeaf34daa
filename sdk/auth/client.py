"""The SDK client: one :class:`AuthClient` per admin token, one method per call.

Each method sends one admin-API or OAuth request (list methods: one per page)
and returns the server's JSON (a ``dict``; a ``list`` for ``list_*``).
Failures raise the typed exceptions of :mod:`sdk.auth.exceptions`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from urllib3.exceptions import NewConnectionError

from sdk import __version__
from sdk.auth.exceptions import (
    ConfigurationError,
    NetworkError,
    ScopegateError,
    ServerError,
    ValidationError,
    error_from_response,
    parse_retry_after,
)
from sdk.auth.scopes import CATALOG, Scope

__all__ = ["DEFAULT_URL", "TOKEN_ENV", "URL_ENV", "AuthClient", "connect_to_auth_client"]

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
        token = (token or "").strip()
        if not token or any(c.isspace() for c in token):
            raise ConfigurationError("The Scopegate token is empty or contains whitespace.")
        parts = urlsplit((url or "").strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(
                f"Scopegate URL must look like https://host[:port], not {url!r}."
            )
        #: Base URL of the server, without a trailing slash.
        self.url = (url or "").strip().rstrip("/")
        #: Seconds to wait for each request (or a ``(connect, read)`` pair).
        self.timeout = timeout
        #: How many times a read, or a connection that failed, is tried again.
        self.retries = max(0, int(retries))
        #: Wait before retry n (0-based) is ``backoff_factor * 2**n`` seconds...
        self.backoff_factor = backoff_factor
        #: ... capped at this many seconds (a longer ``Retry-After`` is not waited for).
        self.max_backoff = max_backoff
        #: The one session every request goes through.
        self.session = session or requests.Session()
        #: TLS verification: ``True``, ``False`` or a CA bundle path. Passed on
        #: every request because requests lets ``REQUESTS_CA_BUNDLE`` override
        #: a session-level setting.
        self.verify = verify
        self.session.headers.update(
            {
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
                "Authorization": f"Bearer {token}",
            }
        )
        # The caller's identity (GET /api/v1/me), looked up once for log lines.
        self._me: dict | None = None
        # Replaced by tests so that retries take no time.
        self._sleep: Callable[[float], None] = time.sleep
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            logger.warning(
                "Scopegate URL %s is plain HTTP: the token travels unencrypted; "
                "use https outside local development.",
                self.url,
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.url!r})"

    def __enter__(self) -> AuthClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP session."""
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
        self._request("DELETE", f"/api/v1/users/{_seg(name, 'name')}")
        logger.info("Machine user %s deleted; its tokens are revoked.", name)

    def create_client_credentials(self, name: str) -> dict:
        """Give a machine user a new client secret (replacing the previous one).

        Returns ``client_id`` and ``client_secret``, shown this once, for
        standard ``client_credentials`` requests to ``/oauth/token``.
        """
        creds = self._request("POST", f"/api/v1/users/{_seg(name, 'name')}/credentials")
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
        person = self._request("POST", "/api/v1/people", json=body)
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
        self._request("DELETE", f"/api/v1/people/{_seg(email, 'email')}")
        logger.info("Person %s deleted; their sessions and tokens ended.", email)

    def reset_password_link(self, email: str) -> dict:
        """Issue a new one-time link for a person who forgot their password
        (a new invitation if they never joined); their previous link dies.

        Returns ``email``, ``purpose`` (``"reset"`` or ``"invite"``),
        ``reset_url`` (shown this once, never logged) and ``expires_at``.
        """
        link = self._request("POST", f"/api/v1/people/{_seg(email, 'email')}/reset-link")
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
        token = self._request("POST", f"/api/v1/people/{_seg(email, 'email')}/tokens",
                              json=body)
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
        app = self._request("POST", "/api/v1/apps", json=body)
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
        self._request("DELETE", f"/api/v1/apps/{_seg(client_id, 'client_id')}")
        logger.info("App %s deleted; its tokens are revoked.", client_id)

    def rotate_app_secret(self, client_id: str) -> dict:
        """Give a confidential app a new ``client_secret`` (shown this once);
        the previous one stops working at once."""
        app = self._request("POST", f"/api/v1/apps/{_seg(client_id, 'client_id')}/secret")
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
        token = self._request("POST", f"/api/v1/users/{_seg(user_id, 'user_id')}/tokens", json=body)
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
        self._request("DELETE", f"/api/v1/tokens/{_seg(token_id, 'token_id')}")
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
        return self._request("GET", "/api/v1/scopes")

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
            page = self._request("GET", path, params=query)
            if isinstance(page, list):  # an unpaginated answer
                yield from page
                return
            items = page.get("items") or []
            yield from items
            if remaining is not None:
                remaining -= len(items)
                if remaining <= 0:
                    return
            cursor = page.get("next_cursor")
            if not cursor or not items:
                return
            if cursor in seen:
                raise ServerError(f"The server repeated page cursor {cursor!r} for {path}.")
            seen.add(cursor)
            query["cursor"] = cursor

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send one request (retrying what is safe) and return its JSON, or None for 204."""
        url = self.url + path
        attempt = 0
        while True:
            try:
                # Redirects are not followed: requests would turn a POST into a GET
                # and might carry the token to another address.
                response = self.session.request(
                    method, url, timeout=self.timeout, verify=self.verify,
                    allow_redirects=False, **kwargs,
                )
            except requests.exceptions.SSLError as exc:
                raise NetworkError(
                    f"TLS verification failed for {self.url}: {_reason(exc)}"
                ) from exc
            except (requests.ConnectionError, requests.Timeout) as exc:
                retryable = method in _SAFE_METHODS or _never_sent(exc)
                if retryable and attempt < self.retries:
                    delay = self._backoff(attempt)
                    attempt += 1
                    logger.info(
                        "%s %s failed (%s); retry %d of %d in %.1f s.",
                        method, path, type(exc).__name__, attempt, self.retries, delay,
                    )
                    self._sleep(delay)
                    continue
                raise _network_error(exc, method, path, self.url, self.timeout) from exc
            except requests.RequestException as exc:
                raise NetworkError(f"{method} {path} failed: {_reason(exc)}") from exc

            status = response.status_code
            if method in _SAFE_METHODS and status in _RETRY_STATUSES and attempt < self.retries:
                delay = self._backoff(attempt)
                wait = parse_retry_after(response)
                if wait is None or wait <= self.max_backoff:
                    delay = max(delay, wait or 0.0)
                    attempt += 1
                    logger.info(
                        "%s %s answered %d; retry %d of %d in %.1f s.",
                        method, path, status, attempt, self.retries, delay,
                    )
                    response.close()
                    self._sleep(delay)
                    continue
            break

        logger.debug("%s %s -> %d", method, path, status)
        if 300 <= status < 400:
            where = response.headers.get("Location", "elsewhere")
            raise ConfigurationError(
                f"The server redirected {method} {path} to {where}; "
                f"set {URL_ENV} (or url=) to the address it should be reached at.",
                status_code=status,
                error="redirect",
                response=response,
            )
        if status >= 400:
            raise error_from_response(response)
        if status == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ServerError(
                f"{method} {path} answered {status} with a body that is not JSON.",
                status_code=status,
                error="invalid_response",
                response=response,
            ) from exc

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
    """A checked value as one URL path segment (``/`` and ``@`` escaped)."""
    return quote(_text(value, what), safe="")


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


def _never_sent(exc: Exception) -> bool:
    """True when the connection itself failed, so no request reached the server."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    inner = exc.args[0] if exc.args else None
    return isinstance(getattr(inner, "reason", None), NewConnectionError)


def _reason(exc: Exception) -> str:
    inner = exc.args[0] if exc.args else exc
    reason = getattr(inner, "reason", None) or inner
    return " ".join(str(reason).split()) or type(exc).__name__


def _network_error(
    exc: Exception, method: str, path: str, url: str, timeout: Any
) -> ScopegateError:
    if isinstance(exc, requests.Timeout):
        maybe = "" if method in _SAFE_METHODS or _never_sent(exc) else (
            " The request may have been applied; check before repeating it."
        )
        return NetworkError(f"{method} {path} timed out after {timeout} s.{maybe}")
    if method in _SAFE_METHODS or _never_sent(exc):
        return NetworkError(f"Could not connect to Scopegate at {url}: {_reason(exc)}")
    return NetworkError(
        f"The connection failed during {method} {path} ({_reason(exc)}). "
        "The request may have been applied; check before repeating it."
    )
