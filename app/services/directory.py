"""Who is in an organization, for the dashboard's pickers and names: its
admin accounts, its machine users and its apps (never another organization's)."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Account, App, MachineUser, db
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


def apps(caller: Caller) -> list[App]:
    return list(db.session.scalars(select(App).where(App.org_id == caller.org_id)
                                   .order_by(App.name).limit(LIMIT)))
