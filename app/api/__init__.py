"""The admin REST API (``/api/v1``, JSON, bearer-token protected)."""

from flask import Blueprint, Flask

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from app.api import activity, apps, meta, people, tokens, users  # noqa: E402,F401  (routes register on bp)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
