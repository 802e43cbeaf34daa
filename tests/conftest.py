"""Fixtures: an app on a real database, an organization with its admin, a
machine user with credentials, and a live server process for end-to-end
tests. Tests read like the documentation: one behaviour each."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from app import create_app
from app.models import db
from app.services import callers, keys, orgs, tokens

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def _compile_each_url_builder_once() -> None:
    """Every test builds its app, and Werkzeug compiles two URL builders for each of
    the app's ~80 rules with ``ast`` and ``compile()``: a third of a typical test's
    time (tests/test_admin_api.py under cProfile). A builder's code is made from the
    rule's parsed parts alone -- it takes the rule as its first argument -- so the
    suite compiles each distinct one once and binds it to every rule like it.
    Rules with defaults are left to Werkzeug (their code can hold a converter's
    output). Test-only: the app never builds more than one of each."""
    from werkzeug.routing import Rule

    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None:  # a Werkzeug that builds URLs another way: nothing to save
        return
    compiled: dict[tuple, object] = {}

    def once(self, append_unknown: bool = True):
        if self.defaults:
            return compile_builder(self, append_unknown)
        key = (self.rule, self.map.host_matching, tuple(self._trace), append_unknown)
        builder = compiled.get(key)
        if builder is None:
            builder = compiled[key] = compile_builder(self, append_unknown)
        return builder

    Rule._compile_builder = once


_compile_each_url_builder_once()


def pytest_collection_modifyitems(items) -> None:
    """Under `make mutation`, each mutant's tests run most specific first: those that
    reach the fewest functions, then the fastest (both from mutmut's own stats). mutmut
    passes them in set order, so a mutant waited on average for half its tests before
    the one that kills it; a unit test such as the rate-limit counters' property test
    reaches a handful of functions and was last in plain fastest-first order (90 s per
    counter mutant). Verdicts don't change: a survivor still runs every test."""
    if "__mutmut_" not in os.environ.get("MUTANT_UNDER_TEST", ""):
        return
    try:
        with open("mutmut-stats.json") as stats:  # mutmut runs the tests in mutants/
            recorded = json.load(stats)
        durations = recorded["duration_by_test"]
        reach: dict[str, int] = {}
        for tests in recorded["tests_by_mangled_function_name"].values():
            for test in tests:
                reach[test] = reach.get(test, 0) + 1
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        return
    items.sort(key=lambda item: (reach.get(item.nodeid, 0), durations.get(item.nodeid, 0.0)))


def database_url(tmp_path: Path) -> str:
    """SQLite by default; SCOPEGATE_TEST_DATABASE_URL points the suite elsewhere."""
    return os.environ.get("SCOPEGATE_TEST_DATABASE_URL") or f"sqlite:///{tmp_path}/test.db"


_TEST_SETTINGS = {
    "TESTING": True,
    "SCOPEGATE_SECRET_KEY": "test-secret-key",
    "SCOPEGATE_ISSUER": "http://localhost",
}
#: A SQLite file migrated to head once per test process (see ``_migrated_copy``).
_TEMPLATE: dict[str, Path] = {}


def _migrated_copy(path: Path) -> None:
    """Put a copy of a once-migrated SQLite database at ``path``.

    Running the migrations costs 60-100 ms, more than most tests: the suite and
    ``make mutation`` spent most of their time there. The copy is the file those
    same migrations made (tests/store checks them on fresh databases), closed
    and checkpointed, so it carries no WAL."""
    template = _TEMPLATE.get("path")
    if template is None:
        import atexit
        import shutil
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="scopegate-template."))
        atexit.register(shutil.rmtree, folder, True)
        template = folder / "template.db"
        app = create_app({**_TEST_SETTINGS, "SCOPEGATE_DATABASE_URL": f"sqlite:///{template}"})
        with app.app_context():
            from app.database import upgrade

            upgrade()
            db.session.remove()
            db.engine.dispose()  # the last connection's close checkpoints the WAL away
        _TEMPLATE["path"] = template
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(template.read_bytes())
    path.chmod(0o600)


