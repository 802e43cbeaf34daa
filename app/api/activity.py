"""``/api/v1/activity``: the audit log, newest first."""

from __future__ import annotations

from flask import jsonify, request

from app.api import bp, representations
from app.api.auth import admin_only, current_caller
from app.api.body import query_int
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
