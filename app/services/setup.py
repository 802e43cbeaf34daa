"""First run: a one-time setup link lets one person create the organization
and the first admin, like the initial password of a fresh CI server.

The code is random (192 bits), only its digest is stored, it expires
(``SCOPEGATE_SETUP_CODE_LIFETIME``), printing a new link kills the previous
one, and it is claimed with a conditional UPDATE so that two people opening
the same link cannot both use it. Once any account exists, every link is dead.
"""

from __future__ import annotations

import secrets as _random

from flask import current_app
from sqlalchemy import delete, select, update

from app.errors import NotFound
from app.models import Account, Organization, SetupCode, db, now
from app.services import callers, orgs, passwords, secrets


class DeadLink(NotFound):
    description = "This setup link is not valid: it was used, replaced by a newer one, or expired."


def needed() -> bool:
    """No person can sign in yet."""
    return db.session.scalar(select(Account.id).limit(1)) is None


def issue() -> str | None:
    """A new setup code (returned once), or None when setup is already done."""
    if not needed():
        return None
    code = _random.token_urlsafe(24)
    at = now()
    # Only the newest printed link works: an old one may sit in a terminal's scrollback.
    db.session.execute(delete(SetupCode).where(SetupCode.used_at.is_(None),
                                               SetupCode.account_id.is_(None)))
    db.session.add(SetupCode(code_hash=secrets.digest(code), created_at=at,
                             expires_at=at + current_app.config["SCOPEGATE_SETUP_CODE_LIFETIME"]))
    db.session.commit()
    return code


def _live(code: str):
    return (SetupCode.code_hash == secrets.digest(code or ""), SetupCode.used_at.is_(None),
            SetupCode.account_id.is_(None), SetupCode.expires_at > now())


def check(code: str) -> None:
    """Raise :class:`DeadLink` unless ``code`` can still be used (a read only)."""
    if not needed() or db.session.scalar(select(SetupCode.id).where(*_live(code))) is None:
        raise DeadLink()


def complete(code: str, org_name: str, email: str, password: str, confirm: str) -> Account:
    """Create the organization and its first admin, and kill the code."""
    passwords.check_new_password(password, confirm)
    claimed = db.session.execute(
        update(SetupCode).where(*_live(code)).values(used_at=now())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed or not needed():
        db.session.rollback()
        raise DeadLink()
    db.session.commit()
    org = None
    try:
        org = orgs.create_org(callers.operator(), (org_name or "").strip())
        return orgs.create_admin(callers.operator(org.id), org, email, password)
    except Exception:
        # A typo in the form (or any failure) must not burn the link: undo,
        # remove the half-made organization and give the code back.
        db.session.rollback()
        if org is not None:
            db.session.execute(delete(Organization).where(Organization.id == org.id))
        db.session.execute(
            update(SetupCode).where(SetupCode.code_hash == secrets.digest(code))
            .values(used_at=None).execution_options(synchronize_session=False))
        db.session.commit()
        raise
