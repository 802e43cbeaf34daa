"""OAuth HTTP endpoints. Each view is one line into Authlib; the shared
steps (reject repeated parameters, never cache) run before and after."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, jsonify, request

from app.errors import InvalidRequest
from app.oauth import client_auth
from app.oauth.discovery import metadata
from app.oauth.server import authorization, query_client
from app.openapi import answer, describe, errors, form_body, query_parameter
from app.services import keys, revocations

bp = Blueprint("oauth", __name__)


def reject_repeated(names) -> None:
    """RFC 6749 §3.1/§3.2: a parameter MUST NOT be included more than once.
    Names the first repeated one in order of first appearance (the fast path and
    the views say the same)."""
    for name, count in Counter(names).items():
        if count > 1:
            raise InvalidRequest(f"Parameter {name!r} is repeated.")


@bp.before_request
def reject_repeated_parameters():
    """Only the form counts: the POST endpoints ignore the query string."""
    if request.method == "POST":
        reject_repeated(name for name, _ in request.form.items(multi=True))


@bp.after_request
def no_store(response):
    if request.method != "POST" and request.endpoint != "oauth.userinfo":
        return response  # discovery and JWKS are public and cacheable
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.post("/oauth/token")
def token():
    return authorization().create_token_response()


@bp.post("/oauth/introspect")
def introspect():
    return authorization().create_endpoint_response("introspection")


@bp.post("/oauth/revoke")
def revoke():
    return authorization().create_endpoint_response("revocation")


@bp.route("/oauth/userinfo", methods=["GET", "POST"])
def userinfo():
    return authorization().create_endpoint_response("userinfo")


@bp.get("/oauth/revocations")
def revocation_feed():
    client_auth.resource_server(query_client, request)
    feed = revocations.read(request.args.get("since"), request.args.get("limit"))
    response = jsonify(items=feed.items, next_cursor=feed.next_cursor)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/oauth/jwks")
def jwks():
    return jsonify(keys.jwks())


@bp.get("/.well-known/openid-configuration")
@bp.get("/.well-known/oauth-authorization-server")
def discovery():
    return jsonify(metadata())


_CLIENT = [{"basic": []}]
_CLIENT_OR_BEARER = [{"basic": []}, {"bearer": []}]
_TOKEN_PARAMS = {"token": {"type": "string"},
                 "token_type_hint": {"type": "string",
                                     "enum": ["access_token", "refresh_token"]}}

_APP_OR_CLIENT = [{"basic": []}, {}]  # an app may send client_secret_post, or (public) nothing
_USERINFO = {"summary": "OpenID Connect userinfo: the claims an app's access token "
                        "was granted (scope openid)",
             "security": [{"bearer": []}],
             "responses": {"200": answer("the person's claims", "UserInfo"),
                           **errors(400, 401, 403)}}

describe({
    "/oauth/token": {"post": {
        "operationId": "token",
        "summary": "RFC 6749 token endpoint: client_credentials (machine users, HTTP Basic); "
                   "authorization_code with PKCE and refresh_token (apps: HTTP Basic, "
                   "client_secret_post, or a public app's client_id alone)",
        "security": _APP_OR_CLIENT, "requestBody": form_body("TokenRequest"),
        "responses": {"200": answer("an access token", "TokenResponse"),
                      **errors(400, 401)}}},
    "/oauth/userinfo": {
        "get": {"operationId": "userinfo", **_USERINFO},
        "post": {"operationId": "userinfo_post", **_USERINFO,
                 "requestBody": {**form_body("UserInfoRequest"), "required": False}},
    },
    "/oauth/revocations": {"get": {
        "operationId": "revocation_feed",
        "summary": "Revoked, not yet expired tokens since a cursor, for resource servers "
                   "that cache introspection (resource-server credentials, HTTP Basic)",
        "security": _CLIENT,
        "parameters": [query_parameter("since", description="next_cursor of the previous page"),
                       query_parameter("limit", {"type": "integer", "minimum": 1,
                                                  "maximum": revocations.MAX_PAGE})],
        "responses": {"200": answer("a page of the feed", "RevocationFeed"),
                      **errors(400, 401, 403)}}},
    "/oauth/introspect": {"post": {
        "operationId": "introspect",
        "summary": "RFC 7662 introspection; {\"active\": false} for anything not live "
                   "or out of the caller's reach",
        "security": _CLIENT_OR_BEARER, "requestBody": form_body("TokenParameter"),
        "responses": {"200": answer("the token's claims", "Introspection"),
                      **errors(400, 401)}}},
    "/oauth/revoke": {"post": {
        "operationId": "revoke", "summary": "RFC 7009 revocation (unknown tokens: 200)",
        "security": _CLIENT_OR_BEARER, "requestBody": form_body("TokenParameter"),
        "responses": {"200": answer("revoked, or nothing to revoke", {"type": "object"}),
                      **errors(400, 401)}}},
    "/oauth/jwks": {"get": {
        "operationId": "jwks", "summary": "Public signing keys (RFC 7517)", "security": [],
        "responses": {"200": answer("the key set", "JWKS")}}},
    **{path: {"get": {
        "operationId": operation, "summary": "Discovery metadata (RFC 8414, OIDC Discovery)",
        "security": [], "responses": {"200": answer("the metadata", "Discovery")}}}
       for path, operation in (("/.well-known/openid-configuration", "openid_configuration"),
                               ("/.well-known/oauth-authorization-server",
                                "oauth_authorization_server"))},
}, schemas={
    "TokenRequest": {"type": "object", "required": ["grant_type"], "properties": {
        "grant_type": {"type": "string",
                       "enum": ["client_credentials", "authorization_code", "refresh_token"]},
        "scope": {"type": "string", "description": "space-separated; none: the whole ceiling"},
        **{k: {"type": "string"} for k in ("code", "redirect_uri", "code_verifier",
                                           "refresh_token", "client_id", "client_secret")}}},
    "TokenResponse": {"type": "object",
                      "required": ["access_token", "token_type", "expires_in", "scope"],
                      "properties": {"access_token": {"type": "string"},
                                     "token_type": {"type": "string", "enum": ["Bearer"]},
                                     "expires_in": {"type": "integer"},
                                     "scope": {"type": "string"},
                                     "refresh_token": {"type": "string"},
                                     "id_token": {"type": "string"}}},
    "UserInfoRequest": {"type": "object", "properties": {
        "access_token": {"type": "string", "description": "RFC 6750 §2.2, instead of the "
                                                          "Authorization header"}}},
    "UserInfo": {"type": "object", "required": ["sub"], "properties": {
        "sub": {"type": "string"}, "email": {"type": "string"},
        "email_verified": {"type": "boolean"}, "name": {"type": ["string", "null"]},
        "org": {"type": "string"}}},
    "RevocationFeed": {"type": "object", "required": ["items", "next_cursor"], "properties": {
        "items": {"type": "array", "items": {
            "type": "object", "required": ["token_id", "revoked_at", "exp"],
            "properties": {"token_id": {"type": "string"}, "revoked_at": {"type": "integer"},
                           "exp": {"type": "integer"}}}},
        "next_cursor": {"type": "string"}}},
    "TokenParameter": {"type": "object", "required": ["token"], "properties": _TOKEN_PARAMS},
    "Introspection": {"type": "object", "required": ["active"], "properties": {
        "active": {"type": "boolean"},
        **{k: {"type": "string"} for k in ("scope", "client_id", "sub", "iss", "token_type",
                                           "token_id", "user_id", "email", "customer",
                                           "user_type", "role", "env")},
        **{k: {"type": "integer"} for k in ("exp", "iat")},
        "renewable": {"type": "boolean"}}},
    "JWKS": {"type": "object", "required": ["keys"], "properties": {
        "keys": {"type": "array", "items": {"type": "object", "required": ["kty"]}}}},
    "Discovery": {"type": "object", "required": ["issuer", "token_endpoint", "jwks_uri"],
                  "properties": {"issuer": {"type": "string"},
                                 "token_endpoint": {"type": "string"},
                                 "jwks_uri": {"type": "string"}}},
})
