"""Lifetime rules: defaults, the maximum, and renewal never past issue + max."""

from __future__ import annotations

from flask import current_app

from app.errors import InvalidRequest, Unprocessable

SCOPED, PERSONAL = "scoped", "personal"
#: A person's access token held by an app, and its refresh token (OpenID Connect sign-in).
APP, REFRESH = "app", "refresh"
#: An authorization code lives at most this long (seconds): it only crosses a browser redirect.
CODE_LIFETIME = 60


def _limits(kind: str) -> tuple[int, int]:
    cfg = current_app.config
    if kind == SCOPED:
        return (cfg["SCOPEGATE_SCOPED_TOKEN_DEFAULT_LIFETIME"],
                cfg["SCOPEGATE_SCOPED_TOKEN_MAX_LIFETIME"])
    return (cfg["SCOPEGATE_PERSONAL_TOKEN_DEFAULT_LIFETIME"],
            cfg["SCOPEGATE_PERSONAL_TOKEN_MAX_LIFETIME"])


def max_lifetime(kind: str) -> int:
    return _limits(kind)[1]


def _check_type(expires_in) -> None:
    if isinstance(expires_in, bool) or not isinstance(expires_in, int):
        raise Unprocessable("`expires_in` must be an integer number of seconds.")
    if expires_in <= 0:
        raise InvalidRequest("`expires_in` must be a positive number of seconds.")


def lifetime(kind: str, expires_in: int | None) -> int:
    """Seconds a new token lives: the default, or the request if within the maximum."""
    default, maximum = _limits(kind)
    if expires_in is None:
        return min(default, maximum)
    _check_type(expires_in)
    if expires_in > maximum:
        raise InvalidRequest(
            f"`expires_in` {expires_in} is above the maximum lifetime of {maximum} seconds "
            f"({maximum // 86400} days)."
        )
    return expires_in


def renewed_expiry(kind: str, issued_at: int, at: int, expires_in: int | None) -> tuple[int, bool]:
    """New expiry of a renewed token and whether it was clamped to issue time + max."""
    default, maximum = _limits(kind)
    if expires_in is not None:
        _check_type(expires_in)
    wanted = at + (default if expires_in is None else expires_in)
    cap = issued_at + maximum
    return (min(wanted, cap), wanted > cap)


def renewable(kind: str, issued_at: int, expires_at: int) -> bool:
    """A token can still be extended while its expiry is before issue time + max.
    An app's tokens are never renewed: the app refreshes them itself."""
    if kind not in (SCOPED, PERSONAL):
        return False
    return expires_at < issued_at + max_lifetime(kind)


def app_access_lifetime() -> int:
    """Seconds a person's access token held by an app lives."""
    return current_app.config["SCOPEGATE_APP_ACCESS_TOKEN_LIFETIME"]


def refresh_family_end(started_at: int) -> int:
    """When a refresh-token family dies, however often it was rotated
    (absolute lifetime counted from the sign-in's first token)."""
    return started_at + current_app.config["SCOPEGATE_REFRESH_TOKEN_LIFETIME"]
