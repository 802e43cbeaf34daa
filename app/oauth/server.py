"""The Authlib authorization server and resource protector: the one bridge
between Authlib and our services."""

from __future__ import annotations

import logging

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6750 import BearerTokenValidator
from flask import Flask, current_app
from sqlalchemy import bindparam, select

from app.errors import NotFound
from app.models import (
    MachineUser,
    MachineUserSnapshot,
    ResourceServer,
    ResourceServerSnapshot,
    db,
)
from app.models.prepared import Prepared
from app.oauth import client_auth
from app.oauth.endpoints import Introspection, Revocation
from app.services import audit, callers, scopes, tokens
from app.services.orgs import RESOURCE_SERVER_PREFIX
from sdk.auth.scopes import CATALOG


def _by_client_id(model) -> Prepared:
    table = model.__table__
    return Prepared(select(table).where(table.c.client_id == bindparam("client_id")))


_USER_BY_ID, _SERVER_BY_ID = _by_client_id(MachineUser), _by_client_id(ResourceServer)


def query_client(client_id: str) -> MachineUserSnapshot | ResourceServerSnapshot | None:
    """A machine user or a resource server by ``client_id`` (one indexed read:
    resource-server ids start with ``rs-``, which a generated unique ID never does).

    Read as a snapshot, not an ORM object: this runs on every token request
    and every introspection, and nothing in them changes the client."""
    if not client_id or len(client_id) > 120 or not client_id.isprintable():
        return None
    if client_id.startswith(RESOURCE_SERVER_PREFIX):
        statement, snapshot = _SERVER_BY_ID, ResourceServerSnapshot
    else:
        statement, snapshot = _USER_BY_ID, MachineUserSnapshot
    row = statement.first({"client_id": client_id})
    return None if row is None else snapshot(row)


def save_token(token: dict, request) -> None:
    # The row and its audit event were added by the generator (the value is
    # only hashed there and never stored); commit them together.
    db.session.commit()


def generate_token(grant_type, client, user=None, scope=None, expires_in=None,
                   include_refresh_token=False) -> dict:
    try:
        value, row = tokens.issue_client_credentials(client, scope)
    except NotFound:
        # The machine user was deleted while its token was being issued.
        raise InvalidClientError(status_code=401) from None
    return {
        "token_type": "Bearer",
        "access_token": value,
        "expires_in": row.expires_at - row.issued_at,
        "scope": row.scope,
    }


class ScopedTokenGrant(ClientCredentialsGrant):
    """``client_credentials`` for machine users: scopes within their ceiling.

    No ``scope`` means the whole ceiling; a scope above it is ``invalid_scope``
    (never silently narrowed), and the refusal is audited.
    """

    def validate_requested_scope(self):
        try:
            scopes.grantable(self.client.scopes, self.request.payload.scope or None)
        except OAuth2Error as error:
            audit.record("token.issue", audit.DENIED, actor=callers.from_client(self.client),
                         subject=self.client.client_id, subject_name=self.client.name,
                         detail=error.get_error_description(), commit=True)
            raise


class _RedactIssuedTokens(logging.Filter):
    """Authlib logs ``"Issue token %r"`` with the whole token dict at DEBUG:
    never let a token value reach a log line, whatever level is configured."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(
                isinstance(a, dict) and "access_token" in a for a in record.args):
            record.args = tuple({**a, "access_token": "[redacted]"}
                                if isinstance(a, dict) and "access_token" in a else a
                                for a in record.args)
        return True


logging.getLogger(ClientCredentialsGrant.__module__).addFilter(_RedactIssuedTokens())


class ActiveTokenValidator(BearerTokenValidator):
    """Admin-API bearer tokens: active ones only, found by digest."""

    def authenticate_token(self, token_string):
        return tokens.find(token_string)


#: Stateless apart from its validator, so one for every app.
require_oauth = ResourceProtector()
require_oauth.register_token_validator(ActiveTokenValidator(realm="scopegate"))


def configure(server) -> None:
    """Grants, client authentication, token generators and endpoints. Register them
    here (on the Flask server): the WSGI server answering the hot paths
    (``app.oauth.fastpath``) shares this registry."""
    server.register_client_auth_method("client_secret_basic", client_auth.client_secret_basic)
    server.register_client_auth_method("bearer", client_auth.bearer)
    server.register_grant(ScopedTokenGrant)
    server.register_token_generator("client_credentials", generate_token)
    server.register_endpoint(Introspection)
    server.register_endpoint(Revocation)


def init_app(app: Flask) -> AuthorizationServer:
    """One authorization server per app (tests build many apps)."""
    app.config.setdefault("OAUTH2_SCOPES_SUPPORTED", list(CATALOG))
    server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
    configure(server)
    app.extensions["scopegate.authorization"] = server
    return server


def authorization() -> AuthorizationServer:
    """The current app's authorization server."""
    return current_app.extensions["scopegate.authorization"]
