"""``GET /metrics``: Prometheus text, off unless SCOPEGATE_METRICS=1, only for
the bearer of SCOPEGATE_METRICS_TOKEN; labels are URL rules and fixed words,
never a raw path or a secret. (Several workers adding up: the production
server test in tests/store.)"""

from __future__ import annotations

import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app import create_app
from tests.conftest import Api, basic, database_url, issue, make_test_app

TOKEN = "metrics-scraper-token"
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def app(tmp_path):
    return make_test_app(tmp_path, SCOPEGATE_METRICS=1, SCOPEGATE_METRICS_TOKEN=TOKEN,
                         SCOPEGATE_RATE_LIMIT_FAILED_AUTH="2/minute")


def samples(client) -> dict[tuple, float]:
    response = client.get("/metrics", headers=SCRAPER)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def value(found: dict, name: str, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_off_by_default(tmp_path):
    app = create_app({"TESTING": True, "SCOPEGATE_DATABASE_URL": database_url(tmp_path),
                      "SCOPEGATE_METRICS_TOKEN": TOKEN})
    assert app.test_client().get("/metrics", headers=SCRAPER).status_code == 404


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": f"Basic {TOKEN}"}])
def test_metrics_need_the_scrape_token(client, headers):
    assert client.get("/metrics", headers=headers).status_code == 404


def test_metrics_stay_closed_without_a_configured_token(tmp_path):
    app = create_app({"TESTING": True, "SCOPEGATE_DATABASE_URL": database_url(tmp_path),
                      "SCOPEGATE_METRICS": 1})
    assert app.test_client().get("/metrics", headers={"Authorization": "Bearer "}
                                 ).status_code == 404


def test_requests_are_counted_by_url_rule_and_status(client, org):
    before = samples(client)
    api = Api(client, org.admin_token)
    assert api.get("/users/someone-secret-looking").status_code == 404
    after = samples(client)
    key = dict(endpoint="/api/v1/users/<name>", method="GET", status="404")
    assert value(after, "scopegate_http_requests_total", **key) == value(
        before, "scopegate_http_requests_total", **key) + 1
    assert value(after, "scopegate_http_request_duration_seconds_count",
                 endpoint="/api/v1/users/<name>") >= 1
    text = client.get("/metrics", headers=SCRAPER).get_data(as_text=True)
    assert "someone-secret-looking" not in text


def test_tokens_and_failures_are_counted_without_secrets(client, org, machine_user):
    api = Api(client, org.admin_token)
    before = samples(client)
    token = issue(client, machine_user).get_json()["access_token"]
    api.introspect(token)
    api.introspect("sgt_not_a_token")
    client.post("/oauth/revoke", data={"token": token},
                headers=basic(machine_user.client_id, machine_user.client_secret))
    for _ in range(3):  # the third is over the failed-secret limit (2/minute)
        client.post("/oauth/token", data={"grant_type": "client_credentials"},
                    headers=basic(machine_user.client_id, "sgs_wrong"))
    after = samples(client)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("scopegate_tokens_issued_total", how="client_credentials") == 1
    assert grew("scopegate_tokens_introspected_total", active="true") == 1
    assert grew("scopegate_tokens_introspected_total", active="false") == 1
    assert grew("scopegate_tokens_revoked_total") == 1
    assert grew("scopegate_auth_failures_total", kind="client") == 2
    assert grew("scopegate_rate_limited_total", endpoint="/oauth/token") == 1
    assert value(after, "scopegate_db_pool_connections", state="idle") >= 0
    text = client.get("/metrics", headers=SCRAPER).get_data(as_text=True)
    for secret in (token, machine_user.client_secret, org.admin_token, TOKEN):
        assert secret not in text
    ours = "\n".join(line for line in text.splitlines() if line.startswith("scopegate_"))
    labels = set(re.findall(r'(\w+)="', ours))
    assert labels <= {"endpoint", "method", "status", "how", "active", "kind", "state", "le"}
