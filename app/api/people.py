"""``/api/v1/people``: the organization's people (admins and members),
invited by one-time link, changed, disabled, deleted."""

from __future__ import annotations

from flask import jsonify, request

from app.api import bp, representations
from app.api.auth import admin_only, current_caller
from app.api.body import json_object, only, query_int
from app.api.representations import PAGE_PARAMETERS
from app.errors import Unprocessable
from app.openapi import answer, describe, errors, json_body, path_parameter, ref
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


EMAIL = path_parameter("email", description="the person's email or unique ID")
_BY_EMAIL = {"email": "$response.body#/email"}

describe({
    "/api/v1/people": {
        "post": {"operationId": "invite_person",
                 "summary": "Invite a person (a one-time link, shown once)",
                 "requestBody": json_body("NewPerson"),
                 "responses": {
                     "201": answer("the invited person and their link", "Invitation", links={
                         "GetPerson": {"operationId": "get_person", "parameters": _BY_EMAIL},
                         "UpdatePerson": {"operationId": "update_person",
                                          "parameters": _BY_EMAIL},
                         "ResetLink": {"operationId": "person_reset_link",
                                       "parameters": _BY_EMAIL},
                         "DeletePerson": {"operationId": "delete_person",
                                          "parameters": _BY_EMAIL}}),
                     **errors(400, 401, 403, 409, 422)}},
        "get": {"operationId": "list_people",
                "summary": "The organization's people, newest first",
                "parameters": PAGE_PARAMETERS,
                "responses": {"200": answer("a page of people", "PersonPage"),
                              **errors(401, 403, 422)}},
    },
    "/api/v1/people/{email}": {
        "parameters": [EMAIL],
        "get": {"operationId": "get_person", "summary": "One person",
                "responses": {"200": answer("the person", "Person"), **errors(401, 403, 404)}},
        "patch": {"operationId": "update_person",
                  "summary": "Change the role and/or disable or enable; disabling ends their "
                             "sessions and tokens at once, a role change their personal tokens "
                             "(the last admin cannot be demoted or disabled: 409)",
                  "requestBody": json_body("PersonChange"),
                  "responses": {"200": answer("the changed person", "Person"),
                                **errors(400, 401, 403, 404, 409, 422)}},
        "delete": {"operationId": "delete_person",
                   "summary": "Delete a person; their sessions and tokens end at once "
                              "(the last admin cannot be deleted: 409)",
                   "responses": {"204": answer("deleted"), **errors(401, 403, 404, 409)}},
    },
    "/api/v1/people/{email}/reset-link": {
        "parameters": [EMAIL],
        "post": {"operationId": "person_reset_link",
                 "summary": "A new one-time link to choose a password (shown once); the "
                            "previous link dies",
                 "responses": {"201": answer("the link", "ResetLink"),
                               **errors(401, 403, 404, 409, 422)}},
    },
    "/api/v1/people/{email}/tokens": {
        "parameters": [EMAIL],
        "post": {"operationId": "create_person_token",
                 "summary": "A personal token for a member, or for yourself (the value is "
                            "shown once)",
                 "requestBody": json_body("NewPersonalToken", required=False),
                 "responses": {"201": answer("the new token", "NewPersonalTokenResult", links={
                     "GetToken": {"operationId": "get_token",
                                  "parameters": {"token_id": "$response.body#/token_id"}},
                     "RevokeToken": {"operationId": "revoke_token",
                                     "parameters": {"token_id": "$response.body#/token_id"}}}),
                     **errors(400, 401, 403, 404, 409, 422)}},
    },
}, schemas={
    "NewPerson": {"type": "object", "required": ["email", "role"], "additionalProperties": False,
                  "properties": {"email": {"type": "string", "format": "email",
                                           "maxLength": 254},
                                 "role": {"type": "string", "enum": list(people.ROLES)}}},
    "Invitation": {"allOf": [ref("Person"), {
        "type": "object", "required": ["invite_url", "invite_expires_at"],
        "properties": {"invite_url": {"type": "string"},
                       "invite_expires_at": {"type": "string"}}}]},
    "PersonChange": {"type": "object", "minProperties": 1, "additionalProperties": False,
                     "properties": {"role": {"type": "string", "enum": list(people.ROLES)},
                                    "disabled": {"type": "boolean"}}},
    "ResetLink": {"type": "object", "required": ["email", "purpose", "reset_url", "expires_at"],
                  "properties": {k: {"type": "string"} for k in
                                 ("email", "purpose", "reset_url", "expires_at")}},
    "NewPersonalToken": {"type": "object", "additionalProperties": False, "properties": {
        "name": {"type": "string", "maxLength": 100},
        "expires_in": {"type": "integer", "minimum": 1}}},
    "NewPersonalTokenResult": {"allOf": [ref("Token"), {
        "type": "object", "required": ["token", "role"],
        "properties": {"token": {"type": "string"},
                       "role": {"type": "string", "enum": list(people.ROLES)}}}]},
})
