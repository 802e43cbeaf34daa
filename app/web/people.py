"""People: invite by one-time link (shown once), change role, disable or
enable, issue a new link for a forgotten password, delete after saying what
ends with the person."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from app.errors import Conflict, ScopegateError, Unprocessable
from app.services import people, tokens
from app.web import bp
from app.web.helpers import show_once
from app.web.security import admin_required, current_caller

#: Refusals shown on the People page (the last admin, a disabled person, a bad
#: role); "not found" and "forbidden" stay error pages.
REFUSED = (Conflict, Unprocessable)


def _list(error=None, status=200):
    page = people.listing(current_caller(), request.args.get("cursor") or None)
    return render_template("people.html", page=page, roles=people.ROLES, error=error,
                           form=request.form), status


@bp.get("/people")
@admin_required
def people_page():
    """The organization's people, and the invitation form."""
    return _list()


@bp.post("/people")
@admin_required
def invite_person():
    """Invite a person; their one-time link is shown once, on the next page."""
    try:
        account, link = people.invite(current_caller(), request.form.get("email", ""),
                                      request.form.get("role", ""))
    except ScopegateError as e:
        return _list(e.get_error_description(), e.status_code)
    return show_once({"kind": "invite", "email": account.email, "role": account.role,
                      "url": link.url, "expires_at": link.expires_at})


def _change(email: str, done: str, **change):
    """Apply a change from a row's form; a refused one (the last admin) is flashed."""
    try:
        account = people.update(current_caller(), email, **change)
    except REFUSED as e:
        flash(e.get_error_description(), "error")
    else:
        flash(done.format(email=account.email, role=account.role), "success")
    return _back()


def _back():
    """To the People page; to sign-in when the admin just disabled themselves."""
    if g.account.disabled_at is not None:
        return redirect(url_for("web.login"), code=303)
    return redirect(url_for("web.people_page"), code=303)


@bp.post("/people/<email>/role")
@admin_required
def change_role(email: str):
    return _change(email, "{email} is now {role}; their personal tokens are revoked.",
                   role=request.form.get("role", ""))


@bp.post("/people/<email>/disable")
@admin_required
def disable_person(email: str):
    return _change(email, "{email} is disabled: their sessions and tokens ended now.",
                   disabled=True)


@bp.post("/people/<email>/enable")
@admin_required
def enable_person(email: str):
    return _change(email, "{email} is enabled again (their old tokens stay revoked).",
                   disabled=False)


@bp.post("/people/<email>/reset-link")
@admin_required
def person_reset_link(email: str):
    """A new one-time link for a forgotten password, shown once."""
    try:
        link = people.reset_link(current_caller(), email)
    except REFUSED as e:
        flash(e.get_error_description(), "error")
        return _back()
    return show_once({"kind": link.purpose, "email": link.email, "url": link.url,
                      "expires_at": link.expires_at})


@bp.route("/people/<email>/delete", methods=["GET", "POST"])
@admin_required
def delete_person(email: str):
    """GET says what ends with the person; POST deletes."""
    caller = current_caller()
    account = people.get(caller, email)
    if request.method == "GET":
        return render_template("person_delete.html", person=account,
                               tokens=tokens.live_count_of_account(account),
                               sessions=people.live_sessions(account))
    try:
        ended = people.delete_person(caller, account.email)
    except REFUSED as e:
        flash(e.get_error_description(), "error")
        return _back()
    flash(f"{account.email} deleted: {ended.sessions} session(s) ended and {ended.tokens} "
          "token(s) revoked.", "success")
    if account is g.account:
        return redirect(url_for("web.login"), code=303)
    return _back()
