"""Token Management → User Scoped Tokens: filters, revocation, tenant isolation."""

import re

from sqlalchemy import select

from app.models import Token, db, now
from tests.web.conftest import secret_on


def make_user(b, name, scopes=("create_session", "read_user_session")):
    b.get("/users/new")
    assert b.post("/users", {"name": name, "scopes": list(scopes)}).status_code == 303


def issue(b, name, scopes=("create_session",), days="30") -> str:
    b.get(f"/users/{name}")
    assert b.post(f"/users/{name}/tokens", {"scopes": list(scopes),
                                            "lifetime_days": days}).status_code == 303
    return secret_on(b.text("/once"), "sgt")


def token_id_of(app, value):
    from app.services import tokens

    with app.app_context():
        return tokens.find(value).token_id


def test_empty_state(signed_in):
    assert "No active scoped tokens" in signed_in.text("/tokens/scoped")
    assert signed_in.get("/tokens").location.endswith("/tokens/scoped")


def test_every_scoped_token_of_the_org_with_its_columns(app, signed_in, admin, api_token):
    make_user(signed_in, "demo-user")
    issue(signed_in, "demo-user", ("create_session", "read_user_session"))
    # One created through the admin API (the SDK's path) shows up too.
    client = app.test_client()
    client.post("/api/v1/users", json={"name": "sdk-user"},
                headers={"Authorization": f"Bearer {api_token}"})
    client.post("/api/v1/users/sdk-user/tokens", json={"scopes": ["cli"]},
                headers={"Authorization": f"Bearer {api_token}"})
    page = signed_in.text("/tokens/scoped")
    for text in ["User Scoped Tokens", "demo-user", "sdk-user", "create_session",
                 "read_user_session", admin.email, "active", "never"]:
        assert text in page
    assert page.count("<tr>") == 3  # header + 2 tokens


def test_filter_by_user_and_status(app, signed_in):
    make_user(signed_in, "alice")
    make_user(signed_in, "bob")
    issue(signed_in, "alice")
    bob_token = issue(signed_in, "bob")
    signed_in.get(f"/tokens/{token_id_of(app, bob_token)}/revoke")
    signed_in.post(f"/tokens/{token_id_of(app, bob_token)}/revoke")

    def rows(query):
        page = signed_in.text(f"/tokens/scoped?{query}")
        return re.findall(r'href="/users/([\w-]+)">', page.split("<tbody>")[1]) \
            if "<tbody>" in page else []

    assert rows("") == ["alice"]  # active by default
    assert sorted(rows("status=all")) == ["alice", "bob"]
    assert rows("status=inactive") == ["bob"]
    assert rows("user=bob&status=all") == ["bob"]
    assert rows("user=bob&status=active") == []
    assert "No machine user named nobody" in signed_in.text("/tokens/scoped?user=nobody")


def test_expired_tokens_show_as_expired(app, signed_in):
    make_user(signed_in, "alice")
    value = issue(signed_in, "alice")
    with app.app_context():
        db.session.execute(Token.__table__.update().where(Token.kind == "scoped")
                           .values(expires_at=now() - 10))
        db.session.commit()
    assert "expired</span>" in signed_in.text("/tokens/scoped?status=inactive")
    assert value


def test_revoke_with_confirmation_then_introspection_says_inactive(app, signed_in, api_token):
    make_user(signed_in, "alice")
    value = issue(signed_in, "alice")
    token_id = token_id_of(app, value)
    confirm = signed_in.text(f"/tokens/{token_id}/revoke")
    assert "Revoke this token?" in confirm and "alice" in confirm
    response = signed_in.post(f"/tokens/{token_id}/revoke", {"next": "/tokens/scoped"})
    assert response.status_code == 303
    answer = app.test_client().post("/oauth/introspect", data={"token": value},
                                    headers={"Authorization": f"Bearer {api_token}"})
    assert answer.get_json() == {"active": False}
    # Revoking again is harmless (idempotent, as in the API).
    assert signed_in.post(f"/tokens/{token_id}/revoke").status_code == 303


def test_other_orgs_tokens_are_invisible_and_unrevocable(app, signed_in, other_signed_in):
    make_user(signed_in, "alice")
    value = issue(signed_in, "alice")
    token_id = token_id_of(app, value)
    assert "alice" not in other_signed_in.text("/tokens/scoped?status=all")
    filtered = other_signed_in.text("/tokens/scoped?user=alice&status=all")
    assert "<tbody>" not in filtered and "No machine user named alice" in filtered
    assert other_signed_in.get(f"/tokens/{token_id}/revoke").status_code == 404
    assert other_signed_in.post(f"/tokens/{token_id}/revoke").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Token.revoked_at).where(Token.token_id == token_id)) \
            is None
