"""End-to-end: `scopegate people ...` and the SDK's people calls against a live
server (tests/conftest.py `live_server`)."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from sdk.auth import NotFound, ValidationError, connect_to_auth_client
from tests.sdk.test_e2e import ok, scopegate


@pytest.fixture
def admin(live_server):
    with connect_to_auth_client(token=live_server.admin_token, url=live_server.url) as client:
        yield client


def test_people_commands_end_to_end(live_server):
    email = f"cli-{uuid.uuid4().hex[:8]}@live.test"
    invited = json.loads(ok(scopegate(live_server, "--json", "people", "invite", email)))
    assert invited["role"] == "member" and invited["status"] == "invited"
    assert requests.get(invited["invite_url"]).status_code == 200
    assert email in ok(scopegate(live_server, "people", "list"))
    assert "status:" in ok(scopegate(live_server, "people", "show", email))
    assert json.loads(ok(scopegate(live_server, "--json", "people", "role", email, "admin"))
                      )["role"] == "admin"
    link = json.loads(ok(scopegate(live_server, "--json", "people", "reset-link", email)))
    assert link["purpose"] == "invite"  # never joined: a new invitation
    assert requests.get(invited["invite_url"]).status_code == 404  # the old link died
    ok(scopegate(live_server, "people", "role", email, "member"))
    token = json.loads(ok(scopegate(live_server, "--json", "people", "token", email,
                                    "--expires-in", "1d")))
    assert token["role"] == "member" and token["token"].startswith("sgp_")
    disabled = json.loads(ok(scopegate(live_server, "--json", "people", "disable", email)))
    assert disabled["status"] == "disabled"
    info = json.loads(ok(scopegate(live_server, "--json", "tokens", "info", "-",
                                   input=token["token"])))
    assert info == {"active": False}
    ok(scopegate(live_server, "people", "enable", email))
    ok(scopegate(live_server, "people", "delete", email, "--yes"))
    gone = scopegate(live_server, "people", "show", email)
    assert gone.returncode == 1 and "HTTP 404" in gone.stderr


def test_sdk_people_calls_end_to_end(admin):
    email = f"sdk-{uuid.uuid4().hex[:8]}@live.test"
    invited = admin.invite_person(email, role="member")
    assert admin.get_person(invited["uid"])["email"] == email
    assert email in [p["email"] for p in admin.list_people()]
    assert admin.update_person(email, role="admin")["role"] == "admin"
    assert admin.reset_password_link(email)["reset_url"].split("/")[-2] == "invite"
    with pytest.raises(ValidationError):
        admin.update_person(email, role="owner")
    admin.delete_person(email)
    with pytest.raises(NotFound):
        admin.get_person(email)
    events = admin.list_activity(user=invited["uid"])
    assert {"person.invite", "person.update", "person.reset_link", "person.delete"} <= {
        e["action"] for e in events}
    assert all(e["subject"] == invited["uid"] for e in events)
