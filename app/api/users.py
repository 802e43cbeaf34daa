"""``/api/v1/users``: machine users, their scoped tokens and credentials."""

from __future__ import annotations

from flask import jsonify, request

from app.api import bp, representations
from app.api.auth import admin_only, current_caller
from app.api.body import json_object, only, query_int
from app.errors import Unprocessable
from app.services import tokens, users


@bp.post("/users")
@admin_only
def create_user():
    data = only(json_object(), {"name", "scopes"})
    if "name" not in data:
        raise Unprocessable("`name` is required.")
    if "scopes" in data and not isinstance(data["scopes"], list):
        raise Unprocessable("`scopes` must be a list of scope names.")
    user = users.create(current_caller(), data["name"], data.get("scopes"))
    return jsonify(representations.user(user)), 201


@bp.get("/users")
@admin_only
def list_users():
    page = users.listing(current_caller(), request.args.get("cursor"), query_int("limit"))
    return jsonify(representations.page(page, representations.user))


@bp.get("/users/<name>")
@admin_only
def get_user(name: str):
    return jsonify(representations.user(users.get(current_caller(), name)))


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
    return jsonify(client_id=user.client_id, client_secret=secret,
                   token_endpoint="/oauth/token",  # noqa: S106 - a path
                   revoked_tokens=revoked), 201


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
