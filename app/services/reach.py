"""Ownership and tenant isolation: what each caller may see and revoke.

Small named policies, so every endpoint asks the same question the same way:

- a resource server: introspects any token of any organization, reads the
  revocation feed, and revokes only when created with ``--may-revoke``
  (RFC 7009 §2.1 lets a client revoke its own tokens; a resource server has
  none, so revoking others' is a grant the operator makes explicitly);
- an admin: anything of its own organization;
- a member (a person without the admin role): only their own tokens, and
  nothing by ``token_id``;
- a machine user: only its own tokens; by ``token_id`` (admin API) only the
  tokens it obtained itself with its client credentials, and only when its
  token carries ``revoke_user_token``;
- an app: only the tokens issued to it (people's access and refresh tokens);
- a person signing in to an app: only apps of their own organization.
"""

from __future__ import annotations

from app.services.callers import (
    ADMIN,
    APP,
    MACHINE,
    MEMBER,
    OPERATOR,
    RESOURCE_SERVER,
    Caller,
)
from sdk.auth.scopes import Scope


def in_org(caller: Caller, org_id: int) -> bool:
    """The object belongs to the caller's organization."""
    return caller.kind == OPERATOR or (caller.org_id is not None and caller.org_id == org_id)


def may_introspect(caller: Caller, token) -> bool:
    if caller.kind == RESOURCE_SERVER:
        return True
    if caller.kind == ADMIN:
        return in_org(caller, token.org_id)
    if caller.kind in (MACHINE, MEMBER):
        return token.org_id == caller.org_id and token.subject_uid == caller.uid
    if caller.kind == APP:
        return token.org_id == caller.org_id and token.client_id == caller.uid
    return False


def manages_org(caller: Caller) -> bool:
    """May manage the organization's people, users and tokens: an admin, or the operator."""
    return caller.is_admin or caller.kind == OPERATOR


def may_sign_in(account, app) -> bool:
    """An app serves only the people of the organization that registered it."""
    return account.org_id == app.org_id


def may_revoke_by_value(caller: Caller, token) -> bool:
    """RFC 7009 revocation: the reach of introspection, except that a resource
    server needs ``--may-revoke``."""
    if caller.kind == RESOURCE_SERVER:
        return caller.may_revoke
    return may_introspect(caller, token)


def may_read_revocations(caller: Caller) -> bool:
    """The revocation feed is for resource servers (it lists every tenant's ids)."""
    return caller.kind == RESOURCE_SERVER


def may_revoke_by_id(caller: Caller, token) -> bool:
    """``DELETE /api/v1/tokens/{id}``."""
    if caller.kind in (ADMIN, OPERATOR):
        return in_org(caller, token.org_id)
    if caller.kind == MACHINE and Scope.revoke_user_token.value in caller.scopes:
        return token.org_id == caller.org_id and token.created_by == caller.uid
    return False
