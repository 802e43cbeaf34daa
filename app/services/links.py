"""One-time links for people: an invitation (choose a first password) or a
password reset (choose a new one).

The first-run setup link's mechanism (``services.setup``) and table: a random
code of 192 bits, only its digest stored, valid for
``SCOPEGATE_SETUP_CODE_LIFETIME`` (24 h), dead once used, and claimed with a
conditional UPDATE so that two tabs cannot both use it. Issuing a new link
for a person kills their previous one; disabling or deleting the person
kills it too.
"""

from __future__ import annotations

import secrets as _random
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, select, update

from app.errors import NotFound
from app.models import Account, SetupCode, WebSession, db, now
from app.services import audit, callers, passwords, secrets

INVITE, RESET = "invite", "reset"


class DeadLink(NotFound):
    description = ("This link is not valid: it was used, replaced by a newer one, or expired. "
                   "Ask an admin of your organization for a new one.")


@dataclass(frozen=True)
class Link:
    """A link just issued: the code is in ``url`` and shown once."""

    email: str
    purpose: str
    url: str
    expires_at: int


def url_for_code(purpose: str, code: str, base_url: str | None = None) -> str:
    """The page a person opens: ``<issuer>/invite/<code>`` or ``<issuer>/reset/<code>``."""
    base = (base_url or current_app.config["SCOPEGATE_ISSUER"]).rstrip("/")
    return f"{base}/{purpose}/{code}"


def issue(account: Account, base_url: str | None = None) -> Link:
    """A new link for this person, in the caller's transaction (which commits
    it with its audit event). A person who never accepted an invitation gets
    a new invitation, anyone else a password reset."""
    purpose = INVITE if account.joined_at is None else RESET
    code = _random.token_urlsafe(24)
    at = now()
    expires_at = at + current_app.config["SCOPEGATE_SETUP_CODE_LIFETIME"]
    kill(account)
    db.session.add(SetupCode(code_hash=secrets.digest(code), created_at=at,
                             expires_at=expires_at, purpose=purpose, account_id=account.id))
    return Link(account.email, purpose, url_for_code(purpose, code, base_url), expires_at)


def kill(account: Account) -> None:
    """Every unused link of this person stops working (in the caller's transaction)."""
    db.session.execute(delete(SetupCode).where(SetupCode.account_id == account.id,
                                               SetupCode.used_at.is_(None)))


def _live(code: str, purpose: str):
    return (SetupCode.code_hash == secrets.digest(code or ""), SetupCode.purpose == purpose,
            SetupCode.account_id.is_not(None), SetupCode.used_at.is_(None),
            SetupCode.expires_at > now())


def person_of(code: str, purpose: str) -> Account:
    """The (enabled) person a live link is for, else :class:`DeadLink` (a read only)."""
    account = db.session.scalar(
        select(Account).join(SetupCode, SetupCode.account_id == Account.id)
        .where(*_live(code, purpose)))
    if account is None or account.disabled_at is not None:
        raise DeadLink()
    return account


def use(code: str, purpose: str, password: str, confirm: str) -> Account:
    """Set the person's password from the link, and kill the link.

    A reset also ends every dashboard session the person had (whoever knew
    the old password is signed out); the caller starts a new one.
    """
    passwords.check_new_password(password, confirm)
    account = person_of(code, purpose)
    claimed = db.session.execute(
        update(SetupCode).where(*_live(code, purpose)).values(used_at=now())
        .execution_options(synchronize_session=False)).rowcount
    if not claimed:
        db.session.rollback()
        raise DeadLink()
    account.password_hash = passwords.hash_password(password)
    if purpose == INVITE:
        account.joined_at = now()
    else:
        db.session.execute(delete(WebSession).where(WebSession.account_id == account.id))
    audit.record("person.join" if purpose == INVITE else "person.password",
                 actor=callers.from_account(account), subject=account.uid,
                 subject_name=account.email, target=account.email)
    db.session.commit()
    return account
