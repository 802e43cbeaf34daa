"""Audit recording: every action, once, with who, what, outcome and where from.

Successful actions are added to the caller's transaction, so the event and
the change commit together (or neither does). Denied attempts commit on
their own: the request that caused them changes nothing else.

Refused attempts repeated from one source -- same organization, action,
outcome, actor, subject, target, address and reason -- within
``SCOPEGATE_AUDIT_AGGREGATE_WINDOW`` seconds are one row with a ``count``
(the first one's time and request id, the last one's ``last_at``): a flood
of bad secrets for a known ``client_id`` is a row a minute, not thousands,
and never pushes real events out of the activity chart, which adds counts
up. Old events go with ``purge-audit`` (``SCOPEGATE_AUDIT_RETENTION_DAYS``).
"""

from __future__ import annotations

import hashlib
import logging

from flask import current_app, g, has_app_context, has_request_context, request
from sqlalchemy import delete, func, insert, select, update

from app import metrics
from app.models import AuditEvent, db, now
from app.models.prepared import Prepared
from app.services.callers import Caller
from sdk.auth.redaction import redact

log = logging.getLogger("scopegate.audit")

SUCCESS, DENIED, ERROR = "success", "denied", "error"

#: Every action the audit log records (the README lists them with meanings).
ACTIONS = {
    "org.create": "an operator created an organization",
    "account.create": "an operator created an admin account",
    "user.create": "a machine user was created",
    "user.delete": "a machine user was deleted (its tokens revoked with it)",
    "credentials.create": "client credentials were issued to a machine user",
    "token.create": "a token was created through the admin API, dashboard or CLI",
    "token.issue": "a machine user obtained a token with client_credentials",
    "token.revoke": "a token was revoked (by id or RFC 7009)",
    "token.renew": "a token's expiry was extended",
    "client.auth": "client authentication failed at an OAuth endpoint",
    "api.call": "an admin-API call was refused (bad token or insufficient scope)",
    "resource_server.create": "an operator registered a resource server",
    "revocations.read": "a client that is not a resource server asked for the revocation feed",
    "key.rotate": "the signing key was rotated",
    "token.purge": "expired and revoked tokens were purged",
    "person.invite": "an admin or the operator invited a person (a one-time link was issued)",
    "person.join": "an invited person chose their password and joined",
    "person.update": "a person's role changed (their personal tokens are revoked)",
    "person.disable": "a person was disabled: sessions ended, tokens revoked",
    "person.enable": "a disabled person was enabled again",
    "person.delete": "a person was deleted: sessions ended, tokens revoked",
    "person.reset_link": "a new one-time link was issued for a forgotten password",
    "person.password": "a person chose a new password with a reset link",
    "login": "a person signed in to the dashboard (or failed to)",
    "logout": "a person signed out",
    "app.create": "an app people sign in to was registered",
    "app.delete": "an app was deleted (every token issued to it revoked)",
    "app.rotate_secret": "an app's client secret was replaced",
    "oidc.authorize": "a person was sent back to an app with a code (or refused: "
                      "another organization's app)",
    "consent.grant": "a person agreed to share scopes with an app (or declined)",
    "consent.revoke": "a person disconnected an app (its tokens for them revoked)",
    "code.redeem": "an app exchanged a code for a person's tokens",
    "code.reuse": "a spent code came back: the tokens of its sign-in were revoked",
    "token.refresh": "an app rotated a person's refresh token",
    "refresh.reuse": "a spent refresh token came back: its whole family was revoked",
    "oidc.logout": "a person signed out at an app's request (RP-initiated logout)",
    "audit.purge": "audit events older than the retention were purged",
}


def _origin() -> tuple[str | None, str | None]:
    """Address and request id of the request being served, if any. A request
    answered without Flask's request object (``app.oauth.fastpath``) puts both in ``g``."""
    if not has_app_context():
        return None, None
    if "client_ip" in g:
        return g.client_ip, g.get("request_id")
    if not has_request_context():
        return None, None
    return request.remote_addr, getattr(g, "request_id", None)


_TABLE = AuditEvent.__table__
_INSERT = Prepared(insert(_TABLE), keys=tuple(c.name for c in _TABLE.c if c.name != "id"))


def _source(event: dict) -> str:
    """A digest of everything that makes two refusals "the same" (never the time
    or the request id)."""
    parts = [event[k] for k in ("org_id", "action", "outcome", "actor", "subject", "target",
                                "ip", "detail")]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def _add_to_open_aggregate(event: dict) -> bool:
    """Count a refusal in the row its source opened within the window, if any."""
    since = event["at"] - current_app.config["SCOPEGATE_AUDIT_AGGREGATE_WINDOW"]
    latest = (select(func.max(_TABLE.c.id))
              .where(_TABLE.c.source == event["source"], _TABLE.c.at >= since)
              .scalar_subquery())
    result = db.session.execute(
        update(_TABLE).where(_TABLE.c.id == latest)
        .values(count=_TABLE.c.count + 1, last_at=event["at"]))
    return result.rowcount > 0


def record(action: str, outcome: str = SUCCESS, *, actor: Caller | None = None,
           org_id: int | None = None, subject: str | None = None,
           subject_name: str | None = None,
           target: str | None = None, detail: str | None = None,
           commit: bool = False) -> None:
    """Add one event. ``commit=True`` for denied attempts outside a transaction.

    A Core INSERT in the session's transaction (events are never updated, so
    the ORM unit of work would only cost time on the hot paths).
    """
    assert action in ACTIONS, action
    ip, request_id = _origin()
    event = dict(
        at=now(), org_id=org_id if org_id is not None else (actor.org_id if actor else None),
        actor=actor.uid if actor else None, actor_name=actor.name if actor else None,
        subject=subject, subject_name=subject_name, action=action,
        # A target or detail quoting the request (a path) never keeps a token.
        target=redact(target) if target else None,
        outcome=outcome, ip=ip, request_id=request_id,
        detail=redact(detail)[:500] if detail else None, count=1, last_at=None, source=None,
    )
    if outcome != SUCCESS:
        event["source"] = _source(event)
    if outcome == SUCCESS or not _add_to_open_aggregate(event):
        _INSERT.execute(event)
    metrics.audited(action, outcome)
    if commit:
        db.session.commit()
    if outcome != SUCCESS:
        log.info("%s %s actor=%s target=%s request_id=%s", action, outcome,
                 event["actor"], event["target"], request_id)


def purge(before: int) -> int:
    """Delete events older than ``before`` (epoch seconds), in batches so a
    big backlog never holds one huge transaction; how many went."""
    total = 0
    while True:
        batch = select(_TABLE.c.id).where(_TABLE.c.at < before).limit(5000).scalar_subquery()
        deleted = db.session.execute(delete(_TABLE).where(_TABLE.c.id.in_(batch))).rowcount
        db.session.commit()
        total += deleted
        if deleted == 0:
            return total
