"""OpenID Connect for people, on Authlib's grants: the authorization code
grant with PKCE (S256 only, required for every app) and the OpenID Connect
extension, the refresh-token grant with rotation, the ``iss`` authorization
response parameter (RFC 9207) and userinfo. Every decision is asked of
``services.signin``; this module only fills the hooks Authlib leaves open.
"""

from __future__ import annotations

from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import InvalidRequestError, grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9207 import IssuerParameter
from authlib.oidc.core import OpenIDCode, OpenIDToken, UserInfoEndpoint
from flask import current_app
from flask import request as flask_request

from app.errors import MissingCredentials, Unauthorized
from app.services import keys, scopes, signin, tokens

#: How long an ID token is accepted for authentication (its ``exp``).
ID_TOKEN_LIFETIME = 600
#: Apps authenticate at the token endpoint with their secret, or (public apps) not at all.
APP_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


def issuer() -> str:
    return current_app.config["SCOPEGATE_ISSUER"].rstrip("/")


class Issuer(IssuerParameter):
    """RFC 9207: ``iss`` on every authorization response, errors included."""

    def get_issuer(self) -> str:
        return issuer()


class S256Challenge(CodeChallenge):
    """PKCE for every app, ``S256`` only: a missing challenge or ``plain`` is
    ``invalid_request`` (sent to the app's redirect URI, which is verified by
    then). Authlib's ``required=True`` only demands a verifier from public
    clients at the token endpoint; the challenge itself is required here."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send `code_challenge` with "
                                      "`code_challenge_method=S256`.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("`code_challenge_method` must be `S256` "
                                      "(`plain` is not accepted).")
        return super().validate_code_challenge(grant, redirect_uri)


class _PersonIdToken:
    """ID tokens signed with the current RS256 key of the JWKS (joserfc), claims from services."""

    def resolve_client_private_key(self, client):
        return keys.signing_key(keys.ID_TOKEN_ALG)

    def get_client_algorithm(self, client):
        return keys.ID_TOKEN_ALG

    def get_encode_header(self, client):
        return {"alg": keys.ID_TOKEN_ALG, "kid": keys.signing_key(keys.ID_TOKEN_ALG).kid,
                "typ": "JWT"}

    def get_client_claims(self, client):
        return {"iss": issuer(), "aud": client.get_client_id()}

    def get_compatible_claims(self, request):
        found = super().get_compatible_claims(request)
        found["exp"] = found["iat"] + ID_TOKEN_LIFETIME
        return found

    def generate_user_info(self, grantee, scope):
        # auth_time of the sign-in (refreshes keep it; the code grant sets it too).
        return {**signin.claims(grantee.account, scope), "auth_time": grantee.auth_time}


class PersonOpenIDCode(_PersonIdToken, OpenIDCode):
    def exists_nonce(self, nonce, request):
        return signin.nonce_seen(request.payload.client_id, nonce)


class PersonOpenIDToken(_PersonIdToken, OpenIDToken):
    """A fresh ID token on refresh too, with the same ``sub`` (OIDC Core §12.2)."""


class PersonCodeGrant(grants.AuthorizationCodeGrant):
    """``authorization_code`` for apps; the code rules live in ``services.signin``."""

    TOKEN_ENDPOINT_AUTH_METHODS = APP_AUTH_METHODS

    def validate_requested_scope(self):
        scopes.app_scopes(self.request.payload.scope)

    def save_authorization_code(self, code, request):
        data = request.payload.data
        signin.save_code(code, request.client, request.user.account,
                         redirect_uri=request.payload.redirect_uri, scope=request.scope,
                         nonce=data.get("nonce"), challenge=data["code_challenge"],
                         method=data["code_challenge_method"],
                         auth_time=request.user.auth_time)

    def query_authorization_code(self, code, client):
        return signin.redeem_code(code, client)

    def delete_authorization_code(self, authorization_code):
        """Spent, not deleted: a second redemption must be recognised."""

    def authenticate_user(self, authorization_code):
        return signin.grantee_of_code(authorization_code)


class RotatingRefreshGrant(grants.RefreshTokenGrant):
    """``refresh_token`` for apps: every use returns a new refresh token and
    spends the old one; reuse of a spent one revokes the family."""

    TOKEN_ENDPOINT_AUTH_METHODS = APP_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        return signin.spend_refresh(refresh_token, self.request.client)

    def authenticate_user(self, refresh_token):
        return signin.grantee_of_refresh(refresh_token)

    def revoke_old_credential(self, refresh_token):
        """Already spent by ``authenticate_refresh_token`` (atomically)."""


def generate_person_token(grant_type, client, user=None, scope=None, expires_in=None,
                          include_refresh_token=False) -> dict:
    """Tokens for an app (both grants): the access token, and a refresh token
    when the person granted ``offline_access``."""
    access, row, refresh = signin.issue(client, user, scope or "",
                                        refreshing=grant_type == "refresh_token")
    token = {"token_type": "Bearer", "access_token": access,
             "expires_in": row.expires_at - row.issued_at, "scope": row.scope}
    if refresh:
        token["refresh_token"] = refresh
    return token


class AppTokenValidator(BearerTokenValidator):
    """Userinfo: an active access token a person's app holds, never another kind."""

    def authenticate_token(self, token_string):
        token = tokens.authenticate(token_string)
        return token if token is not None and token.kind == tokens.APP else None


class UserInfo(UserInfoEndpoint):
    """``GET|POST /oauth/userinfo``: the claims of the token's scopes. The
    token comes in the Authorization header, or (POST) the form's
    ``access_token`` (RFC 6750 §2.2)."""

    def __call__(self, request):
        token = self.resource_protector.acquire_token("openid")
        person = signin.person_of(token)
        if person is None:
            raise Unauthorized()
        return 200, signin.claims(person, token.scope), [("Content-Type", "application/json")]


class UserInfoProtector(ResourceProtector):
    """Bearer tokens from the Authorization header, or else from a POST form.

    No credentials, or a header that is not ``Bearer <token>``, is answered as
    the admin API answers it (RFC 6750 §3: no ``error`` without credentials,
    ``invalid_token`` otherwise); Authlib's own answers there are
    ``missing_authorization`` and ``unsupported_token_type``, which RFC 6750
    does not define."""

    def parse_request_authorization(self, request):
        if not request.headers.get("Authorization"):
            value = (flask_request.form.get("access_token") if flask_request.method == "POST"
                     and flask_request.mimetype == "application/x-www-form-urlencoded"
                     else None)
            if not value:
                raise MissingCredentials()
            return self.get_token_validator("bearer"), value
        try:
            return super().parse_request_authorization(request)
        except OAuth2Error:
            raise Unauthorized() from None


def register(server) -> None:
    """Add sign-in for people to the authorization server."""
    server.register_grant(PersonCodeGrant, [S256Challenge(required=True), PersonOpenIDCode()])
    server.register_grant(RotatingRefreshGrant, [PersonOpenIDToken()])
    server.register_token_generator("authorization_code", generate_person_token)
    server.register_token_generator("refresh_token", generate_person_token)
    server.register_extension(Issuer())
    protector = UserInfoProtector()
    protector.register_token_validator(AppTokenValidator(realm="scopegate"))
    server.register_endpoint(UserInfo(resource_protector=protector))
