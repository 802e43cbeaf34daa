"""First-run setup, sign-in and sign-out."""

from __future__ import annotations

from flask import current_app, flash, g, redirect, render_template, request, session, url_for

from app.errors import ScopegateError
from app.services import links, logins, sessions, setup
from app.web import bp
from app.web.helpers import safe_next
from app.web.security import csrf_token

#: A signed "this browser signed in as <email> before" cookie (services.logins).
DEVICE_COOKIE = "scopegate_device"


@bp.get("/")
def index():
    """Signed in: the dashboard; otherwise the login page (or the setup notice)."""
    if g.caller is not None:
        return redirect(url_for("web.dashboard"))
    if setup.needed():
        return render_template("setup_pending.html")
    return redirect(url_for("web.login"))


@bp.route("/setup/<code>", methods=["GET", "POST"])
def setup_page(code: str):
    """Create the organization and the first admin with a one-time link."""
    setup.check(code)  # a dead link is a 404 page, on GET and POST alike
    error, status = None, 200
    if request.method == "POST":
        form = request.form
        try:
            account = setup.complete(code, form.get("org", ""), form.get("email", ""),
                                     form.get("password", ""), form.get("confirm", ""))
        except setup.DeadLink:
            raise
        except ScopegateError as e:
            error, status = e.get_error_description(), e.status_code
        else:
            # The person who just chose the password is the admin: signed in at once.
            _begin_session(account)
            flash(f"Organization {account.org.name} created. You are signed in as "
                  f"{account.email}.", "success")
            return redirect(url_for("web.dashboard"), code=303)
    return render_template("setup.html", code=code, error=error, form=request.form), status


@bp.route("/invite/<code>", methods=["GET", "POST"], defaults={"purpose": links.INVITE})
@bp.route("/reset/<code>", methods=["GET", "POST"], defaults={"purpose": links.RESET})
def password_link(code: str, purpose: str):
    """An invited person chooses their password (or a person who forgot it a
    new one) with a one-time link, and is then signed in."""
    person = links.person_of(code, purpose)  # a dead link is a 404 page, on GET and POST
    error, status = None, 200
    if request.method == "POST":
        try:
            account = links.use(code, purpose, request.form.get("password", ""),
                                request.form.get("confirm", ""))
        except links.DeadLink:
            raise
        except ScopegateError as e:
            error, status = e.get_error_description(), e.status_code
        else:
            _begin_session(account)
            flash("Welcome to Scopegate." if purpose == links.INVITE
                  else "Your new password is set.", "success")
            return redirect(url_for("web.dashboard"), code=303)
    return render_template("password_link.html", person=person, purpose=purpose,
                           error=error), status


def _begin_session(account) -> None:
    """A fresh session: nothing set before sign-in (an attacker's planted
    cookie included) survives it, and the CSRF token changes too."""
    sessions.end(session.get("sid"))
    session.clear()
    session["sid"] = sessions.start(account, request.remote_addr)
    csrf_token()


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Email + password; a new session (and a new session id) on success."""
    if g.caller is not None and request.method == "GET":
        return redirect(safe_next(url_for("web.dashboard")))
    error, status, headers = None, 200, {}
    email = request.values.get("email", "")
    if request.method == "POST":
        try:
            account = logins.authenticate(email, request.form.get("password", ""),
                                          request.remote_addr,
                                          request.cookies.get(DEVICE_COOKIE))
        except logins.TooManyAttempts as e:
            error, status = e.get_error_description(), 429
            headers["Retry-After"] = str(e.retry_after)
        except logins.LoginFailed as e:
            error, status = e.get_error_description(), 401
        else:
            target = safe_next(url_for("web.dashboard"))
            _begin_session(account)
            response = redirect(target, code=303)
            # This browser knew the password: its future attempts are counted on
            # their own, so nobody else's failures can lock it out (services.logins).
            response.set_cookie(DEVICE_COOKIE, logins.device_token(account.email),
                                max_age=logins.DEVICE_LIFETIME, httponly=True, samesite="Lax",
                                secure=current_app.config["SESSION_COOKIE_SECURE"],
                                path=url_for("web.login"))
            return response
    return render_template("login.html", error=error, email=email,
                           next=request.values.get("next", "")), status, headers


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """GET asks (a link must not sign anyone out); POST ends the session everywhere."""
    if request.method == "GET":
        if g.caller is None:
            return redirect(url_for("web.login"))
        return render_template("logout.html")
    sessions.end(g.sid)
    session.clear()
    flash("You are signed out.", "success")
    return redirect(url_for("web.login"), code=303)
