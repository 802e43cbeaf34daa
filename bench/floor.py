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


if FLOOR == "wsgi":
    app = wsgi_app
elif FLOOR == "flask":
    app = make_flask()
else:
    app = make_db_app(FLOOR)
