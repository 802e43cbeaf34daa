"""Hostile or malformed input gets a clear 4xx, never a 500."""

import pytest

from tests.conftest import basic


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/introspect", "/oauth/revoke"])
def test_oversized_form_is_413(client, org, path):
    response = client.post(path, data={"token": "x" * (70 * 1024)})
    assert response.status_code == 413
    assert response.get_json()["error"] == "request_too_large"


@pytest.mark.parametrize("header", [
    "Basic !!!notbase64", "Basic " + "A" * 5000, "Basic w6k6w6k=", "Bearer", "Basic",
    "Digest abc", "Bearer sgt_\u00e9",
])
@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/introspect", "/oauth/revoke"])
def test_malformed_authorization_is_401(client, org, path, header):
    response = client.post(path, data={"grant_type": "client_credentials", "token": "x"},
                           headers={"Authorization": header})
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def test_json_body_at_token_endpoint_is_refused(client, machine_user):
    response = client.post("/oauth/token", json={"grant_type": "client_credentials"},
                           headers=basic(machine_user.client_id, machine_user.client_secret))
    assert response.status_code == 400


def test_overlong_path_names_are_404_not_500(api):
    assert api.get("/users/" + "x" * 5000).status_code == 404
    assert api.delete("/tokens/" + "f" * 5000).status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/users/a%00b", "/api/v1/tokens/%00",
                                  "/api/v1/activity?user=%00", "/api/v1/tokens?user=x%00"])
def test_nul_bytes_are_400(api, path):
    response = api.client.get(path, headers=api._headers())
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_nul_in_form_is_400(client, machine_user):
    response = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                 "scope": "cli\x00"},
                           headers=basic(machine_user.client_id, machine_user.client_secret))
    assert response.status_code == 400
    # the NUL rule answered, not the scope check (which would say invalid_scope)
    assert response.get_json()["error"] == "invalid_request"
    assert "NUL" in response.get_json()["error_description"]


@pytest.mark.parametrize("path", ["/users/%ff", "/users/caf%C3%A9", '/users/a"b', "/users/a%5Cb"])
def test_names_that_cannot_be_echoed_in_an_error_are_404_not_500(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
