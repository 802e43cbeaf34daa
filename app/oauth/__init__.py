"""Authlib wiring: grants, token generation, introspection, revocation,
discovery and JWKS."""

from flask import Flask

from app.oauth import routes, server


def init_app(app: Flask) -> None:
    server.init_app(app)
    app.register_blueprint(routes.bp)
