"""``/api/v1/tokens``: metadata, revocation by id, renewal."""

from __future__ import annotations

from flask import jsonify, request

from app.api import bp, representations
from app.api.auth import admin_only, authenticated, current_caller
from app.api.body import json_object, only, query_bool, query_int
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