def _no_fsync(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


def _skip_fsync(engine) -> None:
    """The suite's SQLite files never outlive a power cut, so they are not synced: with
    the app's ``synchronous=NORMAL`` the checkpoint at the last connection's close
    syncs the file (4-10 ms, every test). Runs after the app's own pragmas (listeners
    run in order); what a process sees of its database is the same either way, and
    the live servers (tests/store's crash tests among them) keep the app's setting."""
    from sqlalchemy import event

    event.listen(engine, "connect", _no_fsync)


def make_test_app(tmp_path, **settings):
    """The suite's app on its database (migrated, emptied, with a signing key);
    ``settings`` override the test defaults (rate limits, metrics, ...).

    On SQLite a new database is a copy of one migrated once; an existing one
    (a test restarting its app on the same folder) is migrated as usual."""
    url = settings.get("SCOPEGATE_DATABASE_URL") or database_url(tmp_path)
    sqlite_file = Path(tmp_path) / "test.db"
    copied = url == f"sqlite:///{sqlite_file}" and not sqlite_file.exists()
    if copied:
        _migrated_copy(sqlite_file)
    app = create_app({**_TEST_SETTINGS, **settings, "SCOPEGATE_DATABASE_URL": url})
    with app.app_context():
        from app.database import upgrade

        if url.startswith("sqlite"):
            _skip_fsync(db.engine)

        if not copied:
            upgrade()
        if not url.startswith("sqlite"):
            empty_tables()  # one shared PostgreSQL database: start each test empty
        keys.ensure_key()
    return app


@pytest.fixture
def app(tmp_path):
    app = make_test_app(tmp_path)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def empty_tables() -> None:
    """Delete every row (schema and alembic_version stay): far cheaper than
    migrating a fresh PostgreSQL database for each test."""
    names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(db.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@dataclass
class Org:
    name: str
    id: int
    admin_email: str
    admin_uid: str
    admin_token: str
    admin_token_id: str


def make_org(app, name: str) -> Org:
    """An organization with one admin holding an unscoped token."""
    with app.app_context():
        org = orgs.create_org(callers.operator(), name)
        admin = orgs.create_admin(callers.operator(org.id), org, f"admin@{name}.test")
        value, token = tokens.create_personal(admin, callers.operator(org.id), name="tests")
        return Org(org.name, org.id, admin.email, admin.uid, value, token.token_id)


@pytest.fixture
def org(app) -> Org:
    return make_org(app, "acme")


@pytest.fixture
def other_org(app) -> Org:
    return make_org(app, "globex")


class Api:
    """The admin API as one admin sees it."""

    def __init__(self, client, token: str):
        self.client, self.token = client, token

    def _headers(self, headers=None):
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, path, **kw):
        return self.client.get(f"/api/v1{path}", headers=self._headers(), **kw)

    def post(self, path, json=None, **kw):
        return self.client.post(f"/api/v1{path}", json=json, headers=self._headers(), **kw)

    def delete(self, path, **kw):
        return self.client.delete(f"/api/v1{path}", headers=self._headers(), **kw)

    def patch(self, path, json=None, **kw):
        return self.client.patch(f"/api/v1{path}", json=json, headers=self._headers(), **kw)

    def introspect(self, token: str, **form):
        return self.client.post("/oauth/introspect", data={"token": token, **form},
                                headers=self._headers())


@pytest.fixture
def api(client, org) -> Api:
    return Api(client, org.admin_token)


@dataclass
class Machine:
    name: str
    email: str
    client_id: str
    client_secret: str


def basic(client_id: str, secret: str) -> dict:
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


@pytest.fixture
def machine_user(api) -> Machine:
    """A machine user ``demo-user`` (whole catalog) with client credentials."""
    user = api.post("/users", {"name": "demo-user"}).get_json()
    creds = api.post("/users/demo-user/credentials").get_json()
    return Machine(user["name"], user["email"], creds["client_id"], creds["client_secret"])


@pytest.fixture
def scoped_token(api, machine_user) -> dict:
    """A scoped token of ``demo-user`` created by the admin (the documented call)."""
    response = api.post("/users/demo-user/tokens",
                        {"scopes": ["create_session", "read_user_session"]})
    assert response.status_code == 201
    return response.get_json()


def issue(client, machine: Machine, **form) -> object:
    """A client_credentials request as a stock client sends it."""
    return client.post("/oauth/token", data={"grant_type": "client_credentials", **form},
                       headers=basic(machine.client_id, machine.client_secret))


# --- a live server process -------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    env: dict
    process: subprocess.Popen
    log_path: Path | None = None
    admin_token: str = ""
    admin_email: str = ""
    org: str = ""

    def flask(self, *args: str, input: str | None = None) -> str:
        """Run an operator command against this server's database."""
        result = subprocess.run(
            [str(VENV_BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=self.env,
            capture_output=True, text=True, input=input, timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed: {result.stderr}")
        return result.stdout

    def flask_json(self, *args: str, input: str | None = None) -> dict:
        return json.loads(self.flask(*args, "--json", input=input))


def start_server(env: dict, port: int, log_path: Path | None = None) -> subprocess.Popen:
    """gunicorn serving wsgi:app; its access and error logs go to ``log_path``."""
    log = open(log_path or os.devnull, "ab")  # noqa: SIM115 - lives as long as the server
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--graceful-timeout", "5", "--access-logfile", "-", "--log-level", "info",
         "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=log,
    )
    log.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = Path(log_path).read_text()[-2000:] if log_path else ""
            raise RuntimeError(f"server exited: {tail}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5).ok:
                return process
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not become ready")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def launch_live_server(tmp: Path, database_url: str | None = None,
                       **settings: str) -> LiveServer:
    """A gunicorn process on its own database, with an org, an admin and its
    token; ``settings`` are extra SCOPEGATE_* environment variables."""
    port = free_port()
    env = {
        **os.environ,
        "SCOPEGATE_DATABASE_URL": database_url or f"sqlite:///{tmp}/live.db",
        "SCOPEGATE_SECRET_KEY": "live-test-secret",
        "SCOPEGATE_ISSUER": f"http://127.0.0.1:{port}",
        **settings,
    }
    server = LiveServer(f"http://127.0.0.1:{port}", env, None,  # type: ignore[arg-type]
                        log_path=tmp / "server.log")
    server.flask("init-db")
    server.flask("create-org", "live-org")
    server.flask("create-admin", "--org", "live-org", "--email", "admin@live.test")
    issued = server.flask_json("issue-admin-token", "--email", "admin@live.test")
    server.admin_token, server.admin_email, server.org = (
        issued["token"], "admin@live.test", "live-org")
    server.process = start_server(env, port, server.log_path)
    return server


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """A live server issuing opaque tokens (the default)."""
    server = launch_live_server(tmp_path_factory.mktemp("live"),
                                os.environ.get("SCOPEGATE_TEST_LIVE_DATABASE_URL"))
    yield server
    stop_server(server.process)
