"""Tokens: issue, find, revoke, renew, list. The lifetime cap, the scope
ceiling and reach are asked of their own modules; this one stores rows."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.models import (
    Account,
    IssuedToken,
    MachineUser,
    MachineUserClient,
    Organization,
    Token,
    TokenSnapshot,
    db,
    now,
    prepared,
)
from app.models.prepared import Prepared
from app.services import audit, claims, lifetimes, reach, scopes, secrets, subjects
from app.services.callers import ADMIN as ADMIN_ROLE
from app.services.callers import MACHINE, OPERATOR, Caller
from app.services.pagination import Page, paginate
from sdk.auth.redaction import looks_like_secret
from sdk.auth.scopes import ADMIN_SCOPE

PERSONAL, SCOPED = lifetimes.PERSONAL, lifetimes.SCOPED
APP, REFRESH = lifetimes.APP, lifetimes.REFRESH
_PREFIX = {PERSONAL: secrets.PERSONAL, SCOPED: secrets.SCOPED, APP: secrets.APP_ACCESS,
           REFRESH: secrets.REFRESH}


#: Hot-path statements, built once: SQLAlchemy then skips rebuilding and
#: re-hashing them on every request (measured in bench/RESULTS.md).
_TOKEN, _ORG, _ACCOUNT = Token.__table__, Organization.__table__, Account.__table__
_INSERT = Prepared(insert(_TOKEN), keys=tuple(c.name for c in _TOKEN.c if c.name != "id"))
# The account's role rides along for people's tokens (introspection reports it).
_BY_HASH = Prepared(select(_TOKEN, _ORG.c.name.label("org_name"),
                           _ACCOUNT.c.role.label("account_role"))
                    .join(_ORG, _ORG.c.id == _TOKEN.c.org_id)
                    .outerjoin(_ACCOUNT, _ACCOUNT.c.id == _TOKEN.c.account_id)
                    .where(_TOKEN.c.token_hash == bindparam("token_hash")), remember=True)
# Use is recorded by the first introspection of a token in each window; many tokens make
# that common, so it is a prepared statement in the writers' queue like issuance.
_MARK_USED = Prepared(update(_TOKEN)
                      .where(_TOKEN.c.id == bindparam("row_id"),
                             or_(_TOKEN.c.last_used_at.is_(None),
                                 _TOKEN.c.last_used_at <= bindparam("since")))
                      .values(last_used_at=bindparam("at")))


def _new(*, kind: str, org_id: int, subject_uid: str, subject_name: str,
         scope: list[str], lifetime: int, created_by: str, account_id: int | None = None,
         machine_user_id: int | None = None, client_id: str | None = None,
         name: str | None = None, expires_at: int | None = None,
         **lineage) -> tuple[str, IssuedToken]:
    """Insert a token row in the current transaction; return its value (shown
    once, never stored) and the row as a plain object for the response.

    A Core INSERT, not the ORM unit of work: issuance is a hot path and the
    row is never modified in the same request. Scoped tokens are RFC 9068
    JWTs when ``SCOPEGATE_ACCESS_TOKEN_FORMAT=jwt``; either way only the
    value's digest is stored.
    """
    jwt = kind == SCOPED and claims.access_token_format() == claims.JWT
    issued = now()
    row = dict(family_id=None, parent_token_id=None, auth_time=None)
    row.update(lineage)  # family_id, parent_token_id, auth_time of people's app tokens
    row.update(
        token_id=secrets.new_token_id(), kind=kind,
        format=claims.JWT if jwt else claims.OPAQUE,
        org_id=org_id, account_id=account_id, machine_user_id=machine_user_id,
        subject_uid=subject_uid, subject_name=subject_name, client_id=client_id,
        created_by=created_by, name=name, scope=" ".join(scope), issued_at=issued,
        expires_at=expires_at if expires_at is not None else issued + lifetime,
        revoked_at=None, last_used_at=None,
    )
    if jwt:
        org_name = db.session.scalar(select(Organization.name).where(
            Organization.id == org_id))
        value = claims.encode_jwt(TokenSnapshot({**row, "org_name": org_name}))
    else:
        value = secrets.generate(_PREFIX[kind])
    row["token_hash"] = secrets.digest(value)
    try:
        _INSERT.execute(row)
    except IntegrityError:
        # Its user was deleted meanwhile (the deletion holds the user's row
        # lock, so the foreign key check fails here rather than the token
        # landing, active, after the user's tokens were revoked).
        prepared.rollback()  # the session's and, on the fast path, its direct writes
        raise NotFound(f"No user named {subject_name!r} in this organization.") from None
    return value, IssuedToken(row)


def _person_state(account: Account) -> str:
    """The person's current role, read under a row lock; Conflict when disabled."""
    role, disabled_at = db.session.execute(
        select(Account.role, Account.disabled_at).where(Account.id == account.id)
        .with_for_update()).one()
    if disabled_at is not None:
        raise Conflict(f"{account.email} is disabled: enable the account first.")
    return role


