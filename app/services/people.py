"""People: the organization's human accounts, with a role (``admin`` or
``member``), invited by one-time link, disabled, deleted.

Rules kept here and nowhere else:

- only an admin of the organization (or the operator) manages its people,
  and another organization's people are "not found";
- an organization always keeps one enabled admin who has joined: the last
  one cannot be demoted, disabled or deleted (409);
- disabling or deleting a person ends everything they hold at once
  (:func:`offboard`);
- a role change revokes the person's personal tokens, which carry the
  rights of the role they were issued under.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, func, or_, select
from sqlalchemy import update as update_rows
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.models import Account, Organization, WebSession, db, now
from app.services import audit, consents, links, passwords, reach, secrets, tokens
from app.services.callers import ADMIN, MEMBER, Caller
from app.services.pagination import Page, paginate

ROLES = (ADMIN, MEMBER)

#: The HTML standard's "valid e-mail address" (what a browser's email field
#: accepts; internationalized domains in their ASCII form), at most 254
#: characters. ASCII only, so an address can appear in an error description
#: (RFC 6749 allows no other characters there).
_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")


def check_email(email) -> str:
    """An email address, lower-cased (it is the sign-in name)."""
    email = (email if isinstance(email, str) else "").strip().lower()
    if len(email) > 254 or not _EMAIL_RE.fullmatch(email):
        raise Unprocessable("`email` is not an email address (such as ann@example.com).")
    return email


def check_role(role) -> str:
    if role not in ROLES:
        raise Unprocessable("`role` must be `admin` or `member`.")
    return role


def _require_manager(caller: Caller) -> None:
    if not reach.manages_org(caller):
        raise Forbidden("Only an admin of the organization manages its people.")


def _hashed(password: str | None) -> str | None:
    """A new password's hash, after the one password rule (setup, create-admin, invite)."""
    if password is None:
        return None
    passwords.check_new_password(password, password)
    return passwords.hash_password(password)


def create_account(org_id: int, email, role: str, created_by: str,
                   password: str | None = None, joined: bool = True) -> Account:
    """A new person row with a generated unique ID (flushed, not committed).
    ``joined=False`` for an invitation that is not accepted yet."""
    email, role = check_email(email), check_role(role)
    if db.session.scalar(select(Account.id).where(Account.email == email)):
        raise Conflict(f"An account with email {email} already exists.")
    account = Account(
        org_id=org_id, email=email, role=role, created_by=created_by,
        uid=secrets.new_unique_id(current_app.config["SCOPEGATE_ID_DOMAIN"]),
        password_hash=_hashed(password),
        created_at=now(), joined_at=now() if joined else None,
    )
    db.session.add(account)
    try:
        db.session.flush()
    except IntegrityError:
        # A concurrent request took the same email first.
        db.session.rollback()
        raise Conflict(f"An account with email {email} already exists.") from None
    return account


def invite(caller: Caller, email, role, base_url: str | None = None
           ) -> tuple[Account, links.Link]:
    """Add a person to the caller's organization and return their one-time
    invitation link (shown once; they choose their password there)."""
    _require_manager(caller)
    account = create_account(caller.org_id, email, role, caller.uid, joined=False)
    link = links.issue(account, base_url)
    audit.record("person.invite", actor=caller, subject=account.uid,
                 subject_name=account.email, target=account.email, detail=account.role)
    db.session.commit()
    return account, link


def get(caller: Caller, email_or_uid: str) -> Account:
    """A person of the caller's organization by email or unique ID, else 404."""
    _require_manager(caller)
    key = email_or_uid.strip() if isinstance(email_or_uid, str) else ""
    account = db.session.scalar(select(Account).where(
        Account.org_id == caller.org_id,
        or_(Account.email == key.lower(), Account.uid == key)))
    if account is None:
        # The key is not echoed: it may hold characters an error description cannot.
        raise NotFound("No such person in this organization.")
    return account


def listing(caller: Caller, cursor: str | None = None, limit=None) -> Page:
    """The organization's people, newest first."""
    _require_manager(caller)
    return paginate(select(Account).where(Account.org_id == caller.org_id), Account.id,
                    cursor, limit)


