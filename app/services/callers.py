"""Who is asking: one shape for every way of authenticating.

An admin's personal token, a machine user's scoped token or client
credentials, a platform resource server, an operator at the CLI: each
becomes a :class:`Caller`, and the rules in :mod:`app.services.reach` are
written against that one shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sdk.auth.scopes import ADMIN_SCOPE

ADMIN = "admin"
MACHINE = "machine"
RESOURCE_SERVER = "resource_server"
OPERATOR = "operator"


@dataclass(frozen=True)
class Caller:
    kind: str
    uid: str | None
    name: str | None
    org_id: int | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    #: The token the caller authenticated with, if any.
    token: object | None = None
    #: A resource server created with ``--may-revoke`` (incident response).
    may_revoke: bool = False

    @property
    def is_admin(self) -> bool:
        return self.kind == ADMIN and ADMIN_SCOPE in self.scopes


def from_token(token) -> Caller:
    """The caller behind a bearer token (already checked active)."""
    if token.kind == "personal":
        return Caller(ADMIN, token.subject_uid, token.subject_name, token.org_id,
                      frozenset(token.scopes), token)
    return Caller(MACHINE, token.subject_uid, token.subject_name, token.org_id,
                  frozenset(token.scopes), token)


def from_client(client) -> Caller:
    """The caller behind authenticated client credentials."""
    from app.models import MachineUserClient

    if isinstance(client, MachineUserClient):
        return Caller(MACHINE, client.client_id, client.name, client.org_id,
                      frozenset(client.scopes))
    return Caller(RESOURCE_SERVER, client.client_id, client.name,
                  may_revoke=bool(client.may_revoke))


def operator(org_id: int | None = None) -> Caller:
    """The person at the operator CLI (trusted: they hold the database)."""
    return Caller(OPERATOR, "operator", "operator", org_id)


def from_account(account) -> Caller:
    """The caller behind a signed-in dashboard session: an admin of its organization,
    with the same reach as the admin's personal token."""
    return Caller(ADMIN, account.uid, account.email, account.org_id, frozenset({ADMIN_SCOPE}))
