"""``/api/v1/scopes``, ``/api/v1/me`` and the OpenAPI document."""

from __future__ import annotations

from flask import jsonify

from app.api import bp, representations
from app.api.auth import authenticated, current_caller
from app.api.openapi import document
from app.services import claims
from sdk.auth.scopes import DESCRIPTIONS


@bp.get("/scopes")
@authenticated()
def list_scopes():
    return jsonify(items=[{"name": s.value, "description": d} for s, d in DESCRIPTIONS.items()])


@bp.get("/me")
@authenticated()
def me():
    caller = current_caller()
    token = caller.token
    return jsonify(
        user_id=caller.name, email=representations.token(token)["email"], sub=caller.uid,
        user_type="human" if token.kind == "personal" else "generated",
        role=claims.role_of(token),
        customer=token.org_name, scopes=token.scopes, token=representations.token(token),
    )


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())
