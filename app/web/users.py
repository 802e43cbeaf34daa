"""Machine users: create with a scope ceiling, issue scoped tokens and client
credentials (each shown once), delete after saying how many tokens die."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for

from app.errors import ScopegateError, Unprocessable
from app.services import lifetimes, tokens, users
from app.web import bp
from app.web.helpers import show_once
from app.web.security import admin_required, current_caller
from sdk.auth.scopes import CATALOG, DESCRIPTIONS, Scope

#: Scoped-token lifetimes offered (days); the service enforces the 30-day maximum.
TOKEN_DAYS = (1, 7, 14, 30)


def catalog() -> list[tuple[str, str]]:
    """Every scope with its documented description, in catalog order."""
    return [(name, DESCRIPTIONS[Scope(name)]) for name in CATALOG]


@bp.get("/users")
@admin_required
def machine_users():
    """The organization's machine users."""
    caller = current_caller()
    page = users.listing(caller, request.args.get("cursor") or None)
    live = {u.id: tokens.live_count(u) for u in page.items}
    return render_template("users.html", page=page, live=live)


def _new_form(error=None, status=200):
    return render_template("user_new.html", catalog=catalog(), error=error,
                           form=request.form, chosen=set(request.form.getlist("scopes"))), status


@bp.get("/users/new")
@admin_required
def new_user():
    """The form: a name and a scope ceiling chosen from the catalog."""
    return _new_form()


@bp.post("/users")
@admin_required
def create_user():
    name = request.form.get("name", "").strip()
    chosen = request.form.getlist("scopes")
    try:
        # An empty choice is refused by services.scopes, like the API's.
        user = users.create(current_caller(), name, chosen)
    except ScopegateError as e:
        return _new_form(e.get_error_description(), e.status_code)
    flash(f"Machine user {user.name} ({user.client_id}) created.", "success")
    return redirect(url_for("web.machine_user", name=user.name), code=303)


def _detail(name: str, error=None, status=200):
    caller = current_caller()
    user = users.get(caller, name)
    page = tokens.listing(caller, user=user.client_id, active=True, kind=tokens.SCOPED, limit=100)
    maximum = lifetimes.max_lifetime(lifetimes.SCOPED) // 86400
    default = current_app.config["SCOPEGATE_SCOPED_TOKEN_DEFAULT_LIFETIME"] // 86400
    return render_template(
        "user.html", user=user, page=page, error=error, form=request.form,
        ceiling=[(n, d) for n, d in catalog() if n in user.scopes],
        chosen=set(request.form.getlist("scopes")),
        days=[d for d in TOKEN_DAYS if d <= maximum] or [maximum], default_days=default,
    ), status


@bp.get("/users/<name>")
@admin_required
def machine_user(name: str):
    """One machine user: its ceiling, live tokens, and what can be issued to it."""
    return _detail(name)


@bp.post("/users/<name>/tokens")
@admin_required
def issue_token(name: str):
    """A scoped token for this user, shown once."""
    caller = current_caller()
    user = users.get(caller, name)
    try:
        chosen = request.form.getlist("scopes")  # empty: refused by services.scopes
        days = request.form.get("lifetime_days", "")
        if not days.isdigit():
            raise Unprocessable("Choose a lifetime.")
        value, token = tokens.create_scoped(user, caller, chosen, int(days) * 86400)
    except ScopegateError as e:
        return _detail(name, e.get_error_description(), e.status_code)
    return show_once({"kind": "scoped", "token": value, "token_id": token.token_id,
                      "user": user.name, "email": user.client_id, "scopes": token.scopes,
                      "expires_at": token.expires_at})


@bp.post("/users/<name>/credentials")
@admin_required
def issue_credentials(name: str):
    """New client credentials (the previous secret stops working), shown once."""
    user, secret, revoked = users.create_credentials(current_caller(), name)
    return show_once({"kind": "credentials", "user": user.name, "client_id": user.client_id,
                      "client_secret": secret, "revoked_tokens": revoked})


@bp.route("/users/<name>/delete", methods=["GET", "POST"])
@admin_required
def delete_user(name: str):
    """GET says how many tokens die with the user; POST deletes."""
    caller = current_caller()
    user = users.get(caller, name)
    if request.method == "GET":
        return render_template("user_delete.html", user=user, live=tokens.live_count(user))
    revoked = users.delete(caller, user.name)
    flash(f"Machine user {name} deleted; {revoked} token(s) revoked with it.", "success")
    return redirect(url_for("web.machine_users"), code=303)

