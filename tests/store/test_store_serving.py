"""Serving as in production (config/gunicorn.py): readiness follows the
database, the access log is JSON with the request id, SIGTERM is a graceful
shutdown."""

from __future__ import annotations

import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests import pg
from tests.conftest import free_port
from tests.store.conftest import Deployment, make_app, prepare, requires_pg


def test_readyz_is_503_when_the_database_is_unreachable():
    """A PostgreSQL URL with no server behind it (nothing listens on the port)."""
    app = make_app(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/scopegate"
                   "?connect_timeout=2")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "error": "database unreachable"}
    assert app.test_client().get("/healthz").status_code == 200  # alive, just not ready


def test_readyz_is_200_on_a_reachable_database(fresh_url):
    prepare(fresh_url)
    assert make_app(fresh_url).test_client().get("/readyz").status_code == 200


@requires_pg
def test_a_server_whose_postgresql_stops_turns_unready_then_recovers(tmp_path):
    """A live host on its own PostgreSQL: stop the database under it -> 503;
    start it again -> ready, and requests work: pool_pre_ping drops the dead pooled
    connections, and the fast path replaces the connection it keeps for reads."""
    cluster = pg.Cluster()
    try:
        dep = Deployment(cluster.create_database("app"), tmp_path)
        dep.admin_token = prepare(dep.db_url)
        host = dep.start("host", production=True)  # what `make serve` runs

        def introspected():
            return requests.post(f"{host.url}/oauth/introspect", headers=dep.headers(),
                                 data={"token": dep.admin_token}, timeout=30)

        assert requests.get(f"{host.url}/api/v1/me", headers=dep.headers(),
                            timeout=30).status_code == 200
        for _ in range(4):  # each worker keeps a connection for its reads
            assert introspected().json()["active"] is True
        cluster.stop("fast")
        assert requests.get(f"{host.url}/readyz", timeout=30).status_code == 503
        cluster.start()
        for _ in range(3):  # every pooled connection of the workers was dead
            assert requests.get(f"{host.url}/readyz", timeout=30).status_code == 200
            assert requests.get(f"{host.url}/api/v1/me", headers=dep.headers(),
                                timeout=30).status_code == 200
            answer = introspected()
            assert answer.status_code == 200 and answer.json()["active"] is True
        dep.stop(host)
    finally:
        cluster.destroy()


def test_access_log_is_json_with_the_request_id(deployment):
    host = deployment.start("host")
    requests.get(f"{host.url}/readyz", headers={"X-Request-Id": "trace-42"}, timeout=30)
    answered = requests.get(f"{host.url}/api/v1/me", timeout=30)  # 401, id generated
    generated = answered.headers["X-Request-Id"]
    time.sleep(0.5)
    lines = [json.loads(line) for line in host.log.read_text().splitlines()
             if line.startswith("{")]
    by_id = {line["request_id"]: line for line in lines}
    assert by_id["trace-42"]["path"] == "/readyz" and by_id["trace-42"]["status"] == 200
    assert by_id[generated]["status"] == 401 and by_id[generated]["method"] == "GET"
    assert {"ts", "remote_addr", "duration_ms", "bytes", "user_agent"} <= set(by_id[generated])


def test_gunicorns_access_log_never_holds_a_setup_code(deployment):
    host = deployment.start("host")
    requests.get(f"{host.url}/setup/sEcReTcOdE42", timeout=30)
    time.sleep(0.5)
    text = host.log.read_text()
    assert "sEcReTcOdE42" not in text and '"/setup/[redacted]"' in text


def test_sigterm_lets_an_in_flight_request_finish_then_exits_cleanly(deployment):
    """Hold a write lock in the database so that a request is stuck inside a
    worker; SIGTERM the server; it keeps running until the lock is released,
    answers that request 201 and exits 0."""
    from sqlalchemy import create_engine

    dep = deployment
    host = dep.start("host")
    engine = create_engine(dep.db_url)
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # the one writer slot (busy_timeout 5 s)
        else:
            conn.exec_driver_sql("LOCK TABLE machine_user IN EXCLUSIVE MODE")
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(requests.post, f"{host.url}/api/v1/users",
                                  json={"name": "late"}, headers=dep.headers(), timeout=30)
            time.sleep(1.5)  # the request is now waiting inside a worker
            assert not pending.done()
            host.process.send_signal(signal.SIGTERM)
            time.sleep(1.0)
            assert host.process.poll() is None, "exited with a request in flight"
            conn.rollback()  # release the lock: the request can finish
            assert pending.result().status_code == 201
    engine.dispose()
    assert host.process.wait(timeout=30) == 0
    dep.hosts.remove(host)
    assert "Shutting down" in host.log.read_text()


@pytest.mark.parametrize(("url", "per_core"), [
    ("sqlite:///instance/scopegate.db", 1),
    ("postgresql+psycopg://scopegate@db/scopegate", 2),
])
def test_gunicorn_config_runs_one_worker_per_core_on_sqlite_two_on_postgresql(
        url, per_core, monkeypatch):
    import os
    import runpy

    monkeypatch.delenv("SCOPEGATE_WORKERS", raising=False)
    monkeypatch.delenv("SCOPEGATE_THREADS", raising=False)
    monkeypatch.setenv("SCOPEGATE_DATABASE_URL", url)
    settings = runpy.run_path("config/gunicorn.py")
    assert settings["workers"] == per_core * (os.cpu_count() or 1) and settings["threads"] == 1
    assert settings["worker_class"] == "gthread" and settings["graceful_timeout"] >= 10
