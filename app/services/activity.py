"""The audit log, read back: filter by user(s), actor, action and time."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import or_, select

from app.errors import InvalidRequest, Unprocessable
from app.models import AuditEvent
from app.services import subjects
from app.services.callers import Caller
from app.services.inputs import whole_number
from app.services.pagination import Page, paginate

#: Most ``user=`` (or ``actor=``) values one query takes: each costs three
#: lookups, and the dashboard offers no more.
MAX_USER_FILTERS = 20


def parse_time(value: str | None, name: str) -> int | None:
    """ISO 8601 (``2026-11-27T10:00:00Z``, a date) or epoch seconds; naive means UTC.
    RFC 3339 §5.6 lets ``T`` and ``Z`` be lowercase; Python reads only the capitals."""
    if value is None or value == "":
        return None
    if value.isascii() and value.isdigit():
        return whole_number(value, name)
    try:
        parsed = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise Unprocessable(f"`{name}` must be ISO 8601 or epoch seconds.") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def query(caller: Caller, *, users: list[str] = (), actors: list[str] = (),
          action: str | None = None, since: str | None = None, until: str | None = None,
          cursor: str | None = None, limit=None) -> Page:
    """Events of the caller's organization, newest first.

    ``users`` match events where that user acted or is the subject;
    ``actors`` only where it acted.
    """
    if len(users) > MAX_USER_FILTERS or len(actors) > MAX_USER_FILTERS:
        raise InvalidRequest(f"At most {MAX_USER_FILTERS} `user` and {MAX_USER_FILTERS} "
                             "`actor` values per query.")
    q = select(AuditEvent).where(AuditEvent.org_id == caller.org_id)
    if users:
        uids = set().union(*(subjects.uids(caller, u) or {u} for u in users))
        q = q.where(or_(AuditEvent.actor.in_(uids), AuditEvent.subject.in_(uids)))
    if actors:
        uids = set().union(*(subjects.uids(caller, a) or {a} for a in actors))
        q = q.where(AuditEvent.actor.in_(uids))
    if action:
        q = q.where(AuditEvent.action == action)
    start, end = parse_time(since, "since"), parse_time(until, "until")
    if start is not None:
        q = q.where(AuditEvent.at >= start)
    if end is not None:
        q = q.where(AuditEvent.at <= end)
    return paginate(q, AuditEvent.id, cursor, limit)
