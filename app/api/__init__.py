"""The admin REST API (``/api/v1``, JSON, bearer-token protected)."""

from flask import Blueprint, Flask

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from app.api import activity, apps, meta, people, tokens, users  # noqa: E402,F401  (routes register on bp)


@bp.after_request
def no_store(response):
    """Answers carry secrets (tokens, client secrets) or private metadata:
    no cache may keep them (RFC 6749 §5.1 asks the same of token answers)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
