"""Signing in to an app with Scopegate, end to end: Debian's Chromium driven
by Playwright, a live gunicorn server, and a relying party built on stock
libraries only (requests-oauthlib for the flow, PyJWT for the ID token:
tests/web/relying_party.py). One browser for the module; the journeys run in
file order and share a signed-in context, as a person's morning would.

``SCOPEGATE_UPDATE_DOCS_SCREENSHOT=1`` refreshes ``docs/consent.png``.
"""

from __future__ import annotations

import json
import os
import re
import threading

import pytest
import requests
from werkzeug.serving import make_server

from tests.conftest import free_port, start_server, stop_server
from tests.web.conftest import PASSWORD, ROOT, VENV_BIN
from tests.web.relying_party import Registration, RelyingParty, Serving
from tests.web.test_web_browser import SHOTS, browser  # noqa: F401 - the module's browser

EMAIL = "ada@acme.example"


class Server:
    def __init__(self, tmp, port):
        self.url = f"http://127.0.0.1:{port}"
        self.env = {**os.environ, "SCOPEGATE_DATABASE_URL": f"sqlite:///{tmp}/oidc.db",
                    "SCOPEGATE_SECRET_KEY": "oidc-test-secret", "SCOPEGATE_ISSUER": self.url}

    def flask(self, *args: str, input: str | None = None) -> dict | str:
        import subprocess

        result = subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT,
                                env=self.env, capture_output=True, text=True, timeout=60,
                                input=input)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout) if "--json" in args else result.stdout


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Scopegate with two organizations, acme's confidential and public apps
    and globex's app, all pointing at one relying party."""
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # requests-oauthlib over loopback http
    tmp = tmp_path_factory.mktemp("oidc")
    server = Server(tmp, free_port())
    rp_port = free_port()
    callback = f"http://127.0.0.1:{rp_port}/callback"
    server.flask("init-db")
    for org, email in (("acme", EMAIL), ("globex", "gus@globex.example")):
        server.flask("create-org", org)
        server.flask("create-admin", "--org", org, "--email", email, "--password-stdin",
                     input=PASSWORD + "\n")
    apps = {
        "confidential": server.flask("create-app", "Notebook hub", "--org", "acme",
                                     "--redirect-uri", callback, "--json"),
        "public": server.flask("create-app", "Model registry", "--org", "acme", "--public",
                               "--redirect-uri", callback, "--json"),
        "other": server.flask("create-app", "Globex wiki", "--org", "globex",
                              "--redirect-uri", callback, "--json"),
    }
    server.admin_token = server.flask("issue-admin-token", "--email", EMAIL, "--json")["token"]
    process = start_server(server.env, int(server.url.rsplit(":", 1)[1]), tmp / "server.log")
    rp = RelyingParty(server.url, rp_port, {
        name: Registration(a["client_id"], a.get("client_secret")) for name, a in apps.items()})
    serving = Serving(rp)
    yield server, rp
    serving.stop()
    stop_server(process)
    os.environ.pop("OAUTHLIB_INSECURE_TRANSPORT", None)


@pytest.fixture(scope="module")
def page(browser, world):  # noqa: F811
    context = browser.new_context(viewport={"width": 1100, "height": 760}, locale="en-GB")
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    context.close()


def answer(page) -> dict:
    """The relying party's JSON page."""
    return json.loads(page.inner_text("body"))


def sign_in(page):
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def introspect(server, token: str) -> dict:
    return requests.post(f"{server.url}/oauth/introspect", data={"token": token}, timeout=10,
                         headers={"Authorization": f"Bearer {server.admin_token}"}).json()


def test_sign_in_asks_consent_and_the_app_validates_the_id_token(page, world):
    server, rp = world
    page.goto(f"{rp.url}/login")
    assert "/login" in page.url and page.url.startswith(server.url)
    sign_in(page)
    page.wait_for_selector("text=Sign in to Notebook hub")
    assert "See your email address." in page.inner_text("main")
    page.screenshot(path=str(SHOTS / "oidc-consent.png"))
    if os.environ.get("SCOPEGATE_UPDATE_DOCS_SCREENSHOT"):
        page.screenshot(path=str(ROOT / "docs" / "consent.png"))
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{rp.url}/callback**")
    got = answer(page)
    claims = got["claims"]  # PyJWT checked signature, iss, aud, exp; the RP nonce and at_hash
    assert got["iss"] == server.url and claims["iss"] == server.url
    assert claims["email"] == EMAIL and claims["org"] == "acme"
    assert claims["aud"] == rp.apps["confidential"].client_id
    assert claims["auth_time"] <= claims["iat"] < claims["exp"]
    assert got["token"]["refresh_token"].startswith("sgr_")
    info = introspect(server, got["token"]["access_token"])
    assert info["active"] and info["user_type"] == "human" and info["sub"] == claims["sub"]


