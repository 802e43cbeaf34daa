"""Dashboard → Generate Access Token: shown exactly once; personal tokens listed and revocable."""

import pytest
from sqlalchemy import select

from app.models import Token, WebSession, db
from tests.web.conftest import secret_on


def generate(b, name="laptop", days="90"):
    b.get("/dashboard")
    return b.post("/dashboard/tokens", {"name": name, "lifetime_days": days})


def test_dashboard_offers_generate_access_token(signed_in):
    page = signed_in.text("/dashboard")
    assert "Generate Access Token" in page
    assert "You have no personal tokens yet" in page  # empty state
    assert '<label for="token-name">Name</label>' in page


def test_token_is_shown_exactly_once(app, signed_in, client):
    response = generate(signed_in)
    assert response.status_code == 303 and response.location.endswith("/once")
    page = signed_in.text("/once")
    token = secret_on(page, "sgp")
    assert token and "cannot be retrieved again" in page and 'data-copy="secret-value"' in page
    # Reloading does not show it again.
    again = signed_in.get("/once")
    assert again.status_code == 410 and secret_on(again.get_data(as_text=True), "sgp") is None
    assert token not in signed_in.text("/dashboard")
    # The token works with the admin API, acting as this admin.
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200


def test_the_waiting_secret_is_encrypted_at_rest(app, signed_in):
    generate(signed_in)
    with app.app_context():
        stored = db.session.scalar(select(WebSession.pending_secret))
    assert stored and "sgp_" not in stored
    token = secret_on(signed_in.text("/once"), "sgp")
    assert token
    with app.app_context():
        assert db.session.scalar(select(WebSession.pending_secret)) is None


def test_personal_tokens_are_listed_with_their_times(signed_in):
    generate(signed_in, "laptop")
    signed_in.get("/once")
    page = signed_in.text("/dashboard")
    assert "laptop" in page and "never" in page  # last used
    assert page.count("<time datetime=") >= 2 and 'title="' in page and " UTC" in page


def test_generate_refuses_a_lifetime_over_the_maximum(signed_in):
    response = generate(signed_in, days="400")
    assert response.status_code == 400
    assert "maximum lifetime" in response.get_data(as_text=True)


@pytest.mark.parametrize("form, message", [
    ({"name": "", "lifetime_days": "30"}, "Give the token a name"),
    ({"name": "x", "lifetime_days": "soon"}, "Choose a lifetime"),
    ({"name": "x" * 101, "lifetime_days": "30"}, "at most 100"),
])
def test_generate_form_mistakes_are_shown(signed_in, form, message):
    signed_in.get("/dashboard")
    response = signed_in.post("/dashboard/tokens", form)
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_personal_token_revoked_after_confirmation(app, signed_in, client):
    generate(signed_in)
    token = secret_on(signed_in.text("/once"), "sgp")
    with app.app_context():
        token_id = db.session.scalar(select(Token.token_id).where(Token.name == "laptop"))
    confirm = signed_in.get(f"/tokens/{token_id}/revoke?next=/dashboard")
    assert confirm.status_code == 200 and "Revoke this token?" in confirm.get_data(as_text=True)
    response = signed_in.post(f"/tokens/{token_id}/revoke", {"next": "/dashboard"})
    assert response.status_code == 303 and response.location.endswith("/dashboard")
    page = signed_in.text("/dashboard")
    assert "is revoked" in page and "revoked</span>" in page
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code \
        == 401


def test_a_secret_waits_only_for_its_own_session(app, admin, signed_in):
    from tests.web.conftest import Browser

    generate(signed_in)
    other = Browser(app.test_client())
    other.login(admin)  # the same person, another browser
    assert other.get("/once").status_code == 410
    assert secret_on(signed_in.text("/once"), "sgp")
