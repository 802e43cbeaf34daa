"""Many hosts, one database: two gunicorn servers share the suite's database
(PostgreSQL in production; the same promise holds for two processes on one
SQLite file). What one host changes, the other sees on the very next
request: no process keeps state another one needs, and nothing is cached."""

from __future__ import annotations

import base64

import requests


def introspect(host, dep, token: str) -> dict:
    response = requests.post(f"{host.url}/oauth/introspect", data={"token": token},
                             headers=dep.headers(), timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def seen_by_every_worker(host, dep, token: str, n: int = 6) -> list[dict]:
    """Several fresh connections, so both of the host's workers answer."""
    return [introspect(host, dep, token) for _ in range(n)]


def test_revocation_renewal_and_user_deletion_on_a_are_seen_by_b(deployment):
    dep = deployment
    a, b = dep.start("host-a"), dep.start("host-b")
    h = dep.headers()

    assert requests.post(f"{a.url}/api/v1/users", json={"name": "svc"}, headers=h,
                         timeout=30).status_code == 201
    made = [requests.post(f"{a.url}/api/v1/users/svc/tokens",
                          json={"scopes": ["cli"], "expires_in": 3600}, headers=h,
                          timeout=30).json() for _ in range(4)]
    for t in made:
        assert all(i["active"] for i in seen_by_every_worker(b, dep, t["token"], 2))

    # revoked by id through A: inactive on B at once
    assert requests.delete(f"{a.url}/api/v1/tokens/{made[0]['token_id']}", headers=h,
                           timeout=30).status_code == 204
    assert all(i == {"active": False} for i in seen_by_every_worker(b, dep, made[0]["token"]))

    # revoked by value (RFC 7009) through A: inactive on B at once
    assert requests.post(f"{a.url}/oauth/revoke", data={"token": made[1]["token"]}, headers=h,
                         timeout=30).status_code == 200
    assert all(i == {"active": False} for i in seen_by_every_worker(b, dep, made[1]["token"]))

    # renewed through A: B reports the new expiry at once
    before = introspect(b, dep, made[2]["token"])["exp"]
    renewed = requests.post(f"{a.url}/api/v1/tokens/{made[2]['token_id']}/renew",
                            json={"expires_in": 7 * 86400}, headers=h, timeout=30)
    assert renewed.status_code == 200, renewed.text
    after = seen_by_every_worker(b, dep, made[2]["token"])
    assert {i["exp"] for i in after} == {after[0]["exp"]} and after[0]["exp"] > before + 86400

    # the user deleted through A: its tokens and client credentials are dead on B
    creds = requests.post(f"{a.url}/api/v1/users/svc/credentials", headers=h, timeout=30).json()
    basic = base64.b64encode(f"{creds['client_id']}:{creds['client_secret']}".encode()).decode()
    issued = requests.post(f"{b.url}/oauth/token", data={"grant_type": "client_credentials"},
                           headers={"Authorization": f"Basic {basic}"}, timeout=30)
    assert issued.status_code == 200, issued.text
    assert requests.delete(f"{a.url}/api/v1/users/svc", headers=h, timeout=30).status_code == 204
    for value in (made[3]["token"], issued.json()["access_token"]):
        assert all(i == {"active": False} for i in seen_by_every_worker(b, dep, value))
    again = requests.post(f"{b.url}/oauth/token", data={"grant_type": "client_credentials"},
                          headers={"Authorization": f"Basic {basic}"}, timeout=30)
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"
    assert requests.get(f"{b.url}/api/v1/users/svc", headers=h, timeout=30).status_code == 404
