"""Dashboard sessions, kept server-side so that logging out and timeouts
work on every process: the cookie carries a random session id, the database
its digest, and a session ends after ``SCOPEGATE_SESSION_IDLE_TIMEOUT``
seconds without a request or ``SCOPEGATE_SESSION_ABSOLUTE_TIMEOUT`` seconds
after sign-in, whichever comes first.

A secret to be shown once (a new token, a client secret) waits in the
session row between the POST that made it and the GET that shows it,
encrypted with a key derived from the session id, which only the cookie
holds: the database alone cannot read it, and the first read deletes it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets as _random

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from sqlalchemy import delete, or_, select, update

from app.models import Account, WebSession, db, now
from app.services import audit, callers, secrets

#: ``last_seen_at`` is written at most this often, so most page views are reads.
TOUCH_RESOLUTION = 60
#: A secret not picked up within this many seconds is dropped.
PENDING_LIFETIME = 300


def _limits() -> tuple[int, int]:
    cfg = current_app.config
    return cfg["SCOPEGATE_SESSION_IDLE_TIMEOUT"], cfg["SCOPEGATE_SESSION_ABSOLUTE_TIMEOUT"]


def start(account: Account, ip: str | None) -> str:
    """A new session for a person who just proved who they are; returns its id."""
    idle, absolute = _limits()
    at = now()
    # Sweep sessions that timed out (nobody came back to end them).
    db.session.execute(delete(WebSession).where(or_(
        WebSession.last_seen_at <= at - idle, WebSession.created_at <= at - absolute)))
    sid = _random.token_urlsafe(32)
    db.session.add(WebSession(sid_hash=secrets.digest(sid), account_id=account.id,
                              created_at=at, last_seen_at=at, ip=ip))
    audit.record("login", actor=callers.from_account(account), subject=account.uid,
                 target=account.email)
    db.session.commit()
    return sid


def resume(sid: str | None) -> WebSession | None:
    """The live session with this id, its idle clock reset; None if ended or timed out."""
    if not sid or not isinstance(sid, str):
        return None
    row = db.session.scalar(select(WebSession).where(WebSession.sid_hash == secrets.digest(sid)))
    if row is None:
        return None
    idle, absolute = _limits()
    at = now()
    # A disabled person's sessions were deleted with the disabling; checking
    # here too keeps a session that raced it from outliving it.
    if (at - row.last_seen_at >= idle or at - row.created_at >= absolute
            or row.account.disabled_at is not None):
        db.session.delete(row)
        db.session.commit()
        return None
    if at - row.last_seen_at >= TOUCH_RESOLUTION:
        row.last_seen_at = at
        db.session.commit()
    return row


def end(sid: str | None) -> None:
    """Log out: the session row goes, so the cookie is worthless everywhere."""
    row = resume(sid)
    if row is None:
        return
    account = row.account
    db.session.delete(row)
    audit.record("logout", actor=callers.from_account(account), subject=account.uid,
                 target=account.email)
    db.session.commit()


def _fernet(sid: str) -> Fernet:
    key = hashlib.sha256(b"scopegate-pending-secret:" + sid.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def stash(row: WebSession, sid: str, payload: dict) -> None:
    """Keep a secret for the next page view of this session (one at a time)."""
    body = json.dumps({"at": now(), **payload}).encode()
    row.pending_secret = _fernet(sid).encrypt(body).decode()
    db.session.commit()


def pop(row: WebSession, sid: str) -> dict | None:
    """The stashed secret, exactly once: a conditional UPDATE decides which
    request gets it when a page is loaded twice at the same time."""
    value = row.pending_secret
    if not value:
        return None
    taken = db.session.execute(
        update(WebSession).where(WebSession.id == row.id, WebSession.pending_secret == value)
        .values(pending_secret=None).execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    db.session.expire(row, ["pending_secret"])
    if not taken:
        return None
    try:
        payload = json.loads(_fernet(sid).decrypt(value.encode()))
    except (InvalidToken, ValueError):
        return None
    if now() - payload.get("at", 0) > PENDING_LIFETIME:
        return None
    return payload
