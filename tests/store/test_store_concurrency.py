"""Concurrency over HTTP: many threads against two live hosts on one
database. No request may end in a 500, no update may be lost, and the
unique constraints decide races (one 201, the rest 409)."""

from __future__ import annotations

import base64
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import select

from app.models import Token, db
from tests.store.conftest import make_app

THREADS = 16


@pytest.fixture
def hosts(deployment):
    return deployment, [deployment.start("host-a"), deployment.start("host-b")]


def run_together(calls):
    """Start every call at the same moment (a barrier), return the results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def new_token(host, dep, user="svc", expires_in=3600) -> dict:
    requests.post(f"{host.url}/api/v1/users", json={"name": user}, headers=dep.headers(),
                  timeout=30)
    made = requests.post(f"{host.url}/api/v1/users/{user}/tokens",
                         json={"scopes": ["cli"], "expires_in": expires_in},
                         headers=dep.headers(), timeout=60)
    assert made.status_code == 201, made.text
    return made.json()


def new_client(host, dep, user: str) -> tuple[dict, str]:
    """A machine user with client credentials: (credentials, Basic header value)."""
    requests.post(f"{host.url}/api/v1/users", json={"name": user}, headers=dep.headers(),
                  timeout=30)
    creds = requests.post(f"{host.url}/api/v1/users/{user}/credentials", headers=dep.headers(),
                          timeout=30).json()
    pair = f"{creds['client_id']}:{creds['client_secret']}".encode()
    return creds, "Basic " + base64.b64encode(pair).decode()


def stored(dep, token_id: str) -> Token:
    app = make_app(dep.db_url)
    with app.app_context():
        token = db.session.scalars(select(Token).where(Token.token_id == token_id)).one()
        db.session.expunge(token)
        db.engine.dispose()
    return token


def test_parallel_renewals_keep_the_longest_expiry(hosts):
    """Lost-update check: every renewal asks for a different lifetime; the
    token must end with the largest expiry any renewal answered."""
    dep, (a, b) = hosts
    token = new_token(a, dep)

    def renew(i):
        host = (a, b)[i % 2]
        return lambda: requests.post(f"{host.url}/api/v1/tokens/{token['token_id']}/renew",
                                     json={"expires_in": 3600 * (i + 2)},
                                     headers=dep.headers(), timeout=60)

    answers = run_together([renew(i) for i in range(THREADS)])
    assert [r.status_code for r in answers] == [200] * THREADS, [r.text for r in answers]
    longest = max(r.json()["expires_at"] for r in answers)
    from app.api.representations import iso

    assert iso(stored(dep, token["token_id"]).expires_at) == longest


def test_parallel_revoke_renew_and_introspect_of_one_token(hosts):
    dep, (a, b) = hosts
    token = new_token(a, dep)
    url_id = token["token_id"]

    def call(i):
        host = (a, b)[i % 2]
        kind = ("revoke", "renew", "introspect")[i % 3]
        if kind == "revoke":
            return lambda: ("revoke", requests.delete(f"{host.url}/api/v1/tokens/{url_id}",
                                                      headers=dep.headers(), timeout=60))
        if kind == "renew":
            return lambda: ("renew", requests.post(f"{host.url}/api/v1/tokens/{url_id}/renew",
                                                   json={"expires_in": 86400},
                                                   headers=dep.headers(), timeout=60))
        return lambda: ("introspect", requests.post(f"{host.url}/oauth/introspect",
                                                    data={"token": token["token"]},
                                                    headers=dep.headers(), timeout=60))

    results = run_together([call(i) for i in range(THREADS + 2)])
    allowed = {"revoke": {204}, "renew": {200, 409}, "introspect": {200}}
    for kind, response in results:
        assert response.status_code in allowed[kind], (kind, response.status_code, response.text)
    row = stored(dep, url_id)
    assert row.revoked_at is not None  # no renewal undid the revocation
    for host in (a, b):
        assert requests.post(f"{host.url}/oauth/introspect", data={"token": token["token"]},
                             headers=dep.headers(), timeout=30).json() == {"active": False}


def test_parallel_creation_of_one_user_name_gives_one_201_and_409s(hosts):
    dep, (a, b) = hosts

    def create(i):
        host = (a, b)[i % 2]
        return lambda: requests.post(f"{host.url}/api/v1/users", json={"name": "same-name"},
                                     headers=dep.headers(), timeout=60)

    answers = run_together([create(i) for i in range(THREADS)])
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] + [409] * (THREADS - 1), [r.text for r in answers]
    conflict = next(r for r in answers if r.status_code == 409).json()
    assert conflict["error"] and "same-name" in conflict["error_description"]
    users = requests.get(f"{a.url}/api/v1/users", headers=dep.headers(), timeout=30).json()
    assert [u["name"] for u in users["items"]].count("same-name") == 1


def test_parallel_client_credentials_requests_each_get_a_distinct_token(hosts):
    dep, (a, b) = hosts
    creds, basic = new_client(a, dep, "worker")

    def issue(i):
        host = (a, b)[i % 2]
        return lambda: requests.post(f"{host.url}/oauth/token",
                                     data={"grant_type": "client_credentials", "scope": "cli"},
                                     headers={"Authorization": basic}, timeout=60)

    answers = run_together([issue(i) for i in range(THREADS)])
    assert [r.status_code for r in answers] == [200] * THREADS, [r.text for r in answers]
    values = {r.json()["access_token"] for r in answers}
    assert len(values) == THREADS
    listed = requests.get(f"{a.url}/api/v1/tokens", params={"user": "worker", "limit": 500},
                          headers=dep.headers(), timeout=30).json()["items"]
    assert len(listed) == THREADS and len({t["token_id"] for t in listed}) == THREADS
    # every one of them works, on either host
    for i, value in enumerate(values):
        host = (a, b)[i % 2]
        info = requests.post(f"{host.url}/oauth/introspect", data={"token": value},
                             headers=dep.headers(), timeout=30).json()
        assert info["active"] is True and info["client_id"] == creds["client_id"]


def test_tokens_made_while_their_user_is_deleted_never_outlive_it(hosts):
    """Token creations (admin API and client_credentials) racing the user's
    deletion: each either lands before the deletion (and is revoked with the
    user) or is refused (404 / 401); none survives active, none is a 500."""
    dep, (a, b) = hosts
    creds, basic = new_client(a, dep, "doomed")

    def create(i):
        host = (a, b)[i % 2]
        return lambda: ("create", requests.post(
            f"{host.url}/api/v1/users/doomed/tokens", json={"scopes": ["cli"]},
            headers=dep.headers(), timeout=60))

    def issue(i):
        host = (a, b)[i % 2]
        return lambda: ("issue", requests.post(
            f"{host.url}/oauth/token", data={"grant_type": "client_credentials"},
            headers={"Authorization": basic}, timeout=60))

    def delete():
        return ("delete", requests.delete(f"{a.url}/api/v1/users/doomed",
                                          headers=dep.headers(), timeout=60))

    calls = [create(i) for i in range(7)] + [issue(i) for i in range(7)]
    calls.insert(7, delete)
    results = run_together(calls)
    allowed = {"create": {201, 404}, "issue": {200, 401}, "delete": {204}}
    for kind, response in results:
        assert response.status_code in allowed[kind], (kind, response.status_code, response.text)
    made = [r.json().get("token") or r.json().get("access_token")
            for _, r in results if r.status_code in (200, 201)]
    for value in made:
        for host in (a, b):
            info = requests.post(f"{host.url}/oauth/introspect", data={"token": value},
                                 headers=dep.headers(), timeout=30).json()
            assert info == {"active": False}, "a token outlived its deleted user"
