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
    page = activity.query(
        current_caller(), users=request.args.getlist("user"),
        actors=request.args.getlist("actor"), action=request.args.get("action") or None,
        since=request.args.get("since"), until=request.args.get("until"),
        cursor=request.args.get("cursor"), limit=query_int("limit"),
    )
    return jsonify(representations.page(page, representations.event))
