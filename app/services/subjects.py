"""Who a user name or unique ID stands for, now and in history.

A machine user's name can be reused once it is deleted, so a name may have
belonged to several users over time; a unique ID never changes hands. Token
rows and audit events keep the name and unique ID of their user, so history
stays searchable by either after the user is gone. This module is the one
place that answers "which unique IDs" and "was this name shared".
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, or_, select

from app.models import Account, AuditEvent, MachineUser, db
from app.services.callers import Caller


def uids(caller: Caller, value: str) -> set[str]:
    """The unique IDs ``value`` (a name or a unique ID) stands for in the
    caller's organization: live machine users and admins, and the users the
    audit log recorded under that name or ID (deleted ones too: every user and
    token has its creation event). Empty when nobody ever had it. Each lookup
    is an index scan (``tests/store/test_store_growth.py``)."""
    org = caller.org_id
    found = set(db.session.scalars(select(MachineUser.client_id).where(
        MachineUser.org_id == org,
        or_(MachineUser.name == value, MachineUser.client_id == value))))
    found |= set(db.session.scalars(select(Account.uid).where(
        Account.org_id == org, or_(Account.email == value, Account.uid == value))))
    found |= set(db.session.scalars(select(AuditEvent.subject).distinct().where(
        AuditEvent.org_id == org, AuditEvent.subject_name == value,
        AuditEvent.subject.is_not(None))))
    if db.session.scalar(select(AuditEvent.id).where(
            AuditEvent.org_id == org,
            or_(AuditEvent.subject == value, AuditEvent.actor == value)).limit(1)):
        found.add(value)
    return found


def shared_names(org_id: int, names: Iterable[str | None]) -> set[str]:
    """Those of ``names`` that more than one user (unique ID) has had."""
    wanted = {n for n in names if n}
    if not wanted:
        return set()
    rows = db.session.execute(
        select(AuditEvent.subject_name)
        .where(AuditEvent.org_id == org_id, AuditEvent.subject_name.in_(wanted),
               AuditEvent.subject.is_not(None))
        .group_by(AuditEvent.subject_name)
        .having(func.count(func.distinct(AuditEvent.subject)) > 1))
    return {name for (name,) in rows}


def names_of(caller: Caller, wanted: Iterable[str | None]) -> dict[str, str]:
    """Unique ID -> readable name (admins by email, machine users by name),
    deleted users included, for the IDs in ``wanted``."""
    ids = {u for u in wanted if u}
    if not ids:
        return {}
    org = caller.org_id
    names = dict(db.session.execute(select(Account.uid, Account.email).where(
        Account.org_id == org, Account.uid.in_(ids))).all())
    names.update(db.session.execute(select(MachineUser.client_id, MachineUser.name).where(
        MachineUser.org_id == org, MachineUser.client_id.in_(ids))).all())
    missing = ids - names.keys()
    if missing:
        names.update(db.session.execute(select(AuditEvent.subject, AuditEvent.subject_name)
                                        .where(AuditEvent.org_id == org,
                                               AuditEvent.subject.in_(missing),
                                               AuditEvent.subject_name.is_not(None))
                                        .distinct()).all())
    return names
