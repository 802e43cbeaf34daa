"""Operator-level objects: organizations, admin accounts, resource servers."""

from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import select

from app.errors import Conflict, NotFound, Unprocessable
from app.models import Account, Organization, ResourceServer, db
from app.services import audit, passwords, secrets
from app.services.callers import Caller

#: Resource-server client ids start with this; generated unique IDs never do.
RESOURCE_SERVER_PREFIX = "rs-"

_EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}$")


def create_org(actor: Caller, name: str) -> Organization:
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise Unprocessable("The organization name must be 1-100 characters.")
    if db.session.scalar(select(Organization.id).where(Organization.name == name)):
        raise Conflict(f"An organization named {name!r} already exists.")
    org = Organization(name=name)
    db.session.add(org)
    db.session.flush()
    audit.record("org.create", actor=actor, org_id=org.id, target=name)
    db.session.commit()
    return org


def get_org(name: str) -> Organization:
    org = db.session.scalar(select(Organization).where(Organization.name == name))
    if org is None:
        raise NotFound(f"No organization named {name!r}.")
    return org


def create_admin(actor: Caller, org: Organization, email: str,
                 password: str | None = None) -> Account:
    email = (email or "").strip().lower()
    if not _EMAIL_RE.match(email):
        raise Unprocessable(f"{email!r} is not an email address.")
    if db.session.scalar(select(Account.id).where(Account.email == email)):
        raise Conflict(f"An account with email {email!r} already exists.")
    if password is not None:
        passwords.check_acceptable(password)
    account = Account(
        org_id=org.id, email=email, role="admin",
        uid=secrets.new_unique_id(current_app.config["SCOPEGATE_ID_DOMAIN"]),
        password_hash=passwords.hash_password(password) if password else None,
    )
    db.session.add(account)
    db.session.flush()
    audit.record("account.create", actor=actor, org_id=org.id, subject=account.uid,
                 subject_name=email, target=email)
    db.session.commit()
    return account


def get_account(email: str) -> Account:
    account = db.session.scalar(select(Account).where(Account.email == email.strip().lower()))
    if account is None:
        raise NotFound(f"No account with email {email!r}.")
    return account


def create_resource_server(actor: Caller, name: str) -> tuple[ResourceServer, str]:
    """A platform service allowed to introspect every organization's tokens."""
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise Unprocessable("The resource server name must be 1-100 characters.")
    if db.session.scalar(select(ResourceServer.id).where(ResourceServer.name == name)):
        raise Conflict(f"A resource server named {name!r} already exists.")
    secret = secrets.generate(secrets.CLIENT_SECRET)
    client_id = f"{RESOURCE_SERVER_PREFIX}{secrets.new_token_id()[:16]}"
    server = ResourceServer(name=name, client_id=client_id,
                            client_secret_hash=secrets.digest(secret))
    db.session.add(server)
    audit.record("resource_server.create", actor=actor, target=server.client_id, detail=name)
    db.session.commit()
    return server, secret
