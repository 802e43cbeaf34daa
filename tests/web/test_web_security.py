"""Headers on every page, CSRF on every form, GET never changes anything."""

import pytest
from sqlalchemy import select

from app.models import MachineUser, Token, db
from tests.web.conftest import secret_on

PAGES = ["/dashboard", "/tokens/scoped", "/users", "/users/new", "/users/demo-user",
         "/users/demo-user/delete", "/activity", "/logout", "/once"]


@pytest.fixture
def demo(signed_in):
    signed_in.get("/users/new")
    response = signed_in.post("/users", {"name": "demo-user", "scopes": ["create_session"]})
    assert response.status_code == 303
    signed_in.get("/users/demo-user")
    signed_in.post("/users/demo-user/tokens", {"scopes": ["create_session"],
                                               "lifetime_days": "30"})
    token = secret_on(signed_in.text("/once"), "sgt")
    assert token
    return token


def check_headers(response, authenticated=True):
    h = response.headers
    assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
    assert "script-src 'self'" in h["Content-Security-Policy"]
    assert h["X-Frame-Options"] == "DENY"
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "no-referrer"
    if authenticated:
        assert h["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in h  # http in tests; see test_auth for https


@pytest.mark.parametrize("path", PAGES)
def test_every_authenticated_page_has_the_headers(signed_in, demo, path):
    response = signed_in.get(path)
    assert response.status_code in (200, 410)
    check_headers(response)


@pytest.mark.parametrize("path", ["/", "/login", "/setup/nope", "/tokens/scoped"])
def test_anonymous_pages_and_redirects_have_the_headers(browser, path):
    check_headers(browser.get(path))


def test_error_pages_are_html_with_headers(signed_in):
    response = signed_in.get("/users/no-such-user")
    assert response.status_code == 404
    assert response.content_type.startswith("text/html")
    check_headers(response)


def test_static_assets_are_local_and_cacheable(browser):
    page = browser.text("/login")
    assert "//" not in page.split("<body")[0].replace("http://www.w3.org", "").replace(
        'content="width=device-width', "")  # no CDN: no absolute URLs in <head>
    css = browser.get("/assets/app.css")
    assert css.status_code == 200 and "no-store" not in css.headers.get("Cache-Control", "")
    assert browser.get("/assets/app.js").status_code == 200


def test_no_inline_script_or_style(signed_in, demo):
    for path in PAGES:
        page = signed_in.text(path)
        assert "<script>" not in page and " style=" not in page and "<style" not in page
        assert "onclick" not in page


def test_api_and_oauth_stay_json(signed_in, client, app):
    response = client.get("/api/v1/users")
    assert response.status_code == 401 and response.is_json
    assert client.get("/no/such/path").is_json


FORMS = [
    ("/login", {"email": "a@b.c", "password": "x"}),
    ("/logout", {}),
    ("/dashboard/tokens", {"name": "t", "lifetime_days": "30"}),
    ("/users", {"name": "csrf-user", "scopes": ["cli"]}),
    ("/users/demo-user/tokens", {"scopes": ["create_session"], "lifetime_days": "1"}),
    ("/users/demo-user/credentials", {}),
    ("/users/demo-user/delete", {}),
    ("/tokens/TOKEN/revoke", {}),
    ("/setup/whatever", {"org": "x"}),
]


@pytest.mark.parametrize("path, form", FORMS)
@pytest.mark.parametrize("csrf", [None, "forged-token"])
def test_every_form_refuses_a_missing_or_wrong_csrf_token(app, signed_in, demo, path, form,
                                                          csrf):
    with app.app_context():
        token_id = db.session.scalar(select(Token.token_id).where(Token.kind == "scoped"))
        before = (db.session.scalar(select(db.func.count(Token.id))),
                  db.session.scalar(select(db.func.count(MachineUser.id))))
    data = dict(form)
    if csrf:
        data["csrf_token"] = csrf
    response = signed_in.post(path.replace("TOKEN", token_id), data, csrf=False)
    assert response.status_code == 400
    assert "could not be verified" in response.get_data(as_text=True)
    check_headers(response)
    with app.app_context():
        assert (db.session.scalar(select(db.func.count(Token.id))),
                db.session.scalar(select(db.func.count(MachineUser.id)))) == before
        assert db.session.scalar(select(Token.revoked_at).where(Token.token_id == token_id)) \
            is None
    assert signed_in.get("/dashboard").status_code == 200  # still signed in


def test_a_token_from_another_session_is_refused(app, signed_in, other_signed_in, demo):
    response = signed_in.post("/users/demo-user/credentials",
                              {"csrf_token": other_signed_in.csrf}, csrf=False)
    assert response.status_code == 400


def test_get_never_changes_state(app, signed_in, demo):
    with app.app_context():
        token_id = db.session.scalar(select(Token.token_id).where(Token.kind == "scoped"))
    for path in [f"/tokens/{token_id}/revoke", "/users/demo-user/delete", "/logout"]:
        assert signed_in.get(path).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Token.revoked_at).where(Token.token_id == token_id)) \
            is None
        assert db.session.scalar(select(MachineUser.id).where(MachineUser.name == "demo-user"))
    assert signed_in.get("/dashboard").status_code == 200
