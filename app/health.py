"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, jsonify
from sqlalchemy import text

from app.models import db
from app.openapi import answer, describe

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """The process can serve: the database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means not ready
        log.exception("readiness check failed")
        db.session.rollback()
        return jsonify(status="unavailable", error="database unreachable"), 503
    return jsonify(status="ok")


_STATUS = {"type": "object", "required": ["status"],
           "properties": {"status": {"type": "string"}, "error": {"type": "string"}}}
describe({
    "/healthz": {"get": {"operationId": "healthz", "summary": "Liveness", "security": [],
                         "responses": {"200": answer("up", "Health")}}},
    "/readyz": {"get": {"operationId": "readyz", "summary": "Readiness: the database answers",
                        "security": [],
                        "responses": {"200": answer("ready", "Health"),
                                      "503": answer("the database is unreachable", "Health")}}},
}, schemas={"Health": _STATUS})


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
