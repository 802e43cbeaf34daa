"""What `make serve` runs (``python -m config.serve``: granian), attacked the
way issue 13 found gunicorn's workers taken: connections that send headers
and stall the body, and connections that send nothing. Also: its access log
is JSON without setup codes, and its workers share one /metrics."""

from __future__ import annotations

import json
import time

import requests

from tests.conftest import basic
from tests.slow_clients import close_all, idle, stalled_body

STALLED = 60


def timed(call) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def two_workers_with_machine_user(deployment):
    """The production server with two workers, and a machine user ``svc``'s credentials."""
    h = deployment.headers()
    host = deployment.start("prod", production=True, workers=2, threads=1)
    assert requests.post(f"{host.url}/api/v1/users", json={"name": "svc"}, headers=h,
                         timeout=30).status_code == 201
    creds = requests.post(f"{host.url}/api/v1/users/svc/credentials", headers=h,
                          timeout=30).json()
    return host, creds


def test_sixty_stalled_and_sixty_idle_connections_do_not_stop_healthz_or_tokens(deployment):
    host, creds = two_workers_with_machine_user(deployment)
    sockets = [stalled_body("127.0.0.1", host.port) for _ in range(STALLED)]
    sockets += [idle("127.0.0.1", host.port) for _ in range(STALLED)]
    try:
        time.sleep(0.5)  # let the server take every connection in
        for _ in range(3):
            health, health_s = timed(lambda: requests.get(f"{host.url}/healthz", timeout=10))
            token, token_s = timed(lambda: requests.post(
                f"{host.url}/oauth/token", data={"grant_type": "client_credentials"},
                headers=basic(creds["client_id"], creds["client_secret"]), timeout=10))
            assert health.status_code == 200 and health_s < 2, health_s
            assert token.status_code == 200 and token_s < 2, (token.text, token_s)
    finally:
        close_all(sockets)


def test_the_access_log_is_json_and_never_holds_a_setup_code(deployment):
    host = deployment.start("prod", production=True, workers=1)
    requests.get(f"{host.url}/setup/sEcReTcOdE123?x=1", timeout=10)
    requests.get(f"{host.url}/healthz", timeout=10, headers={"X-Request-Id": "probe-1"})
    deployment.stop(host)
    text = host.log.read_text()
    assert "sEcReTcOdE123" not in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert {"path": "/setup/[redacted]", "status": 404}.items() <= next(
        r for r in lines if r["path"].startswith("/setup/")).items()
    assert any(r["request_id"] == "probe-1" and r["path"] == "/healthz" for r in lines)


def test_metrics_add_up_every_worker(deployment, tmp_path):
    host = deployment.start("prod", production=True, workers=2, extra_env={
        "SCOPEGATE_METRICS": "1", "SCOPEGATE_METRICS_TOKEN": "scrape-me",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom")})
    for _ in range(40):  # fresh connections, so both workers answer some
        assert requests.get(f"{host.url}/healthz", timeout=10,
                            headers={"Connection": "close"}).status_code == 200
    scrape = requests.get(f"{host.url}/metrics", headers={"Authorization": "Bearer scrape-me"},
                          timeout=10)
    assert scrape.status_code == 200
    line = next(x for x in scrape.text.splitlines() if x.startswith(
        'scopegate_http_requests_total{endpoint="/healthz"'))
    assert float(line.rsplit(" ", 1)[1]) == 40  # both workers' counts, added up
    assert requests.get(f"{host.url}/metrics", timeout=10).status_code == 404


def test_revocation_and_new_credentials_reach_every_worker_at_once(deployment):
    """On SQLite both workers remember the client and token rows they read while nothing
    changes (``models.prepared.Remembered``); a revocation or new credentials committed by
    one process must be seen by every worker at its next request."""
    h = deployment.headers()
    host, creds = two_workers_with_machine_user(deployment)
    auth = basic(creds["client_id"], creds["client_secret"])

    def token() -> str:
        return requests.post(f"{host.url}/oauth/token", data={"grant_type":
                             "client_credentials"}, headers=auth, timeout=10).json()[
                                 "access_token"]

    def introspections(value: str, n: int = 24) -> list:
        # A new connection each: granian's workers share the listening socket.
        return [requests.post(f"{host.url}/oauth/introspect", data={"token": value},
                              headers={**auth, "Connection": "close"}, timeout=10)
                for _ in range(n)]

    value = token()
    answers = introspections(value)
    assert all(r.json()["active"] is True for r in answers)
    token_id = answers[0].json()["token_id"]
    assert requests.delete(f"{host.url}/api/v1/tokens/{token_id}", headers=h,
                           timeout=10).status_code == 204
    assert all(r.json() == {"active": False} for r in introspections(value))

    fresh = token()
    assert all(r.json()["active"] is True for r in introspections(fresh))
    assert requests.post(f"{host.url}/api/v1/users/svc/credentials", headers=h,
                         timeout=30).status_code == 201
    # The old secret authenticates nowhere (after a few refusals the limits answer 429).
    statuses = [r.status_code for r in introspections(fresh)]
    assert statuses[0] == 401 and set(statuses) <= {401, 429}, statuses
