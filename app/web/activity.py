"""Activity: the audit log filtered by users, action and time range,
paginated, with a small chart per user drawn server-side as SVG."""

from __future__ import annotations

from flask import render_template, request

from app.errors import ScopegateError
from app.services import activity, audit, charts, directory, subjects
from app.web import bp
from app.web.helpers import display_names
from app.web.security import admin_required, current_caller


def _filters() -> dict:
    args = request.args
    return {
        "users": [u for u in args.getlist("user") if u][:activity.MAX_USER_FILTERS],
        "action": args.get("action") or None,
        "since": args.get("since") or None,
        "until": args.get("until") or None,
    }


@bp.get("/activity")
@admin_required
def activity_log():
    """Newest first; the chart covers the same filters as the table."""
    caller = current_caller()
    filters = _filters()
    error, page, chart = None, None, None
    try:
        if filters["action"] and filters["action"] not in audit.ACTIONS:
            filters["action"] = None
        page = activity.query(caller, **filters, cursor=request.args.get("cursor") or None)
        chart = charts.activity_chart(caller, **filters)
    except ScopegateError as e:
        error = e.get_error_description()
    people = [(a.email, a.email) for a in directory.accounts(caller)]
    machines = [(u.name, u.name) for u in directory.machine_users(caller)]
    # Keep the filters on the "older" link (the cursor is the only thing that changes).
    query = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor" and v]
    events = page.items if page else []
    return render_template(
        "activity.html", page=page, chart=chart, error=error, filters=filters,
        actions=sorted(audit.ACTIONS), people=people, machines=machines, query=query,
        names=display_names(caller, events),
        shared=subjects.shared_names(
            caller.org_id, [n for e in events for n in (e.actor_name, e.subject_name)]),
        # A chosen name several users have had: say so above the table.
        several={u: sorted(ids) for u in filters["users"]
                 if len(ids := subjects.uids(caller, u)) > 1},
    ), 400 if error else 200