def test_consent_is_remembered(page, world):
    server, rp = world
    page.goto(f"{rp.url}/login")
    page.wait_for_url(f"{rp.url}/callback**")  # no page at Scopegate this time
    assert answer(page)["claims"]["email"] == EMAIL


def test_a_public_app_signs_in_with_pkce_only(page, world):
    server, rp = world
    page.goto(f"{rp.url}/login?app=public")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{rp.url}/callback**")
    got = answer(page)
    assert got["claims"]["aud"] == rp.apps["public"].client_id


def test_a_wrong_verifier_is_refused(page, world):
    server, rp = world
    page.goto(f"{rp.url}/login?verifier=wrong")
    page.wait_for_url(f"{rp.url}/callback**")
    assert answer(page)["error"] == "invalid_grant"


@pytest.mark.parametrize("pkce", ["none", "plain"])
def test_missing_or_plain_pkce_is_refused_at_the_app(page, world, pkce):
    server, rp = world
    page.goto(f"{rp.url}/login?pkce={pkce}")
    page.wait_for_url(f"{rp.url}/callback**")
    got = answer(page)
    assert got["error"] == "invalid_request" and got["iss"] == server.url


def test_an_unregistered_redirect_uri_is_an_error_page_not_a_redirect(page, world):
    server, rp = world
    client_id = rp.apps["confidential"].client_id
    response = page.goto(f"{server.url}/oauth/authorize?response_type=code&client_id={client_id}"
                         f"&redirect_uri={rp.url}/elsewhere&scope=openid&state=s"
                         "&code_challenge=" + "a" * 43 + "&code_challenge_method=S256")
    assert response.status == 400 and page.url.startswith(server.url)
    assert "not supported" in page.inner_text("main")


def test_code_reuse_fails_and_revokes_the_first_tokens(page, world):
    server, rp = world
    page.goto(f"{rp.url}/login?reuse=1")
    page.wait_for_url(f"{rp.url}/callback**")
    got = answer(page)
    assert got["second_redemption"] == "invalid_grant"
    assert introspect(server, got["token"]["access_token"]) == {"active": False}


def test_refresh_rotates_and_reuse_revokes_the_family(page, world):
    from requests_oauthlib import OAuth2Session

    server, rp = world
    page.goto(f"{rp.url}/login")
    page.wait_for_url(f"{rp.url}/callback**")
    first = answer(page)["token"]
    reg = rp.apps["confidential"]
    session = OAuth2Session(reg.client_id, token=first)
    endpoint = f"{server.url}/oauth/token"
    auth = (reg.client_id, reg.client_secret)
    second = session.refresh_token(endpoint, auth=auth)
    assert second["refresh_token"] != first["refresh_token"] and second["id_token"]
    with pytest.raises(Exception, match="invalid_grant"):
        session.refresh_token(endpoint, refresh_token=first["refresh_token"], auth=auth)
    for token in (second["access_token"], second["refresh_token"]):
        assert introspect(server, token) == {"active": False}


def test_another_organizations_app_is_refused(page, world):
    server, rp = world
    page.goto(f"{rp.url}/login?app=other")
    page.wait_for_url(f"{rp.url}/callback**")
    assert answer(page)["error"] == "access_denied"


def test_rp_initiated_logout_returns_to_the_app(page, world):
    server, rp = world
    page.goto(f"{rp.url}/login")
    page.wait_for_url(f"{rp.url}/callback**")
    id_token = answer(page)["token"]["id_token"]
    page.goto(f"{server.url}/oauth/logout?id_token_hint={id_token}"
              f"&post_logout_redirect_uri={rp.redirect_uri}&state=bye")
    assert "Notebook hub asks to sign you out." in page.inner_text("main")
    page.screenshot(path=str(SHOTS / "oidc-logout.png"))
    page.locator("main").get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{rp.url}/callback**")
    assert "state=bye" in page.url
    page.goto(f"{rp.url}/login")  # signed out: Scopegate asks who you are again
    assert page.url.startswith(f"{server.url}/login")


