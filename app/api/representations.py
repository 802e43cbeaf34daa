"""JSON shapes of the admin API's resources. Times are ISO 8601 UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from app.models import AuditEvent, MachineUser, Token
from app.openapi import describe, query_parameter, ref
from sdk.auth.scopes import CATALOG


def iso(epoch: int | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def page(p, render) -> dict:
    """One page of a listing: ``items`` and the cursor of the next page."""
    return {"items": [render(item) for item in p.items], "next_cursor": p.next_cursor}


def user(u: MachineUser) -> dict:
    return {
        "name": u.name,
        "email": u.client_id,
        "user_type": u.user_type,
        "scopes": u.scopes,
        "created_by": u.created_by,
        "created_at": iso(u.created_at),
        "active": True,
        "has_credentials": u.client_secret_hash is not None,
    }


def token(t: Token) -> dict:
    """Metadata only: never the value or its digest."""
    return {
        "token_id": t.token_id,
        "kind": t.kind,
        "name": t.name,
        "user_id": t.subject_name,
        "email": t.subject_name if t.kind == "personal" else t.subject_uid,
        "scopes": t.scopes,
        "created_by": t.created_by,
        "created_at": iso(t.issued_at),
        "expires_at": iso(t.expires_at),
        "revoked_at": iso(t.revoked_at),
        "last_used_at": iso(t.last_used_at),
        "active": t.is_active(),
    }


def event(e: AuditEvent) -> dict:
    return {
        "id": e.id,
        "at": iso(e.at),
        "actor": e.actor,
        "actor_name": e.actor_name,
        "subject": e.subject,
        "subject_name": e.subject_name,
        "action": e.action,
        "target": e.target,
        "outcome": e.outcome,
        "ip": e.ip,
        "request_id": e.request_id,
        "detail": e.detail,
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


describe({}, schemas={
    "Scope": {"type": "string", "enum": list(CATALOG)},
    "User": {"type": "object", "required": ["name", "email", "user_type", "scopes"],
             "properties": {
                 "name": _TEXT, "email": _TEXT, "user_type": _TEXT,
                 "scopes": {"type": "array", "items": ref("Scope")},
                 "created_by": _MAYBE, "created_at": _MAYBE,
                 "active": {"type": "boolean"}, "has_credentials": {"type": "boolean"}}},
    "Token": {"type": "object", "required": ["token_id", "kind", "scopes", "active"],
              "properties": {
                  **{k: _MAYBE for k in ("name", "user_id", "email", "created_by",
                                         "created_at", "expires_at", "revoked_at",
                                         "last_used_at")},
                  "token_id": _TEXT, "kind": {"type": "string", "enum": ["personal", "scoped"]},
                  "scopes": {"type": "array", "items": _TEXT},
                  "active": {"type": "boolean"}}},
    "Event": {"type": "object", "required": ["id", "at", "action", "outcome"], "properties": {
        "id": {"type": "integer"}, "at": _TEXT, "action": _TEXT,
        "outcome": {"type": "string", "enum": ["success", "denied", "error"]},
        **{k: _MAYBE for k in ("actor", "actor_name", "subject", "subject_name", "target",
                               "ip", "request_id", "detail")}}},
    "UserPage": _page_of("User"),
    "TokenPage": _page_of("Token"),
    "EventPage": _page_of("Event"),
})
