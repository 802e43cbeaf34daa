"""Token Management → User Scoped Tokens: every scoped token of the
organization, filtered by user and status; revocation after a confirmation."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.errors import NotFound
from app.services import directory, tokens
from app.web import bp
from app.web.helpers import display_names, safe_next
from app.web.security import admin_required, current_caller

#: Status filter values and what ``tokens.listing`` is asked for.
STATUSES = {"active": True, "inactive": False, "all": None}


@bp.get("/tokens")
@admin_required
def token_management():
    """Token Management opens on User Scoped Tokens."""
    return redirect(url_for("web.scoped_tokens"))


@bp.get("/tokens/scoped")
@admin_required
def scoped_tokens():
    """User Scoped Tokens of the organization."""
    caller = current_caller()
    user_name = request.args.get("user", "")
    status = request.args.get("status", "active")
    if status not in STATUSES:
        status = "active"
    try:
        page = tokens.listing(caller, user=user_name or None, active=STATUSES[status],
                              kind=tokens.SCOPED, cursor=request.args.get("cursor") or None)
    except NotFound:  # nobody ever had that name (a deleted user's tokens are still listed)
        page = None
    return render_template("tokens_scoped.html", page=page, user_name=user_name,
                           status=status, statuses=list(STATUSES),
                           machine_users=directory.machine_users(caller),
                           unknown_user=page is None,
                           names=display_names(caller))


@bp.route("/tokens/<token_id>/revoke", methods=["GET", "POST"])
@admin_required
def revoke_token(token_id: str):
    """GET asks for confirmation; POST revokes (idempotent, tenant-scoped)."""
    caller = current_caller()
    back = safe_next(url_for("web.scoped_tokens"))
    if request.method == "GET":
        token = tokens.get(caller, token_id)  # another organization's token: 404
        return render_template("revoke_confirm.html", token=token, back=back)
    token = tokens.revoke_by_id(caller, token_id)
    label = token.name or token.subject_name
    flash(f"Token {token.token_id[:8]}… ({label}) is revoked. It stops working now.", "success")
    return redirect(back, code=303)
