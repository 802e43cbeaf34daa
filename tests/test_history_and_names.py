"""History outlives its users, people are named the same way everywhere, and
each thing that happened is recorded once, as it happened."""

import json

from click.testing import CliRunner
from sqlalchemy import update

from app.models import Token, db, now
from sdk.cli import main
from tests.conftest import basic, issue


def _user_with_token(api, name="demo-user"):
    user = api.post("/users", {"name": name}).get_json()
    token = api.post(f"/users/{name}/tokens", {"scopes": ["cli"]}).get_json()
    return user, token


# -- item 3: a deleted user's tokens stay searchable ---------------------------


def test_tokens_of_a_deleted_user_are_listed_by_its_name(api):
    user, token = _user_with_token(api)
    assert api.delete("/users/demo-user").status_code == 204
    listed = api.get("/tokens?user=demo-user")
    assert listed.status_code == 200
    assert [(t["token_id"], t["email"], t["active"]) for t in listed.get_json()["items"]] == [
        (token["token_id"], user["email"], False)]


def test_tokens_of_a_deleted_user_are_listed_by_its_unique_id(api):
    user, token = _user_with_token(api)
    api.delete("/users/demo-user")
    listed = api.get(f"/tokens?user={user['email']}").get_json()["items"]
    assert [t["token_id"] for t in listed] == [token["token_id"]]


def test_tokens_of_a_name_nobody_ever_had_are_404(api):
    response = api.get("/tokens?user=ghost")
    assert response.status_code == 404
    assert "now or before" in response.get_json()["error_description"]


def test_a_unique_id_lists_only_that_users_tokens_when_its_name_was_reused(api):
    first, old = _user_with_token(api)
    api.delete("/users/demo-user")
    second, new = _user_with_token(api)
    by_id = api.get(f"/tokens?user={second['email']}").get_json()["items"]
    by_name = api.get("/tokens?user=demo-user").get_json()["items"]
    assert [t["token_id"] for t in by_id] == [new["token_id"]]
    assert {t["token_id"] for t in by_name} == {old["token_id"], new["token_id"]}


# -- item 4: names beside IDs, and a marker when a name was shared -------------


def test_a_reused_name_is_marked_in_activity_tokens_and_users(api):
    first, _ = _user_with_token(api)
    api.delete("/users/demo-user")
    second, _ = _user_with_token(api)
    events = api.get("/activity?user=demo-user").get_json()["items"]
    assert {e["subject"] for e in events} == {first["email"], second["email"]}
    assert all(e["subject_name_shared"] for e in events if e["subject_name"] == "demo-user")
    tokens = api.get("/tokens?user=demo-user").get_json()["items"]
    assert all(t["user_name_shared"] for t in tokens)
    assert api.get("/users/demo-user").get_json()["name_shared"] is True


def test_a_name_one_user_had_is_not_marked(api):
    _user_with_token(api, "solo-user")
    events = api.get("/activity?user=solo-user").get_json()["items"]
    assert events and not any(e["subject_name_shared"] or e["actor_name_shared"]
                              for e in events)
    assert api.get("/users/solo-user").get_json()["name_shared"] is False


def test_creators_are_named_beside_their_unique_id(api, org):
    _user_with_token(api)
    admin_uid = api.get("/me").get_json()["sub"]
    user = api.get("/users/demo-user").get_json()
    token = api.get("/tokens?user=demo-user").get_json()["items"][0]
    event = api.get("/activity?action=user.create").get_json()["items"][0]
    for record in (user, token):
        assert (record["created_by"], record["created_by_name"]) == (admin_uid, org.admin_email)
    assert (event["actor"], event["actor_name"]) == (admin_uid, org.admin_email)


# -- item 6: plain client-authentication errors, absolute token endpoint -------


def test_a_wrong_client_secret_says_the_id_or_secret_is_wrong(client, machine_user):
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers=basic(machine_user.client_id, "sgs_wrong"))
    assert response.status_code == 401
    description = response.get_json()["error_description"]
    assert "client id or client secret is wrong" in description
    assert "[" not in description  # no Python list of methods


def test_credentials_name_the_absolute_token_endpoint(app, api, machine_user):
    creds = api.post("/users/demo-user/credentials").get_json()
    issuer = app.config["SCOPEGATE_ISSUER"].rstrip("/")
    assert creds["token_endpoint"] == f"{issuer}/oauth/token"


# -- item 7: one event per change; counts of what really died -----------------


def test_revoking_a_revoked_token_records_no_second_success(api):
    _, token = _user_with_token(api)
    assert api.delete(f"/tokens/{token['token_id']}").status_code == 204
    assert api.delete(f"/tokens/{token['token_id']}").status_code == 204  # still idempotent
    events = api.get("/activity?action=token.revoke").get_json()["items"]
    assert [(e["target"], e["outcome"]) for e in events] == [(token["token_id"], "success")]


def test_rfc7009_revoking_twice_records_one_event(client, api, machine_user):
    value = issue(client, machine_user).get_json()["access_token"]
    creds = basic(machine_user.client_id, machine_user.client_secret)
    for _ in range(2):
        assert client.post("/oauth/revoke", data={"token": value}, headers=creds).status_code == 200
    assert len(api.get("/activity?action=token.revoke").get_json()["items"]) == 1


def test_deleting_a_user_counts_only_the_tokens_that_were_live(app, api):
    _user_with_token(api)
    expired = api.post("/users/demo-user/tokens", {"scopes": ["cli"]}).get_json()
    api.post("/users/demo-user/tokens", {"scopes": ["cli"]})
    with app.app_context():
        db.session.execute(update(Token).where(Token.token_id == expired["token_id"])
                           .values(expires_at=now() - 60))
        db.session.commit()
    api.delete("/users/demo-user")
    (event,) = api.get("/activity?action=user.delete").get_json()["items"]
    assert event["detail"] == "2 token(s) revoked"


# -- the same, from the `scopegate` command against a live server -------------


def _scopegate(live_server, *args):
    result = CliRunner().invoke(main, list(args), env={
        "SCOPEGATE_TOKEN": live_server.admin_token, "SCOPEGATE_URL": live_server.url})
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_lists_a_deleted_users_tokens_by_name_and_id(live_server):
    created = _scopegate(live_server, "--json", "users", "create", "gone-user")
    uid = json.loads(created)["email"]
    token_id = json.loads(_scopegate(
        live_server, "--json", "tokens", "create", "--user", "gone-user", "--scope", "cli"))[
        "token_id"]
    _scopegate(live_server, "users", "delete", "gone-user", "--yes")
    for who in ("gone-user", uid):
        listed = _scopegate(live_server, "tokens", "list", "--user", who)
        assert token_id in listed and "revoked" in listed


def test_cli_names_people_alike_and_marks_a_reused_name(live_server):
    first = json.loads(_scopegate(live_server, "--json", "users", "create",
                                                "twice-user"))["email"]
    _scopegate(live_server, "users", "delete", "twice-user", "--yes")
    second = json.loads(_scopegate(live_server, "--json", "users", "create",
                                                 "twice-user"))["email"]
    table = _scopegate(live_server, "activity", "--user", "twice-user")
    assert f"twice-user ({first}, a reused name)" in table
    assert f"twice-user ({second}, a reused name)" in table
    assert live_server.admin_email in table  # the ACTOR column, by name as well
    users = _scopegate(live_server, "users", "list")
    assert live_server.admin_email in users  # CREATED_BY by name, as activity shows it
