"""A small training-sessions service protected by Scopegate tokens.

    SCOPEGATE_URL=http://127.0.0.1:5000 \\
    SCOPEGATE_RS_CLIENT_ID=rs-… SCOPEGATE_RS_CLIENT_SECRET=sgs_… \\
    flask --app examples.sessions_service run --port 5001

It gives every catalog scope the meaning the documentation gives it
(docs/protect-your-service.md has the table). The caller is the token's
``sub``; sessions belong to the caller's organization (the token's
``customer``): another organization's session is 404, as in Scopegate.
Sessions live in memory: this is an example, not a scheduler.
"""

from __future__ import annotations

from flask import Flask

from examples.sessions_service.routes import register
from sdk.resource import CallerLogFilter, TokenVerifier


def create_app(verifier: TokenVerifier | None = None) -> Flask:
    """The service; ``verifier`` defaults to one built from the environment."""
    app = Flask(__name__)
    register(app, verifier)
    for handler in app.logger.handlers:
        handler.addFilter(CallerLogFilter())
    return app
