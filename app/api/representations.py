"""JSON shapes of the admin API's resources. Times are ISO 8601 UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from app.models import AuditEvent, MachineUser, Token


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
        # A run of identical refusals is one event: how many, and the last one's time.
        "count": e.count,
        "last_at": iso(e.last_at) if e.last_at else None,
    }
