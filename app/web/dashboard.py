"""The Dashboard: Generate Access Token, and the admin's own personal tokens."""

from __future__ import annotations

from flask import current_app, g, render_template, request

from app.errors import ScopegateError, Unprocessable
from app.services import lifetimes, sessions, tokens
from app.web import bp
from app.web.helpers import show_once
from app.web.security import current_caller, login_required

#: Lifetimes offered in the form (days); the service still enforces the maximum.
LIFETIME_CHOICES = (7, 30, 90, 180, 365)


def _lifetime_choices() -> list[int]:
    maximum = lifetimes.max_lifetime(lifetimes.PERSONAL) // 86400
    return [d for d in LIFETIME_CHOICES if d <= maximum] or [maximum]


def _render(error=None, status=200):
    caller = current_caller()
    page = tokens.listing(caller, user=g.account.uid, kind=tokens.PERSONAL,
                          cursor=request.args.get("cursor") or None)
    default_days = current_app.config["SCOPEGATE_PERSONAL_TOKEN_DEFAULT_LIFETIME"] // 86400
    return render_template("dashboard.html", page=page, error=error,
                           choices=_lifetime_choices(), default_days=default_days,
                           form=request.form), status


@bp.get("/dashboard")
@login_required
def dashboard():
    """Generate Access Token, and the personal tokens of the signed-in admin."""
    return _render()


@bp.post("/dashboard/tokens")
@login_required
def generate_token():
    """Create a personal (unscoped) token; it is shown once, on the next page."""
    name = request.form.get("name", "").strip()
    try:
        if not name:
            raise Unprocessable("Give the token a name, so you can tell it apart later.")
        days = request.form.get("lifetime_days", "")
        if not days.isdigit():
            raise Unprocessable("Choose a lifetime.")
        value, token = tokens.create_personal(g.account, current_caller(), name=name,
                                              expires_in=int(days) * 86400)
    except ScopegateError as e:
        return _render(e.get_error_description(), e.status_code)
    return show_once({"kind": "personal", "token": value, "token_id": token.token_id,
                      "name": token.name, "expires_at": token.expires_at})


@bp.get("/once")
@login_required
def reveal():
    """A new secret, exactly once: the first view takes it out of the session."""
    payload = sessions.pop(g.web_session, g.sid)
    return render_template("reveal.html", secret=payload), 200 if payload else 410
