"""Machine users: create, look up (tenant-scoped), delete, give credentials."""

from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, NotFound, Unprocessable
from app.models import MachineUser, db, now
from app.services import audit, scopes, secrets, tokens
from app.services.callers import Caller
from app.services.pagination import Page, paginate

#: Names users choose: letters, digits and ``. _ - @ +`` (so ``user1@mycompany.com`` works).
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")


def _check_name(name) -> str:
    if not isinstance(name, str):
        raise Unprocessable("`name` must be a string.")
    if not NAME_RE.fullmatch(name):
        raise Unprocessable(
            "`name` must be 1-100 characters: letters, digits and . _ - @ +, "
            "starting with a letter or digit."
        )
    if secrets.looks_like_unique_id(name):
        # Lookups accept a name or a unique ID: this name could be read as another user's ID.
        raise Unprocessable("`name` must not look like a generated unique ID "
                            "(ten hex digits, @, a domain).")
    return name


def create(caller: Caller, name, allowed=None) -> MachineUser:
    """A new machine user of the caller's organization, with a generated unique ID."""
    _check_name(name)
    ceiling = scopes.ceiling(allowed)
    if db.session.scalar(select(MachineUser.id).where(
            MachineUser.org_id == caller.org_id, MachineUser.name == name)):
        raise Conflict(f"A user named {name!r} already exists.")
    domain = current_app.config["SCOPEGATE_ID_DOMAIN"]
    user = MachineUser(org_id=caller.org_id, name=name, client_id=secrets.new_unique_id(domain),
                       scope=" ".join(ceiling), created_by=caller.uid, created_at=now())
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:
        # A concurrent request created the same name first (the unique
        # constraint decides; the 40-bit ID colliding is not a practical case).
        db.session.rollback()
        raise Conflict(f"A user named {name!r} already exists.") from None
    audit.record("user.create", actor=caller, subject=user.client_id, subject_name=name,
                 target=user.client_id)
    db.session.commit()
    return user


def get(caller: Caller, name_or_uid: str) -> MachineUser:
    """A machine user of the caller's organization, by name or unique ID."""
    user = db.session.scalars(select(MachineUser).where(
        MachineUser.org_id == caller.org_id,
        or_(MachineUser.name == name_or_uid, MachineUser.client_id == name_or_uid),
    )).first()
    if user is None:
        raise NotFound(f"No user named {name_or_uid!r} in this organization.")
    return user


def listing(caller: Caller, cursor: str | None = None, limit=None) -> Page:
    query = select(MachineUser).where(MachineUser.org_id == caller.org_id)
    return paginate(query, MachineUser.id, cursor, limit)


def delete(caller: Caller, name: str) -> int:
    """Delete a machine user; every token it holds is revoked in the same
    transaction and its client credentials die with the row. Returns the
    number of tokens revoked."""
    user = get(caller, name)
    # Lock the row first: a token insert racing this deletion then waits on
    # it (its foreign key check) and fails, instead of landing after the
    # revocation below and surviving, active, with its user gone.
    db.session.execute(select(MachineUser.id).where(MachineUser.id == user.id)
                       .with_for_update())
    revoked = tokens.revoke_all_of(user)
    audit.record("user.delete", actor=caller, subject=user.client_id, subject_name=user.name,
                 target=user.client_id, detail=f"{revoked} token(s) revoked")
    db.session.delete(user)
    db.session.commit()
    return revoked


def create_credentials(caller: Caller, name: str) -> tuple[MachineUser, str, int]:
    """A new client secret (shown once); it replaces the previous one.

    Every live token the user obtained itself with ``client_credentials`` --
    minted with the secret being replaced -- is revoked in the same
    transaction: a secret is rotated because it may have leaked, and so may
    what it bought. Tokens an admin created for the user are not tied to the
    secret and stay. Returns the user, the secret and how many tokens died.
    """
    user = get(caller, name)
    secret = secrets.generate(secrets.CLIENT_SECRET)
    user.client_secret_hash = secrets.digest(secret)
    user.credentials_created_at = now()
    revoked = tokens.revoke_self_issued(user)
    audit.record("credentials.create", actor=caller, subject=user.client_id,
                 subject_name=user.name, target=user.client_id,
                 detail=f"{revoked} token(s) obtained with the previous secret revoked")
    db.session.commit()
    return user, secret, revoked
