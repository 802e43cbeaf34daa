"""Database set-up: Flask-SQLAlchemy plus SQLite done right.

SQLite gets WAL (readers never block the writer), a 5 s ``busy_timeout``
(writers queue instead of failing with "database is locked") and foreign
keys on (SQLite leaves them off by default), and ``synchronous=NORMAL``
(in WAL mode a commit survives the process being killed; only an OS crash
or power loss may drop the last commits). The one pool setting: SQLAlchemy's
default ``QueuePool`` (5 connections + 10 overflow per process) is kept for
SQLite, which is enough as long as a gunicorn worker runs at most 15 threads;
PostgreSQL adds ``pool_pre_ping`` so a restarted or failed-over database
costs no request an error (the fast path's reads keep a connection of their
own per thread: ``models.prepared.Reads``).

The schema is owned by the Alembic migrations in ``app/migrations``
(Flask-Migrate): :func:`upgrade` brings an empty or older database to head.
"""

from __future__ import annotations

import contextlib
import os

from alembic import command
from flask import Flask, current_app
from flask_migrate import Migrate
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine

from app.models import db

#: Where the migration scripts live (Flask-Migrate's ``directory``).
MIGRATIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations")
#: The first revision: the schema ``db.create_all()`` made before migrations existed.
INITIAL_REVISION = "0001"
migrate = Migrate(directory=MIGRATIONS, compare_type=True, render_as_batch=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _private_sqlite_file(path: str) -> None:
    """The database holds password hashes and (encrypted) signing keys: create
    it, and its directory when missing, readable by this user only. SQLite
    gives its -wal and -shm files the database file's mode."""
    directory = os.path.dirname(path)
    if directory and not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix) and os.stat(path + suffix).st_mode & 0o077:
            with contextlib.suppress(PermissionError):  # made world-readable before
                os.chmod(path + suffix, 0o600)


def _absolute_sqlite_url(url: str) -> str:
    """A relative SQLite path is relative to the working directory, as the
    README's commands read it (Flask-SQLAlchemy would otherwise resolve it
    against the instance folder: ``instance/instance/scopegate.db``)."""
    path, _, query = url[len("sqlite:///"):].partition("?")
    if os.path.isabs(path):
        return url
    return "sqlite:///" + os.path.abspath(path) + (f"?{query}" if query else "")


def init_app(app: Flask) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        url = app.config["SQLALCHEMY_DATABASE_URI"] = _absolute_sqlite_url(url)
        _private_sqlite_file(url[len("sqlite:///"):].split("?", 1)[0])
    if not url.startswith("sqlite"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    db.init_app(app)
    migrate.init_app(app, db)
    if url.startswith("sqlite"):
        with app.app_context():
            engine: Engine = db.engine
            event.listen(engine, "connect", _sqlite_pragmas)


def alembic_config():
    return current_app.extensions["migrate"].migrate.get_config()


def upgrade(revision: str = "head") -> None:
    """Bring the schema to ``revision`` (head): an empty database gets every
    migration; one made by ``create_all`` before migrations existed (tables,
    no ``alembic_version``) is stamped at the initial revision first."""
    config = alembic_config()
    tables = set(inspect(db.engine).get_table_names())
    if "alembic_version" not in tables and "organization" in tables:
        command.stamp(config, INITIAL_REVISION)
    command.upgrade(config, revision)
