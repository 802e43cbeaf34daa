"""Database set-up: Flask-SQLAlchemy plus SQLite done right.

SQLite gets WAL (readers never block the writer), a 5 s ``busy_timeout``
(writers queue instead of failing with "database is locked") and foreign
keys on (SQLite leaves them off by default). One connection per thread
(SQLAlchemy's default pool for file databases) is the only pool setting
SQLite needs.
"""

from __future__ import annotations

import os

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.models import db


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def init_app(app: Flask) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        directory = os.path.dirname(url[len("sqlite:///"):])
        if directory:
            os.makedirs(directory, exist_ok=True)
    db.init_app(app)
    if url.startswith("sqlite"):
        with app.app_context():
            engine: Engine = db.engine
            event.listen(engine, "connect", _sqlite_pragmas)


def upgrade() -> None:
    """Bring the schema to the current models."""
    db.create_all()
