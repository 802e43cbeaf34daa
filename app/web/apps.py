"""Apps: register one (confidential or public), see its redirect URIs,
rotate its secret (shown once), delete it after saying its tokens die."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.errors import ScopegateError
from app.services import apps
from app.web import bp
from app.web.helpers import show_once
from app.web.security import current_caller, login_required


@bp.get("/apps")
@login_required
def apps_page():
    """The organization's apps."""
    page = apps.listing(current_caller(), request.args.get("cursor") or None)
    return render_template("apps.html", page=page)


def _new_form(error=None, status=200):
    return render_template("app_new.html", error=error, form=request.form), status


@bp.get("/apps/new")
@login_required
def new_app():
    """The form: a name, redirect URIs (one a line), confidential or public."""
    return _new_form()


@bp.post("/apps")
@login_required
def create_app_page():
    uris = [u.strip() for u in request.form.get("redirect_uris", "").splitlines() if u.strip()]
    try:
        app, secret = apps.create(current_caller(), request.form.get("name", ""), uris,
                                  request.form.get("public") == "on")
    except ScopegateError as e:
        return _new_form(e.get_error_description(), e.status_code)
    if secret is None:
        flash(f"Public app {app.name} registered: client_id {app.client_id}.", "success")
        return redirect(url_for("web.app_detail", client_id=app.client_id), code=303)
    return show_once({"kind": "app", "user": app.name, "client_id": app.client_id,
                      "client_secret": secret})


@bp.get("/apps/<client_id>")
@login_required
def app_detail(client_id: str):
    """One app: its client_id, type and redirect URIs."""
    return render_template("app.html", app=apps.get(current_caller(), client_id))


@bp.post("/apps/<client_id>/secret")
@login_required
def rotate_app_secret(client_id: str):
    """A new secret, shown once; the previous one stops working."""
    app, secret = apps.rotate_secret(current_caller(), client_id)
    return show_once({"kind": "app", "user": app.name, "client_id": app.client_id,
                      "client_secret": secret})


@bp.route("/apps/<client_id>/delete", methods=["GET", "POST"])
@login_required
def delete_app(client_id: str):
    """GET asks; POST deletes the app and revokes every token issued to it."""
    caller = current_caller()
    app = apps.get(caller, client_id)
    if request.method == "GET":
        return render_template("app_delete.html", app=app)
    revoked = apps.delete_app(caller, client_id)
    flash(f"App {app.name} deleted; {revoked} token(s) revoked with it.", "success")
    return redirect(url_for("web.apps_page"), code=303)
