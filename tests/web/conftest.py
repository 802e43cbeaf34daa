"""Dashboard fixtures: admins with passwords, a browser-like test client that
carries the CSRF token, and a live gunicorn server on a fresh database for
the Chromium tests (which start from first-run setup)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.services import callers, orgs
from tests.conftest import free_port, start_server, stop_server

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
PASSWORD = "correct horse battery staple"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch):
    """Cheap argon2id parameters for the unit tests (the production ones cost
    ~0.1 s per hash by design; the browser tests' live server keeps them)."""
    from argon2 import PasswordHasher

    from app.services import logins, passwords

    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8192))
    monkeypatch.setattr(logins, "_dummy_hash", None)


@dataclass
class Admin:
    email: str
    uid: str
    org: str
    org_id: int
    password: str = PASSWORD


def make_admin(app, org_name: str, email: str | None = None) -> Admin:
    """An organization with one admin who can sign in to the dashboard."""
    with app.app_context():
        org = orgs.create_org(callers.operator(), org_name)
        account = orgs.create_admin(callers.operator(org.id), org,
                                    email or f"admin@{org_name}.test", PASSWORD)
        return Admin(account.email, account.uid, org.name, org.id)


class Browser:
    """The Flask test client used the way a browser uses the pages: it reads
    the CSRF token from the last form it saw and sends it back."""

    def __init__(self, client):
        self.client = client
        self.csrf = None

    def _remember(self, response):
        match = CSRF_RE.search(response.get_data(as_text=True))
        if match:
            self.csrf = match.group(1)
        return response

    def get(self, path, **kw):
        return self._remember(self.client.get(path, **kw))

    def post(self, path, data=None, csrf=True, **kw):
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            if self.csrf is None:
                self.get("/login")
            data["csrf_token"] = self.csrf
        return self._remember(self.client.post(path, data=data, **kw))

    def login(self, admin: Admin, password: str | None = None, **kw):
        self.get("/login", **kw)
        return self.post("/login", {"email": admin.email,
                                    "password": password or admin.password}, **kw)

    def text(self, path) -> str:
        return self.get(path).get_data(as_text=True)


@pytest.fixture
def admin(app) -> Admin:
    return make_admin(app, "acme")


@pytest.fixture
def other_admin(app) -> Admin:
    return make_admin(app, "globex")


@pytest.fixture
def browser(client) -> Browser:
    return Browser(client)


@pytest.fixture
def signed_in(app, admin) -> Browser:
    b = Browser(app.test_client())
    response = b.login(admin)
    assert response.status_code == 303, response.get_data(as_text=True)
    b.get("/dashboard")  # the session's new CSRF token
    return b


@pytest.fixture
def other_signed_in(app, other_admin) -> Browser:
    b = Browser(app.test_client())
    assert b.login(other_admin).status_code == 303
    b.get("/dashboard")
    return b


def secret_on(page: str, prefix: str) -> str | None:
    match = re.search(rf"\b{prefix}_[0-9A-Za-z]{{39}}\b", page)
    return match.group(0) if match else None


# --- a live server for the browser tests -------------------------------------


@dataclass
class DashboardServer:
    url: str
    env: dict
    process: subprocess.Popen
    setup_url: str = ""

    def flask(self, *args: str) -> str:
        result = subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT,
                                env=self.env, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed: {result.stderr}")
        return result.stdout


@pytest.fixture(scope="module")
def dashboard_server(tmp_path_factory):
    """gunicorn (2 workers) on an empty SQLite database: no admin yet, so
    the setup link printed by ``setup-link`` is the way in."""
    tmp = tmp_path_factory.mktemp("dashboard")
    port = free_port()
    env = {**os.environ, "SCOPEGATE_DATABASE_URL": f"sqlite:///{tmp}/dashboard.db",
           "SCOPEGATE_SECRET_KEY": "dashboard-test-secret",
           "SCOPEGATE_ISSUER": f"http://127.0.0.1:{port}"}
    server = DashboardServer(f"http://127.0.0.1:{port}", env, None)  # type: ignore[arg-type]
    server.flask("init-db")
    server.setup_url = json.loads(server.flask("setup-link", "--json"))["url"]
    server.process = start_server(env, port)
    yield server
    stop_server(server.process)


@pytest.fixture
def api_token(app, admin) -> str:
    """An unscoped token of ``admin`` for the admin API (the SDK's side)."""
    from app.services import orgs, tokens

    with app.app_context():
        account = orgs.get_account(admin.email)
        value, _ = tokens.create_personal(account, callers.from_account(account), name="api")
        return value
