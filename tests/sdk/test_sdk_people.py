"""Unit tests of the SDK's people calls and the `scopegate people` commands
against a mocked server (requests-mock): the request each sends, what it
returns or prints, and the refusals made before anything is sent."""

from __future__ import annotations

import json
import logging

import pytest
from click.testing import CliRunner

from sdk.auth import AuthClient, Conflict, NotFound, ValidationError
from sdk.cli import main
from tests.sdk.samples import ADMIN_TOKEN, BASE

PEOPLE = "/api/v1/people"
ANN = "ann@acme.test"
PERSON = {"email": ANN, "uid": "0a1b2c3d4e@sg.test", "user_type": "human", "role": "member",
          "status": "active", "disabled": False, "created_by": "74750ba97d@sg.test",
          "created_at": "2026-11-30T08:00:00Z", "joined_at": "2026-11-30T08:05:00Z",
          "disabled_at": None}
INVITE_URL = "https://sg.test/invite/Xq3secretcode"
INVITED = {**PERSON, "status": "invited", "joined_at": None, "invite_url": INVITE_URL,
           "invite_expires_at": "2026-12-01T08:00:00Z"}
RESET = {"email": ANN, "purpose": "reset", "reset_url": "https://sg.test/reset/Yz9secret",
         "expires_at": "2026-12-01T08:00:00Z"}
PERSON_TOKEN = {"token": "sgp_" + "m" * 39, "token_id": "c" * 32, "kind": "personal",
                "email": ANN, "role": "member", "scopes": [],
                "expires_at": "2027-02-28T08:00:00Z"}


@pytest.fixture
def client():
    with AuthClient(ADMIN_TOKEN, BASE, retries=0) as c:
        yield c


# (id, call, method, path (after /api/v1/people), status, answer, JSON body sent)
CALLS = [
    ("invite_person", lambda c: c.invite_person(ANN, role="admin"), "POST", "", 201, INVITED,
     {"email": ANN, "role": "admin"}),
    ("list_people", lambda c: c.list_people(), "GET", "", 200,
     {"items": [PERSON], "next_cursor": None}, None),
    ("get_person", lambda c: c.get_person(ANN), "GET", f"/{ANN}", 200, PERSON, None),
    ("update_person role", lambda c: c.update_person(ANN, role="admin"), "PATCH", f"/{ANN}",
     200, PERSON, {"role": "admin"}),
    ("update_person disabled", lambda c: c.update_person(ANN, disabled=True), "PATCH",
     f"/{ANN}", 200, PERSON, {"disabled": True}),
    ("delete_person", lambda c: c.delete_person(ANN), "DELETE", f"/{ANN}", 204, None, None),
    ("reset_password_link", lambda c: c.reset_password_link(ANN), "POST", f"/{ANN}/reset-link",
     201, RESET, None),
    ("create_person_token", lambda c: c.create_person_token(ANN, name="laptop", expires_in=3600),
     "POST", f"/{ANN}/tokens", 201, PERSON_TOKEN, {"name": "laptop", "expires_in": 3600}),
]


@pytest.mark.parametrize(("name", "call", "method", "path", "status", "answer", "sent"), CALLS,
                         ids=[c[0] for c in CALLS])
def test_every_people_call_sends_one_request(requests_mock, client, name, call, method, path,
                                             status, answer, sent):
    url = BASE + PEOPLE + path.replace("@", "%40")
    if answer is None:
        requests_mock.register_uri(method, url, status_code=status, text="")
    else:
        requests_mock.register_uri(method, url, status_code=status, json=answer)
    returned = call(client)
    assert returned == ([PERSON] if name == "list_people" else answer)
    assert requests_mock.call_count == 1
    request = requests_mock.last_request
    assert request.method == method and request.headers["Authorization"] == f"Bearer {ADMIN_TOKEN}"
    assert (request.json() if request.body else None) == sent


def test_list_people_follows_every_page(requests_mock, client):
    requests_mock.get(BASE + PEOPLE, [
        {"json": {"items": [INVITED], "next_cursor": "5"}},
        {"json": {"items": [PERSON], "next_cursor": None}}])
    assert [p["status"] for p in client.list_people()] == ["invited", "active"]
    assert requests_mock.last_request.qs == {"cursor": ["5"]}


@pytest.mark.parametrize("call", [
    lambda c: c.invite_person(ANN, role="owner"),
    lambda c: c.invite_person("", role="member"),
    lambda c: c.update_person(ANN),
    lambda c: c.update_person(ANN, role="root"),
    lambda c: c.update_person(ANN, disabled="yes"),
    lambda c: c.create_person_token(ANN, expires_in=0),
])
def test_bad_arguments_are_refused_before_sending(requests_mock, client, call):
    with pytest.raises(ValidationError):
        call(client)
    assert requests_mock.call_count == 0


