"""POST /oauth/token: client_credentials for machine users (RFC 6749 §4.4, §5)."""

import pytest

from tests.conftest import basic, issue


def test_client_credentials_issues_token_within_ceiling(client, api, machine_user):
    response = issue(client, machine_user, scope="create_session cli")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["access_token"].startswith("sgt_")
    assert body["scope"] == "create_session cli"
    assert body["expires_in"] == 30 * 86400
    assert "refresh_token" not in body
    info = api.introspect(body["access_token"]).get_json()
    assert info["active"] is True and info["client_id"] == machine_user.client_id


def test_request_without_scope_gets_whole_ceiling(client, api):
    api.post("/users", {"name": "reader", "scopes": ["read_user_session", "cli"]})
    creds = api.post("/users/reader/credentials").get_json()
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers=basic(creds["client_id"], creds["client_secret"]))
    assert response.get_json()["scope"] == "read_user_session cli"


def test_scope_above_ceiling_is_invalid_scope(client, api):
    api.post("/users", {"name": "reader", "scopes": ["read_user_session"]})
    creds = api.post("/users/reader/credentials").get_json()
    response = client.post("/oauth/token",
                           data={"grant_type": "client_credentials", "scope": "create_session"},
                           headers=basic(creds["client_id"], creds["client_secret"]))
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_scope"


def test_unknown_scope_is_invalid_scope(client, machine_user):
    response = issue(client, machine_user, scope="admin")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_scope"


def test_wrong_secret_is_401_with_basic_challenge(client, machine_user):
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers=basic(machine_user.client_id, "sgs_wrong"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert response.get_json()["error"] == "invalid_client"


def test_a_refused_client_is_told_how_to_authenticate_where_it_called(client, machine_user):
    wrong = basic(machine_user.client_id, "sgs_wrong")
    at_token = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers=wrong).get_json()["error_description"]
    assert "HTTP Basic" in at_token and "bearer" not in at_token  # no bearer here
    at_introspect = client.post("/oauth/introspect", data={"token": "sgt_x"},
                                headers=wrong).get_json()["error_description"]
    assert "HTTP Basic" in at_introspect and "bearer token" in at_introspect


def test_a_client_id_as_long_as_its_column_authenticates(app, client, machine_user):
    from sqlalchemy import update

    from app.models import MachineUser, db

    longest = "0123456789@" + "d" * 101 + ".example"
    assert len(longest) == 120  # MachineUser.client_id is a String(120)
    with app.app_context():
        db.session.execute(update(MachineUser).values(client_id=longest))
        db.session.commit()
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers=basic(longest, machine_user.client_secret))
    assert response.status_code == 200


def test_unknown_client_looks_like_wrong_secret(client, machine_user):
    wrong_secret = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                               headers=basic(machine_user.client_id, "x"))
    unknown = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                          headers=basic("nobody@scopegate.local", "x"))
    assert unknown.status_code == wrong_secret.status_code == 401
    assert unknown.get_json() == wrong_secret.get_json()


def test_no_client_authentication_is_401(client, org):
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def test_secret_in_body_is_not_accepted(client, machine_user):
    response = client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": machine_user.client_id,
        "client_secret": machine_user.client_secret})
    assert response.status_code == 401


@pytest.mark.parametrize("grant", ["password", "implicit", "authorization_code_x", ""])
def test_unsupported_grant_type(client, machine_user, grant):
    response = client.post("/oauth/token", data={"grant_type": grant},
                           headers=basic(machine_user.client_id, machine_user.client_secret))
    assert response.status_code == 400
    assert response.get_json()["error"] in ("unsupported_grant_type", "invalid_request")


def test_repeated_parameter_is_invalid_request(client, machine_user):
    response = client.post(
        "/oauth/token", data="grant_type=client_credentials&scope=cli&scope=cli",
        content_type="application/x-www-form-urlencoded",
        headers=basic(machine_user.client_id, machine_user.client_secret))
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert response.headers["Cache-Control"] == "no-store"


