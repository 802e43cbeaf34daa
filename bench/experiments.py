"""Measured effect of candidate optimizations, without touching app/: each variant
monkeypatches the running app in its own process, then bench/micro.py's in-process
measurement (CPU µs per request, WSGI call, no HTTP) runs on it.

    .venv/bin/python bench/experiments.py                 # every variant, a table
    .venv/bin/python bench/experiments.py --variant stmt  # one, JSON
    python tests/pg.py --durable -- \
        .venv/bin/python bench/experiments.py --pg --only baseline core-read

Variants (each a proposal for app/, see bench/RESULTS.md):
  baseline    the app as it is
  stmt        client and token lookups as module-level statements with bindparam():
              SQLAlchemy stops rebuilding and re-hashing the SELECT on every request
  core-read   the same lookups as Core SELECTs of the needed columns into light objects
              (no ORM identity map / instance loading)
  core-write  client_credentials: token row + audit row as two Core INSERTs (no unit of work)
  all         core-read + core-write
  no-pre-ping PostgreSQL without pool_pre_ping (a round trip on every pool checkout)
  raw-write   SQLite, on the fast path: the token and audit INSERTs run on its per-thread
              connection without beginning the session's transaction, and the token is
              committed on that connection (research for RESULTS.md §18; since merged,
              with rollback and the writer queue handled, as models.prepared's direct
              writes, §19: on today's code this variant measures nothing new)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

VARIANTS = ["baseline", "stmt", "core-read", "core-write", "all", "no-pre-ping", "raw-write"]


def patch_stmt() -> None:
    from sqlalchemy import bindparam, select

    import app.oauth.server as server
    from app.models import MachineUser, ResourceServer, Token, db
    from app.services import secrets, tokens

    q_user = select(MachineUser).where(MachineUser.client_id == bindparam("cid"))
    q_rs = select(ResourceServer).where(ResourceServer.client_id == bindparam("cid"))
    q_tok = select(Token).where(Token.token_hash == bindparam("h"))

    def query_client(client_id):
        if not client_id or len(client_id) > 120:
            return None
        user = db.session.scalar(q_user, {"cid": client_id})
        if user is not None:
            return user
        return db.session.scalar(q_rs, {"cid": client_id})

    def find(value):
        if not value or not secrets.is_well_formed(value) or value.startswith(
                secrets.CLIENT_SECRET):
            return None
        return db.session.execute(q_tok, {"h": secrets.digest(value)}).scalar_one_or_none()

    server.query_client = query_client
    tokens.find = find


def patch_core_read() -> None:
    """Plain rows for the two hot lookups. The objects keep the methods Authlib and
    services call (check_client_secret, is_active, org.name ...)."""
    from sqlalchemy import bindparam, select

    import app.oauth.server as server
    from app.models import MachineUser, Organization, ResourceServer, Token, db
    from app.services import secrets, tokens

    mu, rs, tk, org = (MachineUser.__table__, ResourceServer.__table__, Token.__table__,
                       Organization.__table__)
    q_user = select(mu).where(mu.c.client_id == bindparam("cid"))
    q_rs = select(rs).where(rs.c.client_id == bindparam("cid"))
    q_tok = (select(tk, org.c.name.label("org_name")).join(org, org.c.id == tk.c.org_id)
             .where(tk.c.token_hash == bindparam("h")))

    class LightUser(MachineUser.__mro__[1]):  # _SecretClient: the Authlib client facts
        user_type, role = "generated", "machine"
        uid = email = property(lambda self: self.client_id)
        scopes = property(lambda self: self.scope.split())
        check_grant_type = MachineUser.check_grant_type
        get_allowed_scope = MachineUser.get_allowed_scope

    class LightToken:
        scopes = Token.scopes
        is_expired, is_revoked, is_active = Token.is_expired, Token.is_revoked, Token.is_active
        get_scope, get_expires_in, check_client = (Token.get_scope, Token.get_expires_in,
                                                   Token.check_client)

    def light(cls, row):
        obj = cls.__new__(cls)
        obj.__dict__.update(row._mapping)
        return obj

    def query_client(client_id):
        if not client_id or len(client_id) > 120:
            return None
        row = db.session.execute(q_user, {"cid": client_id}).first()
        if row is not None:
            return light(LightUser, row)
        return db.session.scalar(select(ResourceServer).where(
            ResourceServer.client_id == client_id))

    def find(value):
        if not value or not secrets.is_well_formed(value) or value.startswith(
                secrets.CLIENT_SECRET):
            return None
        row = db.session.execute(q_tok, {"h": secrets.digest(value)}).first()
        if row is None:
            return None
        t = light(LightToken, row)
        t.org = types.SimpleNamespace(name=row.org_name, id=row.org_id)
        return t

    # callers.from_client checks isinstance(client, MachineUser)
    import app.services.callers as callers
    orig = callers.from_client

    def from_client(client):
        if isinstance(client, LightUser):
            return callers.Caller(callers.MACHINE, client.client_id, client.name,
                                  client.org_id, frozenset(client.scopes))
        return orig(client)

    callers.from_client = from_client
    server.query_client = query_client
    tokens.find = find
    del q_rs


def patch_core_write() -> None:
    from flask import g, request
    from sqlalchemy import insert

    from app.models import AuditEvent, Token, db, now
    from app.services import lifetimes, scopes, secrets, tokens

    tk, ev = Token.__table__, AuditEvent.__table__

    def issue_client_credentials(user, requested):
        granted = scopes.grantable(user.scopes, requested or None)
        value = secrets.generate(secrets.SCOPED)
        issued = now()
        row = dict(token_id=secrets.new_token_id(), token_hash=secrets.digest(value),
                   kind=tokens.SCOPED, org_id=user.org_id, account_id=None,
                   machine_user_id=user.id, subject_uid=user.client_id,
                   subject_name=user.name, client_id=user.client_id,
                   created_by=user.client_id, name=None, scope=" ".join(granted),
                   issued_at=issued, expires_at=issued + lifetimes.lifetime(tokens.SCOPED, None),
                   revoked_at=None, last_used_at=None)
        db.session.execute(insert(tk), row)
        db.session.execute(insert(ev), dict(
            at=issued, org_id=user.org_id, actor=user.client_id, actor_name=user.name,
            subject=user.client_id, action="token.issue", target=row["token_id"],
            outcome="success", ip=request.remote_addr, request_id=getattr(g, "request_id", None),
            detail=None))
        return value, types.SimpleNamespace(**row)

    tokens.issue_client_credentials = issue_client_credentials


def patch_no_pre_ping() -> None:
    import app.database as database

    original = database.init_app

    def init_app(app):
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {}
        original(app)

    database.init_app = init_app


def patch_raw_write(app) -> None:
    from sqlalchemy.engine import Connection

    from app.models import db, prepared

    session_connection = prepared._connection

    def raw(bind) -> bool:
        return isinstance(bind, Connection) and bind.dialect.name == "sqlite"

    def _connection():
        bind = db.session().bind
        if raw(bind):
            return bind.dialect, bind.connection.driver_connection
        return session_connection()

    def save_token(token, request):
        bind = db.session().bind
        if raw(bind):
            bind.connection.driver_connection.commit()
        else:
            db.session.commit()

    prepared._connection = _connection
    app.extensions["scopegate.authorization"]._save_token = save_token


def run_variant(name: str, n: int) -> dict:
    if name == "no-pre-ping":
        patch_no_pre_ping()
    if name in ("stmt",):
        patch_stmt()
    if name in ("core-read", "all"):
        patch_core_read()
    if name in ("core-write", "all"):
        patch_core_write()
    import micro

    if os.environ.get("EXPERIMENT_PG"):  # a fresh database per variant process
        sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))
        import pg

        micro.DATABASE_URL = pg.create_database(os.environ["SCOPEGATE_TEST_PG_URL"])
    made = micro.scopegate_app()
    if name == "raw-write":
        patch_raw_write(made[0])
    return micro.measure(*made, n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variant", choices=VARIANTS)
    ap.add_argument("-n", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=3, help="processes per variant (median)")
    ap.add_argument("--only", nargs="+", choices=VARIANTS, help="these variants (baseline first)")
    ap.add_argument("--pg", action="store_true",
                    help="on PostgreSQL: run under `python tests/pg.py --durable -- ...`")
    args = ap.parse_args()
    if args.pg:
        os.environ["EXPERIMENT_PG"] = "1"
    variants = args.only or VARIANTS
    if args.variant:
        print(json.dumps(run_variant(args.variant, args.n)))
        return
    import statistics

    results = {}
    for _ in range(args.rounds):  # interleave variants so machine noise hits all alike
        for v in variants:
            out = subprocess.run([sys.executable, __file__, "--variant", v, "-n", str(args.n)],
                                 capture_output=True, text=True, check=False)
            if out.returncode != 0:
                sys.exit(f"{v} failed:\n{out.stderr[-3000:]}")
            r = json.loads(out.stdout.strip().splitlines()[-1])
            for op in r:
                results.setdefault((v, op), []).append(r[op])
    base = {op: statistics.median(results[("baseline", op)]) for op in ("token", "introspect")}
    print("| variant | token CPU µs/req | vs baseline | introspect CPU µs/req | vs baseline |")
    print("|---|---|---|---|---|")
    for v in variants:
        t = statistics.median(results[(v, "token")])
        i = statistics.median(results[(v, "introspect")])
        print(f"| {v} | {t:.0f} | {100 * (t / base['token'] - 1):+.0f} % | {i:.0f} | "
              f"{100 * (i / base['introspect'] - 1):+.0f} % |")


if __name__ == "__main__":
    main()