def create_personal(account: Account, actor: Caller, *, name: str | None = None,
                    expires_in: int | None = None) -> tuple[str, IssuedToken]:
    """A person's unscoped token, acting as them: an admin's carries the
    reserved scope ``admin``, a member's no scope at all (it reaches only the
    member's own things).

    Who may issue one: the operator; an admin for themselves; an admin of the
    organization for a member (members hold personal tokens only when an
    admin gives them one). Never an admin for another admin, which would let
    one admin act under another's unique ID.
    """
    if name is not None and (not isinstance(name, str) or len(name) > 100):
        raise Unprocessable("`name` must be a string of at most 100 characters.")
    role = _person_state(account)
    own = actor.uid == account.uid and role == ADMIN_ROLE
    for_member = (actor.is_admin and actor.org_id == account.org_id and role != ADMIN_ROLE)
    if not (own or for_member or actor.kind == OPERATOR):
        raise Forbidden("Only an admin can issue a personal token to a member, "
                        "and only the operator one to another admin.")
    value, token = _new(
        kind=PERSONAL, org_id=account.org_id, subject_uid=account.uid,
        subject_name=account.email, scope=[ADMIN_SCOPE] if role == ADMIN_ROLE else [],
        lifetime=lifetimes.lifetime(PERSONAL, expires_in), created_by=actor.uid,
        account_id=account.id, name=name,
    )
    # Read again inside the write transaction: a disabling or role change that
    # committed since the first read is seen here (SQLite's first read runs
    # before the write lock), and one that comes later waits for this commit
    # and then revokes the new token with the others.
    try:
        unchanged = _person_state(account) == role
    except Conflict:
        unchanged = False
    if not unchanged:
        db.session.rollback()
        raise Conflict(f"{account.email} was disabled or changed role while the token was "
                       "being issued; no token was made.")
    audit.record("token.create", actor=actor, org_id=account.org_id, subject=account.uid,
                 subject_name=account.email,
                 target=token.token_id, detail=f"personal {role}")
    db.session.commit()
    return value, token


def create_scoped(user: MachineUser, actor: Caller, requested, expires_in=None
                  ) -> tuple[str, IssuedToken]:
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


def issue_client_credentials(user: MachineUserClient, requested: str | None
                             ) -> tuple[str, IssuedToken]:
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
    actor = Caller(MACHINE, user.client_id, user.name, user.org_id)
    audit.record("token.issue", actor=actor, subject=user.client_id, subject_name=user.name,
                 target=token.token_id)
    return value, token


def find(value: str | None) -> TokenSnapshot | None:
    """The token with this value, active or not; None for anything malformed.

    A snapshot, not an ORM object: every introspection and bearer call starts
    here, and the only writes that follow (use, revocation) are statements."""
    if not value or value.startswith(secrets.CLIENT_SECRET) or not (
            secrets.is_well_formed(value) or claims.looks_like_jwt(value)):
        return None
    row = _BY_HASH.first({"token_hash": secrets.digest(value)})
    return None if row is None else TokenSnapshot(row)


