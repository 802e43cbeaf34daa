"""Floor measurements: "null" authorization servers, one stack layer at a time.

The shared harness runs against these exactly as against Scopegate (same wrk script,
same Basic auth header, same bodies checked), so the difference between rows is what
each layer costs per request, and the last rows say how low Scopegate could go on
this stack. Chosen with FLOOR:

  wsgi      gunicorn + a bare WSGI callable (parse nothing, return fixed JSON)
  flask     + Flask routing, request.form, request.authorization, jsonify
  orm       + Flask-SQLAlchemy ORM on SQLite (WAL, synchronous=NORMAL), Scopegate's shape:
            token = client SELECT + INSERT token row + INSERT audit row + COMMIT;
            introspect = client SELECT + token SELECT by SHA-256 digest
  core      the same statements through SQLAlchemy Core (rows, not ORM objects)
  raw       a WSGI fast path: no Flask, no SQLAlchemy; stdlib sqlite3, the same reads/writes
  schema    raw on Scopegate's own migrated schema (every index and foreign key a token
            writes), its pragmas and its writers' queue: the floor of Scopegate's store

    FLOOR=flask gunicorn -w 2 --chdir bench floor:app
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import secrets
import tempfile
import time

FLOOR = os.environ.get("FLOOR", "flask")
CLIENT_ID = "bench-client"
SECRET = "bench-secret-0123456789abcdef"
SECRET_HASH = hashlib.sha256(SECRET.encode()).hexdigest()
TOKEN_BODY = json.dumps({"access_token": "x" * 43, "token_type": "Bearer",
                         "expires_in": 3600, "scope": "cli"}).encode()
ACTIVE_BODY = json.dumps({"active": True, "scope": "cli", "client_id": CLIENT_ID,
                          "sub": CLIENT_ID, "exp": 2**31 - 1}).encode()


def wsgi_app(environ, start_response):
    n = int(environ.get("CONTENT_LENGTH") or 0)
    environ["wsgi.input"].read(n)
    body = TOKEN_BODY if environ["PATH_INFO"].endswith("token") else ACTIVE_BODY
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body))),
                              ("Cache-Control", "no-store")])
    return [body]


def make_flask():
    from flask import Flask, abort, jsonify, request

    app = Flask(__name__)

    def check_client():
        auth = request.authorization
        if not auth or auth.username != CLIENT_ID or not hmac.compare_digest(
                hashlib.sha256((auth.password or "").encode()).hexdigest(), SECRET_HASH):
            abort(401)

    @app.post("/token")
    def token():
        check_client()
        assert request.form["grant_type"] == "client_credentials"
        return jsonify(access_token="sgt_" + secrets.token_urlsafe(32), token_type="Bearer",
                       expires_in=3600, scope=request.form.get("scope", ""))

    @app.post("/introspect")
    def introspect():
        check_client()
        request.form["token"]
        return jsonify(active=True, scope="cli", client_id=CLIENT_ID, sub=CLIENT_ID,
                       exp=int(time.time()) + 3600)

    return app


def make_db_app(kind: str):
    from flask import Flask, abort, jsonify, request
    from flask_sqlalchemy import SQLAlchemy
    from sqlalchemy import event, insert, select

    path = os.path.join(tempfile.gettempdir(), f"scopegate-floor-{os.getppid()}.db")
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    db = SQLAlchemy(app)

    class Client(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        client_id = db.Column(db.String(120), unique=True, nullable=False)
        secret_hash = db.Column(db.String(64), nullable=False)
        scope = db.Column(db.Text, nullable=False)

    class Tok(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        token_hash = db.Column(db.String(64), unique=True, nullable=False)
        client_id = db.Column(db.String(120), nullable=False)
        scope = db.Column(db.Text, nullable=False)
        issued_at = db.Column(db.Integer, nullable=False)
        expires_at = db.Column(db.Integer, nullable=False)
        revoked_at = db.Column(db.Integer)

    class Audit(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        at = db.Column(db.Integer, nullable=False)
        actor = db.Column(db.String(254))
        action = db.Column(db.String(40), nullable=False)
        target = db.Column(db.String(254))

    lock = open(path + ".lock", "w")  # noqa: SIM115 - held for the process's life
    fcntl.flock(lock, fcntl.LOCK_EX)  # the workers create the schema one at a time
    with app.app_context():
        @event.listens_for(db.engine, "connect")
        def _pragmas(conn, _):
            c = conn.cursor()
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA busy_timeout=5000")
            c.execute("PRAGMA synchronous=NORMAL")
            c.close()
        db.create_all()
        if db.session.scalar(select(Client).where(Client.client_id == CLIENT_ID)) is None:
            db.session.add(Client(client_id=CLIENT_ID, secret_hash=SECRET_HASH, scope="cli"))
            db.session.commit()
    fcntl.flock(lock, fcntl.LOCK_UN)

    ctab, ttab, atab = Client.__table__, Tok.__table__, Audit.__table__
    q_client = select(ctab.c.secret_hash, ctab.c.scope).where(ctab.c.client_id == CLIENT_ID)

    def check_client():
        auth = request.authorization
        if not auth:
            abort(401)
        if kind == "core":
            row = db.session.execute(q_client).first()
            stored = row.secret_hash if row else None
        else:
            c = db.session.scalar(select(Client).where(Client.client_id == auth.username))
            stored = c.secret_hash if c else None
        if stored is None or not hmac.compare_digest(
                hashlib.sha256((auth.password or "").encode()).hexdigest(), stored):
            abort(401)

    @app.post("/token")
    def token():
        check_client()
        value = "sgt_" + secrets.token_urlsafe(32)
        now = int(time.time())
        if kind in ("orm", "core"):
            row = {"token_hash": hashlib.sha256(value.encode()).hexdigest(),
                   "client_id": CLIENT_ID, "scope": "cli", "issued_at": now,
                   "expires_at": now + 3600}
            if kind == "core":
                db.session.execute(insert(ttab), row)
                db.session.execute(insert(atab), {"at": now, "actor": CLIENT_ID,
                                                  "action": "token.issue", "target": "x"})
            else:
                db.session.add(Tok(**row))
                db.session.add(Audit(at=now, actor=CLIENT_ID, action="token.issue", target="x"))
            db.session.commit()
        return jsonify(access_token=value, token_type="Bearer", expires_in=3600, scope="cli")

    @app.post("/introspect")
    def introspect():
        check_client()
        digest = hashlib.sha256(request.form["token"].encode()).hexdigest()
        if kind == "core":
            row = db.session.execute(
                select(ttab.c.scope, ttab.c.expires_at, ttab.c.revoked_at)
                .where(ttab.c.token_hash == digest)).first()
        else:
            row = db.session.scalar(select(Tok).where(Tok.token_hash == digest))
        if row is None or row.revoked_at is not None or row.expires_at <= time.time():
            return jsonify(active=False)
        return jsonify(active=True, scope=row.scope, client_id=CLIENT_ID, sub=CLIENT_ID,
                       exp=row.expires_at)

    return app


class _RawStore:
    """The raw floor's own small schema: 6 B-trees written per token, no writers' queue."""

    def setup(self, c, path: str) -> None:
        c.executescript("""
            CREATE TABLE IF NOT EXISTS client (id INTEGER PRIMARY KEY, client_id TEXT UNIQUE
                NOT NULL, secret_hash TEXT NOT NULL, scope TEXT NOT NULL, org_id INTEGER);
            CREATE TABLE IF NOT EXISTS tok (id INTEGER PRIMARY KEY, token_id TEXT UNIQUE NOT NULL,
                token_hash TEXT UNIQUE NOT NULL, client_id TEXT NOT NULL, org_id INTEGER,
                scope TEXT NOT NULL, issued_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
                revoked_at INTEGER, last_used_at INTEGER);
            CREATE INDEX IF NOT EXISTS ix_tok_subject ON tok (client_id);
            CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY, at INTEGER NOT NULL,
                org_id INTEGER, actor TEXT, action TEXT NOT NULL, target TEXT, outcome TEXT,
                ip TEXT);
            CREATE INDEX IF NOT EXISTS ix_audit_org ON audit (org_id, id);
            CREATE INDEX IF NOT EXISTS ix_audit_actor ON audit (org_id, actor, id);
        """)
        c.execute("INSERT OR IGNORE INTO client (client_id, secret_hash, scope, org_id) "
                  "VALUES (?, ?, 'cli', 1)", (CLIENT_ID, SECRET_HASH))

    def seed(self, c) -> None:
        """Rows the store needs beyond ``setup`` (the raw schema's client is made there)."""

    def client(self, c, cid: str):
        """-> (secret_hash, scope, org_id, row id) or None."""
        return c.execute("SELECT secret_hash, scope, org_id, id FROM client WHERE client_id = ?",
                         (cid,)).fetchone()

    def issue(self, c, value: str, tid: str, who: tuple, now: int, ip: str) -> None:
        cid, scope, org, _ = who
        c.execute("BEGIN")
        c.execute("INSERT INTO tok (token_id, token_hash, client_id, org_id, scope, "
                  "issued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                  (tid, hashlib.sha256(value.encode()).hexdigest(), cid, org, scope, now,
                   now + 2592000))
        c.execute("INSERT INTO audit (at, org_id, actor, action, target, outcome, ip) "
                  "VALUES (?, ?, ?, 'token.issue', ?, 'success', ?)", (now, org, cid, tid, ip))
        c.execute("COMMIT")

    def lookup(self, c, digest: str):
        """-> (client_id, org_id, scope, issued_at, expires_at, revoked_at) or None."""
        return c.execute("SELECT client_id, org_id, scope, issued_at, expires_at, revoked_at "
                         "FROM tok WHERE token_hash = ?", (digest,)).fetchone()