def test_prompt_none_without_a_session_is_login_required(browser, world):  # noqa: F811
    server, rp = world
    context = browser.new_context()
    fresh = context.new_page()
    fresh.goto(f"{rp.url}/login?prompt=none")
    fresh.wait_for_url(f"{rp.url}/callback**")
    assert answer(fresh)["error"] == "login_required"
    context.close()


def docs_relying_party() -> str:
    """The relying party of docs/sign-in.md, verbatim."""
    text = (ROOT / "docs" / "sign-in.md").read_text()
    return next(block for block in re.findall(r"```python\n(.*?)```", text, flags=re.S)
                if "oauth.register" in block)


def test_the_documented_relying_party_signs_a_person_in(page, world, tmp_path, monkeypatch):
    server, rp = world
    port = free_port()
    app = server.flask("create-app", "Docs example", "--org", "acme", "--redirect-uri",
                       f"http://127.0.0.1:{port}/callback", "--json")
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # loopback http in the test
    monkeypatch.setenv("RP_SECRET_KEY", "docs-example")
    monkeypatch.setenv("SCOPEGATE_URL", server.url)
    monkeypatch.setenv("SCOPEGATE_CLIENT_ID", app["client_id"])
    monkeypatch.setenv("SCOPEGATE_CLIENT_SECRET", app["client_secret"])
    assert len(docs_relying_party().strip().splitlines()) <= 40
    namespace: dict = {"__name__": "docs_rp"}
    exec(compile(docs_relying_party(), "docs/sign-in.md", "exec"), namespace)  # noqa: S102
    serving = make_server("127.0.0.1", port, namespace["app"], threaded=True)
    threading.Thread(target=serving.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://127.0.0.1:{port}/login")
        if page.url.startswith(f"{server.url}/login"):  # signed out by the test before
            sign_in(page)
        page.get_by_role("button", name="Allow").click()
        page.wait_for_url(f"http://127.0.0.1:{port}/")
        assert page.inner_text("body") == "Hello ada@acme.example of acme"
    finally:
        serving.shutdown()


def test_a_member_signs_in_and_offboarding_ends_everything_at_once(browser, world):  # noqa: F811
    """Member vs admin rights, then offboarding: the app's tokens, the refresh
    token, the Scopegate session and the remembered consent die together."""
    from requests_oauthlib import OAuth2Session

    server, rp = world
    admin = {"Authorization": f"Bearer {server.admin_token}"}
    invited = requests.post(f"{server.url}/api/v1/people", headers=admin, timeout=10,
                            json={"email": "mia@acme.example", "role": "member"}).json()
    context = browser.new_context()
    mia = context.new_page()
    mia.goto(invited["invite_url"])
    mia.get_by_label("Password", exact=True).fill(PASSWORD)
    mia.get_by_label("Password again").fill(PASSWORD)
    mia.get_by_role("button", name="Set password and sign in").click()
    mia.wait_for_url("**/dashboard")
    assert "People" not in mia.get_by_role("navigation", name="Main").inner_text()
    assert mia.goto(f"{server.url}/people").status == 403  # a member manages nothing

    mia.goto(f"{rp.url}/login")
    mia.get_by_role("button", name="Allow").click()
    mia.wait_for_url(f"{rp.url}/callback**")
    got = answer(mia)
    assert got["claims"]["email"] == "mia@acme.example"
    token = got["token"]
    info = introspect(server, token["access_token"])
    assert (info["active"], info["role"]) == (True, "member")
    # An app's token for a person never opens the admin API.
    assert requests.get(f"{server.url}/api/v1/users", timeout=10, headers={
        "Authorization": f"Bearer {token['access_token']}"}).status_code in (401, 403)

    disabled = requests.patch(f"{server.url}/api/v1/people/mia@acme.example", headers=admin,
                              json={"disabled": True}, timeout=10)
    assert disabled.status_code == 200
    for value in (token["access_token"], token["refresh_token"]):
        assert introspect(server, value) == {"active": False}
    reg = rp.apps["confidential"]
    with pytest.raises(Exception, match="invalid_grant"):
        OAuth2Session(reg.client_id, token=token).refresh_token(
            f"{server.url}/oauth/token", auth=(reg.client_id, reg.client_secret))
    mia.goto(f"{server.url}/dashboard")
    assert "/login" in mia.url  # her Scopegate session ended too
    mia.goto(f"{rp.url}/login?prompt=none")
    mia.wait_for_url(f"{rp.url}/callback**")
    assert answer(mia)["error"] == "login_required"
    context.close()
