"""``/api/v1/activity``: the audit log, newest first."""

from __future__ import annotations

from flask import jsonify, request

from app.api import bp, representations
from app.api.auth import admin_only, current_caller
from app.api.body import query_int
from app.openapi import answer, describe, errors, query_parameter
from app.services import activity


@bp.get("/activity")
@admin_only
def list_activity():
    caller = current_caller()
    page = activity.query(
        caller, users=request.args.getlist("user"),
        actors=request.args.getlist("actor"), action=request.args.get("action") or None,
        since=request.args.get("since"), until=request.args.get("until"),
        cursor=request.args.get("cursor"), limit=query_int("limit"),
    )
    known = representations.people(
        caller, names=[n for e in page.items for n in (e.actor_name, e.subject_name)])
    return jsonify(representations.page(page, lambda e: representations.event(e, known)))


describe({"/api/v1/activity": {"get": {
    "operationId": "list_activity", "summary": "Audit events of the organization, newest first",
    "parameters": [
        query_parameter("user", description="name or unique ID (repeatable): "
                                            "events where the user acted or is the subject"),
        query_parameter("actor", description="name or unique ID (repeatable): acted only"),
        query_parameter("action", description="a dotted verb, e.g. token.revoke"),
        query_parameter("since", description="ISO 8601 or epoch seconds"),
        query_parameter("until", description="ISO 8601 or epoch seconds"),
        *representations.PAGE_PARAMETERS],
    "responses": {"200": answer("a page of events", "EventPage"), **errors(401, 403, 422)},
}}})
