"""Machine users: create with a ceiling, issue tokens and credentials once, delete."""

import base64
import re

from sqlalchemy import select

from app.models import MachineUser, db
from sdk.auth.scopes import CATALOG, DESCRIPTIONS
from tests.web.conftest import secret_on
from tests.web.test_web_tokens import issue, make_user


def test_empty_state_and_create_form_shows_every_scope_with_its_description(signed_in):
    assert "No machine users yet" in signed_in.text("/users")
    page = signed_in.text("/users/new")
    for scope in CATALOG:
        assert f'<label for="scope-{scope}"><code>{scope}</code></label>' in page
    for description in DESCRIPTIONS.values():
        assert description.replace("'", "&#39;") in page


def test_create_with_a_scope_ceiling(app, signed_in, admin):
    response = signed_in.post("/users", {"name": "demo-user",
                                         "scopes": ["create_session", "read_user_session"]})
    assert response.status_code == 303 and response.location.endswith("/users/demo-user")
    page = signed_in.text("/users/demo-user")
    assert "demo-user" in page and "created" in page
    with app.app_context():
        user = db.session.scalar(select(MachineUser))
        assert user.scopes == ["create_session", "read_user_session"]
        assert user.created_by == admin.uid
    # The issue form offers only the ceiling.
    assert 'value="cli"' not in page and 'value="create_session"' in page


def test_create_mistakes_are_shown(signed_in):
    signed_in.get("/users/new")
    no_scope = signed_in.post("/users", {"name": "demo-user"})
    assert no_scope.status_code == 400 and "at least one scope" in no_scope.get_data(as_text=True)
    bad_name = signed_in.post("/users", {"name": "has space", "scopes": ["cli"]})
    assert bad_name.status_code == 422
    make_user(signed_in, "demo-user")
    duplicate = signed_in.post("/users", {"name": "demo-user", "scopes": ["cli"]})
    assert duplicate.status_code == 409 and "already exists" in duplicate.get_data(as_text=True)


def test_scoped_token_shown_once_and_never_above_the_ceiling(app, signed_in, api_token):
    make_user(signed_in, "demo-user", ("create_session",))
    value = issue(signed_in, "demo-user", ("create_session",))
    assert value and signed_in.get("/once").status_code == 410
    info = app.test_client().post("/oauth/introspect", data={"token": value},
                                  headers={"Authorization": f"Bearer {api_token}"}).get_json()
    assert info["active"] and info["scope"] == "create_session" and info["user_id"] == "demo-user"
    above = signed_in.post("/users/demo-user/tokens", {"scopes": ["cli"], "lifetime_days": "1"})
    assert above.status_code == 400 and "above this user" in above.get_data(as_text=True)
    too_long = signed_in.post("/users/demo-user/tokens", {"scopes": ["create_session"],
                                                          "lifetime_days": "31"})
    assert too_long.status_code == 400 and "maximum lifetime" in too_long.get_data(as_text=True)


def test_client_credentials_shown_once_and_they_work(app, signed_in):
    make_user(signed_in, "demo-user")
    signed_in.get("/users/demo-user")
    assert signed_in.post("/users/demo-user/credentials").status_code == 303
    page = signed_in.text("/once")
    secret = secret_on(page, "sgs")
    client_id = re.search(r'id="client-id" readonly value="([^"]+)"', page).group(1)
    assert secret and signed_in.get("/once").status_code == 410
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = app.test_client().post(
        "/oauth/token", data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200 and response.get_json()["access_token"].startswith("sgt_")


def test_the_user_pages_say_when_its_current_credentials_were_issued(signed_in, monkeypatch):
    from app.services import users

    make_user(signed_in, "demo-user")
    for at in (1_800_000_000, 1_800_086_400):  # issued, then replaced a day later
        monkeypatch.setattr(users, "now", lambda at=at: at)
        signed_in.get("/users/demo-user")
        signed_in.post("/users/demo-user/credentials")
    issued = 'issued <time datetime="2027-01-16T08:00:00Z"'
    assert issued in signed_in.text("/users/demo-user")
    assert issued in signed_in.text("/users")


def test_replacing_credentials_says_it_revokes_what_the_old_secret_obtained(app, signed_in):
    make_user(signed_in, "demo-user")
    signed_in.get("/users/demo-user")
    signed_in.post("/users/demo-user/credentials")
    page = signed_in.text("/once")
    client_id = re.search(r'id="client-id" readonly value="([^"]+)"', page).group(1)
    basic = base64.b64encode(f"{client_id}:{secret_on(page, 'sgs')}".encode()).decode()
    token = app.test_client().post("/oauth/token", data={"grant_type": "client_credentials"},
                                   headers={"Authorization": f"Basic {basic}"}).get_json()
    user_page = signed_in.text("/users/demo-user")
    assert re.search(r"revokes every\s+token this user obtained with it", user_page)
    signed_in.post("/users/demo-user/credentials")
    assert "the 1 token(s) it obtained with that secret are revoked" in signed_in.text("/once")
    with app.app_context():
        from app.services import tokens

        assert tokens.authenticate(token["access_token"]) is None


def test_delete_says_how_many_tokens_die(app, signed_in, api_token):
    make_user(signed_in, "demo-user")
    first = issue(signed_in, "demo-user")
    issue(signed_in, "demo-user")
    confirm = signed_in.text("/users/demo-user/delete")
    assert "<strong>2 live tokens</strong>" in confirm
    response = signed_in.post("/users/demo-user/delete")
    assert response.status_code == 303
    assert "2 token(s) revoked" in signed_in.text("/users")
    info = app.test_client().post("/oauth/introspect", data={"token": first},
                                  headers={"Authorization": f"Bearer {api_token}"}).get_json()
    assert info == {"active": False}
    assert signed_in.get("/users/demo-user").status_code == 404


def test_other_orgs_users_are_invisible(app, signed_in, other_signed_in):
    make_user(signed_in, "team-bot")
    assert "team-bot" not in other_signed_in.text("/users")
    for path in ["/users/team-bot", "/users/team-bot/delete"]:
        assert other_signed_in.get(path).status_code == 404
    for path in ["/users/team-bot/delete", "/users/team-bot/credentials",
                 "/users/team-bot/tokens"]:
        assert other_signed_in.post(path, {"scopes": ["cli"], "lifetime_days": "1"}) \
            .status_code == 404
    with app.app_context():
        user = db.session.scalar(select(MachineUser))
        assert user is not None and user.client_secret_hash is None
    # The other org can use the same name: names are per organization.
    make_user(other_signed_in, "team-bot")
