"""POST /oauth/introspect (RFC 7662): who may ask, and exactly what is answered."""

import time

import pytest
from sqlalchemy import update

from app.models import Token, db
from app.services import tokens
from tests.conftest import Api, basic, issue

INACTIVE = {"active": False}


@pytest.fixture
def resource_server(runner):
    import json

    out = runner.invoke(args=["create-resource-server", "sessions-service", "--json"])
    return json.loads(out.output.strip().splitlines()[-1])


def test_admin_sees_every_documented_member(api, org, machine_user, scoped_token):
    response = api.introspect(scoped_token["token"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    info = response.get_json()
    assert info["active"] is True
    assert info["scope"] == "create_session read_user_session"
    assert info["client_id"] == info["sub"] == info["email"] == machine_user.email
    assert info["token_id"] == scoped_token["token_id"]
    assert info["user_id"] == "demo-user"
    assert info["customer"] == "acme"
    assert info["user_type"] == "generated" and info["role"] == "machine"
    assert info["env"] == "dev" and info["iss"] == "http://localhost"
    assert info["token_type"] == "Bearer"
    assert info["renewable"] is False  # created at the 30-day maximum
    assert info["exp"] - info["iat"] == 30 * 86400


def test_personal_token_introspects_as_human_admin(api, org):
    info = api.introspect(org.admin_token).get_json()
    assert info["user_type"] == "human" and info["role"] == "admin"
    assert info["scope"] == "admin" and info["sub"] == org.admin_uid
    assert info["email"] == org.admin_email
    # No client stands between a person and their personal token: client_id is the person.
    assert info["client_id"] == org.admin_uid and info["user_id"] == org.admin_email
    assert (info["customer"], info["token_id"], info["token_type"]) == (
        "acme", org.admin_token_id, "Bearer")
    assert info["renewable"] is True  # 90 days by default, renewable up to 365
    assert info["exp"] - info["iat"] == 90 * 86400


def test_resource_server_may_introspect_any_organization(client, resource_server,
                                                         scoped_token):
    response = client.post("/oauth/introspect", data={"token": scoped_token["token"]},
                           headers=basic(resource_server["client_id"],
                                         resource_server["client_secret"]))
    assert response.get_json()["active"] is True


def test_token_of_org_a_is_inactive_for_org_b(client, other_org, scoped_token):
    other = Api(client, other_org.admin_token)
    assert other.introspect(scoped_token["token"]).get_json() == INACTIVE


def test_machine_user_sees_only_its_own_tokens(client, api, machine_user, scoped_token):
    api.post("/users", {"name": "other-user"})
    others = api.post("/users/other-user/tokens", {"scopes": ["cli"]}).get_json()
    creds = basic(machine_user.client_id, machine_user.client_secret)
    own = client.post("/oauth/introspect", data={"token": scoped_token["token"]}, headers=creds)
    theirs = client.post("/oauth/introspect", data={"token": others["token"]}, headers=creds)
    assert own.get_json()["active"] is True
    assert theirs.get_json() == INACTIVE
    as_bearer = Api(client, scoped_token["token"])
    assert as_bearer.introspect(others["token"]).get_json() == INACTIVE
    assert as_bearer.introspect(scoped_token["token"]).get_json()["active"] is True


@pytest.mark.parametrize("value", ["", "garbage", "sgt_" + "A" * 39, "sgs_" + "B" * 39])
def test_malformed_or_unknown_is_exactly_inactive(api, org, value):
    assert api.introspect(value).get_json() == INACTIVE


def test_client_secret_is_not_a_token(api, machine_user):
    assert api.introspect(machine_user.client_secret).get_json() == INACTIVE


def test_revoked_is_inactive(api, scoped_token):
    api.delete(f"/tokens/{scoped_token['token_id']}")
    assert api.introspect(scoped_token["token"]).get_json() == INACTIVE


def test_expired_is_inactive(app, api, scoped_token):
    with app.app_context():
        db.session.execute(update(Token).where(Token.token_id == scoped_token["token_id"])
                           .values(expires_at=1))
        db.session.commit()
    assert api.introspect(scoped_token["token"]).get_json() == INACTIVE


@pytest.mark.parametrize("hint", ["refresh_token", "access_token"])
def test_search_extends_beyond_type_hint(api, scoped_token, hint):
    info = api.introspect(scoped_token["token"], token_type_hint=hint).get_json()
    assert info["active"] is True


def test_caller_must_authenticate(client, scoped_token):
    response = client.post("/oauth/introspect", data={"token": scoped_token["token"]})
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers
    assert "active" not in response.get_json()


def test_revoked_caller_token_cannot_introspect(client, api, org, scoped_token):
    api.delete(f"/tokens/{org.admin_token_id}")
    response = Api(client, org.admin_token).introspect(scoped_token["token"])
    assert response.status_code == 401


def test_missing_token_parameter_is_invalid_request(api, org):
    response = api.client.post("/oauth/introspect", data={}, headers=api._headers())
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_repeated_token_parameter_is_invalid_request(api, scoped_token):
    response = api.client.post("/oauth/introspect",
                               data=f"token={scoped_token['token']}&token=x",
                               content_type="application/x-www-form-urlencoded",
                               headers=api._headers())
    assert response.status_code == 400


def test_introspection_records_last_used_once_per_resolution(app, api, scoped_token):
    api.introspect(scoped_token["token"])
    listed = api.get(f"/tokens/{scoped_token['token_id']}").get_json()
    assert listed["last_used_at"] is not None
    with app.app_context():
        first = db.session.scalar(db.select(Token.last_used_at).where(
            Token.token_id == scoped_token["token_id"]))
    api.introspect(scoped_token["token"])
    with app.app_context():
        second = db.session.scalar(db.select(Token.last_used_at).where(
            Token.token_id == scoped_token["token_id"]))
    assert first == second


def test_last_used_moves_again_once_the_resolution_has_passed(app, api, scoped_token,
                                                              monkeypatch):
    resolution, start = app.config["SCOPEGATE_LAST_USED_RESOLUTION"], int(time.time())

    def used_at(at: int) -> int:
        monkeypatch.setattr(tokens, "now", lambda: at)
        api.introspect(scoped_token["token"])
        with app.app_context():
            return db.session.scalar(db.select(Token.last_used_at).where(
                Token.token_id == scoped_token["token_id"]))

    assert used_at(start) == start
    assert used_at(start + resolution - 1) == start
    assert used_at(start + resolution) == start + resolution


def test_introspection_records_use_of_that_token_only(api, machine_user, scoped_token):
    other = api.post("/users/demo-user/tokens", {"scopes": ["cli"]}).get_json()
    api.introspect(scoped_token["token"])
    assert api.get(f"/tokens/{scoped_token['token_id']}").get_json()["last_used_at"]
    assert api.get(f"/tokens/{other['token_id']}").get_json()["last_used_at"] is None


def test_a_use_read_before_another_hosts_write_does_not_write_again(app, scoped_token,
                                                                     monkeypatch):
    """Two hosts read the token unused; the first writes, the second's write is a no-op."""
    start = int(time.time())
    with app.app_context():
        read_by_both = tokens.find(scoped_token["token"])
        monkeypatch.setattr(tokens, "now", lambda: start)
        tokens.mark_used(read_by_both)
        monkeypatch.setattr(tokens, "now", lambda: start + 1)
        tokens.mark_used(read_by_both)
        assert db.session.scalar(db.select(Token.last_used_at).where(
            Token.token_id == scoped_token["token_id"])) == start


def test_client_credentials_token_introspects(client, api, machine_user):
    value = issue(client, machine_user, scope="cli").get_json()["access_token"]
    info = api.introspect(value).get_json()
    assert info["scope"] == "cli" and info["user_id"] == "demo-user"
