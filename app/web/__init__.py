"""The web dashboard: server-rendered pages for the people who manage access.

Pages call the same services as the admin API (``app.services``); nothing
here decides who may do what. This package adds only what a browser needs:
sessions, CSRF tokens, security headers and HTML.
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/assets")

from app.web import (  # noqa: E402,F401  (routes register on bp)
    activity,
    auth,
    dashboard,
    security,
    tokens,
    users,
)


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
    app.register_blueprint(bp)
    from app.web import cli, helpers

    helpers.init_app(app)
    app.cli.add_command(cli.setup_link)
