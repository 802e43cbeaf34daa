"""JSON shapes of the admin API's resources. Times are ISO 8601 UTC.

People appear the same way everywhere: a unique ID field (``email``,
``created_by``, ``actor``, ``subject``) beside its readable name (``name``,
``created_by_name``, ``actor_name``, ``subject_name``), and a ``*_shared``
flag when that name has belonged to several users (a deleted user's name
can be reused), so the unique ID tells them apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from app.models import Account, App, AuditEvent, MachineUser, Token
from app.openapi import describe, query_parameter, ref
from app.services import subjects
from app.services.callers import Caller
from sdk.auth.scopes import CATALOG


@dataclass(frozen=True)
class People:
    """What rendering needs to name people: unique ID -> name, and the
    names that several users have had."""

    names: dict[str, str] = field(default_factory=dict)
    shared: frozenset[str] = frozenset()


def people(caller: Caller, ids: Iterable[str | None] = (),
           names: Iterable[str | None] = ()) -> People:
    """Names for the unique IDs ``ids``; which of ``names`` were shared."""
    return People(subjects.names_of(caller, ids),
                  frozenset(subjects.shared_names(caller.org_id, names)))


def iso(epoch: int | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def page(p, render) -> dict:
    """One page of a listing: ``items`` and the cursor of the next page."""
    return {"items": [render(item) for item in p.items], "next_cursor": p.next_cursor}


def user(u: MachineUser, known: People = People()) -> dict:  # noqa: B008 - immutable
    return {
        "name": u.name,
        "name_shared": u.name in known.shared,
        "email": u.client_id,
        "user_type": u.user_type,
        "scopes": u.scopes,
        "created_by": u.created_by,
        "created_by_name": known.names.get(u.created_by),
        "created_at": iso(u.created_at),
        "active": True,
        "has_credentials": u.client_secret_hash is not None,
    }


def person(a: Account) -> dict:
    """A person: ``email`` is their sign-in name, ``uid`` the unique ID the
    audit log and their tokens carry (``sub``)."""
    return {
        "email": a.email,
        "uid": a.uid,
        "user_type": a.user_type,
        "role": a.role,
        "status": a.status,
        "disabled": a.disabled_at is not None,
        "created_by": a.created_by,
        "created_at": iso(a.created_at),
        "joined_at": iso(a.joined_at),
        "disabled_at": iso(a.disabled_at),
    }


def app(a: App) -> dict:
    """An app: never its secret (shown once, at creation and rotation)."""
    return {
        "client_id": a.client_id,
        "name": a.name,
        "redirect_uris": a.redirect_uris,
        "public": a.public,
        "created_by": a.created_by,
        "created_at": iso(a.created_at),
        "secret_rotated_at": iso(a.secret_rotated_at),
    }


def token(t: Token, known: People = People()) -> dict:  # noqa: B008 - immutable
    """Metadata only: never the value or its digest."""
    return {
        "token_id": t.token_id,
        "kind": t.kind,
        "name": t.name,
        "user_id": t.subject_name,
        "user_name_shared": t.subject_name in known.shared,
        "email": t.subject_name if t.is_human else t.subject_uid,
        "client_id": t.client_id,
        "scopes": t.scopes,
        "created_by": t.created_by,
        "created_by_name": known.names.get(t.created_by),
        "created_at": iso(t.issued_at),
        "expires_at": iso(t.expires_at),
        "revoked_at": iso(t.revoked_at),
        "last_used_at": iso(t.last_used_at),
        "active": t.is_active(),
    }


def event(e: AuditEvent, known: People = People()) -> dict:  # noqa: B008 - immutable
    return {
        "id": e.id,
        "at": iso(e.at),
        "actor": e.actor,
        "actor_name": e.actor_name,
        "actor_name_shared": e.actor_name in known.shared,
        "subject": e.subject,
        "subject_name": e.subject_name,
        "subject_name_shared": e.subject_name in known.shared,
        "action": e.action,
        "target": e.target,
        "outcome": e.outcome,
        "ip": e.ip,
        "request_id": e.request_id,
        "detail": e.detail,
        # A run of identical refusals is one event: how many, and the last one's time.
        "count": e.count,
        "last_at": iso(e.last_at) if e.last_at else None,
    }


#: ``cursor`` and ``limit`` of every listing.
PAGE_PARAMETERS = [
    query_parameter("cursor", description="next_cursor of the previous page"),
    query_parameter("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
]

_TEXT, _MAYBE = {"type": "string"}, {"type": ["string", "null"]}


def _page_of(schema: str) -> dict:
    return {"type": "object", "required": ["items", "next_cursor"], "properties": {
        "items": {"type": "array", "items": ref(schema)}, "next_cursor": _MAYBE}}


_SHARED = {"type": "boolean", "description": "the name has belonged to several users"}
_NAMED = {"type": ["string", "null"], "description": "readable name of the unique ID beside it"}
TOKEN_KINDS = ["personal", "scoped", "app", "refresh"]

describe({}, schemas={
    "Scope": {"type": "string", "enum": list(CATALOG)},
    "User": {"type": "object", "required": ["name", "email", "user_type", "scopes"],
             "properties": {
                 "name": _TEXT, "name_shared": _SHARED, "email": _TEXT, "user_type": _TEXT,
                 "scopes": {"type": "array", "items": ref("Scope")},
                 "created_by": _MAYBE, "created_by_name": _NAMED, "created_at": _MAYBE,
                 "active": {"type": "boolean"}, "has_credentials": {"type": "boolean"}}},
    "Token": {"type": "object", "required": ["token_id", "kind", "scopes", "active"],
              "properties": {
                  **{k: _MAYBE for k in ("name", "user_id", "email", "client_id", "created_by",
                                         "created_at", "expires_at", "revoked_at",
                                         "last_used_at")},
                  "token_id": _TEXT, "kind": {"type": "string", "enum": TOKEN_KINDS},
                  "user_name_shared": _SHARED, "created_by_name": _NAMED,
                  "scopes": {"type": "array", "items": _TEXT},
                  "active": {"type": "boolean"}}},
    "Person": {"type": "object",
               "required": ["email", "uid", "user_type", "role", "status", "disabled"],
               "properties": {
                   "email": _TEXT, "uid": _TEXT, "user_type": _TEXT,
                   "role": {"type": "string", "enum": ["admin", "member"]},
                   "status": {"type": "string", "enum": ["active", "invited", "disabled"]},
                   "disabled": {"type": "boolean"},
                   **{k: _MAYBE for k in ("created_by", "created_at", "joined_at",
                                          "disabled_at")}}},
    "App": {"type": "object", "required": ["client_id", "name", "redirect_uris", "public"],
            "properties": {
                "client_id": _TEXT, "name": _TEXT,
                "redirect_uris": {"type": "array", "items": _TEXT},
                "public": {"type": "boolean"},
                **{k: _MAYBE for k in ("created_by", "created_at", "secret_rotated_at")}}},
    "Event": {"type": "object", "required": ["id", "at", "action", "outcome"], "properties": {
        "id": {"type": "integer"}, "at": _TEXT, "action": _TEXT,
        "outcome": {"type": "string", "enum": ["success", "denied", "error"]},
        "count": {"type": "integer", "minimum": 1,
                  "description": "identical refusals from one source within a minute"},
        "actor_name_shared": _SHARED, "subject_name_shared": _SHARED,
        **{k: _MAYBE for k in ("actor", "actor_name", "subject", "subject_name", "target",
                               "ip", "request_id", "detail", "last_at")}}},
    "UserPage": _page_of("User"),
    "TokenPage": _page_of("Token"),
    "PersonPage": _page_of("Person"),
    "AppPage": _page_of("App"),
    "EventPage": _page_of("Event"),
})