def test_resource_server_cannot_obtain_tokens(client, runner):
    out = runner.invoke(args=["create-resource-server", "platform", "--json"])
    import json

    creds = json.loads(out.output.strip().splitlines()[-1])
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers=basic(creds["client_id"], creds["client_secret"]))
    assert response.status_code == 400
    assert response.get_json()["error"] == "unauthorized_client"


def test_get_is_not_allowed(client):
    assert client.get("/oauth/token").status_code == 405


def test_issued_tokens_are_audited_with_user_id(client, api, machine_user):
    issue(client, machine_user, scope="cli")
    events = api.get("/activity?action=token.issue").get_json()["items"]
    assert len(events) == 1
    assert events[0]["actor"] == machine_user.email
    assert events[0]["actor_name"] == "demo-user"
    assert events[0]["outcome"] == "success"
    assert (events[0]["subject"], events[0]["subject_name"]) == (machine_user.email, "demo-user")
    assert events[0]["target"] == api.get("/tokens").get_json()["items"][0]["token_id"]


def test_an_issued_token_is_listed_as_the_machine_users_own(client, api, machine_user):
    issue(client, machine_user, scope="cli")
    [listed] = [t for t in api.get("/tokens").get_json()["items"] if t["kind"] == "scoped"]
    assert listed["client_id"] == machine_user.client_id
    assert (listed["created_by"], listed["created_by_name"]) == (machine_user.client_id,
                                                                 "demo-user")
    assert (listed["user_id"], listed["email"]) == ("demo-user", machine_user.email)


def test_bad_secret_and_bad_scope_are_audited_as_denied(client, api, machine_user):
    client.post("/oauth/token", data={"grant_type": "client_credentials"},
                headers=basic(machine_user.client_id, "bad"))
    issue(client, machine_user, scope="admin")
    events = api.get("/activity?user=demo-user").get_json()["items"]
    denied = {(e["action"], e["outcome"], e["actor_name"], e["subject_name"])
              for e in events if e["outcome"] == "denied"}
    assert denied == {("client.auth", "denied", None, "demo-user"),
                      ("token.issue", "denied", "demo-user", "demo-user")}


def test_a_refused_scope_is_audited_naming_the_user_and_why(app, client, org, machine_user):
    from sqlalchemy import select

    from app.models import AuditEvent, db

    issue(client, machine_user, scope="admin")
    with app.app_context():
        (event,) = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "token.issue", AuditEvent.outcome == "denied")).all()
        assert (event.org_id, event.actor, event.subject, event.subject_name) == (
            org.id, machine_user.client_id, machine_user.client_id, "demo-user")
        assert "admin" in event.detail  # the scope refused, as the answer says


def refused_client_auths(app) -> list[tuple]:
    from sqlalchemy import select

    from app.models import AuditEvent, db

    with app.app_context():
        return [tuple(e) for e in db.session.execute(select(
            AuditEvent.org_id, AuditEvent.actor, AuditEvent.subject, AuditEvent.subject_name,
            AuditEvent.target, AuditEvent.outcome, AuditEvent.detail,
        ).where(AuditEvent.action == "client.auth").order_by(AuditEvent.id))]


def test_a_bad_secret_is_audited_in_the_clients_organization_naming_it(app, client, org,
                                                                        machine_user):
    client.post("/oauth/token", data={"grant_type": "client_credentials"},
                headers=basic(machine_user.client_id, "sgs_wrong"))
    assert refused_client_auths(app) == [
        (org.id, None, machine_user.email, "demo-user", machine_user.client_id, "denied",
         "bad client credentials")]


def test_an_empty_secret_is_refused_and_audited(app, client, machine_user):
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers=basic(machine_user.client_id, ""))
    assert response.status_code == 401
    assert [e[4] for e in refused_client_auths(app)] == [machine_user.client_id]


@pytest.mark.parametrize("client_id, target", [
    ("nobody@scopegate.local", "nobody@scopegate.local"),
    ("x" * 300, "x" * 254),
    ("bad\x01id", "(unprintable)"),
    ("bad\x00id", "(unprintable)"),  # never sent to the database: PostgreSQL refuses NUL
])
def test_an_unknown_client_is_audited_in_no_organization(app, client, org, client_id, target):
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                           headers=basic(client_id, "sgs_wrong"))
    assert response.status_code == 401
    assert refused_client_auths(app) == [
        (None, None, None, None, target, "denied", "bad client credentials")]


