"""``/api/v1/tokens``: metadata, revocation by id, renewal."""

from __future__ import annotations

from flask import jsonify, request

from app.api import bp, representations
from app.api.auth import admin_only, authenticated, current_caller
from app.api.body import json_object, only, query_bool, query_int
from app.api.representations import PAGE_PARAMETERS, TOKEN_KINDS
from app.openapi import answer, describe, errors, json_body, path_parameter, query_parameter, ref
from app.services import tokens
from sdk.auth.scopes import ADMIN_SCOPE, Scope


@bp.get("/tokens")
@admin_only
def list_tokens():
    caller = current_caller()
    page = tokens.listing(caller, user=request.args.get("user") or None,
                          active=query_bool("active"),
                          kind=request.args.get("kind") or None,
                          cursor=request.args.get("cursor"), limit=query_int("limit"))
    known = representations.people(caller, ids=[t.created_by for t in page.items],
                                   names=[t.subject_name for t in page.items])
    return jsonify(representations.page(page, lambda t: representations.token(t, known)))


@bp.get("/tokens/<token_id>")
@admin_only
def get_token(token_id: str):
    caller = current_caller()
    token = tokens.get(caller, token_id)
    known = representations.people(caller, ids=[token.created_by], names=[token.subject_name])
    return jsonify(representations.token(token, known))


@bp.delete("/tokens/<token_id>")
@authenticated(ADMIN_SCOPE, Scope.revoke_user_token.value)
def revoke_token(token_id: str):
    tokens.revoke_by_id(current_caller(), token_id)
    return "", 204


@bp.post("/tokens/<token_id>/renew")
@admin_only
def renew_token(token_id: str):
    data = only(json_object(required=False), {"expires_in"})
    token, clamped = tokens.renew(current_caller(), token_id, data.get("expires_in"))
    body = representations.token(token)
    body["clamped"] = clamped
    if clamped:
        body["message"] = ("Expiry clamped to issue time + the maximum lifetime; "
                           "create a new token to go further.")
    return jsonify(body)


TOKEN_ID = path_parameter("token_id", {"type": "string"}, "the token's public id (32 hex)")

describe({
    "/api/v1/tokens": {
        "get": {"operationId": "list_tokens",
                "summary": "Token metadata of the organization, newest first (never values)",
                "parameters": [
                    query_parameter("user", description="a user's name or unique ID"),
                    query_parameter("active", {"type": "string", "enum": ["true", "false"]}),
                    query_parameter("kind", {"type": "string", "enum": TOKEN_KINDS}),
                    *PAGE_PARAMETERS],
                "responses": {"200": answer("a page of tokens", "TokenPage"),
                              **errors(401, 403, 404, 422)}},
    },
    "/api/v1/tokens/{token_id}": {
        "parameters": [TOKEN_ID],
        "get": {"operationId": "get_token", "summary": "One token's metadata",
                "responses": {"200": answer("the token", "Token"), **errors(401, 403, 404)}},
        "delete": {"operationId": "revoke_token",
                   "summary": "Revoke a token (idempotent); a scoped token with "
                              "revoke_user_token may revoke its own user's tokens",
                   "responses": {"204": answer("revoked"), **errors(401, 403, 404)}},
    },
    "/api/v1/tokens/{token_id}/renew": {
        "parameters": [TOKEN_ID],
        "post": {"operationId": "renew_token",
                 "summary": "Extend an active token, never past issue time + max lifetime",
                 "requestBody": json_body("Renew", required=False),
                 "responses": {"200": answer("the renewed token", "RenewedToken"),
                               **errors(400, 401, 403, 404, 409, 422)}},
    },
}, schemas={
    "Renew": {"type": "object", "additionalProperties": False,
              "properties": {"expires_in": {"type": "integer", "minimum": 1}}},
    "RenewedToken": {"allOf": [ref("Token"), {
        "type": "object", "required": ["clamped"],
        "properties": {"clamped": {"type": "boolean"}, "message": {"type": "string"}}}]},
})
