"""Protect a service with Scopegate tokens (resource-server side).

    from sdk.resource import require_scopes

    @app.post("/sessions")
    @require_scopes("create_session")
    def create_session():
        owner = flask.g.token["sub"]

``TokenVerifier`` reads ``SCOPEGATE_URL``, ``SCOPEGATE_RS_CLIENT_ID`` and
``SCOPEGATE_RS_CLIENT_SECRET``. Opaque tokens need only the base install;
JWT access tokens need ``pip install "scopegate[resource]"`` (cryptography).
See docs/protect-your-service.md.
"""

from sdk.resource.context import CallerLogFilter, current_caller
from sdk.resource.flask_views import default_verifier, require_scopes
from sdk.resource.verifier import TokenVerifier, check_scopes, has_scope
from sdk.resource.wsgi import BearerTokenMiddleware

__all__ = [
    "BearerTokenMiddleware",
    "CallerLogFilter",
    "TokenVerifier",
    "check_scopes",
    "current_caller",
    "default_verifier",
    "has_scope",
    "require_scopes",
]