def _keep_an_admin(account: Account, change: str) -> None:
    """Refuse ``change`` when it would leave the organization without an
    enabled admin who has joined.

    The organization's row is written first: that takes SQLite's write lock
    (a SELECT alone takes none, so two processes could each count two admins
    and both demote: tests/store/test_store_people.py caught it) and
    PostgreSQL's row lock, so two admins demoting each other at once run one
    after the other and the second counts the first's change and is refused.
    The admin rows are then locked too, in id order (no deadlock)."""
    if account.role != ADMIN or account.disabled_at is not None or account.joined_at is None:
        return
    db.session.execute(update_rows(Organization).where(Organization.id == account.org_id)
                       .values(id=Organization.id)
                       .execution_options(synchronize_session=False))
    admins = db.session.scalars(select(Account.id).where(
        Account.org_id == account.org_id, Account.role == ADMIN,
        Account.disabled_at.is_(None), Account.joined_at.is_not(None))
        .order_by(Account.id).with_for_update()).all()
    if set(admins) <= {account.id}:
        raise Conflict(f"{account.email} is the last admin of the organization: "
                       f"make another person admin before you {change} them.")


@dataclass(frozen=True)
class Offboarded:
    """What ended when a person was disabled or deleted."""

    sessions: int
    tokens: int


def offboard(account: Account) -> Offboarded:
    """End at once everything a person holds, inside the caller's transaction:
    their dashboard sessions, every token tied to their account (personal
    tokens, and the OIDC access and refresh tokens apps hold for them), and
    their unused one-time links. Tokens they created for machine users
    belong to those machine users and stay.

    The row is locked first: a token being issued for the person at the same
    time waits, then sees the account disabled or gone.
    """
    db.session.execute(select(Account.id).where(Account.id == account.id).with_for_update())
    sessions = db.session.execute(
        delete(WebSession).where(WebSession.account_id == account.id)
        .execution_options(synchronize_session=False)).rowcount or 0
    revoked = tokens.revoke_all_of_account(account)
    links.kill(account)
    # In this transaction, so that a person enabled again is asked anew by every app.
    consents.forget_all(account)
    return Offboarded(sessions, revoked)


def _set_role(caller: Caller, account: Account, role: str) -> None:
    check_role(role)
    if role == account.role:
        return
    if role != ADMIN:
        _keep_an_admin(account, "demote")
    revoked = tokens.revoke_all_of_account(account, kind=tokens.PERSONAL)
    audit.record("person.update", actor=caller, subject=account.uid,
                 subject_name=account.email, target=account.email,
                 detail=f"role {account.role} -> {role}; {revoked} personal token(s) revoked")
    account.role = role


def _set_disabled(caller: Caller, account: Account, disabled: bool) -> None:
    if not isinstance(disabled, bool):
        raise Unprocessable("`disabled` must be true or false.")
    if disabled == (account.disabled_at is not None):
        return
    if disabled:
        _keep_an_admin(account, "disable")
        ended = offboard(account)
        account.disabled_at = now()
        audit.record("person.disable", actor=caller, subject=account.uid,
                     subject_name=account.email, target=account.email,
                     detail=f"{ended.sessions} session(s) ended, {ended.tokens} token(s) revoked")
    else:
        account.disabled_at = None
        audit.record("person.enable", actor=caller, subject=account.uid,
                     subject_name=account.email, target=account.email)


def update(caller: Caller, email_or_uid: str, *, role: str | None = None,
           disabled: bool | None = None) -> Account:
    """Change a person's role and/or disable or enable them, in one transaction."""
    account = get(caller, email_or_uid)
    if role is not None:
        _set_role(caller, account, role)
    if disabled is not None:
        _set_disabled(caller, account, disabled)
    db.session.commit()
    return account


def delete_person(caller: Caller, email_or_uid: str) -> Offboarded:
    """Delete a person after ending everything they hold. Token rows and audit
    events keep their unique ID and email, so history stays searchable."""
    account = get(caller, email_or_uid)
    _keep_an_admin(account, "delete")
    ended = offboard(account)
    audit.record("person.delete", actor=caller, subject=account.uid,
                 subject_name=account.email, target=account.email,
                 detail=f"{ended.sessions} session(s) ended, {ended.tokens} token(s) revoked")
    db.session.delete(account)
    db.session.commit()
    return ended


def reset_link(caller: Caller, email_or_uid: str, base_url: str | None = None) -> links.Link:
    """A new one-time link for a person who forgot their password (or lost
    their invitation); their previous link dies. The current password keeps
    working until the link is used."""
    account = get(caller, email_or_uid)
    if account.disabled_at is not None:
        raise Conflict(f"{account.email} is disabled: enable the account first.")
    link = links.issue(account, base_url)
    audit.record("person.reset_link", actor=caller, subject=account.uid,
                 subject_name=account.email, target=account.email, detail=link.purpose)
    db.session.commit()
    return link


def live_sessions(account: Account) -> int:
    """How many dashboard sessions the person has (the delete page says so)."""
    return db.session.scalar(select(func.count(WebSession.id))
                             .where(WebSession.account_id == account.id)) or 0

