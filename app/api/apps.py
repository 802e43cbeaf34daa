"""``/api/v1/apps``: apps people sign in to (OAuth clients with redirect URIs)."""

from __future__ import annotations

from flask import jsonify, request

from app.api import bp, representations
from app.api.auth import admin_only, current_caller
from app.api.body import json_object, only, query_int
from app.api.representations import PAGE_PARAMETERS
from app.errors import Unprocessable
from app.openapi import answer, describe, errors, json_body, path_parameter, ref
from app.services import apps


@bp.post("/apps")
@admin_only
def create_app():
    data = only(json_object(), {"name", "redirect_uris", "public"})
    for field in ("name", "redirect_uris"):
        if field not in data:
            raise Unprocessable(f"`{field}` is required.")
    app, secret = apps.create(current_caller(), data["name"], data["redirect_uris"],
                              data.get("public", False))
    body = representations.app(app)
    if secret is not None:
        body["client_secret"] = secret
    return jsonify(body), 201


@bp.get("/apps")
@admin_only
def list_apps():
    page = apps.listing(current_caller(), request.args.get("cursor"), query_int("limit"))
    return jsonify(representations.page(page, representations.app))


@bp.get("/apps/<client_id>")
@admin_only
def get_app(client_id: str):
    return jsonify(representations.app(apps.get(current_caller(), client_id)))


@bp.delete("/apps/<client_id>")
@admin_only
def delete_app(client_id: str):
    apps.delete_app(current_caller(), client_id)
    return "", 204


@bp.post("/apps/<client_id>/secret")
@admin_only
def rotate_app_secret(client_id: str):
    json_object(required=False)
    app, secret = apps.rotate_secret(current_caller(), client_id)
    return jsonify({**representations.app(app), "client_secret": secret}), 201


CLIENT_ID = path_parameter("client_id", description="the app's client_id (app-...)")
_BY_CLIENT_ID = {"client_id": "$response.body#/client_id"}

describe({
    "/api/v1/apps": {
        "post": {"operationId": "create_app",
                 "summary": "Register an app people sign in to (a confidential app's secret "
                            "is shown once)",
                 "requestBody": json_body("NewApp"),
                 "responses": {
                     "201": answer("the registered app", "NewAppResult", links={
                         "GetApp": {"operationId": "get_app", "parameters": _BY_CLIENT_ID},
                         "RotateAppSecret": {"operationId": "rotate_app_secret",
                                             "parameters": _BY_CLIENT_ID},
                         "DeleteApp": {"operationId": "delete_app",
                                       "parameters": _BY_CLIENT_ID}}),
                     **errors(400, 401, 403, 422)}},
        "get": {"operationId": "list_apps", "summary": "The organization's apps, newest first",
                "parameters": PAGE_PARAMETERS,
                "responses": {"200": answer("a page of apps", "AppPage"),
                              **errors(401, 403, 422)}},
    },
    "/api/v1/apps/{client_id}": {
        "parameters": [CLIENT_ID],
        "get": {"operationId": "get_app", "summary": "One app",
                "responses": {"200": answer("the app", "App"), **errors(401, 403, 404)}},
        "delete": {"operationId": "delete_app",
                   "summary": "Delete an app and revoke every token issued to it",
                   "responses": {"204": answer("deleted"), **errors(401, 403, 404)}},
    },
    "/api/v1/apps/{client_id}/secret": {
        "parameters": [CLIENT_ID],
        "post": {"operationId": "rotate_app_secret",
                 "summary": "Rotate a confidential app's secret (shown once; a public app "
                            "has none: 422)",
                 "responses": {"201": answer("the app and its new secret", "NewAppResult"),
                               **errors(401, 403, 404, 422)}},
    },
}, schemas={
    "NewApp": {"type": "object", "required": ["name", "redirect_uris"],
               "additionalProperties": False, "properties": {
                   "name": {"type": "string", "minLength": 1, "maxLength": 100},
                   "redirect_uris": {"type": "array", "minItems": 1,
                                     "maxItems": apps.MAX_REDIRECT_URIS,
                                     "items": {"type": "string", "format": "uri",
                                               "maxLength": apps.MAX_URI_LENGTH}},
                   "public": {"type": "boolean", "default": False}}},
    "NewAppResult": {"allOf": [ref("App"), {
        "type": "object", "properties": {"client_secret": {"type": "string"}}}]},
})
