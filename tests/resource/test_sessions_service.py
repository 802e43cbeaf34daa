"""examples/sessions_service against a live Scopegate: every catalog scope
means what the documentation says, own sessions vs everyone's."""

from __future__ import annotations

import os
import subprocess
import time

import pytest
import requests

from examples.sessions_service import create_app
from sdk.auth.scopes import CATALOG
from tests.conftest import ROOT, VENV_BIN, free_port, stop_server

# (method, path, scope needed on one's own session, scope reaching anyone's, success)
SESSION_CALLS = [
    ("POST", "/sessions/{id}/start", "start_session", None, 200),
    ("GET", "/sessions/{id}", "read_user_session", "read_all_session", 200),
    ("POST", "/sessions/{id}/cancel", "cancel_user_session", None, 200),
    ("DELETE", "/sessions/{id}", "delete_user_session", None, 204),
    ("GET", "/sessions/{id}/model", "model_download", "read_all_session", 200),
]


@pytest.fixture
def service(platform):
    return create_app(platform.verifier()).test_client()


@pytest.fixture
def caller(platform, service):
    """Tokens on demand: ``caller(scopes, user=None)`` -> (headers, sub)."""
    def make(scopes, user=None):
        issued = platform.token(user or platform.user(), scopes)
        return {"Authorization": f"Bearer {issued['token']}"}, issued["email"]
    return make


def new_session(service, caller, user=None) -> str:
    headers, owner = caller(["create_session"], user)
    response = service.post("/sessions", headers=headers)
    assert response.status_code == 201 and response.get_json()["owner"] == owner
    return response.get_json()["id"]


def call(service, method, path, session_id, headers):
    return service.open(path.format(id=session_id), method=method, headers=headers)


def test_create_session_needs_create_session(service, caller):
    headers, _ = caller([s for s in CATALOG if s != "create_session"])
    response = service.post("/sessions", headers=headers)
    assert response.status_code == 403
    assert response.get_json()["error"] == "insufficient_scope"
    assert new_session(service, caller)


@pytest.mark.parametrize("method,path,own,_all,ok", SESSION_CALLS)
def test_own_session_with_the_scope_is_allowed(service, caller, platform, method, path,
                                               own, _all, ok):
    user = platform.user()
    session_id = new_session(service, caller, user)
    headers, _ = caller([own], user)
    assert call(service, method, path, session_id, headers).status_code == ok


@pytest.mark.parametrize("method,path,own,_all,ok", SESSION_CALLS)
def test_own_session_without_the_scope_is_403(service, caller, platform, method, path,
                                              own, _all, ok):
    user = platform.user()
    session_id = new_session(service, caller, user)
    headers, _ = caller([s for s in CATALOG if s not in (own, _all)], user)
    response = call(service, method, path, session_id, headers)
    assert response.status_code == 403
    assert response.get_json()["error"] == "insufficient_scope"


@pytest.mark.parametrize("method,path,own,_all,ok", SESSION_CALLS)
def test_another_users_session_needs_the_everyone_scope(service, caller, method, path,
                                                       own, _all, ok):
    session_id = new_session(service, caller)
    headers, _ = caller([own])  # another user, with the own-session scope
    assert call(service, method, path, session_id, headers).status_code == 403
    if _all is not None:
        headers, _ = caller([own, _all])
        assert call(service, method, path, session_id, headers).status_code == ok


def test_read_all_session_alone_reads_anyones_session(service, caller):
    session_id = new_session(service, caller)
    headers, _ = caller(["read_all_session"])
    assert service.get(f"/sessions/{session_id}", headers=headers).status_code == 200


def test_custom_model_uploads_a_model(service, caller):
    headers, owner = caller(["custom_model"])
    response = service.post("/models", json={"name": "llama"}, headers=headers)
    assert response.status_code == 201 and response.get_json()["owner"] == owner
    headers, _ = caller(["create_session"])
    assert service.post("/models", headers=headers).status_code == 403


def test_cli_lists_versions(service, caller):
    assert service.get("/versions", headers=caller(["cli"])[0]).status_code == 200
    assert service.get("/versions", headers=caller(["create_session"])[0]).status_code == 403


def test_admin_token_has_full_access_within_its_organization(service, caller, platform):
    session_id = new_session(service, caller)
    admin = {"Authorization": f"Bearer {platform.server.admin_token}"}
    assert service.get(f"/sessions/{session_id}", headers=admin).status_code == 200
    assert service.delete(f"/sessions/{session_id}", headers=admin).status_code == 204


def test_revoked_token_is_401(service, caller, platform):
    user = platform.user()
    issued = platform.token(user, ["create_session"])
    headers = {"Authorization": f"Bearer {issued['token']}"}
    assert service.post("/sessions", headers=headers).status_code == 201
    platform.revoke(issued["token_id"])
    time.sleep(2.2)  # the default poll period
    response = service.post("/sessions", headers=headers)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_unknown_session_is_404(service, caller):
    headers, _ = caller(["read_all_session"])
    assert service.get("/sessions/s-999999", headers=headers).status_code == 404


def test_documented_command_serves_the_api(platform):
    """`flask --app examples.sessions_service run --port P`, configured by env."""
    port = free_port()
    env = {**os.environ, "SCOPEGATE_URL": platform.url,
           "SCOPEGATE_RS_CLIENT_ID": platform.rs_client_id,
           "SCOPEGATE_RS_CLIENT_SECRET": platform.rs_client_secret}
    process = subprocess.Popen(
        [str(VENV_BIN / "flask"), "--app", "examples.sessions_service", "run", "--port",
         str(port)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(f"{url}/versions", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "service did not start"
                time.sleep(0.1)
        user = platform.user()
        issued = platform.token(user, ["create_session", "read_user_session"])
        headers = {"Authorization": f"Bearer {issued['token']}"}
        created = requests.post(f"{url}/sessions", headers=headers, timeout=10)
        assert created.status_code == 201
        read = requests.get(f"{url}/sessions/{created.json()['id']}", headers=headers,
                            timeout=10)
        assert read.json()["owner"] == issued["email"]
        assert requests.get(f"{url}/versions", timeout=10).status_code == 401
    finally:
        stop_server(process)


def test_another_organizations_session_is_404(service, caller, platform):
    session_id = new_session(service, caller)
    server = platform.server
    org = f"org-{free_port()}"
    server.flask("create-org", org)
    server.flask("create-admin", "--org", org, "--email", f"admin@{org}.test")
    theirs = server.flask_json("issue-admin-token", "--email", f"admin@{org}.test")["token"]
    headers = {"Authorization": f"Bearer {theirs}"}
    assert service.get(f"/sessions/{session_id}", headers=headers).status_code == 404
    assert service.delete(f"/sessions/{session_id}", headers=headers).status_code == 404
