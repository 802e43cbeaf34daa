"""Operator-level objects: organizations, admin accounts, resource servers."""

from __future__ import annotations

from sqlalchemy import select

from app.errors import Conflict, NotFound, Unprocessable
from app.models import Account, Organization, ResourceServer, db
from app.services import audit, people, secrets
from app.services.callers import ADMIN, Caller

#: Resource-server client ids start with this; generated unique IDs never do.
RESOURCE_SERVER_PREFIX = "rs-"


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
    """An admin of ``org`` made by the operator (or first-run setup): joined at once."""
    account = people.create_account(org.id, email, ADMIN, actor.uid, password)
    audit.record("account.create", actor=actor, org_id=org.id, subject=account.uid,
                 subject_name=account.email, target=account.email)
    db.session.commit()
    return account


def get_account(email: str) -> Account:
    account = db.session.scalar(select(Account).where(Account.email == email.strip().lower()))
    if account is None:
        raise NotFound(f"No account with email {email!r}.")
    return account


def create_resource_server(actor: Caller, name: str, *, may_revoke: bool = False
                           ) -> tuple[ResourceServer, str]:
    """A platform service allowed to introspect every organization's tokens
    (and, with ``may_revoke``, to revoke them: incident-response tools)."""
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise Unprocessable("The resource server name must be 1-100 characters.")
    if db.session.scalar(select(ResourceServer.id).where(ResourceServer.name == name)):
        raise Conflict(f"A resource server named {name!r} already exists.")
    secret = secrets.generate(secrets.CLIENT_SECRET)
    client_id = f"{RESOURCE_SERVER_PREFIX}{secrets.new_token_id()[:16]}"
    server = ResourceServer(name=name, client_id=client_id,
                            client_secret_hash=secrets.digest(secret), may_revoke=may_revoke)
    db.session.add(server)
    audit.record("resource_server.create", actor=actor, target=server.client_id,
                 detail=f"{name} (may revoke)" if may_revoke else name)
    db.session.commit()
    return server, secret
