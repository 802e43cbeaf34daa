"""Hostile or malformed input to the OpenID Connect endpoints and the app
pages gets a clear 4xx (or a redirect to the app), never a 5xx."""

from __future__ import annotations

import random
from urllib.parse import urlencode

import pytest

from tests.conftest import basic
from tests.web.oidc_helpers import REDIRECT, pkce
from tests.web.test_oidc_flow import register

NASTY = ["", "\x00", "%00", "a" * 5000, "é", "\ud800", "' OR 1=1 --", "<script>", "null",
         "-1", "99999999999999999999", "openid openid", "app-", "\t\n", "{}", "[]",
         "https://evil.example/", "javascript:alert(1)"]
PARAMS = ["response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "prompt",
          "max_age", "code_challenge", "code_challenge_method", "id_token_hint",
          "post_logout_redirect_uri", "request", "request_uri", "claims", "response_mode"]


def _cases(seed: int, n: int):
    rng = random.Random(seed)
    return [{p: rng.choice(NASTY) for p in rng.sample(PARAMS, rng.randint(1, 8))}
            for _ in range(n)]


@pytest.fixture
def rp(app, admin):
    return register(app, admin)


def _no_5xx(response):
    assert response.status_code < 500, response.get_data(as_text=True)[:300]


def _query(params: dict) -> str:
    # A lone surrogate cannot be UTF-8 encoded: send its raw bytes instead.
    clean = {k: v for k, v in params.items() if "\ud800" not in v}
    return urlencode(clean) + ("&x=%ED%A0%80" if len(clean) < len(params) else "")


def test_authorize_garbage_is_never_a_5xx(signed_in, rp):
    base = {"response_type": "code", "client_id": rp["client_id"], "redirect_uri": REDIRECT,
            "scope": "openid", "code_challenge": pkce()[1], "code_challenge_method": "S256"}
    for params in _cases(1, 150):
        query = _query({**base, **params})
        _no_5xx(signed_in.client.get(f"/oauth/authorize?{query}"))
        _no_5xx(signed_in.post(f"/oauth/authorize?{query}", {"decision": "allow"}))


def test_logout_garbage_is_never_a_5xx(signed_in):
    for params in _cases(2, 80):
        _no_5xx(signed_in.client.get(f"/oauth/logout?{_query(params)}"))


@pytest.mark.parametrize("form", [
    {"grant_type": "authorization_code"},
    {"grant_type": "authorization_code", "code": "x" * 5000, "redirect_uri": REDIRECT},
    {"grant_type": "authorization_code", "code": "\x01", "code_verifier": "é" * 50},
    {"grant_type": "refresh_token"},
    {"grant_type": "refresh_token", "refresh_token": "sgr_" + "A" * 39},
    {"grant_type": "refresh_token", "refresh_token": "x" * 5000, "scope": "admin"},
])
def test_token_endpoint_garbage_for_apps_is_a_4xx(client, rp, form):
    for headers in (basic(rp["client_id"], rp["client_secret"]), {}):
        response = client.post("/oauth/token", data={**form, "client_id": rp["client_id"]}
                               if not headers else form, headers=headers)
        assert 400 <= response.status_code < 500
        assert response.get_json()["error"]


@pytest.mark.parametrize("header", ["Bearer", "Bearer " + "x" * 5000, "Basic abc",
                                    "Bearer sga_\u00e9", "Bearer \x00"])
def test_userinfo_garbage_is_401(client, header):
    try:
        response = client.get("/oauth/userinfo", headers={"Authorization": header})
    except ValueError:  # the test client itself refuses the header
        return
    assert response.status_code in (400, 401)


@pytest.mark.parametrize("path", ["/api/v1/apps/" + "x" * 5000, "/api/v1/apps/app-%00",
                                  "/api/v1/apps/%ff"])
def test_app_paths_are_4xx(client, api_token, path):
    response = client.get(path, headers={"Authorization": f"Bearer {api_token}"})
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize("path", ["/apps/" + "x" * 3000, "/apps/app-%00", "/apps/x/delete"])
def test_app_pages_are_4xx(signed_in, path):
    assert 400 <= signed_in.client.get(path).status_code < 500


def test_disconnecting_an_unknown_app_is_404(signed_in):
    assert signed_in.post("/connected-apps/app-nope/revoke").status_code == 404


@pytest.mark.parametrize("body", [b"\xff\xfe", b"[]", b"{\"name\": 1e999}", b"\"x\""])
def test_app_registration_garbage_is_4xx(client, api_token, body):
    response = client.post("/api/v1/apps", data=body, content_type="application/json",
                           headers={"Authorization": f"Bearer {api_token}"})
    assert 400 <= response.status_code < 500
