"""Tokens: issue, find, revoke, renew, list. The lifetime cap, the scope
ceiling and reach are asked of their own modules; this one stores rows."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, NotFound, Unprocessable
from app.models import (
    Account,
    MachineUser,
    MachineUserClient,
    Organization,
    Token,
    TokenSnapshot,
    db,
    now,
)
from app.models.prepared import Prepared
from app.services import audit, lifetimes, reach, scopes, secrets
from app.services.callers import Caller
from app.services.pagination import Page, paginate
from sdk.auth.scopes import ADMIN_SCOPE

PERSONAL, SCOPED = lifetimes.PERSONAL, lifetimes.SCOPED


#: Hot-path statements, built once: SQLAlchemy then skips rebuilding and
#: re-hashing them on every request (measured in bench/RESULTS.md).
_TOKEN, _ORG = Token.__table__, Organization.__table__
_INSERT = Prepared(insert(_TOKEN), keys=tuple(c.name for c in _TOKEN.c if c.name != "id"))
_BY_HASH = Prepared(select(_TOKEN, _ORG.c.name.label("org_name"))
                    .join(_ORG, _ORG.c.id == _TOKEN.c.org_id)
                    .where(_TOKEN.c.token_hash == bindparam("token_hash")))


def _new(*, kind: str, org_id: int, subject_uid: str, subject_name: str,
         scope: list[str], lifetime: int, created_by: str, account_id: int | None = None,
         machine_user_id: int | None = None, client_id: str | None = None,
         name: str | None = None) -> tuple[str, Token]:
    """Insert a token row in the current transaction; return its value (shown
    once, never stored) and a detached copy of the row for the response.

    A Core INSERT, not the ORM unit of work: issuance is a hot path and the
    row is never modified in the same request.
    """
    value = secrets.generate(secrets.PERSONAL if kind == PERSONAL else secrets.SCOPED)
    issued = now()
    row = dict(
        token_id=secrets.new_token_id(), token_hash=secrets.digest(value), kind=kind,
        org_id=org_id, account_id=account_id, machine_user_id=machine_user_id,
        subject_uid=subject_uid, subject_name=subject_name, client_id=client_id,
        created_by=created_by, name=name, scope=" ".join(scope), issued_at=issued,
        expires_at=issued + lifetime, revoked_at=None, last_used_at=None,
    )
    try:
        _INSERT.execute(row)
    except IntegrityError:
        # Its user was deleted meanwhile (the deletion holds the user's row
        # lock, so the foreign key check fails here rather than the token
        # landing, active, after the user's tokens were revoked).
        db.session.rollback()
        raise NotFound(f"No user named {subject_name!r} in this organization.") from None
    return value, Token(**row)


def create_personal(account: Account, actor: Caller, *, name: str | None = None,
                    expires_in: int | None = None) -> tuple[str, Token]:
    """An admin's unscoped token (reserved scope ``admin``)."""
    if name is not None and (not isinstance(name, str) or len(name) > 100):
        raise Unprocessable("`name` must be a string of at most 100 characters.")
    value, token = _new(
        kind=PERSONAL, org_id=account.org_id, subject_uid=account.uid,
        subject_name=account.email, scope=[ADMIN_SCOPE],
        lifetime=lifetimes.lifetime(PERSONAL, expires_in), created_by=actor.uid,
        account_id=account.id, name=name,
    )
    audit.record("token.create", actor=actor, org_id=account.org_id, subject=account.uid,
                 subject_name=account.email,
                 target=token.token_id, detail="personal")
    db.session.commit()
    return value, token


def create_scoped(user: MachineUser, actor: Caller, requested, expires_in=None
                  ) -> tuple[str, Token]:
    """A scoped token for a machine user, created by an admin."""
    granted = scopes.grantable(user.scopes, requested)
    value, token = _new(
        kind=SCOPED, org_id=user.org_id, subject_uid=user.client_id, subject_name=user.name,
        scope=granted, lifetime=lifetimes.lifetime(SCOPED, expires_in),
        created_by=actor.uid, machine_user_id=user.id, client_id=user.client_id,
    )
    audit.record("token.create", actor=actor, subject=user.client_id, subject_name=user.name,
                 target=token.token_id,
                 detail=" ".join(granted))
    db.session.commit()
    return value, token


