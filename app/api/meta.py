"""``/api/v1/scopes``, ``/api/v1/me`` and the OpenAPI document."""

from __future__ import annotations

from flask import jsonify

from app.api import bp, representations
from app.api.auth import authenticated, current_caller
from app.openapi import answer, describe, document, errors, ref
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


describe({
    "/api/v1/scopes": {"get": {
        "operationId": "list_scopes", "summary": "The scope catalog, with a description of each",
        "responses": {"200": answer("the catalog", "ScopeCatalog"), **errors(401)}}},
    "/api/v1/me": {"get": {
        "operationId": "me", "summary": "The caller's identity and token metadata",
        "responses": {"200": answer("the caller", "Me"), **errors(401)}}},
    "/api/v1/openapi.json": {"get": {
        "operationId": "openapi", "summary": "This document", "security": [],
        "responses": {"200": answer("OpenAPI 3.1", {"type": "object"})}}},
}, schemas={
    "ScopeCatalog": {"type": "object", "required": ["items"], "properties": {"items": {
        "type": "array", "items": {"type": "object", "required": ["name", "description"],
                                   "properties": {"name": ref("Scope"),
                                                  "description": {"type": "string"}}}}}},
    "Me": {"type": "object", "required": ["user_id", "sub", "user_type", "role", "scopes"],
           "properties": {
               **{k: {"type": "string"} for k in ("user_id", "email", "sub", "customer")},
               "user_type": {"type": "string", "enum": ["human", "generated"]},
               "role": {"type": "string", "enum": ["admin", "machine"]},
               "scopes": {"type": "array", "items": {"type": "string"}},
               "token": ref("Token")}},
})
