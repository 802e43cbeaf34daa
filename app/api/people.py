"""``/api/v1/people``: the organization's people (admins and members),
invited by one-time link, changed, disabled, deleted."""

from __future__ import annotations

from flask import jsonify, request

from app.api import bp, representations
from app.api.auth import admin_only, current_caller
from app.api.body import json_object, only, query_int
from app.errors import Unprocessable
from app.services import claims, people, tokens


@bp.post("/people")
@admin_only
def invite_person():
    data = only(json_object(), {"email", "role"})
    if "email" not in data or "role" not in data:
        raise Unprocessable("`email` and `role` (`admin` or `member`) are required.")
    account, link = people.invite(current_caller(), data["email"], data["role"])
    body = representations.person(account)
    body.update(invite_url=link.url, invite_expires_at=representations.iso(link.expires_at))
    return jsonify(body), 201


@bp.get("/people")
@admin_only
def list_people():
    page = people.listing(current_caller(), request.args.get("cursor"), query_int("limit"))
    return jsonify(representations.page(page, representations.person))


@bp.get("/people/<email>")
@admin_only
def get_person(email: str):
    return jsonify(representations.person(people.get(current_caller(), email)))


@bp.patch("/people/<email>")
@admin_only
def update_person(email: str):
    data = only(json_object(), {"role", "disabled"})
    if not data or None in data.values():
        raise Unprocessable("Give `role` (`admin` or `member`) and/or `disabled` (true or false).")
    account = people.update(current_caller(), email, role=data.get("role"),
                            disabled=data.get("disabled"))
    return jsonify(representations.person(account))


@bp.delete("/people/<email>")
@admin_only
def delete_person(email: str):
    people.delete_person(current_caller(), email)
    return "", 204


@bp.post("/people/<email>/reset-link")
@admin_only
def reset_link(email: str):
    json_object(required=False)
    link = people.reset_link(current_caller(), email)
    return jsonify(email=link.email, purpose=link.purpose, reset_url=link.url,
                   expires_at=representations.iso(link.expires_at)), 201


@bp.post("/people/<email>/tokens")
@admin_only
def create_person_token(email: str):
    data = only(json_object(required=False), {"name", "expires_in"})
    caller = current_caller()
    value, token = tokens.create_personal(people.get(caller, email), caller,
                                          name=data.get("name"),
                                          expires_in=data.get("expires_in"))
    body = representations.token(token)
    body.update(token=value, role=claims.role_of(token))
    return jsonify(body), 201