class _SchemaStore(_RawStore):
    """Scopegate's own schema, made by its migrations (``bench/store_floor.py``), with its
    pragmas and its writers' queue: every row, column, index and foreign key Scopegate
    writes per token (14 B-trees), and the same join for introspection. What is left
    between this floor and Scopegate is the Python above the store."""

    def setup(self, c, path: str) -> None:
        import shutil

        import store_floor

        if c.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
            made = store_floor.migrated_database(tempfile.mkdtemp(prefix="scopegate-floor."))
            c.close()  # before the file is replaced under it
            for suffix in ("-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
            shutil.copy(made, path)
            shutil.rmtree(os.path.dirname(made), ignore_errors=True)
        self.writers = open(path + "-writers.lock", "a")  # noqa: SIM115 - the process's queue
        self.INSERT_TOKEN = (f"INSERT INTO token ({', '.join(store_floor.TOKEN)}) "
                             f"VALUES ({', '.join('?' * len(store_floor.TOKEN))})")
        self.INSERT_EVENT = (f"INSERT INTO audit_event ({', '.join(store_floor.EVENT)}) "
                             f"VALUES ({', '.join('?' * len(store_floor.EVENT))})")

    def seed(self, c) -> None:
        c.execute("PRAGMA foreign_keys=ON")
        org = c.execute("SELECT id FROM organization").fetchone()[0]
        c.execute("INSERT OR IGNORE INTO machine_user (org_id, name, client_id, "
                  "client_secret_hash, scope, created_by, created_at) "
                  "VALUES (?, 'bench', ?, ?, 'cli', 'bench', 0)", (org, CLIENT_ID, SECRET_HASH))

    def client(self, c, cid: str):
        return c.execute("SELECT client_secret_hash, scope, org_id, id, name FROM machine_user "
                         "WHERE client_id = ?", (cid,)).fetchone()

    def issue(self, c, value: str, tid: str, who: tuple, now: int, ip: str) -> None:
        cid, scope, org, row = who
        fcntl.flock(self.writers, fcntl.LOCK_EX)
        try:
            c.execute("BEGIN")
            c.execute(self.INSERT_TOKEN, (
                tid, hashlib.sha256(value.encode()).hexdigest(), "scoped", "opaque", org, None,
                row[3], cid, row[4], cid, cid, None, scope, now, now + 2592000, None, None,
                None, None, None))
            c.execute(self.INSERT_EVENT, (
                now, org, cid, row[4], cid, row[4], "token.issue", tid, "success", ip,
                secrets.token_hex(8), None, 1, None, None))
            c.execute("COMMIT")
        finally:
            fcntl.flock(self.writers, fcntl.LOCK_UN)

    def lookup(self, c, digest: str):
        return c.execute(
            "SELECT token.client_id, token.org_id, token.scope, token.issued_at, "
            "token.expires_at, token.revoked_at, organization.name, account.role FROM token "
            "JOIN organization ON organization.id = token.org_id "
            "LEFT OUTER JOIN account ON account.id = token.account_id "
            "WHERE token.token_hash = ?", (digest,)).fetchone()


def make_raw_app(store: _RawStore):
    """What a WSGI fast path for the two endpoints could cost: no Flask, no SQLAlchemy, the
    stdlib sqlite3 module with prepared statements, the same reads and writes as Scopegate
    (client by id + secret digest check; token INSERT + audit INSERT + COMMIT; token by digest)."""
    import base64
    import sqlite3
    import threading
    import urllib.parse

    path = os.path.join(tempfile.gettempdir(), f"scopegate-floor-{os.getppid()}.db")
    local = threading.local()

    def conn():
        c = getattr(local, "c", None)
        if c is None:
            c = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            c.execute("PRAGMA journal_mode=WAL")
            c.execute("PRAGMA busy_timeout=5000")
            c.execute("PRAGMA synchronous=NORMAL")
            if isinstance(store, _SchemaStore):
                c.execute("PRAGMA foreign_keys=ON")
            local.c = c
        return c

    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        setup = sqlite3.connect(path, isolation_level=None)
        store.setup(setup, path)
        setup.close()
        store.seed(conn())
        fcntl.flock(lock, fcntl.LOCK_UN)

    def reply(start_response, status, obj):
        body = json.dumps(obj).encode()
        start_response(status, [("Content-Type", "application/json"),
                                ("Content-Length", str(len(body))),
                                ("Cache-Control", "no-store"), ("Pragma", "no-cache")])
        return [body]

    def client(environ):
        scheme, _, b64 = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            cid, _, secret = base64.b64decode(b64).decode().partition(":")
        except ValueError:
            return None
        cid, secret = urllib.parse.unquote(cid), urllib.parse.unquote(secret)
        row = store.client(conn(), cid)
        if row is None or not hmac.compare_digest(
                row[0], hashlib.sha256(secret.encode()).hexdigest()):
            return None
        return cid, row[1], row[2], row

    def app(environ, start_response):
        n = int(environ.get("CONTENT_LENGTH") or 0)
        form = urllib.parse.parse_qs(environ["wsgi.input"].read(n).decode())
        if any(len(v) > 1 for v in form.values()):
            return reply(start_response, "400 Bad Request", {"error": "invalid_request"})
        who = client(environ)
        if who is None:
            return reply(start_response, "401 Unauthorized", {"error": "invalid_client"})
        cid, scope, org, _ = who
        now = int(time.time())
        c = conn()
        if environ["PATH_INFO"] == "/token":
            if form.get("grant_type") != ["client_credentials"]:
                return reply(start_response, "400 Bad Request",
                             {"error": "unsupported_grant_type"})
            value = "sgt_" + secrets.token_urlsafe(30)
            store.issue(c, value, secrets.token_hex(16), who, now, environ.get("REMOTE_ADDR"))
            return reply(start_response, "200 OK", {"access_token": value,
                                                    "token_type": "Bearer",
                                                    "expires_in": 2592000, "scope": scope})
        value = (form.get("token") or [""])[0]
        row = store.lookup(c, hashlib.sha256(value.encode()).hexdigest())
        if row is None or row[5] is not None or row[4] <= now or row[0] != cid:
            return reply(start_response, "200 OK", {"active": False})
        return reply(start_response, "200 OK", {
            "active": True, "scope": row[2], "client_id": row[0], "sub": row[0],
            "exp": row[4], "iat": row[3], "token_type": "Bearer"})

    return app


if FLOOR == "wsgi":
    app = wsgi_app
elif FLOOR == "flask":
    app = make_flask()
elif FLOOR == "raw":
    app = make_raw_app(_RawStore())
elif FLOOR == "schema":
    app = make_raw_app(_SchemaStore())
else:
    app = make_db_app(FLOOR)
