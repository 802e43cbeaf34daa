"""Scope rules: only the catalog, and never above a machine user's ceiling."""

from __future__ import annotations

from collections.abc import Iterable

from app.errors import InvalidScope, Unprocessable
from sdk.auth.scopes import CATALOG

_CATALOG = frozenset(CATALOG)


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