def test_the_last_admin_refusal_is_a_conflict_with_the_server_message(requests_mock, client):
    requests_mock.patch(BASE + PEOPLE + "/boss%40acme.test", status_code=409, json={
        "error": "conflict", "error_description": "boss@acme.test is the last admin of acme."})
    with pytest.raises(Conflict, match="last admin of acme"):
        client.update_person("boss@acme.test", disabled=True)


def test_another_organization_s_person_is_not_found(requests_mock, client):
    requests_mock.get(BASE + PEOPLE + "/x%40globex.test", status_code=404,
                      json={"error": "not_found", "error_description": "No person."})
    with pytest.raises(NotFound):
        client.get_person("x@globex.test")


def test_links_and_tokens_never_reach_the_log(requests_mock, client, caplog):
    caplog.set_level(logging.DEBUG, logger="sdk")
    requests_mock.post(BASE + PEOPLE, status_code=201, json=INVITED)
    requests_mock.post(BASE + PEOPLE + "/ann%40acme.test/reset-link", status_code=201,
                       json=RESET)
    requests_mock.post(BASE + PEOPLE + "/ann%40acme.test/tokens", status_code=201,
                       json=PERSON_TOKEN)
    client.invite_person(ANN)
    client.reset_password_link(ANN)
    client.create_person_token(ANN)
    assert "Person ann@acme.test(0a1b2c3d4e@sg.test) invited as member." in caplog.text
    for secret in ("Xq3secretcode", "Yz9secret", PERSON_TOKEN["token"]):
        assert secret not in caplog.text


# -- the `scopegate people` commands --------------------------------------------


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args, input=None):
        result = runner.invoke(main, list(args), input=input,
                               env={"SCOPEGATE_TOKEN": ADMIN_TOKEN, "SCOPEGATE_URL": BASE})
        return result

    return invoke


def test_people_invite_prints_the_link_once_with_a_warning(run, requests_mock):
    requests_mock.post(BASE + PEOPLE, status_code=201, json=INVITED)
    result = run("people", "invite", ANN, "--role", "admin")
    assert result.exit_code == 0, result.output
    assert requests_mock.last_request.json() == {"email": ANN, "role": "admin"}
    assert "invite_url:" in result.stdout and INVITE_URL in result.stdout
    assert "shown only now" in result.stderr


def test_people_invite_json_is_the_server_answer(run, requests_mock):
    requests_mock.post(BASE + PEOPLE, status_code=201, json=INVITED)
    result = run("--json", "people", "invite", ANN)
    assert json.loads(result.stdout) == INVITED
    assert requests_mock.last_request.json()["role"] == "member"  # the default


def test_people_list_is_a_table(run, requests_mock):
    requests_mock.get(BASE + PEOPLE, json={"items": [PERSON, INVITED], "next_cursor": None})
    lines = run("people", "list").stdout.splitlines()
    assert lines[0].split() == ["EMAIL", "UID", "ROLE", "STATUS", "JOINED_AT"]
    assert "active" in lines[1] and "invited" in lines[2]


@pytest.mark.parametrize("args, method, path, sent", [
    (["role", ANN, "admin"], "PATCH", f"/{ANN}", {"role": "admin"}),
    (["disable", ANN], "PATCH", f"/{ANN}", {"disabled": True}),
    (["enable", ANN], "PATCH", f"/{ANN}", {"disabled": False}),
    (["reset-link", ANN], "POST", f"/{ANN}/reset-link", None),
    (["token", ANN, "--expires-in", "7d"], "POST", f"/{ANN}/tokens", {"expires_in": 604800}),
    (["show", ANN], "GET", f"/{ANN}", None),
    (["delete", ANN, "--yes"], "DELETE", f"/{ANN}", None),
])
def test_each_people_command_is_one_call(run, requests_mock, args, method, path, sent):
    answer = {"reset-link": RESET, "token": PERSON_TOKEN}.get(args[0], PERSON)
    requests_mock.register_uri(method, BASE + PEOPLE + path.replace("@", "%40"),
                               status_code=204 if method == "DELETE" else 200,
                               **({} if method == "DELETE" else {"json": answer}))
    result = run("--json", "people", *args)
    assert result.exit_code == 0, result.output
    request = requests_mock.last_request
    assert request.method == method
    assert (request.json() if request.body else None) == sent


def test_people_delete_asks_first(run, requests_mock):
    result = run("people", "delete", ANN, input="n\n")
    assert result.exit_code == 1 and requests_mock.call_count == 0
    assert "end their sessions and tokens" in result.stderr


def test_an_unknown_role_is_a_usage_error_without_a_request(run, requests_mock):
    result = run("people", "invite", ANN, "--role", "owner")
    assert result.exit_code == 2 and requests_mock.call_count == 0


def test_a_refusal_is_one_line_on_stderr(run, requests_mock):
    requests_mock.patch(BASE + PEOPLE + "/boss%40acme.test", status_code=409, json={
        "error": "conflict", "error_description": "boss@acme.test is the last admin of acme."})
    result = run("people", "disable", "boss@acme.test")
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("Error: boss@acme.test is the last admin of acme.")
    assert "Traceback" not in result.output
