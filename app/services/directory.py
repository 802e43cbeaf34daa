"""Who is in an organization, for the dashboard's pickers: its admin
accounts and its machine users (never another organization's)."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Account, MachineUser, db
from app.services.callers import Caller

#: Pickers list at most this many of each kind.
LIMIT = 500


def accounts(caller: Caller) -> list[Account]:
    return list(db.session.scalars(select(Account).where(Account.org_id == caller.org_id)
                                   .order_by(Account.email).limit(LIMIT)))


def machine_users(caller: Caller) -> list[MachineUser]:
    return list(db.session.scalars(select(MachineUser)
                                   .where(MachineUser.org_id == caller.org_id)
                                   .order_by(MachineUser.name).limit(LIMIT)))
