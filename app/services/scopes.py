"""Scope rules: only the catalog, and never above a machine user's ceiling;
for apps, the OpenID Connect scopes plus the catalog, never ``admin``."""

from __future__ import annotations

from collections.abc import Iterable

from app.errors import InvalidScope, Unprocessable
from sdk.auth.scopes import CATALOG, DESCRIPTIONS, Scope

_CATALOG = frozenset(CATALOG)

#: The OpenID Connect scopes an app may ask for, each in the words the consent screen uses.
OIDC_SCOPES: dict[str, str] = {
    "openid": "Know who you are (your unique ID at Scopegate).",
    "profile": "See your name and your organization.",
    "email": "See your email address.",
    "offline_access": "Stay signed in for you when you are away (up to 30 days).",
}
#: Standard OpenID Connect scopes Scopegate has no claims for: accepted and
#: not granted (the token response's ``scope`` says so, RFC 6749 §3.3).
UNSUPPORTED_OIDC_SCOPES = frozenset({"address", "phone"})
#: Everything an app may ask for, in the order the consent screen lists it.
APP_SCOPES: tuple[str, ...] = (*OIDC_SCOPES, *CATALOG)


def normalize(scopes: Iterable[str] | str | None) -> list[str]:
    """Scopes as a de-duplicated list in catalog order; unknown names refused."""
    if scopes is None:
        return []
    if isinstance(scopes, str):
        scopes = scopes.split()
    elif not all(isinstance(s, str) for s in scopes):
        raise Unprocessable("`scopes` must be a list of strings.")
    requested = set(scopes)
    unknown = sorted(requested - _CATALOG)
    if unknown:
        raise InvalidScope(
            f"Unknown scope(s): {', '.join(unknown)}. Valid scopes: {', '.join(CATALOG)}."
        )
    return [s for s in CATALOG if s in requested]


def ceiling(scopes: Iterable[str] | str | None) -> list[str]:
    """A machine user's allowed scopes; the whole catalog when none are given."""
    if scopes is None:
        return list(CATALOG)
    result = normalize(scopes)
    if not result:
        raise InvalidScope("A machine user needs at least one scope.")
    return result


def grantable(allowed: Iterable[str], requested: Iterable[str] | str | None) -> list[str]:
    """Scopes of a new scoped token: a non-empty subset of ``allowed``.

    No requested scope means the whole ceiling (RFC 6749 §3.3 lets the server
    pick a documented default); anything above the ceiling is refused, never
    silently dropped.
    """
    allowed = list(allowed)
    result = normalize(requested)
    if not result:
        if requested is not None and not isinstance(requested, str):
            raise InvalidScope("At least one scope is required.")
        return [s for s in CATALOG if s in allowed]
    above = [s for s in result if s not in allowed]
    if above:
        raise InvalidScope(
            f"Scope(s) above this user's allowed scopes: {', '.join(above)}. "
            f"Allowed: {', '.join(allowed)}."
        )
    return result


def app_scopes(requested: str | None) -> list[str]:
    """Scopes an app asks a person for: OIDC scopes and catalog scopes, in
    display order. ``address`` and ``phone`` are accepted and not granted;
    anything else (``admin`` included) is ``invalid_scope``: refused, never
    silently dropped. Order and repetition do not matter."""
    wanted = set((requested or "").split()) - UNSUPPORTED_OIDC_SCOPES
    unknown = sorted(wanted - set(APP_SCOPES))
    if unknown:
        raise InvalidScope(f"Unknown scope(s): {', '.join(unknown)}. "
                           f"Apps may ask for: {', '.join(APP_SCOPES)}.")
    return [s for s in APP_SCOPES if s in wanted]


def in_words(scope: str) -> str:
    """What granting one app scope lets the app do, for the consent screen."""
    if scope in OIDC_SCOPES:
        return OIDC_SCOPES[scope]
    return DESCRIPTIONS[Scope(scope)].replace("Allows a user to", "Act for you to", 1)
