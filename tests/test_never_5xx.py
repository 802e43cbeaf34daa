"""Regressions: each input below once answered 500. Now each is a clear 4xx
with the usual JSON error, and a denied request is audited exactly once.

Authlib refuses ``"``, ``\\`` and non-ASCII in an error description
(``ValueError``); descriptions quote what users sent, so every one passes
through ``app.errors.safe_description``.
"""

import base64

import pytest
from sqlalchemy import func, select

from app.errors import MAX_DESCRIPTION, safe_description
from app.models import AuditEvent, Organization, db
from app.services import setup
from tests.conftest import issue
from tests.web.conftest import PASSWORD, Browser


def assert_json_error(response, status: int, error: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) <= {"error", "error_description"} and body["error"]
    if error:
        assert body["error"] == error
    return body


def test_user_name_with_apostrophe_is_404(api):
    body = assert_json_error(api.get("/users/o'brien"), 404, "not_found")
    assert "o'brien" in body["error_description"]


def test_user_name_with_non_ascii_is_404(api):
    body = assert_json_error(api.get("/users/j%C3%BCrgen"), 404, "not_found")
    assert "j?rgen" in body["error_description"]


def test_token_id_with_non_ascii_is_404(api):
    assert_json_error(api.get("/tokens/%C3%A9"), 404, "not_found")


def test_user_filter_with_apostrophe_is_404(api):
    assert_json_error(api.get("/tokens?user=a'b"), 404, "not_found")
    assert api.get("/activity?user=a'b").status_code == 200


def test_revoking_token_id_with_apostrophe_is_404(api):
    assert_json_error(api.delete("/tokens/x'"), 404, "not_found")


def test_client_credentials_scope_with_quote_is_invalid_scope_audited_once(
        client, api, machine_user):
    body = assert_json_error(issue(client, machine_user, scope='x"'), 400, "invalid_scope")
    assert "x'" in body["error_description"]
    events = api.get("/activity?action=token.issue").get_json()["items"]
    assert [e["outcome"] for e in events] == ["denied"]


def test_repeated_parameter_with_quote_in_its_name_is_400_unauthenticated(client, org):
    response = client.post("/oauth/token", data="a%22=1&a%22=2",
                           content_type="application/x-www-form-urlencoded")
    body = assert_json_error(response, 400, "invalid_request")
    assert "repeated" in body["error_description"]


def test_basic_credentials_not_utf8_are_401_and_audited_once(app, client, org):
    raw = base64.b64encode(b"\xff:x").decode()
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers={"Authorization": f"Basic {raw}"})
    assert_json_error(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    with app.app_context():  # no organization's log: the client is unknown
        events = db.session.execute(select(AuditEvent.outcome, AuditEvent.target).where(
            AuditEvent.action == "client.auth")).all()
    assert [tuple(e) for e in events] == [("denied", "(not UTF-8)")]


@pytest.mark.parametrize("method, path", [("POST", "/oauth/token"), ("POST", "/oauth/introspect"),
                                          ("POST", "/oauth/revoke"), ("GET", "/oauth/revocations")])
@pytest.mark.parametrize("header", ["Basic ", "Bearer ", "Basic   "])
def test_authorization_scheme_with_nothing_after_it_is_401(client, org, method, path, header):
    response = client.open(path, method=method, headers={"Authorization": header},
                           data={"grant_type": "client_credentials", "token": "x"}
                           if method == "POST" else None)
    assert_json_error(response, 401, "invalid_client")
    # The scheme the client used where the endpoint takes it (RFC 6749 §5.2), else Basic.
    takes_bearer = path in ("/oauth/introspect", "/oauth/revoke")
    scheme = "Bearer" if takes_bearer and header.startswith("Bearer") else "Basic"
    assert response.headers["WWW-Authenticate"].startswith(scheme)


def test_setup_email_with_quoted_local_part_is_422_and_keeps_the_link(app, client):
    with app.app_context():
        code = setup.issue()
    browser = Browser(client)
    browser.get(f"/setup/{code}")
    form = {"org": "acme", "email": '"j doe"@acme.test', "password": PASSWORD,
            "confirm": PASSWORD}
    response = browser.post(f"/setup/{code}", form)
    assert response.status_code == 422
    assert "not an email address" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Organization.id))) == 0
    assert browser.get(f"/setup/{code}").status_code == 200  # the link still works


@pytest.mark.parametrize("query", [
    "cursor=99999999999999999999", "cursor=%C2%B2", "cursor=%D9%A3", "cursor=-1",
])
@pytest.mark.parametrize("path", ["/users", "/tokens", "/activity"])
def test_cursor_that_is_no_64_bit_number_is_422(api, path, query):
    body = assert_json_error(api.get(f"{path}?{query}"), 422, "invalid_request")
    assert body["error_description"] == "`cursor` is not one this server handed out."


@pytest.mark.parametrize("path", ["/users", "/tokens", "/activity"])
def test_limit_superscript_digit_is_422(api, path):
    body = assert_json_error(api.get(f"{path}?limit=%C2%B2"), 422, "invalid_request")
    assert body["error_description"] == (
        "`limit` must be a whole number from 0 to 9223372036854775807.")


@pytest.mark.parametrize("name", ["limit", "since", "until"])
def test_5000_digit_number_is_422(api, name):
    assert_json_error(api.get(f"/activity?{name}={'9' * 5000}"), 422, "invalid_request")


@pytest.mark.parametrize("path", ["/users", "/users/demo-user/tokens"])
def test_json_nested_20000_deep_is_400(api, machine_user, path):
    body = "[" * 20000 + "]" * 20000
    response = api.post(path, data=body, content_type="application/json")
    assert_json_error(response, 400, "invalid_request")


def test_json_number_with_5000_digits_is_400(api, machine_user):
    body = '{"scopes": ["cli"], "expires_in": ' + "9" * 5000 + "}"
    response = api.post("/users/demo-user/tokens", data=body, content_type="application/json")
    assert_json_error(response, 400, "invalid_request")


def test_unexpected_failure_is_500_server_error_without_details(app, client):
    @app.get("/boom")
    def boom():
        raise RuntimeError("internal detail")

    body = assert_json_error(client.get("/boom"), 500, "server_error")
    assert "internal detail" not in body["error_description"]


# --- the one place descriptions are made safe ---------------------------------


@pytest.mark.parametrize("text, safe", [
    ("o'brien", "o'brien"), ('"quoted"', "'quoted'"), ("back\\slash", "back/slash"),
    ("jürgen", "j?rgen"), ("tab\there", "tab?here"), ("new\nline", "new?line"),
])
def test_description_keeps_what_is_safe_and_replaces_the_rest(text, safe):
    assert safe_description(text) == safe


def test_description_is_cut_to_a_readable_length():
    assert len(safe_description("x" * 5000)) == MAX_DESCRIPTION
    assert safe_description("x" * 5000).endswith("...")