def issue_client_credentials(user: MachineUserClient, requested: str | None) -> tuple[str, Token]:
    """A scoped token a machine user obtains itself (``client_credentials``).

    The row and its audit event are added to the session; the OAuth layer
    commits when it saves the token.
    """
    granted = scopes.grantable(user.scopes, requested or None)
    value, token = _new(
        kind=SCOPED, org_id=user.org_id, subject_uid=user.client_id, subject_name=user.name,
        scope=granted, lifetime=lifetimes.lifetime(SCOPED, None), created_by=user.client_id,
        machine_user_id=user.id, client_id=user.client_id,
    )
    actor = Caller("machine", user.client_id, user.name, user.org_id)
    audit.record("token.issue", actor=actor, subject=user.client_id, subject_name=user.name,
                 target=token.token_id)
    return value, token


def find(value: str | None) -> TokenSnapshot | None:
    """The token with this value, active or not; None for anything malformed.

    A snapshot, not an ORM object: every introspection and bearer call starts
    here, and the only writes that follow (use, revocation) are statements."""
    if not value or not secrets.is_well_formed(value) or value.startswith(secrets.CLIENT_SECRET):
        return None
    row = _BY_HASH.first({"token_hash": secrets.digest(value)})
    return None if row is None else TokenSnapshot(row)


def authenticate(value: str | None) -> TokenSnapshot | None:
    """The token with this value if it is active."""
    token = find(value)
    return token if token is not None and token.is_active() else None


