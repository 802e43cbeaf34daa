"""Expired tokens are dead everywhere, including on the paths where Authlib's
own expiry checks do not stand in for ours: renewal, and a token used as a
bearer credential at /oauth/introspect and /oauth/revoke."""

import pytest
from sqlalchemy import update

from app.models import Token, db
from tests.conftest import Api


def expire(app, token_id: str) -> None:
    with app.app_context():
        db.session.execute(update(Token).where(Token.token_id == token_id)
                           .values(expires_at=Token.issued_at))
        db.session.commit()


def test_renewing_an_expired_token_is_409(app, api, scoped_token):
    expire(app, scoped_token["token_id"])
    response = api.post(f"/tokens/{scoped_token['token_id']}/renew", {})
    assert response.status_code == 409
    assert "expired" in response.get_json()["error_description"]


def test_expired_personal_token_cannot_introspect(app, client, org, scoped_token):
    expire(app, org.admin_token_id)
    response = Api(client, org.admin_token).introspect(scoped_token["token"])
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"


def test_expired_personal_token_cannot_revoke(app, client, org, scoped_token):
    expire(app, org.admin_token_id)
    response = client.post("/oauth/revoke", data={"token": scoped_token["token"]},
                           headers={"Authorization": f"Bearer {org.admin_token}"})
    assert response.status_code == 401
    live = Api(client, scoped_token["token"])
    assert live.get("/me").status_code == 200  # the target is still alive


@pytest.mark.parametrize("path", ["/oauth/introspect", "/oauth/revoke"])
def test_expired_scoped_token_cannot_call_as_bearer(app, client, scoped_token, path):
    expire(app, scoped_token["token_id"])
    response = client.post(path, data={"token": scoped_token["token"]},
                           headers={"Authorization": f"Bearer {scoped_token['token']}"})
    assert response.status_code == 401


def test_renewal_messages_say_what_is_wrong(app, api, scoped_token):
    expire(app, scoped_token["token_id"])
    response = api.post(f"/tokens/{scoped_token['token_id']}/renew", {})
    assert response.get_json()["error_description"] == (
        "Only an active token can be renewed; this one is revoked or expired.")
    missing = api.post(f"/tokens/{'0' * 32}/renew", {})
    assert missing.get_json()["error_description"] == f"No token with id '{'0' * 32}'."


def test_renewing_one_token_leaves_the_others_alone(api, machine_user):
    short = [api.post("/users/demo-user/tokens", {"scopes": ["cli"], "expires_in": 60})
             .get_json() for _ in range(2)]
    api.post(f"/tokens/{short[0]['token_id']}/renew", {"expires_in": 3600})
    other = api.get(f"/tokens/{short[1]['token_id']}").get_json()
    assert other["expires_at"] == short[1]["expires_at"]


def test_renewal_never_shortens_a_token(api, scoped_token):
    before = api.get(f"/tokens/{scoped_token['token_id']}").get_json()["expires_at"]
    api.post(f"/tokens/{scoped_token['token_id']}/renew", {"expires_in": 60})
    assert api.get(f"/tokens/{scoped_token['token_id']}").get_json()["expires_at"] == before


@pytest.mark.parametrize("expires_in, detail", [(60, None), (10**9, "clamped")])
def test_renewal_is_audited_with_subject_target_and_clamping(api, org, machine_user,
                                                            expires_in, detail):
    made = api.post("/users/demo-user/tokens", {"scopes": ["cli"], "expires_in": 30}).get_json()
    api.post(f"/tokens/{made['token_id']}/renew", {"expires_in": expires_in})
    (event,) = api.get("/activity?action=token.renew").get_json()["items"]
    assert (event["actor"], event["subject"], event["subject_name"], event["target"],
            event["detail"]) == (org.admin_uid, machine_user.email, "demo-user",
                                 made["token_id"], detail)
