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
#: A person with role ``member``: signs in, holds personal tokens only if an
#: admin issued them, and reaches only their own things.
MEMBER = "member"
MACHINE = "machine"
RESOURCE_SERVER = "resource_server"
OPERATOR = "operator"
#: A person acting for themselves (signing in to an app, consenting, signing out).
PERSON = "person"
#: An app (an OAuth client people sign in to) authenticated with its credentials.
APP = "app"


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
    if token.kind in ("app", "refresh"):
        return Caller(PERSON, token.subject_uid, token.subject_name, token.org_id,
                      frozenset(token.scopes), token)
    if token.kind == "personal":
        # The reserved scope, not the person's current role, says what a token
        # may do: a role change revokes the person's personal tokens.
        kind = ADMIN if ADMIN_SCOPE in token.scopes else MEMBER
        return Caller(kind, token.subject_uid, token.subject_name, token.org_id,
                      frozenset(token.scopes), token)
    return Caller(MACHINE, token.subject_uid, token.subject_name, token.org_id,
                  frozenset(token.scopes), token)


def from_client(client) -> Caller:
    """The caller behind authenticated client credentials."""
    from app.models import AppClient, MachineUserClient

    if isinstance(client, MachineUserClient):
        return Caller(MACHINE, client.client_id, client.name, client.org_id,
                      frozenset(client.scopes))
    if isinstance(client, AppClient):
        return Caller(APP, client.client_id, client.name, client.org_id)
    return Caller(RESOURCE_SERVER, client.client_id, client.name,
                  may_revoke=bool(client.may_revoke))


def operator(org_id: int | None = None) -> Caller:
    """The person at the operator CLI (trusted: they hold the database)."""
    return Caller(OPERATOR, "operator", "operator", org_id)


def from_account(account) -> Caller:
    """The caller behind a signed-in dashboard session: an admin has the same
    reach as an admin's personal token, a member only their own things."""
    if account.role == ADMIN:
        return Caller(ADMIN, account.uid, account.email, account.org_id,
                      frozenset({ADMIN_SCOPE}))
    return Caller(MEMBER, account.uid, account.email, account.org_id)


def person(account) -> Caller:
    """A person acting for themselves at the sign-in pages: no admin reach."""
    return Caller(PERSON, account.uid, account.email, account.org_id)