def authenticate(value: str | None) -> TokenSnapshot | None:
    """The token with this value if it is an active access token (a refresh
    token is never a bearer credential)."""
    token = find(value)
    if token is None or token.kind == REFRESH or not token.is_active():
        return None
    return token


def mark_used(token: Token | TokenSnapshot) -> None:
    """Record use, at most once per ``SCOPEGATE_LAST_USED_RESOLUTION`` seconds.

    A conditional UPDATE: concurrent requests on many hosts write once, and
    the common case (used recently) is a read only.
    """
    at = now()
    since = at - current_app.config["SCOPEGATE_LAST_USED_RESOLUTION"]
    if token.last_used_at is not None and token.last_used_at > since:
        return
    _MARK_USED.execute({"row_id": token.id, "since": since, "at": at})
    prepared.commit()


def _no_such_token(token_id: str) -> NotFound:
    if looks_like_secret(token_id):
        return NotFound("No token has that id: it is a token itself, not a token_id (it was "
                        "not logged). Find its token_id by introspecting it, or revoke it by "
                        "value with POST /oauth/revoke.")
    return NotFound(f"No token with id {token_id!r}.")


def get(caller: Caller, token_id: str) -> Token:
    """A token of the caller's organization by id, else NotFound."""
    token = db.session.execute(
        select(Token).where(Token.token_id == token_id)
    ).scalar_one_or_none()
    if token is None or not reach.in_org(caller, token.org_id):
        raise _no_such_token(token_id)
    return token


def _revoke(token: Token | TokenSnapshot, actor: Caller) -> None:
    # A conditional UPDATE: the first revocation's time stands, whoever races,
    # and only that one is an event (revoking again changes nothing to record).
    # "evaluate" keeps a loaded Token row in step; a snapshot is not in the session.
    result = db.session.execute(
        update(Token).where(Token.id == token.id, Token.revoked_at.is_(None))
        .values(revoked_at=now()).execution_options(synchronize_session="evaluate"))
    if result.rowcount:
        audit.record("token.revoke", actor=actor, org_id=token.org_id,
                     subject=token.subject_uid, subject_name=token.subject_name,
                     target=token.token_id)


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
        raise _no_such_token(token_id)
    _revoke(token, caller)
    db.session.commit()
    return token


def revoke_by_value(caller: Caller, token: TokenSnapshot) -> None:
    """RFC 7009 revocation of a token the caller may reach. Revoking a
    refresh token also revokes the access tokens of its sign-in (RFC 7009 §2.1)."""
    _revoke(token, caller)
    if token.kind == REFRESH:
        revoke_family(token.family_id)
    db.session.commit()


