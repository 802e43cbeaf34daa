"""Bulk-seed live tokens (and optionally audit events) straight into Scopegate's store.

Rows are built with the server's own functions (``app.services.secrets``:
same value format, same SHA-256 digest, same public id), and inserted with
SQLAlchemy Core ``executemany`` in large batches: about a minute for 10^6 on a
2-core machine. Uses SCOPEGATE_DATABASE_URL like the server.

    .venv/bin/python bench/seed_tokens.py --tokens 1000000 --client-id <machine user client_id>
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import insert, select, text  # noqa: E402

from app import create_app  # noqa: E402
from app.models import AuditEvent, MachineUser, Token, db, now  # noqa: E402
from app.services import secrets  # noqa: E402

BATCH = 20_000


def seed_tokens(user: MachineUser, n: int) -> None:
    t0 = time.monotonic()
    issued = now()
    expires = issued + 30 * 86400
    table = Token.__table__
    done = 0
    while done < n:
        k = min(BATCH, n - done)
        rows = []
        for _ in range(k):
            value = secrets.generate(secrets.SCOPED)
            rows.append({
                "token_id": secrets.new_token_id(), "token_hash": secrets.digest(value),
                "kind": "scoped", "org_id": user.org_id, "account_id": None,
                "machine_user_id": user.id, "subject_uid": user.client_id,
                "subject_name": user.name, "client_id": user.client_id,
                "created_by": user.client_id, "name": None, "scope": user.scope,
                "issued_at": issued, "expires_at": expires, "revoked_at": None,
                "last_used_at": None,
            })
        db.session.execute(insert(table), rows)
        db.session.commit()
        done += k
    print(f"seeded {n} tokens in {time.monotonic() - t0:.1f}s", flush=True)


def seed_audit(user: MachineUser, n: int) -> None:
    t0 = time.monotonic()
    table = AuditEvent.__table__
    at = now()
    done = 0
    while done < n:
        k = min(BATCH * 5, n - done)
        rows = [{
            "at": at, "org_id": user.org_id, "actor": user.client_id, "actor_name": user.name,
            "subject": user.client_id, "action": "token.issue",
            "target": secrets.new_token_id(), "outcome": "success", "ip": "127.0.0.1",
            "request_id": None, "detail": None,
        } for _ in range(k)]
        db.session.execute(insert(table), rows)
        db.session.commit()
        done += k
    print(f"seeded {n} audit events in {time.monotonic() - t0:.1f}s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tokens", type=int, default=0)
    ap.add_argument("--audit-events", type=int, default=0)
    ap.add_argument("--client-id", required=True, help="the machine user the tokens belong to")
    args = ap.parse_args()
    app = create_app()
    with app.app_context():
        user = db.session.execute(
            select(MachineUser).where(MachineUser.client_id == args.client_id)
        ).scalar_one()
        if args.tokens:
            seed_tokens(user, args.tokens)
        if args.audit_events:
            seed_audit(user, args.audit_events)
        if db.engine.dialect.name == "sqlite":
            db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            db.session.commit()
        counts = {t: db.session.scalar(text(f"SELECT count(*) FROM {t}"))  # noqa: S608
                  for t in ("token", "audit_event")}
        print(f"rows now: {counts}", flush=True)


if __name__ == "__main__":
    main()
