"""POST /oauth/revoke (RFC 7009)."""

import json

from tests.conftest import Api, basic, issue


def revoke(client, headers, token, **form):
    return client.post("/oauth/revoke", data={"token": token, **form}, headers=headers)


def test_client_revokes_its_own_token(client, api, machine_user):
    value = issue(client, machine_user).get_json()["access_token"]
    creds = basic(machine_user.client_id, machine_user.client_secret)
    response = revoke(client, creds, value, token_type_hint="access_token")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert api.introspect(value).get_json() == {"active": False}


def test_client_cannot_revoke_another_clients_token(client, api, machine_user):
    api.post("/users", {"name": "other-user"})
    theirs = api.post("/users/other-user/tokens", {"scopes": ["cli"]}).get_json()
    creds = basic(machine_user.client_id, machine_user.client_secret)
    response = revoke(client, creds, theirs["token"])
    assert response.status_code == 200  # RFC 7009 §2.2: nothing revealed
    assert api.introspect(theirs["token"]).get_json()["active"] is True
    (denied,) = api.get("/activity?action=token.revoke").get_json()["items"]
    assert (denied["outcome"], denied["actor"], denied["target"], denied["detail"]) == (
        "denied", machine_user.email, theirs["token_id"], "not the caller's token")
    other_user = api.get("/users/other-user").get_json()
    assert (denied["subject"], denied["subject_name"]) == (other_user["email"], "other-user")


def test_unknown_token_is_200(client, machine_user):
    creds = basic(machine_user.client_id, machine_user.client_secret)
    assert revoke(client, creds, "sgt_unknown").status_code == 200


def test_admin_revokes_any_token_of_its_organization_by_value(client, api, machine_user):
    value = issue(client, machine_user).get_json()["access_token"]
    response = client.post("/oauth/revoke", data={"token": value}, headers=api._headers())
    assert response.status_code == 200
    assert api.introspect(value).get_json() == {"active": False}


def test_other_organization_cannot_revoke(client, api, other_org, scoped_token):
    other = Api(client, other_org.admin_token)
    response = client.post("/oauth/revoke", data={"token": scoped_token["token"]},
                           headers=other._headers())
    assert response.status_code == 200
    assert api.introspect(scoped_token["token"]).get_json()["active"] is True
    # the attempt is in the token's organization, where its admins see it
    (denied,) = api.get("/activity?action=token.revoke").get_json()["items"]
    assert (denied["outcome"], denied["actor"]) == ("denied", other_org.admin_uid)
    assert other.get("/activity?action=token.revoke").get_json()["items"] == []


def test_revocation_requires_client_authentication(client, scoped_token, api):
    response = client.post("/oauth/revoke", data={"token": scoped_token["token"]})
    assert response.status_code == 401
    assert api.introspect(scoped_token["token"]).get_json()["active"] is True


def test_revocation_is_audited(client, api, machine_user):
    value = issue(client, machine_user).get_json()["access_token"]
    revoke(client, basic(machine_user.client_id, machine_user.client_secret), value)
    events = api.get("/activity?action=token.revoke").get_json()["items"]
    assert events[0]["actor"] == machine_user.email and events[0]["outcome"] == "success"


def test_missing_token_is_invalid_request(client, machine_user):
    response = client.post("/oauth/revoke", data={},
                           headers=basic(machine_user.client_id, machine_user.client_secret))
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_revoking_again_keeps_the_first_revocation_time(client, api, scoped_token, monkeypatch):
    assert revoke(client, api._headers(), scoped_token["token"]).status_code == 200
    first = api.get(f"/tokens/{scoped_token['token_id']}").get_json()["revoked_at"]
    import app.services.tokens as tokens

    later = tokens.now() + 3600
    monkeypatch.setattr(tokens, "now", lambda: later)
    assert revoke(client, api._headers(), scoped_token["token"]).status_code == 200
    assert api.delete(f"/tokens/{scoped_token['token_id']}").status_code == 204
    assert api.get(f"/tokens/{scoped_token['token_id']}").get_json()["revoked_at"] == first


def _resource_server(runner, name, *options):
    import json

    out = runner.invoke(args=["create-resource-server", name, *options, "--json"])
    server = json.loads(out.output.strip().splitlines()[-1])
    return basic(server["client_id"], server["client_secret"])


def test_creating_a_resource_server_is_audited_saying_whether_it_may_revoke(app, runner):
    from app.models import AuditEvent

    _resource_server(runner, "incident-response", "--may-revoke")
    _resource_server(runner, "sessions-service")
    with app.app_context():
        details = {e.detail for e in AuditEvent.query.filter_by(action="resource_server.create")}
    assert details == {"incident-response (may revoke)", "sessions-service"}


def test_resource_server_cannot_revoke_an_admins_personal_token(client, api, org, runner):
    """The attack from issue 11: a service's credentials revoking anyone's token."""
    rs = _resource_server(runner, "sessions-service")
    assert revoke(client, rs, org.admin_token).status_code == 200  # RFC 7009 §2.2
    assert api.introspect(org.admin_token).get_json()["active"] is True
    denied = api.get("/activity?action=token.revoke").get_json()["items"]
    assert [e["outcome"] for e in denied] == ["denied"]


def test_resource_server_cannot_revoke_a_scoped_token(client, api, runner, scoped_token):
    rs = _resource_server(runner, "sessions-service")
    revoke(client, rs, scoped_token["token"])
    assert api.introspect(scoped_token["token"]).get_json()["active"] is True


def test_resource_server_created_with_may_revoke_revokes_any_token(client, api, runner,
                                                                  other_org, scoped_token):
    rs = _resource_server(runner, "incident-response", "--may-revoke")
    other = Api(client, other_org.admin_token)
    assert revoke(client, rs, scoped_token["token"]).status_code == 200
    assert revoke(client, rs, other_org.admin_token).status_code == 200
    assert api.introspect(scoped_token["token"]).get_json() == {"active": False}
    assert other.introspect(other_org.admin_token).status_code == 401


def test_resource_server_revocation_is_audited_with_its_id_and_name(client, api, runner,
                                                                    scoped_token):
    out = runner.invoke(
        args=["create-resource-server", "incident-tool", "--may-revoke", "--json"]).output
    rs = json.loads(out.strip().splitlines()[-1])
    response = revoke(client, basic(rs["client_id"], rs["client_secret"]), scoped_token["token"])
    assert response.status_code == 200
    (event,) = api.get("/activity?action=token.revoke").get_json()["items"]
    assert (event["actor"], event["actor_name"], event["outcome"]) == (
        rs["client_id"], "incident-tool", "success")
    assert (event["subject"], event["subject_name"], event["target"]) == (
        scoped_token["email"], "demo-user", scoped_token["token_id"])