def renew(caller: Caller, token_id: str, expires_in: int | None) -> tuple[Token, bool]:
    """Extend an active token, never past issue time + max lifetime."""
    token = db.session.execute(
        select(Token).where(Token.token_id == token_id).with_for_update(of=Token)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if token is None or not reach.in_org(caller, token.org_id):
        raise _no_such_token(token_id)
    if not token.is_active():
        raise Conflict("Only an active token can be renewed; this one is revoked or expired.")
    if token.kind not in (PERSONAL, SCOPED):
        raise Conflict("An app's tokens are not renewed here: the app refreshes them itself.")
    if token.format == claims.JWT:
        raise Conflict("A JWT access token's expiry is signed into it: issue a new token.")
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
    """Revoke every live token of a machine user (inside the caller's
    transaction); returns how many. Expired ones are dead already: neither
    touched nor counted."""
    at = now()
    result = db.session.execute(
        update(Token)
        .where(Token.machine_user_id == user.id, Token.revoked_at.is_(None),
               Token.expires_at > at)
        .values(revoked_at=at)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _tied_to(account: Account):
    """Tokens of a person: personal ones and any other kind stored for them
    (the OIDC access and refresh tokens of apps), found by account and by
    unique ID, so a row whose ``account_id`` was never set is not missed."""
    return (Token.org_id == account.org_id,
            or_(Token.account_id == account.id, Token.subject_uid == account.uid),
            Token.revoked_at.is_(None))


def revoke_all_of_account(account: Account, kind: str | None = None) -> int:
    """Revoke every live token tied to a person (inside the caller's
    transaction). ``kind`` narrows it to one kind (a role change revokes
    personal tokens only)."""
    query = (update(Token).where(*_tied_to(account))
             .values(revoked_at=now()).execution_options(synchronize_session=False))
    if kind is not None:
        query = query.where(Token.kind == kind)
    return db.session.execute(query).rowcount or 0


def live_count_of_account(account: Account) -> int:
    """How many tokens would die with this person (the dashboard says so)."""
    return db.session.scalar(
        select(db.func.count(Token.id)).where(*_tied_to(account), Token.expires_at > now())
    ) or 0


def issue_to_app(app, account: Account, scope: list[str], *, family_id: str,
                 auth_time: int, refresh: bool, family_end: int,
                 parent_token_id: str | None = None) -> tuple[str, IssuedToken, str | None]:
    """A person's access token for an app (and a refresh token when asked),
    added to the current transaction: the OAuth layer commits on save.

    Both carry the family of the sign-in they come from; the refresh token
    dies at ``family_end`` however often it is rotated."""
    common = dict(org_id=account.org_id, subject_uid=account.uid, subject_name=account.email,
                  scope=scope, created_by=app.client_id, account_id=account.id,
                  client_id=app.client_id, family_id=family_id, auth_time=auth_time)
    access_value, access = _new(kind=APP, lifetime=lifetimes.app_access_lifetime(), **common)
    refresh_value = None
    if refresh:
        refresh_value, _ = _new(kind=REFRESH, lifetime=0, expires_at=family_end,
                                parent_token_id=parent_token_id, **common)
    return access_value, access, refresh_value


def claim_refresh(token: TokenSnapshot) -> bool:
    """Spend a refresh token (rotation). False when it was already spent or
    revoked: then it is being reused, and the caller revokes the family.
    A conditional UPDATE, so two concurrent refreshes cannot both win."""
    return bool(db.session.execute(
        update(Token).where(Token.id == token.id, Token.revoked_at.is_(None))
        .values(revoked_at=now()).execution_options(synchronize_session=False)).rowcount)


def _revoke_where(*criteria) -> int:
    result = db.session.execute(
        update(Token).where(*criteria, Token.revoked_at.is_(None))
        .values(revoked_at=now()).execution_options(synchronize_session=False))
    return result.rowcount or 0


def revoke_family(family_id: str | None) -> int:
    """Revoke every token of one sign-in (code reuse, refresh reuse)."""
    return _revoke_where(Token.family_id == family_id) if family_id else 0


def revoke_all_for_client(client_id: str) -> int:
    """Revoke every token issued to an app (it is being deleted)."""
    return _revoke_where(Token.client_id == client_id)


def revoke_for_person_and_app(account: Account, client_id: str) -> int:
    """Revoke a person's tokens held by one app (they disconnected it)."""
    return _revoke_where(Token.account_id == account.id, Token.client_id == client_id)


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


def listing(caller: Caller, *, user: str | None = None,
            active: bool | None = None, kind: str | None = None,
            cursor: str | None = None, limit: int | None = None) -> Page:
    """Token metadata of the caller's organization, newest first.

    ``user`` is a name or unique ID, of a live user or a deleted one (its
    tokens keep both), so history stays searchable after a deletion."""
    query = select(Token).where(Token.org_id == caller.org_id)
    if user is not None:
        uids = subjects.uids(caller, user)
        if not uids:
            raise NotFound(f"No user named {user!r} in this organization, now or before.")
        query = query.where(Token.subject_uid.in_(uids))
    if kind is not None:
        if kind not in _PREFIX:
            raise Unprocessable("`kind` must be `personal`, `scoped`, `app` or `refresh`.")
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
