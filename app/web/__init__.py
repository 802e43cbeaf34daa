"""The web dashboard: server-rendered pages for the people who manage access.

Pages call the same services as the admin API (``app.services``); nothing
here decides who may do what. This package adds only what a browser needs:
sessions, CSRF tokens, security headers and HTML.
"""

from __future__ import annotations

from flask import Blueprint, Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/assets")

from app.web import (  # noqa: E402,F401  (routes register on bp)
    activity,
    apps,
    assets,
    auth,
    dashboard,
    people,
    security,
    signin,
    tokens,
    users,
)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session, opened without building a signer when the
    request carries no session cookie: every OAuth and API call (about 4 % of
    an introspection's CPU, bench/RESULTS.md). Only the dashboard sets it."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    issuer = app.config["SCOPEGATE_ISSUER"]
    app.config.update(
        SESSION_COOKIE_NAME="scopegate_session",
        SESSION_COOKIE_HTTPONLY=True,
        # Lax: the cookie is not sent on cross-site POSTs (a second wall behind CSRF tokens).
        SESSION_COOKIE_SAMESITE="Lax",
        # Secure whenever the public URL is https; plain http stays usable for `make run`.
        SESSION_COOKIE_SECURE=issuer.startswith("https://"),
    )
    app.session_interface = CookieSessions()
    app.register_blueprint(bp)
    from app.web import cli, helpers

    helpers.init_app(app)
    app.cli.add_command(cli.setup_link)
