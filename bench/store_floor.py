"""What a scoped token costs the store alone: the floor under ``POST /oauth/token`` on SQLite.

Issuing a ``client_credentials`` token writes one ``token`` row and one ``audit_event``
row and commits (WAL, ``synchronous=NORMAL``, foreign keys on: ``app.database``'s
pragmas). This does exactly that with the bare ``sqlite3`` module on the schema the
migrations make -- no Flask, no SQLAlchemy, no Authlib -- and reports CPU µs per
commit (``time.process_time``: user + kernel of this process), for:

- ``migrated``: the schema as ``init-db`` makes it today;
- ``full-indexes``: the sparse columns indexed in full (before migration 0008);
- ``no-indexes``: no secondary index at all (what a store with only the rows would cost).

    .venv/bin/python bench/store_floor.py [-n 4000]

Whatever the rest of the server costs comes on top of ``migrated``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import shutil
import sqlite3
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

#: The columns ``tokens._new`` and ``audit.record`` insert for a client_credentials token.
TOKEN = ("token_id", "token_hash", "kind", "format", "org_id", "account_id", "machine_user_id",
         "subject_uid", "subject_name", "client_id", "created_by", "name", "scope", "issued_at",
         "expires_at", "revoked_at", "last_used_at", "family_id", "parent_token_id", "auth_time")
EVENT = ("at", "org_id", "actor", "actor_name", "subject", "subject_name", "action", "target",
         "outcome", "ip", "request_id", "detail", "count", "last_at", "source")
SPARSE = ("ix_token_family", "ix_token_account", "ix_token_revoked", "ix_audit_source")


def migrated_database(directory: str) -> str:
    """A database made by the app's own migrations, with one organization."""
    path = os.path.join(directory, "schema.db")
    os.environ.update(SCOPEGATE_DATABASE_URL=f"sqlite:///{path}", SCOPEGATE_SECRET_KEY="bench")
    from app import create_app
    from app.database import upgrade
    from app.models import Organization, db

    with create_app().app_context():
        upgrade()
        db.session.add(Organization(name="bench"))
        db.session.commit()
        db.engine.dispose()
    return path


def _variant(connection: sqlite3.Connection, variant: str) -> None:
    indexes = connection.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").fetchall()
    for name, sql in indexes:
        if variant == "no-indexes" or (variant == "full-indexes" and name in SPARSE):
            connection.execute(f"DROP INDEX {name}")
            if variant == "full-indexes":
                connection.execute(sql.partition(" WHERE ")[0])


def measure(schema: str, directory: str, variant: str, n: int) -> float:
    path = os.path.join(directory, f"{variant}.db")
    shutil.copy(schema, path)
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        connection.execute(f"PRAGMA {pragma}")
    _variant(connection, variant)
    org_id = connection.execute("SELECT id FROM organization").fetchone()[0]
    insert_token = (f"INSERT INTO token ({', '.join(TOKEN)}) "
                    f"VALUES ({', '.join('?' * len(TOKEN))})")
    insert_event = (f"INSERT INTO audit_event ({', '.join(EVENT)}) "
                    f"VALUES ({', '.join('?' * len(EVENT))})")

    def issue(i: int) -> None:
        token_id, value = secrets.token_hex(16), secrets.token_urlsafe(32)
        connection.execute("BEGIN")
        connection.execute(insert_token, (
            token_id, hashlib.sha256(value.encode()).hexdigest(), "scoped", "opaque", org_id,
            None, None, "mu-bench", "bot", "mu-bench", "mu-bench", None, "cli", i, i + 86400,
            None, None, None, None, None))
        connection.execute(insert_event, (
            i, org_id, "mu-bench", "bot", "mu-bench", "bot", "token.issue", token_id,
            "success", "127.0.0.1", secrets.token_hex(8), None, 1, None, None))
        connection.execute("COMMIT")

    for i in range(500):  # warm the page cache and the WAL
        issue(i)
    started = time.process_time()
    for i in range(500, 500 + n):
        issue(i)
    cost = (time.process_time() - started) / n * 1e6
    connection.close()
    return cost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=4000)
    args = parser.parse_args()
    directory = tempfile.mkdtemp(prefix="scopegate-store.")
    try:
        schema = migrated_database(directory)
        print("| store (bare sqlite3, WAL, synchronous=NORMAL) | CPU µs per token + audit commit |")
        print("|---|---|")
        for variant in ("migrated", "full-indexes", "no-indexes"):
            print(f"| {variant} | {measure(schema, directory, variant, args.n):.0f} |")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
