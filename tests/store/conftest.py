"""Fixtures for the store and serving tests: a fresh empty database on the
suite's backend (SQLite file, or a new database on the PostgreSQL server
that ``tests/pg.py`` started for the PostgreSQL half), and deployments of
one or more gunicorn hosts sharing one database."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from app import create_app
from app.database import upgrade
from app.models import db
from app.services import keys
from tests import pg
from tests.conftest import ROOT, VENV_BIN, free_port, make_org

#: The PostgreSQL server of the PostgreSQL half (its maintenance database).
PG_URL = os.environ.get("SCOPEGATE_TEST_PG_URL", "")
ON_PG = os.environ.get("SCOPEGATE_TEST_DATABASE_URL", "").startswith("postgresql") and bool(PG_URL)

requires_pg = pytest.mark.skipif(
    not ON_PG, reason="PostgreSQL only: runs in the PostgreSQL half of `make test` "
                      "(python tests/pg.py -- .venv/bin/pytest tests/store)")


@pytest.fixture
def fresh_url(tmp_path):
    """The URL of a new, empty database on the suite's backend."""
    if ON_PG:
        url = pg.create_database(PG_URL)
        yield url
        pg.drop_database(url)
    else:
        yield f"sqlite:///{tmp_path}/store.db"


def make_app(url: str, **extra):
    return create_app({"TESTING": True, "SCOPEGATE_DATABASE_URL": url,
                       "SCOPEGATE_SECRET_KEY": "store-test-secret",
                       "SCOPEGATE_ISSUER": "http://localhost", **extra})


@dataclass
class Host:
    """One gunicorn server (config/gunicorn.py, as in production)."""

    name: str
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Deployment:
    """Hosts sharing one database, and the admin of one organization."""

    db_url: str
    tmp: Path
    admin_token: str = ""
    hosts: list[Host] = field(default_factory=list)

    def env(self, port: int, workers: int = 2, threads: int = 4) -> dict:
        return {**os.environ, "SCOPEGATE_DATABASE_URL": self.db_url,
                "SCOPEGATE_SECRET_KEY": "store-test-secret",
                "SCOPEGATE_ISSUER": "http://scopegate.test",
                "SCOPEGATE_BIND": f"127.0.0.1:{port}",
                "SCOPEGATE_WORKERS": str(workers), "SCOPEGATE_THREADS": str(threads),
                "SCOPEGATE_GRACEFUL_TIMEOUT": "5"}

    def start(self, name: str, port: int | None = None, production: bool = False,
              extra_env: dict | None = None, **kw) -> Host:
        """A gunicorn host (config/gunicorn.py), or with ``production`` what
        `make serve` runs (``python -m config.serve``: granian)."""
        port = port or free_port()
        log = self.tmp / f"{name}.log"
        command = ([str(VENV_BIN / "python"), "-m", "config.serve"] if production else
                   [str(VENV_BIN / "gunicorn"), "-c", "config/gunicorn.py", "wsgi:app"])
        with open(log, "ab") as out:
            process = subprocess.Popen(
                command, cwd=ROOT, env={**self.env(port, **kw), **(extra_env or {})},
                stdout=out, stderr=out)
        host = Host(name, port, process, log)
        wait_ready(host)
        self.hosts.append(host)
        return host

    def kill(self, host: Host) -> None:
        """SIGKILL the master and its workers: no graceful anything."""
        for pid in child_pids(host.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        host.process.kill()
        host.process.wait()
        self.hosts.remove(host)

    def stop(self, host: Host) -> int:
        host.process.terminate()
        try:
            code = host.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            host.process.kill()
            code = host.process.wait()
        self.hosts.remove(host)
        return code

    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.admin_token}"}


def child_pids(pid: int) -> list[int]:
    try:
        out = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in out.split()]


def wait_ready(host: Host, timeout: float = 60) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if host.process.poll() is not None:
            raise RuntimeError(f"{host.name} exited: {host.log.read_text()[-2000:]}")
        try:
            if requests.get(f"{host.url}/readyz", timeout=5).ok:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.1)
    host.process.kill()
    raise RuntimeError(f"{host.name} did not become ready: {host.log.read_text()[-2000:]}")


def prepare(url: str) -> str:
    """Migrate ``url``, give it a signing key and an org with an admin; the
    admin's unscoped token."""
    app = make_app(url)
    with app.app_context():
        upgrade()
        keys.ensure_key()
    org = make_org(app, "acme")
    with app.app_context():
        db.engine.dispose()
    return org.admin_token


@pytest.fixture
def deployment(fresh_url, tmp_path):
    """A migrated database with an organization; start hosts with ``.start()``."""
    dep = Deployment(fresh_url, tmp_path)
    dep.admin_token = prepare(fresh_url)
    yield dep
    for host in list(dep.hosts):
        dep.stop(host)
