"""RFC-exact corners: RFC 6749 §5.2, RFC 6750 §3, RFC 7009, RFC 7662."""

import pytest

from tests.conftest import Api, basic, issue


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/introspect", "/oauth/revoke"])
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic Zm9vOmJhcg=="}])
def test_every_oauth_401_carries_a_basic_challenge(client, org, path, headers):
    response = client.post(path, data={"grant_type": "client_credentials", "token": "x"},
                           headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize("grant", ["authorization_code", "refresh_token"])
@pytest.mark.parametrize("header", ["Basic Zm9vOmJhcg==", "Basic ", "Basic Zm9v"])
def test_failed_basic_authentication_is_401_even_with_a_client_id_in_the_form(
        client, org, grant, header):
    """RFC 6749 §5.2: a client that tried the Authorization header gets 401 and a challenge,
    also when the form names a (public) client as apps' grants allow."""
    response = client.post("/oauth/token", headers={"Authorization": header}, data={
        "grant_type": grant, "code": "x", "refresh_token": "x", "client_id": "app-unknown",
        "redirect_uri": "https://app.example/cb", "code_verifier": "v" * 43})
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize("path", ["/oauth/introspect", "/oauth/revoke"])
@pytest.mark.parametrize("header", ["Bearer nope", "bearer nope", "Bearer"])
def test_a_failed_bearer_token_is_challenged_bearer_where_one_is_taken(
        client, org, path, header):
    """RFC 6749 §5.2: the challenge matches the scheme the client used; RFC 6750 §3 names
    the bearer token's error (the body keeps RFC 7662's and RFC 7009's ``invalid_client``)."""
    response = client.post(path, data={"token": "x"}, headers={"Authorization": header})
    assert response.status_code == 401
    body = response.get_json()
    assert body == {"error": "invalid_client", "error_description": (
        "The client id or client secret is wrong (send them with HTTP Basic "
        "authentication), or the bearer token is invalid, expired or revoked.")}
    assert response.headers.getlist("WWW-Authenticate") == [
        'Bearer realm="scopegate", error="invalid_token", '
        f'error_description="{body["error_description"]}"']


def test_a_bearer_token_at_the_token_endpoint_is_challenged_with_the_scheme_it_takes(
        client, org):
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.get_json()["error_description"] == (
        "The client id or client secret is wrong (send them with HTTP Basic authentication).")
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_a_client_that_sent_no_authorization_header_gets_400_invalid_client(client, org):
    response = client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": "x", "client_id": "app-unknown",
        "redirect_uri": "https://app.example/cb", "code_verifier": "v" * 43})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_client"
    assert "WWW-Authenticate" not in response.headers


@pytest.mark.parametrize("header", ["Bearer nope", "Basic abc", "Bearer"])
def test_every_api_401_carries_a_bearer_challenge(client, org, header):
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="scopegate"')


def test_401_without_credentials_names_no_error_in_its_challenge(client, org):
    response = client.get("/api/v1/users")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="scopegate"'


def test_403_insufficient_scope_carries_a_challenge(client, scoped_token):
    response = Api(client, scoped_token["token"]).get("/users")
    assert response.status_code == 403
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ") and 'error="insufficient_scope"' in challenge


@pytest.mark.parametrize("scheme", ["Bearer  ", "bearer ", "BEARER "])
def test_a_bearer_caller_may_write_the_scheme_in_any_case_with_any_spaces(
        client, org, scoped_token, scheme):
    """RFC 6750 §2.1 (``"Bearer" 1*SP b64token``) and RFC 9110 §11.1 (the scheme is
    case-insensitive), at the endpoints that take a bearer caller."""
    headers = {"Authorization": scheme + org.admin_token}
    info = client.post("/oauth/introspect", data={"token": scoped_token["token"]},
                       headers=headers)
    assert info.status_code == 200 and info.get_json()["active"] is True


def test_token_endpoint_ignores_parameters_in_the_query_string(client, machine_user):
    response = client.post("/oauth/token?scope=admin&grant_type=password",
                           data={"grant_type": "client_credentials", "scope": "cli"},
                           headers=basic(machine_user.client_id, machine_user.client_secret))
    assert response.status_code == 200
    assert response.get_json()["scope"] == "cli"


def test_token_endpoint_does_not_take_grant_type_from_the_query_string(client, machine_user):
    response = client.post("/oauth/token?grant_type=client_credentials", data={"scope": "cli"},
                           headers=basic(machine_user.client_id, machine_user.client_secret))
    assert response.status_code == 400
    assert response.get_json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/introspect", "/oauth/revoke"])
def test_form_that_is_not_utf8_is_400_invalid_request(client, machine_user, path):
    response = client.post(path, data=b"grant_type=client_credentials&token=%FF%FE",
                           content_type="application/x-www-form-urlencoded",
                           headers=basic(machine_user.client_id, machine_user.client_secret))
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert "UTF-8" in response.get_json()["error_description"]


def test_raw_latin1_bytes_in_a_form_are_400_invalid_request(client, machine_user):
    response = client.post("/oauth/token", data=b"grant_type=client_credentials&scope=\xe9",
                           content_type="application/x-www-form-urlencoded",
                           headers=basic(machine_user.client_id, machine_user.client_secret))
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_duplicate_json_keys_are_refused(api):
    response = api.post("/users", data='{"name": "a", "name": "b"}',
                        content_type="application/json")
    assert response.status_code == 400
    assert "name" in response.get_json()["error_description"]
    assert api.get("/users").get_json()["items"] == []


def assert_not_stored(response) -> None:
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


def test_token_answer_is_not_stored(client, machine_user):
    response = issue(client, machine_user)
    assert response.status_code == 200
    assert_not_stored(response)


def test_admin_api_answers_with_secrets_are_not_stored(api, machine_user):
    assert_not_stored(api.post("/users/demo-user/credentials"))
    assert_not_stored(api.post("/users/demo-user/tokens", {"scopes": ["cli"]}))


def test_admin_api_errors_are_not_stored_either(api):
    assert_not_stored(api.get("/users/nobody"))


def test_introspection_answer_is_not_stored(api, scoped_token):
    assert_not_stored(api.introspect(scoped_token["token"]))
