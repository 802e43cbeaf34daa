"""Scopegate: an OAuth 2.0 / OpenID Connect access server for ML platforms.

``create_app`` is the only place that knows every part; each part exposes
``init_app(app)``.
"""

from __future__ import annotations

import logging
import os

import click
from flask import Flask

import config

log = logging.getLogger("scopegate")


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.path.abspath("instance"))
    app.config.update(config.load())
    if test_config:
        app.config.update(test_config)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=app.config["SCOPEGATE_DATABASE_URL"],
        SECRET_KEY=app.config["SCOPEGATE_SECRET_KEY"],
        # During a change of secret, cookies signed with the old one stay valid.
        SECRET_KEY_FALLBACKS=[k for k in [app.config["SCOPEGATE_SECRET_KEY_PREVIOUS"]] if k],
        # Bodies above the limit are refused with 413 before anything parses them.
        MAX_CONTENT_LENGTH=app.config["SCOPEGATE_MAX_BODY_BYTES"],
        MAX_FORM_MEMORY_SIZE=app.config["SCOPEGATE_MAX_BODY_BYTES"],
        JSON_SORT_KEYS=False,
    )
    _warn_insecure_defaults(app)
    if app.config["SCOPEGATE_ACCESS_TOKEN_FORMAT"] not in ("opaque", "jwt"):
        raise ValueError("SCOPEGATE_ACCESS_TOKEN_FORMAT must be `opaque` or `jwt`.")

    from app import (
        api,
        cli,
        database,
        errors,
        health,
        metrics,
        oauth,
        observability,
        ratelimits,
        web,
    )
    from app.oauth import fastpath
    from app.services import throttle

    database.init_app(app)
    throttle.init_app(app)
    # Before observability: its ProxyFix (trusted proxies) then runs in front of the fast path.
    fastpath.init_app(app)
    observability.init_app(app)
    metrics.init_app(app)
    errors.init_app(app)
    oauth.init_app(app)
    api.init_app(app)
    health.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    # Last: the limits attach to views by endpoint name, so every view must exist.
    ratelimits.init_app(app)
    return app


def _warn_insecure_defaults(app: Flask) -> None:
    """Warn once per serving process. Operator commands (``flask init-db``,
    ``setup-link``, ...) sign no cookie, so they stay quiet: ``make run`` warns
    once, not once per step."""
    if app.config["SCOPEGATE_SECRET_KEY"] != config.load({})["SCOPEGATE_SECRET_KEY"]:
        return
    command = click.get_current_context(silent=True)
    if command is not None and command.info_name != "run":
        return
    log.warning("SCOPEGATE_SECRET_KEY is the development default: set it in production.")
