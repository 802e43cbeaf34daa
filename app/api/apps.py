"""``/api/v1/apps``: apps people sign in to (OAuth clients with redirect URIs)."""

from __future__ import annotations

from flask import jsonify, request

from app.api import bp, representations
from app.api.auth import admin_only, current_caller
from app.api.body import json_object, only, query_int
from app.errors import Unprocessable
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
