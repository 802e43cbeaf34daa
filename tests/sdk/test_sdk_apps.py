"""The SDK's app calls and `scopegate apps`, end to end against a live server."""

from __future__ import annotations

import json

import pytest

from sdk.auth import NotFound, ValidationError, connect_to_auth_client
from tests.sdk.test_e2e import ok, scopegate

REDIRECT = "https://hub.example.com/oauth/callback"


@pytest.fixture
def admin(live_server):
    with connect_to_auth_client(token=live_server.admin_token, url=live_server.url) as client:
        yield client


def test_create_list_get_rotate_delete_an_app(admin):
    app = admin.create_app("Notebook hub", [REDIRECT, "http://127.0.0.1:8765/cb"])
    assert app["client_id"].startswith("app-") and app["client_secret"].startswith("sgs_")
    assert app["client_id"] in [a["client_id"] for a in admin.list_apps()]
    shown = admin.get_app(app["client_id"])
    assert shown["redirect_uris"] == [REDIRECT, "http://127.0.0.1:8765/cb"]
    assert "client_secret" not in shown
    rotated = admin.rotate_app_secret(app["client_id"])
    assert rotated["client_secret"] != app["client_secret"]
    admin.delete_app(app["client_id"])
    with pytest.raises(NotFound):
        admin.get_app(app["client_id"])


def test_a_public_app_gets_no_secret(admin):
    app = admin.create_app("SPA", [REDIRECT], public=True)
    assert app["public"] is True and "client_secret" not in app


def test_a_bad_redirect_uri_raises_validation_error(admin):
    with pytest.raises(ValidationError, match="loopback"):
        admin.create_app("Hub", ["http://hub.example.com/cb"])
    with pytest.raises(ValidationError):
        admin.create_app("Hub", REDIRECT)  # one string, not a list


def test_the_cli_manages_apps(live_server):
    created = json.loads(ok(scopegate(live_server, "apps", "create", "CLI hub", "--redirect-uri",
                                      REDIRECT, "--json")))
    client_id = created["client_id"]
    assert created["client_secret"].startswith("sgs_")
    assert client_id in ok(scopegate(live_server, "apps", "list"))
    assert json.loads(ok(scopegate(live_server, "apps", "show", client_id, "--json")))[
        "name"] == "CLI hub"
    rotated = json.loads(ok(scopegate(live_server, "apps", "rotate-secret", client_id, "--json")))
    assert rotated["client_secret"] != created["client_secret"]
    ok(scopegate(live_server, "apps", "delete", client_id, "--yes"))
    assert scopegate(live_server, "apps", "show", client_id).returncode != 0
