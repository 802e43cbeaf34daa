"""In-process cost of one request, without HTTP, gunicorn or wrk: CPU µs per request.

Builds the real app (``create_app``) on a throwaway SQLite file, seeds an org, an admin
and a machine user through the CLI and admin API, then times N client_credentials
requests and N introspections straight into the WSGI callable, with ``time.process_time``
(CPU of this process only, so it is far less sensitive to a busy machine than wrk runs).
Optionally cProfiles them.

    .venv/bin/python bench/micro.py [-n 3000] [--profile token|introspect] [--floor]
        [--limits] [--flask]
    python tests/pg.py --durable -- sh -c \
        '.venv/bin/python bench/micro.py --database-url "$SCOPEGATE_TEST_DATABASE_URL"'

With --floor the same is done for bench/floor.py's apps (FLOOR=flask/orm/core), to
separate the framework's cost from Scopegate's.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import importlib
import io
import json
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
import urllib.parse

ACTIVE = re.compile(rb'"active"\s*:\s*true')
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def basic(cid: str, secret: str) -> str:
    q = lambda s: urllib.parse.quote(s, safe="")  # noqa: E731
    return "Basic " + base64.b64encode(f"{q(cid)}:{q(secret)}".encode()).decode()


SEED_TOKENS = 0
DATABASE_URL = ""
LIMITS = False
FLASK_VIEWS = False
PRAGMAS: list[str] = []
ONLY = ""


def scopegate_app():
    tmp = tempfile.mkdtemp(prefix="scopegate-micro.")
    os.environ["SCOPEGATE_DATABASE_URL"] = DATABASE_URL or f"sqlite:///{tmp}/bench.db"
    os.environ["SCOPEGATE_SECRET_KEY"] = "bench"
    # Rate limits: off like the HTTP runs (one client at full speed would be refused), or
    # on with allowances no run reaches, so their per-request cost is counted (--limits).
    os.environ["SCOPEGATE_RATE_LIMITS"] = "on" if LIMITS else "off"
    for setting in ("PER_IP", "PER_CLIENT"):
        os.environ[f"SCOPEGATE_RATE_LIMIT_{setting}"] = "1000000/second"
    from app import create_app

    app = create_app()
    if PRAGMAS:  # extra SQLite pragmas on every new connection (an experiment, not the app's)
        from sqlalchemy import event

        from app.models import db

        def _extra(conn, _record):
            cur = conn.cursor()
            for p in PRAGMAS:
                cur.execute(f"PRAGMA {p}")
            cur.close()
        with app.app_context():
            event.listen(db.engine, "connect", _extra)
    runner = app.test_cli_runner()

    def cli(*args):
        res = runner.invoke(args=list(args))
        assert res.exit_code == 0, res.output
        lines = [ln for ln in res.output.splitlines() if ln.startswith("{")]
        return json.loads(lines[-1]) if lines else {}

    cli("init-db")
    cli("create-org", "bench", "--json")
    cli("create-admin", "--org", "bench", "--email", "admin@bench.test", "--json")
    admin = cli("issue-admin-token", "--email", "admin@bench.test", "--json")["token"]
    c = app.test_client()  # seeding only; measurements call the WSGI app directly
    h = {"Authorization": f"Bearer {admin}"}
    r = c.post("/api/v1/users", json={"name": "bench-client", "scopes": ["cli"]}, headers=h)
    assert r.status_code in (200, 201), r.data
    r = c.post("/api/v1/users/bench-client/credentials", headers=h)
    assert r.status_code in (200, 201), r.data
    creds = r.get_json()
    if SEED_TOKENS:
        import seed_tokens
        from sqlalchemy import select

        from app.models import MachineUser, db
        with app.app_context():
            user = db.session.execute(select(MachineUser).where(
                MachineUser.client_id == creds["client_id"])).scalar_one()
            seed_tokens.seed_tokens(user, SEED_TOKENS)
    wsgi = app.wsgi_app.flask_wsgi if FLASK_VIEWS else app
    return wsgi, "/oauth/token", "/oauth/introspect", basic(creds["client_id"],
                                                            creds["client_secret"])


def floor_app(kind: str):
    os.environ["FLOOR"] = kind
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    mod = importlib.import_module("floor")
    mod = importlib.reload(mod)
    return mod.app, "/token", "/introspect", basic(mod.CLIENT_ID, mod.SECRET)


def _environ(path: str, body: bytes, auth: str) -> dict:
    return {
        "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "5055", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1:5055",
        "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(len(body)),
        "HTTP_AUTHORIZATION": auth, "HTTP_ACCEPT": "application/json",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
        "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
    }


def call(app, path: str, body: bytes, auth: str) -> tuple[str, bytes]:
    """One request straight into the WSGI callable (what gunicorn does, minus HTTP)."""
    env = _environ(path, body, auth)
    env["wsgi.input"] = io.BytesIO(body)
    status = []
    it = app(env, lambda s, h, exc=None: status.append(s))
    try:
        data = b"".join(it)
    finally:
        if hasattr(it, "close"):
            it.close()
    return status[0], data


def measure(app, token_path, introspect_path, auth, n, profile=None):
    tok_body = b"grant_type=client_credentials&scope=cli"

    def tok():
        st, data = call(app, token_path, tok_body, auth)
        assert st.startswith("200"), data
        return data

    value = json.loads(tok())["access_token"]
    intro_body = ("token=" + urllib.parse.quote(value, safe="")).encode()

    def intro():
        st, data = call(app, introspect_path, intro_body, auth)
        assert st.startswith("200") and ACTIVE.search(data), data

    out = {}
    for name, fn in (("token", tok), ("introspect", intro)):
        if ONLY and name != ONLY:
            continue
        for _ in range(min(200, n)):  # warm-up
            fn()
        prof = cProfile.Profile() if profile == name else None
        samples = []
        for _ in range(5):
            t0 = time.process_time()
            if prof:
                prof.enable()
            for _ in range(n // 5):
                fn()
            if prof:
                prof.disable()
            samples.append((time.process_time() - t0) / (n // 5) * 1e6)
        out[name] = statistics.median(samples)
        if prof:
            st = pstats.Stats(prof)
            st.sort_stats("cumulative").print_stats(60)
            st.sort_stats("tottime").print_stats(30)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=3000)
    ap.add_argument("--profile", choices=["token", "introspect"])
    ap.add_argument("--floor", action="store_true", help="also the floor apps")
    ap.add_argument("--tokens", type=int, default=0, help="seed this many live tokens first")
    ap.add_argument("--pragma", action="append", default=[], help="extra SQLite PRAGMA")
    ap.add_argument("--database-url", default="",
                    help="an empty database to use instead of a temporary SQLite file "
                         "(e.g. from `python tests/pg.py --durable -- ...`)")
    ap.add_argument("--limits", action="store_true",
                    help="rate limits on (allowances no run reaches), to count their cost")
    ap.add_argument("--flask", action="store_true",
                    help="the Flask views, without the fast path in front (A/B)")
    ap.add_argument("--only", choices=["token", "introspect"],
                    help="time one operation (bench/instructions.sh counts its instructions)")
    args = ap.parse_args()
    global SEED_TOKENS, DATABASE_URL, LIMITS, FLASK_VIEWS, ONLY
    ONLY = args.only or ""
    SEED_TOKENS, DATABASE_URL = args.tokens, args.database_url
    LIMITS, FLASK_VIEWS = args.limits, args.flask
    PRAGMAS.extend(args.pragma)
    rows = [("scopegate", measure(*scopegate_app(), args.n, args.profile))]
    if args.floor:
        for kind in ("flask", "orm", "core"):
            rows.append((f"floor-{kind}", measure(*floor_app(kind), args.n)))
    print("| app (in-process, WSGI call) | token CPU µs/req | introspect CPU µs/req |")
    print("|---|---|---|")
    for name, r in rows:
        print(f"| {name} | {r.get('token', 0):.0f} | {r.get('introspect', 0):.0f} |")


if __name__ == "__main__":
    main()