def test_issued_token_never_reaches_a_debug_log(client, machine_user, caplog):
    import logging

    with caplog.at_level(logging.DEBUG):
        value = issue(client, machine_user).get_json()["access_token"]
    assert "Issue token" in caplog.text  # Authlib's own debug line is still there...
    assert value not in caplog.text  # ...without the token
    assert "'access_token': '[redacted]'" in caplog.text
    assert machine_user.client_secret not in caplog.text


def test_the_issued_token_debug_line_hides_every_token_and_keeps_the_rest(caplog):
    """An app's code exchange may log an access, a refresh and an ID token at
    once; the token type, lifetime and scope stay readable."""
    import logging

    from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant

    issued = {"access_token": "sga_AT", "refresh_token": "sgr_RT", "id_token": "eyJ.ID",
              "token_type": "Bearer", "expires_in": 3600, "scope": "openid"}
    with caplog.at_level(logging.DEBUG):
        logging.getLogger(AuthorizationCodeGrant.__module__).debug(
            "Issue token %r to %r", issued, "app-1")
    assert not [value for value in ("sga_AT", "sgr_RT", "eyJ.ID") if value in caplog.text]
    for name in ("access_token", "refresh_token", "id_token"):
        assert f"'{name}': '[redacted]'" in caplog.text
    assert "'token_type': 'Bearer', 'expires_in': 3600, 'scope': 'openid'" in caplog.text


def test_oauth_and_api_responses_set_no_cookie(client, api, machine_user):
    issued = issue(client, machine_user)
    introspected = api.introspect(issued.get_json()["access_token"])
    listed = api.get("/users")
    for response in (issued, introspected, listed):
        assert response.status_code == 200 and "Set-Cookie" not in response.headers


def test_a_machine_user_deleted_while_its_token_is_issued_gets_401_not_a_token(
        app, client, machine_user, monkeypatch):
    """The user's row goes between the secret check and the token's insert (a
    deletion racing the request): the insert fails its foreign key, and the answer
    is the wrong-credentials one, with no token left behind."""
    from sqlalchemy import delete, func, select

    from app.models import MachineUser, Token, db
    from app.services import tokens

    issue_token = tokens.issue_client_credentials

    def deleted_meanwhile(user, requested):
        db.session.execute(delete(MachineUser).where(MachineUser.id == user.id))
        return issue_token(user, requested)

    monkeypatch.setattr(tokens, "issue_client_credentials", deleted_meanwhile)
    response = issue(client, machine_user)
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    with app.app_context():
        left = select(func.count()).where(Token.client_id == machine_user.client_id)
        assert db.session.scalar(left) == 0


@pytest.mark.parametrize("token_format", ["opaque", "jwt"])
def test_a_token_that_fails_to_save_leaves_neither_the_token_nor_its_event(
        app, client, api, machine_user, monkeypatch, token_format):
    """The row and its ``token.issue`` event are committed together when the
    token is saved, or not at all: an answer of 500 leaves nothing to revoke.
    (A JWT's issuance reads its organization through the session first, so its
    writes are in the session's transaction, not written directly: both ways.)"""
    monkeypatch.setitem(app.config, "SCOPEGATE_ACCESS_TOKEN_FORMAT", token_format)

    def store_down(token, request):
        raise RuntimeError("store down")

    server = app.extensions["scopegate.authorization"]
    saved = server._save_token
    server._save_token = store_down
    try:
        assert issue(client, machine_user).status_code == 500
    finally:
        server._save_token = saved
    assert [t for t in api.get("/tokens").get_json()["items"] if t["kind"] == "scoped"] == []
    assert api.get("/activity?action=token.issue").get_json()["items"] == []
    # The next token on the same thread (the fast path keeps its session) commits only itself.
    assert issue(client, machine_user).status_code == 200
    assert len([t for t in api.get("/tokens").get_json()["items"] if t["kind"] == "scoped"]) == 1
    assert len(api.get("/activity?action=token.issue").get_json()["items"]) == 1