def mark_used(token: Token | TokenSnapshot) -> None:
    """Record use, at most once per ``SCOPEGATE_LAST_USED_RESOLUTION`` seconds.

    A conditional UPDATE: concurrent requests on many hosts write once, and
    the common case (used recently) is a read only.
    """
    at = now()
    resolution = current_app.config["SCOPEGATE_LAST_USED_RESOLUTION"]
    if token.last_used_at is not None and token.last_used_at > at - resolution:
        return
    db.session.execute(
        update(Token)
        .where(Token.id == token.id)
        .where(or_(Token.last_used_at.is_(None), Token.last_used_at <= at - resolution))
        .values(last_used_at=at)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def get(caller: Caller, token_id: str) -> Token:
    """A token of the caller's organization by id, else NotFound."""
    token = db.session.execute(
        select(Token).where(Token.token_id == token_id)
    ).scalar_one_or_none()
    if token is None or not reach.in_org(caller, token.org_id):
        raise NotFound(f"No token with id {token_id!r}.")
    return token


def _revoke(token: Token | TokenSnapshot, actor: Caller) -> None:
    # A conditional UPDATE: the first revocation's time stands, whoever races.
    # "evaluate" keeps a loaded Token row in step; a snapshot is not in the session.
    db.session.execute(
        update(Token).where(Token.id == token.id, Token.revoked_at.is_(None))
        .values(revoked_at=now()).execution_options(synchronize_session="evaluate"))
    audit.record("token.revoke", actor=actor, org_id=token.org_id, subject=token.subject_uid,
                 subject_name=token.subject_name, target=token.token_id)


def revoke_by_id(caller: Caller, token_id: str) -> Token:
    """Admin API revocation. Idempotent; out of reach looks like unknown (404)."""
    token = db.session.execute(
        select(Token).where(Token.token_id == token_id).with_for_update(of=Token)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if token is None or not reach.may_revoke_by_id(caller, token):
        if token is not None and reach.in_org(caller, token.org_id):
            audit.record("token.revoke", audit.DENIED, actor=caller, target=token_id,
                         subject=token.subject_uid, subject_name=token.subject_name,
                         commit=True)
        raise NotFound(f"No token with id {token_id!r}.")
    _revoke(token, caller)
    db.session.commit()
    return token


def revoke_by_value(caller: Caller, token: TokenSnapshot) -> None:
    """RFC 7009 revocation of a token the caller may reach."""
    _revoke(token, caller)
    db.session.commit()


def renew(caller: Caller, token_id: str, expires_in: int | None) -> tuple[Token, bool]:
    """Extend an active token, never past issue time + max lifetime."""
    token = db.session.execute(
        select(Token).where(Token.token_id == token_id).with_for_update(of=Token)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if token is None or not reach.in_org(caller, token.org_id):
        raise NotFound(f"No token with id {token_id!r}.")
    if not token.is_active():
        raise Conflict("Only an active token can be renewed; this one is revoked or expired.")
    expiry, clamped = lifetimes.renewed_expiry(token.kind, token.issued_at, now(), expires_in)
    # A conditional UPDATE, not read-modify-write: never shortens the expiry,
    # even on SQLite, whose driver runs the SELECT above outside the write
    # transaction (FOR UPDATE is a no-op there).
    db.session.execute(
        update(Token).where(Token.id == token.id, Token.expires_at < expiry)
        .values(expires_at=expiry).execution_options(synchronize_session=False))
    audit.record("token.renew", actor=caller, org_id=token.org_id, subject=token.subject_uid,
                 subject_name=token.subject_name, target=token.token_id,
                 detail="clamped" if clamped else None)
    db.session.commit()
    return token, clamped


def revoke_all_of(user: MachineUser) -> int:
    """Revoke every live token of a machine user (inside the caller's transaction)."""
    result = db.session.execute(
        update(Token)
        .where(Token.machine_user_id == user.id, Token.revoked_at.is_(None))
        .values(revoked_at=now())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def revoke_self_issued(user: MachineUser) -> int:
    """Revoke the live tokens a machine user obtained itself with its client
    secret (inside the caller's transaction): what a rotated secret bought."""
    result = db.session.execute(
        update(Token)
        .where(Token.machine_user_id == user.id, Token.created_by == user.client_id,
               Token.revoked_at.is_(None))
        .values(revoked_at=now())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def live_count(user: MachineUser) -> int:
    """How many tokens would die with this user (the dashboard says so)."""
    return db.session.scalar(
        select(db.func.count(Token.id)).where(
            Token.machine_user_id == user.id, Token.revoked_at.is_(None),
            Token.expires_at > now())
    ) or 0


def listing(caller: Caller, *, user: MachineUser | Account | None = None,
            active: bool | None = None, kind: str | None = None,
            cursor: str | None = None, limit: int | None = None) -> Page:
    """Token metadata of the caller's organization, newest first."""
    query = select(Token).where(Token.org_id == caller.org_id)
    if user is not None:
        query = query.where(Token.subject_uid == user.uid)
    if kind is not None:
        if kind not in (PERSONAL, SCOPED):
            raise Unprocessable("`kind` must be `personal` or `scoped`.")
        query = query.where(Token.kind == kind)
    if active is True:
        query = query.where(Token.revoked_at.is_(None), Token.expires_at > now())
    elif active is False:
        query = query.where(or_(Token.revoked_at.is_not(None), Token.expires_at <= now()))
    return paginate(query, Token.id, cursor, limit)


def purge(retention: int, batch: int = 1000) -> int:
    """Delete tokens expired or revoked longer than ``retention`` seconds ago."""
    cutoff = now() - retention
    removed = 0
    while True:
        ids = db.session.scalars(
            select(Token.id).where(or_(Token.expires_at < cutoff, Token.revoked_at < cutoff))
            .limit(batch)
        ).all()
        if not ids:
            return removed
        db.session.execute(db.delete(Token).where(Token.id.in_(ids)))
        db.session.commit()
        removed += len(ids)
