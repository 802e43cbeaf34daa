"""The Authlib authorization server and resource protector: the one bridge
between Authlib and our services."""

from __future__ import annotations

import logging

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc6749.grants import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    RefreshTokenGrant,
)
from authlib.oauth2.rfc6750 import BearerTokenValidator
from flask import Flask, current_app
from flask import request as flask_request
from sqlalchemy import bindparam, select

from app.errors import NotFound
from app.models import (
    App,
    AppSnapshot,
    MachineUser,
    MachineUserSnapshot,
    ResourceServer,
    ResourceServerSnapshot,
    prepared,
)
from app.models.prepared import Prepared
from app.oauth import client_auth, oidc
from app.oauth.endpoints import Introspection, Revocation
from app.services import audit, callers, scopes, tokens
from app.services.apps import APP_PREFIX
from app.services.orgs import RESOURCE_SERVER_PREFIX
from sdk.auth.redaction import redact


def _by_client_id(model) -> Prepared:
    table = model.__table__
    return Prepared(select(table).where(table.c.client_id == bindparam("client_id")),
                    remember=True)


_USER_BY_ID, _SERVER_BY_ID = _by_client_id(MachineUser), _by_client_id(ResourceServer)
_APP_BY_ID = _by_client_id(App)


def query_client(client_id: str
                 ) -> MachineUserSnapshot | ResourceServerSnapshot | AppSnapshot | None:
    """A machine user, a resource server or an app by ``client_id`` (one
    indexed read: resource-server ids start with ``rs-`` and apps' with
    ``app-``, which a generated unique ID never does).

    Read as a snapshot, not an ORM object: this runs on every token request
    and every introspection, and nothing in them changes the client."""
    if not client_id or len(client_id) > 120 or not client_id.isprintable():
        return None
    if client_id.startswith(RESOURCE_SERVER_PREFIX):
        statement, snapshot = _SERVER_BY_ID, ResourceServerSnapshot
    elif client_id.startswith(APP_PREFIX):
        statement, snapshot = _APP_BY_ID, AppSnapshot
    else:
        statement, snapshot = _USER_BY_ID, MachineUserSnapshot
    row = statement.first({"client_id": client_id})
    return None if row is None else snapshot(row)


def save_token(token: dict, request) -> None:
    # The row and its audit event were added by the generator (the value is
    # only hashed there and never stored); commit them together.
    prepared.commit()


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


_SECRET_MEMBERS = ("access_token", "refresh_token", "id_token")


def _redacted(arg):
    if isinstance(arg, dict) and any(k in arg for k in _SECRET_MEMBERS):
        return {k: "[redacted]" if k in _SECRET_MEMBERS else v for k, v in arg.items()}
    return arg


class FormPayload(FlaskOAuth2Payload):
    """Token-request parameters from the form body only (RFC 6749 §3.2: the
    client uses POST and a form body). Authlib also reads the query string,
    where a ``scope`` or ``grant_type`` would land in proxy and access logs."""

    @property
    def data(self):
        return self._request.form


class _RedactIssuedTokens(logging.Filter):
    """Authlib logs ``"Issue token %r"`` with the whole token dict at DEBUG:
    never let a token value reach a log line, whatever level is configured."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(a) for a in record.args)
        return True


for _grant in (ClientCredentialsGrant, AuthorizationCodeGrant, RefreshTokenGrant):
    logging.getLogger(_grant.__module__).addFilter(_RedactIssuedTokens())


class ActiveTokenValidator(BearerTokenValidator):
    """Admin-API bearer tokens: active personal and scoped tokens, found by
    digest. A person's token held by an app never opens the admin API."""

    def authenticate_token(self, token_string):
        token = tokens.find(token_string)
        if token is None or token.kind not in (tokens.PERSONAL, tokens.SCOPED):
            return None
        return token


#: Stateless apart from its validator, so one for every app.
require_oauth = ResourceProtector()
require_oauth.register_token_validator(ActiveTokenValidator(realm="scopegate"))


class ClearErrors:
    """Error answers that say what to fix and never echo a token. Mixed into
    both of our Authlib servers (Flask's, and the fast path's in
    ``app.oauth.fastpath``), so both answer alike."""

    def handle_error_response(self, request, error):
        """Authlib renders its own errors (not ``errors.error_parts``); a
        description quoting the request (an unknown scope) keeps no token."""
        if error.description:
            error.description = redact(error.description)
        return super().handle_error_response(request, error)

    def authenticate_client(self, request, methods, endpoint="token"):
        """A client-authentication failure says what to fix instead of listing
        the methods tried (a Python list), and is a 401 with a challenge whenever the
        client tried the Authorization header (RFC 6749 §5.2 says MUST). Authlib's ``none``
        method answers 400 for an unknown ``client_id`` in the form even then.

        The challenge matches the scheme the client used (§5.2 again): a bearer token
        where the endpoint takes one (an admin's, at introspection and revocation) is
        challenged ``Bearer`` as RFC 6750 §3 says; Authlib always writes ``Basic``. Where
        no bearer token is taken (the token endpoint), ``Basic`` names what is."""
        try:
            return super().authenticate_client(request, methods, endpoint)
        except InvalidClientError as error:
            authorization = request.headers.get("Authorization") or ""
            if authorization:
                error.status_code = 401
            if "bearer" not in methods:
                error.description = ("The client id or client secret is wrong (send them "
                                     "with HTTP Basic authentication).")
                raise
            error.description = (
                "The client id or client secret is wrong (send them with HTTP Basic "
                "authentication), or the bearer token is invalid, expired or revoked.")
            if authorization.partition(" ")[0].lower() == "bearer":
                raise BearerClientError(description=error.description) from None
            raise


class BearerClientError(InvalidClientError):
    """``invalid_client`` for a failed bearer token, challenged the RFC 6750 §3 way."""

    status_code = 401

    def get_headers(self):
        # The description is ClearErrors' own sentence: no quote to escape.
        return [*(h for h in super().get_headers() if h[0] != "WWW-Authenticate"),
                ("WWW-Authenticate", f'Bearer realm="scopegate", error="invalid_token", '
                                     f'error_description="{self.get_error_description()}"')]


class ScopegateAuthorizationServer(ClearErrors, AuthorizationServer):
    """Authlib's Flask server, with our error answers, and token requests read
    from the form body only."""

    def create_oauth2_request(self, request):
        """Token requests read their parameters from the form body only."""
        oauth_request = super().create_oauth2_request(request)
        if flask_request.endpoint == "oauth.token":
            oauth_request.payload = FormPayload(flask_request)
        return oauth_request


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
    oidc.register(server)


def init_app(app: Flask) -> AuthorizationServer:
    """One authorization server per app (tests build many apps).

    Built without the app: Authlib's ``init_app`` only reads ``OAUTH2_*``
    settings we do not use (every grant checks its scopes through
    ``services.scopes`` and has its own token generator)."""
    server = ScopegateAuthorizationServer(query_client=query_client, save_token=save_token)
    configure(server)
    app.extensions["scopegate.authorization"] = server
    return server


def authorization() -> AuthorizationServer:
    """The current app's authorization server."""
    return current_app.extensions["scopegate.authorization"]
