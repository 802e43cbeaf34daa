"""``/api/v1/users``: machine users, their scoped tokens and credentials."""

from __future__ import annotations

from flask import current_app, jsonify, request

from app.api import bp, representations
from app.api.auth import admin_only, current_caller
from app.api.body import json_object, only, query_int
from app.api.representations import PAGE_PARAMETERS
from app.errors import Unprocessable
from app.openapi import answer, describe, errors, json_body, path_parameter, ref
from app.services import tokens, users
from app.services.users import NAME_RE


def _people(caller, listed) -> representations.People:
    return representations.people(caller, ids=[u.created_by for u in listed],
                                  names=[u.name for u in listed])


@bp.post("/users")
@admin_only
def create_user():
    data = only(json_object(), {"name", "scopes"})
    if "name" not in data:
        raise Unprocessable("`name` is required.")
    if "scopes" in data and not isinstance(data["scopes"], list):
        raise Unprocessable("`scopes` must be a list of scope names.")
    caller = current_caller()
    user = users.create(caller, data["name"], data.get("scopes"))
    return jsonify(representations.user(user, _people(caller, [user]))), 201


@bp.get("/users")
@admin_only
def list_users():
    caller = current_caller()
    page = users.listing(caller, request.args.get("cursor"), query_int("limit"))
    known = _people(caller, page.items)
    return jsonify(representations.page(page, lambda u: representations.user(u, known)))


@bp.get("/users/<name>")
@admin_only
def get_user(name: str):
    caller = current_caller()
    user = users.get(caller, name)
    return jsonify(representations.user(user, _people(caller, [user])))


@bp.delete("/users/<name>")
@admin_only
def delete_user(name: str):
    users.delete(current_caller(), name)
    return "", 204


@bp.post("/users/<name>/credentials")
@admin_only
def create_credentials(name: str):
    json_object(required=False)
    user, secret, revoked = users.create_credentials(current_caller(), name)
    # Tokens obtained with the replaced secret are revoked with it (services.users).
    issuer = current_app.config["SCOPEGATE_ISSUER"].rstrip("/")
    return jsonify(client_id=user.client_id, client_secret=secret,
                   token_endpoint=f"{issuer}/oauth/token", revoked_tokens=revoked), 201


@bp.post("/users/<name>/tokens")
@admin_only
def create_token(name: str):
    data = only(json_object(), {"scopes", "expires_in"})
    if "scopes" not in data:
        raise Unprocessable("`scopes` is required: a list of scope names.")
    if not isinstance(data["scopes"], list):
        raise Unprocessable("`scopes` must be a list of scope names.")
    caller = current_caller()
    user = users.get(caller, name)
    value, token = tokens.create_scoped(user, caller, data["scopes"], data.get("expires_in"))
    return jsonify(
        # From the token row: the user may be deleted by now (its tokens revoked with it).
        token=value, token_id=token.token_id, user_id=token.subject_name, email=token.subject_uid,
        scopes=token.scopes, expires_at=representations.iso(token.expires_at),
    ), 201


NAME = path_parameter("name", description="the user's name or unique ID")
_BY_NAME = {"name": "$response.body#/name"}

describe({
    "/api/v1/users": {
        "post": {"operationId": "create_user", "summary": "Create a machine user",
                 "requestBody": json_body("NewUser"),
                 "responses": {
                     "201": answer("the new user", "User", links={
                         "GetUser": {"operationId": "get_user", "parameters": _BY_NAME},
                         "CreateCredentials": {"operationId": "create_credentials",
                                               "parameters": _BY_NAME},
                         "CreateToken": {"operationId": "create_token",
                                         "parameters": _BY_NAME},
                         "DeleteUser": {"operationId": "delete_user",
                                        "parameters": _BY_NAME}}),
                     **errors(400, 401, 403, 409, 422)}},
        "get": {"operationId": "list_users", "summary": "List machine users, newest first",
                "parameters": PAGE_PARAMETERS,
                "responses": {"200": answer("a page of users", "UserPage"),
                              **errors(401, 403, 422)}},
    },
    "/api/v1/users/{name}": {
        "parameters": [NAME],
        "get": {"operationId": "get_user", "summary": "One machine user",
                "responses": {"200": answer("the user", "User"), **errors(401, 403, 404)}},
        "delete": {"operationId": "delete_user",
                   "summary": "Delete a machine user; its tokens are revoked with it",
                   "responses": {"204": answer("deleted"), **errors(401, 403, 404)}},
    },
    "/api/v1/users/{name}/credentials": {
        "parameters": [NAME],
        "post": {"operationId": "create_credentials",
                 "summary": "Issue client credentials (the secret is shown once and "
                            "replaces the previous one)",
                 "responses": {"201": answer("the credentials", "Credentials"),
                               **errors(401, 403, 404, 422)}},
    },
    "/api/v1/users/{name}/tokens": {
        "parameters": [NAME],
        "post": {"operationId": "create_token",
                 "summary": "Create a scoped token (the value is shown once)",
                 "requestBody": json_body("NewToken"),
                 "responses": {
                     "201": answer("the new token", "NewTokenResult", links={
                         "GetToken": {"operationId": "get_token",
                                      "parameters": {"token_id": "$response.body#/token_id"}},
                         "RenewToken": {"operationId": "renew_token",
                                        "parameters": {"token_id": "$response.body#/token_id"}},
                         "RevokeToken": {"operationId": "revoke_token",
                                         "parameters": {"token_id": "$response.body#/token_id"}},
                         "Introspect": {"operationId": "introspect",
                                        "requestBody": {"token": "$response.body#/token"}}}),
                     **errors(400, 401, 403, 404, 422)}},
    },
}, schemas={
    "NewUser": {"type": "object", "required": ["name"], "additionalProperties": False,
                "properties": {"name": {"type": "string", "pattern": NAME_RE.pattern},
                               "scopes": {"type": "array", "items": ref("Scope"),
                                          "minItems": 1}}},
    "Credentials": {"type": "object", "required": ["client_id", "client_secret"],
                    "properties": {"client_id": {"type": "string"},
                                   "client_secret": {"type": "string"},
                                   "token_endpoint": {"type": "string"},
                                   "revoked_tokens": {
                                       "type": "integer", "minimum": 0,
                                       "description": "tokens obtained with the replaced "
                                                      "secret, revoked with it"}}},
    "NewToken": {"type": "object", "required": ["scopes"], "additionalProperties": False,
                 "properties": {"scopes": {"type": "array", "items": ref("Scope"),
                                           "minItems": 1},
                                "expires_in": {"type": "integer", "minimum": 1}}},
    "NewTokenResult": {
        "type": "object", "required": ["token", "token_id", "scopes", "expires_at"],
        "properties": {**{k: {"type": "string"} for k in
                          ("token", "token_id", "user_id", "email", "expires_at")},
                       "scopes": {"type": "array", "items": ref("Scope"),
                                          "minItems": 1}}},
})
