"""End-to-end: the SDK, the `scopegate` command and the sample notebook against a
real server process (the `live_server` fixture of tests/conftest.py)."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import uuid
from importlib import resources
from pathlib import Path

import pytest
import requests

from sdk.auth import (
    AuthenticationError,
    Conflict,
    NotFound,
    PermissionDenied,
    Scope,
    ValidationError,
    connect_to_auth_client,
)

SCOPEGATE = Path(sys.executable).parent / "scopegate"
UNIQUE_ID = re.compile(r"^[0-9a-f]{10}@\S+$")

# The issue's walkthrough, verbatim (only the package name differs from the
# product documentation).
WALKTHROUGH = '''
from sdk.auth import connect_to_auth_client
from sdk.auth.scopes import Scope
import os
IAI_TOKEN = os.environ.get("SCOPEGATE_TOKEN")
auth_client = connect_to_auth_client(token=IAI_TOKEN)

user = auth_client.create_user("demo-user")
token = auth_client.create_token(user_id="demo-user", scopes=[Scope.create_session, Scope.read_user_session])
print(token)
auth_client.token_info(token["token"])
auth_client.revoke_token(token["token_id"])
auth_client.delete_user("demo-user")
'''  # noqa: E501  (verbatim)

INTROSPECTION_MEMBERS = {"active", "scope", "client_id", "sub", "exp", "iat", "iss",
                         "token_type", "token_id", "user_id", "email", "customer",
                         "user_type", "role", "env", "renewable"}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def env(live_server, monkeypatch):
    monkeypatch.setenv("SCOPEGATE_TOKEN", live_server.admin_token)
    monkeypatch.setenv("SCOPEGATE_URL", live_server.url)
    return live_server


@pytest.fixture
def admin(env):
    with connect_to_auth_client() as client:
        yield client


# -- the walkthrough -------------------------------------------------------


def test_walkthrough_verbatim(env, capsys, caplog):
    caplog.set_level(logging.INFO, logger="sdk")
    namespace: dict = {}
    exec(compile(WALKTHROUGH, "walkthrough", "exec"), namespace)  # noqa: S102

    user, token = namespace["user"], namespace["token"]
    assert UNIQUE_ID.match(user["email"])
    assert user["user_type"] == "generated"
    assert set(token) >= {"token", "token_id", "user_id", "email", "scopes", "expires_at"}
    assert token["token"].startswith("sgt_")
    assert token["user_id"] == "demo-user" and token["email"] == user["email"]
    assert token["scopes"] == ["create_session", "read_user_session"]
    assert repr(token) in capsys.readouterr().out

    assert caplog.messages[:2] == [
        f"Machine user demo-user({user['email']}) created by {env.admin_email}.",
        "User activated.",
    ]
    assert any(m.startswith(f"Token {token['token_id']} created") for m in caplog.messages)
    assert f"Token {token['token_id']} revoked." in caplog.messages
    assert "Machine user demo-user deleted; its tokens are revoked." in caplog.messages
    assert not any(token["token"] in m or env.admin_token in m for m in caplog.messages)

    client = namespace["auth_client"]
    assert client.token_info(token["token"]) == {"active": False}
    with pytest.raises(NotFound):
        client.get_user("demo-user")


def test_walkthrough_answers(admin, env):
    name = unique("walk")
    user = admin.create_user(name)
    token = admin.create_token(user_id=name,
                               scopes=[Scope.create_session, Scope.read_user_session])

    info = admin.token_info(token["token"])
    assert set(info) >= INTROSPECTION_MEMBERS
    assert info["active"] is True
    assert info["scope"].split() == ["create_session", "read_user_session"]
    assert info["user_id"] == name
    assert info["email"] == info["sub"] == info["client_id"] == user["email"]
    assert info["token_id"] == token["token_id"]
    assert info["user_type"] == "generated"
    assert info["customer"] == env.org
    # Default lifetime = the maximum, so a default token cannot be extended...
    assert info["renewable"] is False
    # ... while a shorter one can.
    short = admin.create_token(user_id=name, scopes=["cli"], expires_in=3600)
    assert admin.token_info(short["token"])["renewable"] is True

    admin.revoke_token(token["token_id"])
    admin.revoke_token(token["token_id"])  # idempotent
    assert admin.token_info(token["token"]) == {"active": False}
    admin.delete_user(name)


# -- the other calls -------------------------------------------------------


def test_users_tokens_renewal_and_activity(admin, env):
    name = unique("calls")
    user = admin.create_user(name, scopes=[Scope.create_session, Scope.cli])
    assert user["scopes"] == ["create_session", "cli"]
    assert admin.get_user(name)["email"] == user["email"]
    assert name in [u["name"] for u in admin.list_users()]

    short = admin.create_token(name, [Scope.cli], expires_in=3600)
    other = admin.create_token(name, ["create_session"])
    listed = {t["token_id"]: t for t in admin.list_tokens(user=name)}
    assert set(listed) == {short["token_id"], other["token_id"]}
    assert all("token" not in t for t in listed.values())
    assert {t["token_id"] for t in admin.list_tokens(user=user["email"], kind="scoped")} == set(
        listed)

    renewed = admin.renew_token(short["token_id"], expires_in=7200)
    assert renewed["token_id"] == short["token_id"]
    assert renewed["expires_at"] > short["expires_at"]

    admin.revoke_token(other["token_id"])
    assert [t["token_id"] for t in admin.list_tokens(user=name, active=True)] == [
        short["token_id"]]
    assert other["token_id"] in [t["token_id"] for t in admin.list_tokens(user=name,
                                                                          active=False)]

    events = admin.list_activity(user=name)
    actions = [e["action"] for e in events]
    for action in ("user.create", "token.create", "token.renew", "token.revoke"):
        assert action in actions
    assert all(user["email"] in (e["actor"], e["subject"]) for e in events)
    assert [e["action"] for e in admin.list_activity(user=name, action="token.revoke")] == [
        "token.revoke"]
    assert len(admin.list_activity(user=[name, user["email"]], limit=2)) == 2
    newest = events[0]["at"]
    assert admin.list_activity(user=name, since="2000-01-01T00:00:00Z", until=newest)

    admin.delete_user(name)
    assert admin.token_info(short["token"]) == {"active": False}
    # History outlives the user: its tokens are still listed, by unique ID and by name.
    for who in (user["email"], name):
        gone = admin.list_tokens(user=who)
        assert {t["token_id"] for t in gone} == set(listed)
        assert not any(t["active"] for t in gone)


def test_client_credentials_work_with_a_stock_request(admin, env):
    name = unique("creds")
    admin.create_user(name)
    creds = admin.create_client_credentials(name)
    answer = requests.post(f"{env.url}/oauth/token", auth=(creds["client_id"],
                                                          creds["client_secret"]),
                           data={"grant_type": "client_credentials", "scope": "cli"}, timeout=10)
    assert answer.status_code == 200, answer.text
    info = admin.token_info(answer.json()["access_token"])
    assert info["active"] and info["scope"] == "cli" and info["user_id"] == name
    admin.delete_user(name)


def test_a_machine_user_revokes_its_own_tokens_with_revoke_user_token(admin, env):
    """The one scope Scopegate enforces, used through the SDK by the machine user itself."""
    name = unique("selfrevoke")
    admin.create_user(name, scopes=["cli", "revoke_user_token"])
    creds = admin.create_client_credentials(name)

    def issue(scope):
        answer = requests.post(f"{env.url}/oauth/token", timeout=10,
                               auth=(creds["client_id"], creds["client_secret"]),
                               data={"grant_type": "client_credentials", "scope": scope})
        assert answer.status_code == 200, answer.text
        return answer.json()["access_token"]

    revoker, victim = issue("revoke_user_token"), issue("cli")
    by_admin = admin.create_token(name, ["cli"])
    with connect_to_auth_client(token=revoker) as machine:
        victim_id = machine.token_info(victim)["token_id"]
        machine.revoke_token(victim_id)
        with pytest.raises(NotFound):  # created by the admin, not by the machine user
            machine.revoke_token(by_admin["token_id"])
    assert admin.token_info(victim) == {"active": False}
    assert admin.token_info(by_admin["token"])["active"] is True
    admin.delete_user(name)


def test_catalog_and_identity(admin, env):
    scopes = admin.scopes()
    assert [s["name"] for s in scopes["items"]] == [s.value for s in Scope]
    me = admin.whoami()
    assert env.admin_email in json.dumps(me)


def test_errors_are_typed(admin, env):
    name = unique("errors")
    admin.create_user(name, scopes=["cli"])
    with pytest.raises(Conflict):
        admin.create_user(name)
    with pytest.raises(NotFound):
        admin.get_user(unique("ghost"))
    with pytest.raises(ValidationError):
        admin.create_token(name, ["cli"], expires_in=31 * 86400)
    with pytest.raises(ValidationError):  # above the user's ceiling
        admin.create_token(name, ["model_download"])
    assert admin.token_info("sgt_not-a-real-token") == {"active": False}

    scoped = admin.create_token(name, ["cli"])
    with connect_to_auth_client(token=scoped["token"]) as machine:
        assert machine.whoami()
        with pytest.raises(PermissionDenied):
            machine.list_users()
    with connect_to_auth_client(token="sgp_" + "0" * 40) as stranger, pytest.raises(
            AuthenticationError):
        stranger.whoami()
    admin.delete_user(name)


# -- the command -----------------------------------------------------------


def scopegate(env, *args, input=None, token=None):
    environment = {**os.environ, "SCOPEGATE_URL": env.url,
                   "SCOPEGATE_TOKEN": token or env.admin_token}
    return subprocess.run([str(SCOPEGATE), *args], input=input, capture_output=True, text=True,
                          env=environment, timeout=60)


def ok(result):
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_cli_end_to_end(env):
    name = unique("cli")
    user = json.loads(ok(scopegate(env, "--json", "users", "create", name)))
    assert UNIQUE_ID.match(user["email"])
    assert name in ok(scopegate(env, "users", "list"))
    assert user["email"] in ok(scopegate(env, "users", "show", name))

    creds = json.loads(ok(scopegate(env, "--json", "credentials", "create", name)))
    assert creds["client_secret"].startswith("sgs_")

    token = json.loads(ok(scopegate(env, "--json", "tokens", "create", "--user", name,
                                    "--scope", "create_session", "--scope",
                                    "read_user_session", "--expires-in", "1d")))
    assert token["token"].startswith("sgt_")

    # The token travels on stdin, never in argv.
    info = json.loads(ok(scopegate(env, "--json", "tokens", "info", input=token["token"])))
    assert info["active"] is True and info["user_id"] == name
    table = ok(scopegate(env, "tokens", "info", "-", input=token["token"] + "\n"))
    assert "active:" in table and "yes" in table

    listing = ok(scopegate(env, "tokens", "list", "--user", name))
    assert token["token_id"] in listing and token["token"] not in listing

    renewed = json.loads(ok(scopegate(env, "--json", "tokens", "renew", token["token_id"],
                                      "--expires-in", "2d")))
    assert renewed["expires_at"] > token["expires_at"]

    assert ok(scopegate(env, "tokens", "revoke", token["token_id"])) == (
        f"Revoked token {token['token_id']}.\n")
    inactive = ok(scopegate(env, "tokens", "info", input=token["token"]))
    assert inactive.startswith("active: no")

    events = json.loads(ok(scopegate(env, "--json", "activity", "--user", name)))
    actions = {e["action"] for e in events}
    assert {"user.create", "credentials.create", "token.create", "token.renew",
            "token.revoke"} <= actions
    revoked = ok(scopegate(env, "activity", "--user", name, "--action", "token.revoke",
                           "--since", "1h"))
    assert revoked.splitlines()[0].startswith("AT")
    assert "token.revoke" in revoked

    assert "revoke_user_token" in ok(scopegate(env, "scopes"))
    assert env.admin_email in ok(scopegate(env, "whoami"))

    assert ok(scopegate(env, "users", "delete", name, "--yes")).startswith("Deleted")
    missing = scopegate(env, "users", "show", name)
    assert missing.returncode == 1
    assert missing.stdout == ""
    assert missing.stderr.startswith("Error: ") and missing.stderr.count("\n") == 1
    assert "Traceback" not in missing.stderr


def test_cli_errors_are_one_line(env):
    bad = scopegate(env, "whoami", token="sgp_" + "0" * 40)
    assert bad.returncode == 1
    assert bad.stderr.startswith("Error: ") and bad.stderr.count("\n") == 1

    refused = scopegate(env, "tokens", "create", "--user", unique("nobody"), "--scope", "cli")
    assert refused.returncode == 1
    assert refused.stderr.startswith("Error: ") and "HTTP 404" in refused.stderr


# -- the sample notebook ---------------------------------------------------


def test_sample_notebook_runs_against_the_server(env, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")

    source = resources.files("sdk") / "sample_notebook" / "scopegate_auth.ipynb"
    notebook = nbformat.reads(source.read_text(), as_version=4)
    # A fresh name, so the run never collides with another test's demo-user.
    name = unique("notebook")
    (cell,) = [c for c in notebook.cells if 'user_name = "demo-user"' in c.source]
    cell.source = cell.source.replace('"demo-user"', f'"{name}"')

    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()

    def text(c):
        return "".join(o.get("text", "") + json.dumps(o.get("data", {}))
                       for o in c.get("outputs", []))

    everything = "\n".join(text(c) for c in notebook.cells if c.cell_type == "code")
    assert f"Machine user {name}(" in everything
    assert f"created by {env.admin_email}." in everything
    assert "User activated." in everything
    assert "'active': True" in everything and "'active': False" in everything
    assert "As expected:" in everything
    assert "'token_id':" in everything  # print(token) shows the answer...
    assert not re.search(r"sg[pts]_[0-9A-Za-z]{8}", everything)  # ...never a live token
    with connect_to_auth_client() as client, pytest.raises(NotFound):
        client.get_user(name)
