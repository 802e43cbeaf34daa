"""Signing people in to apps (OpenID Connect), one behaviour per test, with
Flask's test client as the browser and the app. The same journeys run end to
end in Chromium with a stock client library in test_oidc_browser.py."""

from __future__ import annotations

import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select, update

from app.models import AuditEvent, AuthorizationCode, Consent, Token, WebSession, db
from app.services import apps, callers, consents, keys, links, orgs, people, signin
from tests.conftest import basic
from tests.web.conftest import Browser
from tests.web.oidc_helpers import REDIRECT, authorize_url, base_of, params_of, pkce


def register(app, admin, *, public=False, uris=(REDIRECT,)) -> dict:
    """An app of ``admin``'s organization, as the API returns it."""
    with app.app_context():
        account = orgs.get_account(admin.email)
        created, secret = apps.create(callers.from_account(account), "Notebook hub",
                                      list(uris), public)
        return {"client_id": created.client_id, "client_secret": secret}


@pytest.fixture
def rp(app, admin) -> dict:
    """A confidential app of acme."""
    return register(app, admin)


@pytest.fixture
def public_rp(app, admin) -> dict:
    return register(app, admin, public=True)


def login_at(browser: Browser, location: str, admin):
    """Sign in on the login page the authorization endpoint sent us to."""
    browser.get(location)
    return browser.post(location, {"email": admin.email, "password": admin.password})


def sign_in_to_app(browser: Browser, rp: dict, scope="openid email profile",
                   **extra) -> tuple[str, str]:
    """The whole front channel: authorize, consent (allow) if asked; returns
    (code, verifier)."""
    verifier, challenge = pkce()
    url = authorize_url(rp["client_id"], challenge, scope=scope, **extra)
    response = browser.get(url)
    if response.status_code == 200:  # the consent screen
        response = browser.post(url, {"decision": "allow"})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:500]
    params = params_of(response.headers["Location"])
    assert "code" in params, params
    return params["code"], verifier


def redeem(client, rp: dict, code: str, verifier: str | None, redirect_uri=REDIRECT):
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        form["code_verifier"] = verifier
    if rp["client_secret"]:
        return client.post("/oauth/token", data=form,
                           headers=basic(rp["client_id"], rp["client_secret"]))
    return client.post("/oauth/token", data={**form, "client_id": rp["client_id"]})


def refresh(client, rp: dict, refresh_token: str):
    return client.post("/oauth/token",
                       data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                       headers=basic(rp["client_id"], rp["client_secret"]))


def tokens_for(client, rp, browser, scope="openid email profile offline_access", **extra):
    code, verifier = sign_in_to_app(browser, rp, scope=scope, **extra)
    response = redeem(client, rp, code, verifier)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def audited(app, action: str) -> list[dict]:
    """The audit events of one action, oldest first: who, about whom, on what, why."""
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                  .order_by(AuditEvent.id)).all()
        return [{k: getattr(row, k) for k in ("org_id", "actor", "actor_name", "subject",
                                              "subject_name", "target", "outcome", "detail")}
                for row in rows]


def introspect(client, admin_token: str, token: str) -> dict:
    return client.post("/oauth/introspect", data={"token": token},
                       headers={"Authorization": f"Bearer {admin_token}"}).get_json()


# --- the front channel ----------------------------------------------------------


def test_a_signed_out_person_is_sent_to_login_and_back(app, rp, admin):
    browser = Browser(app.test_client())
    verifier, challenge = pkce()
    url = authorize_url(rp["client_id"], challenge)
    response = browser.get(url)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    back = login_at(browser, response.headers["Location"], admin)
    assert back.status_code == 303 and back.headers["Location"].startswith("/oauth/authorize?")
    assert "Sign in to Notebook hub" in browser.text(back.headers["Location"])


def test_the_consent_screen_lists_the_scopes_in_words_and_cannot_be_framed(signed_in, rp):
    verifier, challenge = pkce()
    response = signed_in.get(authorize_url(rp["client_id"], challenge,
                                           scope="openid email offline_access cli"))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "See your email address." in page
    assert "Stay signed in for you when you are away" in page
    assert "Act for you to list versions and install the SDK" in page
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_allowing_answers_303_with_the_code_the_state_and_the_issuer(signed_in, rp):
    verifier, challenge = pkce()
    url = authorize_url(rp["client_id"], challenge, state="xyz/=+ 1")
    response = signed_in.post(url, {"decision": "allow"})
    assert response.status_code == 303
    params = params_of(response.headers["Location"])
    assert base_of(response.headers["Location"]) == REDIRECT
    assert params["state"] == "xyz/=+ 1" and params["iss"] == "http://localhost"
    assert len(params["code"]) >= 40


def test_an_issuer_configured_with_a_trailing_slash_is_named_without_it_everywhere(
        app, client, signed_in, rp):
    app.config["SCOPEGATE_ISSUER"] = "http://localhost/"
    verifier, challenge = pkce()
    response = signed_in.post(authorize_url(rp["client_id"], challenge), {"decision": "allow"})
    params = params_of(response.headers["Location"])
    id_token = redeem(client, rp, params["code"], verifier).get_json()["id_token"]
    keyset = KeySet.import_key_set(client.get("/oauth/jwks").get_json())
    discovery = client.get("/.well-known/openid-configuration").get_json()
    assert (params["iss"], jwt.decode(id_token, keyset).claims["iss"], discovery["issuer"]) == (
        "http://localhost",) * 3


def test_an_authorization_is_audited_as_the_person_naming_the_app_and_the_scope(
        app, signed_in, rp, admin):
    sign_in_to_app(signed_in, rp, scope="email openid")
    assert audited(app, "oidc.authorize") == [{
        "org_id": admin.org_id, "actor": admin.uid, "actor_name": admin.email,
        "subject": admin.uid, "subject_name": admin.email, "target": rp["client_id"],
        "outcome": "success", "detail": "email openid"}]


def test_the_consent_form_needs_its_csrf_token(signed_in, rp):
    verifier, challenge = pkce()
    response = signed_in.post(authorize_url(rp["client_id"], challenge),
                              {"decision": "allow", "csrf_token": "forged"})
    assert response.status_code == 400 and "Location" not in response.headers


def test_denying_sends_access_denied_to_the_app(app, signed_in, rp, admin):
    verifier, challenge = pkce()
    response = signed_in.post(authorize_url(rp["client_id"], challenge), {"decision": "deny"})
    assert response.status_code == 303
    params = params_of(response.headers["Location"])
    assert params["error"] == "access_denied" and params["state"] == "st-123"
    assert params["iss"] == "http://localhost"


def test_denying_is_audited_as_the_person_refusing_that_app(app, signed_in, rp, admin):
    verifier, challenge = pkce()
    signed_in.post(authorize_url(rp["client_id"], challenge), {"decision": "deny"})
    assert audited(app, "consent.grant") == [{
        "org_id": admin.org_id, "actor": admin.uid, "actor_name": admin.email,
        "subject": admin.uid, "subject_name": admin.email, "target": rp["client_id"],
        "outcome": "denied", "detail": "the person declined"}]


def test_consent_is_remembered_per_person_and_app(signed_in, rp):
    sign_in_to_app(signed_in, rp)
    verifier, challenge = pkce()
    response = signed_in.get(authorize_url(rp["client_id"], challenge))
    assert response.status_code == 302 and "code" in params_of(response.headers["Location"])


def test_asking_for_more_scopes_asks_again(signed_in, rp):
    sign_in_to_app(signed_in, rp, scope="openid")
    verifier, challenge = pkce()
    response = signed_in.get(authorize_url(rp["client_id"], challenge, scope="openid email"))
    assert response.status_code == 200 and "See your email address." in response.get_data(
        as_text=True)


def test_scope_order_does_not_matter(signed_in, rp):
    sign_in_to_app(signed_in, rp, scope="openid email profile")
    verifier, challenge = pkce()
    response = signed_in.get(authorize_url(rp["client_id"], challenge,
                                           scope="profile openid email"))
    assert response.status_code == 302


def test_agreeing_again_to_other_scopes_remembers_both(signed_in, rp):
    sign_in_to_app(signed_in, rp, scope="openid email")
    sign_in_to_app(signed_in, rp, scope="openid profile")
    verifier, challenge = pkce()
    response = signed_in.get(authorize_url(rp["client_id"], challenge,
                                           scope="openid email profile"))
    assert response.status_code == 302  # asks nothing: each was agreed to once


def test_another_persons_consent_to_the_same_app_covers_nothing(app, signed_in, rp, admin):
    sign_in_to_app(signed_in, rp)  # the admin agreed
    member = joined_member(app, admin)
    verifier, challenge = pkce()
    assert member.get(authorize_url(rp["client_id"], challenge)).status_code == 200
    sign_in_to_app(member, rp, scope="openid")  # hers is her own, the admin's unchanged
    with app.app_context():
        kept = dict(db.session.execute(select(Consent.account_id, Consent.scope)).all())
        assert kept == {orgs.get_account(admin.email).id: "openid profile email",
                        orgs.get_account("mia@acme.test").id: "openid"}


def test_agreeing_is_audited_with_what_was_shared(app, signed_in, rp, admin):
    sign_in_to_app(signed_in, rp, scope="openid email")
    assert audited(app, "consent.grant") == [{
        "org_id": admin.org_id, "actor": admin.uid, "actor_name": admin.email,
        "subject": admin.uid, "subject_name": admin.email, "target": rp["client_id"],
        "outcome": "success", "detail": "openid email"}]


def test_prompt_consent_asks_even_when_remembered(signed_in, rp):
    sign_in_to_app(signed_in, rp)
    verifier, challenge = pkce()
    response = signed_in.get(authorize_url(rp["client_id"], challenge, prompt="consent"))
    assert response.status_code == 200


# Authlib answers prompt=none itself for OpenID requests only; plain OAuth relies on ours.
@pytest.mark.parametrize("scope", ["openid email profile", "email"])
def test_prompt_none_without_a_session_is_login_required(app, rp, scope):
    browser = Browser(app.test_client())
    verifier, challenge = pkce()
    response = browser.get(authorize_url(rp["client_id"], challenge, prompt="none",
                                         scope=scope))
    assert response.status_code == 302
    params = params_of(response.headers["Location"])
    assert params["error"] == "login_required" and params["state"] == "st-123"
    assert params["iss"] == "http://localhost"


def test_prompt_none_without_consent_is_consent_required(signed_in, rp):
    verifier, challenge = pkce()
    response = signed_in.get(authorize_url(rp["client_id"], challenge, prompt="none"))
    assert params_of(response.headers["Location"])["error"] == "consent_required"


def test_prompt_none_with_a_session_and_consent_gives_a_code_without_a_page(signed_in, rp):
    sign_in_to_app(signed_in, rp)
    verifier, challenge = pkce()
    response = signed_in.get(authorize_url(rp["client_id"], challenge, prompt="none"))
    assert response.status_code == 302 and "code" in params_of(response.headers["Location"])


def test_prompt_none_with_another_value_is_invalid_request(signed_in, rp):
    verifier, challenge = pkce()
    response = signed_in.get(authorize_url(rp["client_id"], challenge, prompt="none login"))
    assert params_of(response.headers["Location"])["error"] == "invalid_request"


def test_prompt_none_with_another_value_is_refused_without_openid_too(signed_in, rp):
    """Authlib checks prompt only for OpenID requests; the rule holds for plain OAuth."""
    verifier, challenge = pkce()
    response = signed_in.get(authorize_url(rp["client_id"], challenge, scope="email",
                                           prompt="none login"))
    params = params_of(response.headers["Location"])
    assert params["error"] == "invalid_request"
    assert params["error_description"] == (
        "`prompt=none` cannot be combined with other values.")


def test_prompt_login_forces_a_fresh_sign_in_and_auth_time_moves(app, client, signed_in, rp,
                                                                 admin):
    with app.app_context():  # the session started a while ago
        db.session.execute(update(WebSession).values(created_at=WebSession.created_at - 100))
        db.session.commit()
    first = tokens_for(client, rp, signed_in)
    verifier, challenge = pkce()
    url = authorize_url(rp["client_id"], challenge, prompt="login", scope="openid email profile")
    response = signed_in.get(url)
    assert response.headers["Location"].startswith("/login?next=")
    assert signed_in.client.get("/dashboard").status_code == 302  # that session ended
    back = login_at(signed_in, response.headers["Location"], admin)
    assert "prompt" not in back.headers["Location"]
    response = signed_in.get(back.headers["Location"])
    code = params_of(response.headers["Location"])["code"]
    second = redeem(client, rp, code, verifier).get_json()
    claims = [jwt.decode(t["id_token"], KeySet.import_key_set(
        client.get("/oauth/jwks").get_json())).claims for t in (first, second)]
    assert claims[1]["auth_time"] >= claims[0]["auth_time"] + 100


def test_max_age_older_than_the_sign_in_forces_a_fresh_one(app, signed_in, rp):
    sign_in_to_app(signed_in, rp)
    with app.app_context():
        db.session.execute(update(WebSession).values(created_at=WebSession.created_at - 50))
        db.session.commit()
    verifier, challenge = pkce()
    fresh_enough = signed_in.get(authorize_url(rp["client_id"], challenge, max_age="10000"))
    assert "code" in params_of(fresh_enough.headers["Location"])
    too_old = signed_in.get(authorize_url(rp["client_id"], challenge, max_age="10"))
    assert too_old.headers["Location"].startswith("/login?next=")
    assert "max_age" not in too_old.headers["Location"]


def test_a_sign_in_exactly_max_age_old_is_still_fresh(app, signed_in, rp, monkeypatch):
    sign_in_to_app(signed_in, rp)
    with app.app_context():
        signed_in_at = db.session.scalar(select(WebSession.created_at))
    monkeypatch.setattr(signin, "now", lambda: signed_in_at + 30)
    verifier, challenge = pkce()
    # Ten digits is the longest max_age taken.
    fresh = signed_in.get(authorize_url(rp["client_id"], challenge, max_age="0000000030"))
    assert "code" in params_of(fresh.headers["Location"])
    stale = signed_in.get(authorize_url(rp["client_id"], challenge, max_age="29"))
    assert stale.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("redirect_uri", [
    "https://evil.example.com/callback",
    REDIRECT + "/more",
    REDIRECT + "?x=1",
    "https://rp.example.com/CALLBACK",
    "",
])
def test_an_unregistered_redirect_uri_gets_an_error_page_never_a_redirect(signed_in, rp,
                                                                          redirect_uri):
    verifier, challenge = pkce()
    response = signed_in.get(authorize_url(rp["client_id"], challenge, redirect_uri=redirect_uri))
    assert response.status_code == 400 and "Location" not in response.headers
    assert "<h1>" in response.get_data(as_text=True)


@pytest.mark.parametrize("client_id", ["app-0000000000000000", "", "x" * 300, "demo\x00"])
def test_an_unknown_client_gets_an_error_page(signed_in, client_id):
    verifier, challenge = pkce()
    response = signed_in.get(authorize_url(client_id, challenge))
    assert 400 <= response.status_code < 500 and "Location" not in response.headers


def test_a_machine_user_cannot_be_used_as_an_app(signed_in, app, admin):
    from app.services import users

    with app.app_context():
        user = users.create(callers.from_account(orgs.get_account(admin.email)), "bot")
        client_id = user.client_id
    verifier, challenge = pkce()
    response = signed_in.get(authorize_url(client_id, challenge))
    assert response.status_code == 400 and "Location" not in response.headers


@pytest.mark.parametrize("challenge, method, why", [
    (None, None, "PKCE is required"), ("x" * 43, "plain", "must be `S256`"),
    ("x" * 43, None, "must be `S256`")])
def test_missing_or_plain_pkce_is_invalid_request_sent_to_the_app_saying_why(
        signed_in, rp, challenge, method, why):
    url = authorize_url(rp["client_id"], challenge, method=method)
    response = signed_in.get(url)
    assert response.status_code == 302
    params = params_of(response.headers["Location"])
    assert params["error"] == "invalid_request" and params["state"] == "st-123"
    assert params["iss"] == "http://localhost" and why in params["error_description"]


@pytest.mark.parametrize("response_type", ["token", "id_token", "code id_token", ""])
def test_only_the_code_response_type_is_served(signed_in, rp, response_type):
    verifier, challenge = pkce()
    url = authorize_url(rp["client_id"], challenge).replace(
        "response_type=code", f"response_type={response_type}")
    response = signed_in.get(url)
    assert response.status_code == 302
    assert params_of(response.headers["Location"])["error"] == "unsupported_response_type"


@pytest.mark.parametrize("scope", ["openid admin", "openid nonsense"])
def test_a_scope_outside_the_app_scopes_is_invalid_scope(signed_in, rp, scope):
    verifier, challenge = pkce()
    response = signed_in.get(authorize_url(rp["client_id"], challenge, scope=scope))
    params = params_of(response.headers["Location"])
    assert params["error"] == "invalid_scope"
    assert scope.split()[1] in params["error_description"]  # says which one


def test_unknown_parameters_and_display_and_hints_are_accepted(signed_in, rp):
    code, verifier = sign_in_to_app(signed_in, rp, display="popup", ui_locales="fr",
                                    claims_locales="de", login_hint="x@y", acr_values="1",
                                    claims='{"id_token":{"email":{"essential":true}}}',
                                    id_token_hint="e30.e30.", wat="ever")
    assert code


def test_address_and_phone_are_accepted_and_not_granted(client, signed_in, rp):
    tokens = tokens_for(client, rp, signed_in, scope="openid address phone email")
    assert tokens["scope"] == "openid email"


def test_an_app_granted_no_scope_gets_a_token_with_an_empty_scope(client, signed_in, rp):
    tokens = tokens_for(client, rp, signed_in, scope="address phone")
    assert tokens["scope"] == "" and tokens["access_token"]


@pytest.mark.parametrize("name, error", [("request", "request_not_supported"),
                                         ("request_uri", "request_uri_not_supported")])
def test_request_objects_are_refused_as_unsupported(signed_in, rp, name, error):
    verifier, challenge = pkce()
    response = signed_in.get(authorize_url(rp["client_id"], challenge,
                                           **{name: "eyJhbGciOiJub25lIn0.e30."}))
    params = params_of(response.headers["Location"])
    assert params["error"] == error and params["state"] == "st-123"


def test_a_repeated_parameter_is_refused(signed_in, rp):
    verifier, challenge = pkce()
    response = signed_in.get(authorize_url(rp["client_id"], challenge) + "&state=again")
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert params_of(response.headers["Location"])["error"] == "invalid_request"


def test_an_overlong_nonce_is_invalid_request(signed_in, rp):
    assert sign_in_to_app(signed_in, rp, nonce="n" * 255)  # the longest kept with a code
    verifier, challenge = pkce()
    response = signed_in.get(authorize_url(rp["client_id"], challenge, nonce="n" * 256))
    params = params_of(response.headers["Location"])
    assert params["error"] == "invalid_request"
    assert params["error_description"] == "`nonce` is longer than 255 characters."


def test_a_nonce_sent_again_while_its_code_is_on_file_is_refused_as_a_replay(signed_in, rp):
    """OIDC Core §15.5.2: the same app's next sign-in with a new nonce works;
    with the nonce of a code still on file it is refused."""
    sign_in_to_app(signed_in, rp, nonce="n-once")
    sign_in_to_app(signed_in, rp, nonce="n-twice")
    verifier, challenge = pkce()
    response = signed_in.get(authorize_url(rp["client_id"], challenge, nonce="n-once"))
    assert params_of(response.headers["Location"])["error"] == "invalid_request"


def test_a_nonce_is_free_again_from_its_codes_expiry_second(app, signed_in, rp, monkeypatch):
    """Replays are looked for among live codes: the window is the code's lifetime."""
    sign_in_to_app(signed_in, rp, nonce="n-once")
    with app.app_context():
        expires_at = db.session.scalar(select(AuthorizationCode.expires_at))
    monkeypatch.setattr(signin, "now", lambda: expires_at)
    assert sign_in_to_app(signed_in, rp, nonce="n-once")


def test_another_apps_nonce_is_no_replay(app, signed_in, rp, admin):
    sign_in_to_app(signed_in, rp, nonce="n-once")
    assert sign_in_to_app(signed_in, register(app, admin), nonce="n-once")


def test_an_empty_max_age_is_no_max_age(signed_in, rp):
    sign_in_to_app(signed_in, rp)
    verifier, challenge = pkce()
    response = signed_in.get(authorize_url(rp["client_id"], challenge, max_age=""))
    assert "code" in params_of(response.headers["Location"])


@pytest.mark.parametrize("max_age", ["-1", "abc", "1" * 11, "1" * 20])
def test_a_bad_max_age_is_invalid_request(signed_in, rp, max_age):
    verifier, challenge = pkce()
    response = signed_in.get(authorize_url(rp["client_id"], challenge, max_age=max_age))
    params = params_of(response.headers["Location"])
    assert params["error"] == "invalid_request"
    assert params["error_description"] == "`max_age` must be a non-negative number of seconds."


def test_another_organizations_app_is_refused_with_access_denied(app, signed_in, admin,
                                                                 other_admin):
    theirs = register(app, other_admin)
    verifier, challenge = pkce()
    response = signed_in.get(authorize_url(theirs["client_id"], challenge))
    assert response.status_code == 302
    params = params_of(response.headers["Location"])
    assert params["error"] == "access_denied" and params["iss"] == "http://localhost"
    assert audited(app, "oidc.authorize") == [{
        "org_id": admin.org_id, "actor": admin.uid, "actor_name": admin.email,
        "subject": admin.uid, "subject_name": admin.email, "target": theirs["client_id"],
        "outcome": "denied", "detail": "the app belongs to another organization"}]


# --- the back channel -----------------------------------------------------------


def test_a_code_with_the_wrong_verifier_is_invalid_grant(client, signed_in, rp):
    code, _ = sign_in_to_app(signed_in, rp)
    other_verifier, _ = pkce()
    response = redeem(client, rp, code, other_verifier)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_a_code_without_its_verifier_is_refused(client, signed_in, rp):
    code, _ = sign_in_to_app(signed_in, rp)
    response = redeem(client, rp, code, None)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_a_code_is_bound_to_its_redirect_uri(app, client, signed_in, admin):
    both = register(app, admin, uris=(REDIRECT, "http://127.0.0.1:8765/cb"))
    code, verifier = sign_in_to_app(signed_in, both)
    response = redeem(client, both, code, verifier, redirect_uri="http://127.0.0.1:8765/cb")
    assert response.get_json()["error"] == "invalid_grant"


def test_a_code_is_bound_to_its_app(app, client, signed_in, rp, admin):
    other = register(app, admin)
    code, verifier = sign_in_to_app(signed_in, rp)
    assert redeem(client, other, code, verifier).get_json()["error"] == "invalid_grant"
    assert redeem(client, rp, code, verifier).status_code == 200


def test_a_code_expires_after_60_seconds(app, client, signed_in, rp):
    code, verifier = sign_in_to_app(signed_in, rp)
    with app.app_context():
        row = db.session.query(AuthorizationCode).one()
        assert row.expires_at - row.issued_at <= 60
        row.expires_at = int(time.time()) - 1
        db.session.commit()
    assert redeem(client, rp, code, verifier).get_json()["error"] == "invalid_grant"


def test_a_code_is_dead_from_its_expiry_second(app, client, signed_in, rp, monkeypatch):
    first, second = sign_in_to_app(signed_in, rp), sign_in_to_app(signed_in, rp)
    with app.app_context():
        first_end, second_end = db.session.scalars(
            select(AuthorizationCode.expires_at).order_by(AuthorizationCode.id))
    monkeypatch.setattr(signin, "now", lambda: first_end - 1)
    assert redeem(client, rp, *first).status_code == 200
    monkeypatch.setattr(signin, "now", lambda: second_end)
    assert redeem(client, rp, *second).get_json()["error"] == "invalid_grant"


def test_a_second_redemption_fails_and_revokes_what_the_first_issued(app, client, signed_in,
                                                                      rp, api_token, admin):
    code, verifier = sign_in_to_app(signed_in, rp, scope="openid offline_access")
    first = redeem(client, rp, code, verifier).get_json()
    again = redeem(client, rp, code, verifier)
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"
    assert introspect(client, api_token, first["access_token"]) == {"active": False}
    assert refresh(client, rp, first["refresh_token"]).get_json()["error"] == "invalid_grant"
    with app.app_context():
        family = db.session.scalar(select(AuthorizationCode.family_id))
    assert audited(app, "code.reuse") == [{
        "org_id": admin.org_id, "actor": rp["client_id"], "actor_name": "Notebook hub",
        "subject": admin.uid, "subject_name": admin.email, "target": family,
        "outcome": "denied", "detail": "already used; 2 token(s) of its sign-in revoked"}]


def test_redeeming_and_refreshing_are_audited_as_the_app_naming_the_new_token(
        app, client, signed_in, rp, admin, api_token):
    first = tokens_for(client, rp, signed_in, scope="openid email offline_access")
    first_id = introspect(client, api_token, first["access_token"])["token_id"]
    second = refresh(client, rp, first["refresh_token"]).get_json()
    second_id = introspect(client, api_token, second["access_token"])["token_id"]
    for action, token_id in (("code.redeem", first_id), ("token.refresh", second_id)):
        assert audited(app, action) == [{
            "org_id": admin.org_id, "actor": rp["client_id"], "actor_name": "Notebook hub",
            "subject": admin.uid, "subject_name": admin.email, "target": token_id,
            "outcome": "success", "detail": "openid email offline_access"}]


def test_a_code_of_a_person_disabled_before_its_redemption_is_invalid_grant(app, client, rp,
                                                                            admin):
    code, verifier = sign_in_to_app(joined_member(app, admin), rp)
    with app.app_context():
        caller = callers.from_account(orgs.get_account(admin.email))
        people.update(caller, "mia@acme.test", disabled=True)
    response = redeem(client, rp, code, verifier)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_redeeming_a_code_leaves_the_other_codes_on_file_unspent(client, signed_in, rp):
    first, second = sign_in_to_app(signed_in, rp), sign_in_to_app(signed_in, rp)
    assert redeem(client, rp, *second).status_code == 200
    assert redeem(client, rp, *first).status_code == 200


def test_codes_are_stored_only_as_digests(app, signed_in, rp):
    code, _ = sign_in_to_app(signed_in, rp)
    with app.app_context():
        row = db.session.query(AuthorizationCode).one()
        assert code not in json.dumps({c.name: getattr(row, c.name)
                                       for c in AuthorizationCode.__table__.columns})


def test_a_public_app_signs_in_with_pkce_only(client, signed_in, public_rp):
    assert public_rp["client_secret"] is None
    tokens = tokens_for(client, public_rp, signed_in)
    assert tokens["access_token"].startswith("sga_") and tokens["id_token"]


def test_a_public_app_cannot_skip_the_verifier(client, signed_in, public_rp):
    code, _ = sign_in_to_app(signed_in, public_rp)
    assert redeem(client, public_rp, code, None).status_code == 400


def test_a_confidential_app_must_authenticate(client, signed_in, rp):
    code, verifier = sign_in_to_app(signed_in, rp)
    response = client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier, "client_id": rp["client_id"]})
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


def test_a_confidential_app_may_send_its_secret_in_the_form(client, signed_in, rp):
    code, verifier = sign_in_to_app(signed_in, rp)
    response = client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier, "client_id": rp["client_id"],
        "client_secret": rp["client_secret"]})
    assert response.status_code == 200


def test_refresh_tokens_rotate_and_reuse_revokes_the_family(app, client, signed_in, rp,
                                                             api_token):
    first = tokens_for(client, rp, signed_in)
    second = refresh(client, rp, first["refresh_token"]).get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    third = refresh(client, rp, second["refresh_token"]).get_json()
    # The first refresh token comes back: the whole family dies.
    reused = refresh(client, rp, first["refresh_token"])
    assert reused.status_code == 400 and reused.get_json()["error"] == "invalid_grant"
    for token in (second["access_token"], third["access_token"], third["refresh_token"]):
        assert introspect(client, api_token, token) == {"active": False}
    with app.app_context():
        assert db.session.query(AuditEvent).filter_by(action="refresh.reuse").count() == 1


def test_a_refresh_returns_a_new_id_token_for_the_same_person(app, client, signed_in, rp):
    with app.app_context():  # signed in a while before the app asked: auth_time is not now
        db.session.execute(update(WebSession).values(created_at=WebSession.created_at - 100))
        db.session.commit()
    first = tokens_for(client, rp, signed_in)
    second = refresh(client, rp, first["refresh_token"]).get_json()
    keyset = KeySet.import_key_set(client.get("/oauth/jwks").get_json())
    before, after = (jwt.decode(t["id_token"], keyset).claims for t in (first, second))
    assert after["sub"] == before["sub"] and after["auth_time"] == before["auth_time"]


def test_refresh_tokens_die_30_days_after_sign_in_however_often_rotated(app, client,
                                                                         signed_in, rp,
                                                                         monkeypatch):
    first = tokens_for(client, rp, signed_in)
    with app.app_context():
        row = db.session.query(Token).filter_by(kind="refresh").one()
        end = row.expires_at
        assert end - row.issued_at == 30 * 86400
    later = row.issued_at + 1000
    monkeypatch.setattr(signin, "now", lambda: later)  # rotated well after the sign-in
    refresh(client, rp, first["refresh_token"])
    with app.app_context():
        rotated = db.session.query(Token).filter_by(kind="refresh", revoked_at=None).one()
        assert rotated.expires_at == end and rotated.parent_token_id == row.token_id


def test_another_apps_refresh_token_is_invalid_grant(app, client, signed_in, rp, admin):
    other = register(app, admin)
    first = tokens_for(client, rp, signed_in)
    assert refresh(client, other, first["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert refresh(client, rp, first["refresh_token"]).status_code == 200


def test_an_access_token_is_no_refresh_token(client, signed_in, rp, api_token):
    first = tokens_for(client, rp, signed_in)
    response = refresh(client, rp, first["access_token"])
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
    assert introspect(client, api_token, first["access_token"])["active"] is True


def test_no_refresh_token_without_offline_access(client, signed_in, rp):
    tokens = tokens_for(client, rp, signed_in, scope="openid email")
    assert "refresh_token" not in tokens


def test_the_id_token_carries_the_documented_claims(client, signed_in, rp, admin):
    tokens = tokens_for(client, rp, signed_in, nonce="n-0S6_WzA2Mj")
    keyset = KeySet.import_key_set(client.get("/oauth/jwks").get_json())
    decoded = jwt.decode(tokens["id_token"], keyset, algorithms=["RS256"])
    claims = decoded.claims
    with client.application.app_context():
        kid = keys.signing_key(keys.ID_TOKEN_ALG).kid
    assert decoded.header == {"alg": "RS256", "kid": kid, "typ": "JWT"}
    assert claims["iss"] == "http://localhost" and claims["aud"] == rp["client_id"]
    assert claims["sub"] == admin.uid and claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["email"] == admin.email and claims["email_verified"] is False
    assert claims["name"] == admin.email and claims["org"] == "acme"
    assert claims["iat"] <= claims["auth_time"] + 5 and claims["exp"] == claims["iat"] + 600
    assert claims["at_hash"]


def test_the_token_answer_to_an_app_says_type_lifetime_and_scope(app, client, signed_in, rp):
    answer = tokens_for(client, rp, signed_in)
    assert answer["token_type"] == "Bearer"
    assert answer["expires_in"] == app.config["SCOPEGATE_APP_ACCESS_TOKEN_LIFETIME"]
    assert set(answer["scope"].split()) == {"openid", "email", "profile", "offline_access"}
    assert answer["refresh_token"] != answer["access_token"]


def test_without_email_and_profile_the_id_token_names_only_the_person(client, signed_in, rp):
    tokens = tokens_for(client, rp, signed_in, scope="openid")
    keyset = KeySet.import_key_set(client.get("/oauth/jwks").get_json())
    claims = jwt.decode(tokens["id_token"], keyset).claims
    assert not {"email", "name", "org"} & set(claims)


def test_no_id_token_without_openid(client, signed_in, rp):
    tokens = tokens_for(client, rp, signed_in, scope="email")
    assert "id_token" not in tokens


# --- userinfo, introspection, revocation ------------------------------------------


def test_userinfo_answers_get_and_post_with_a_header_or_the_form(client, signed_in, rp, admin):
    access = tokens_for(client, rp, signed_in)["access_token"]
    header = {"Authorization": f"Bearer {access}"}
    answers = [client.get("/oauth/userinfo", headers=header),
               client.post("/oauth/userinfo", headers=header),
               client.post("/oauth/userinfo", data={"access_token": access})]
    for response in answers:
        assert response.status_code == 200, response.get_json()
        assert response.get_json() == {"sub": admin.uid, "email": admin.email,
                                       "email_verified": False, "name": admin.email,
                                       "org": "acme"}
        assert response.headers["Cache-Control"] == "no-store"


def test_userinfo_reads_a_token_only_from_a_urlencoded_form(client, signed_in, rp):
    """RFC 6750 §2.2: the form parameter is for ``application/x-www-form-urlencoded``
    bodies; a multipart field or a query parameter carries no credentials."""
    access = tokens_for(client, rp, signed_in)["access_token"]
    for response in (client.post("/oauth/userinfo", data={"access_token": access},
                                 content_type="multipart/form-data"),
                     client.get("/oauth/userinfo", query_string={"access_token": access})):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="scopegate"'


def test_userinfo_reads_the_header_first_when_the_form_carries_a_token_too(client, signed_in,
                                                                          rp, admin):
    """The header, "or else" the form: a form field never overrides the header."""
    access = tokens_for(client, rp, signed_in)["access_token"]
    response = client.post("/oauth/userinfo", data={"access_token": "sga_not-this-one"},
                           headers={"Authorization": f"Bearer {access}"})
    assert response.status_code == 200 and response.get_json()["sub"] == admin.uid


def test_userinfo_refuses_anything_but_a_persons_access_token(client, signed_in, rp,
                                                              api_token):
    tokens = tokens_for(client, rp, signed_in)
    for value in (tokens["refresh_token"], api_token, "sga_nonsense", ""):
        response = client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {value}"})
        assert response.status_code == 401, value
        assert response.headers["WWW-Authenticate"].startswith(
            'Bearer realm="scopegate", error="invalid_token"'), value


@pytest.mark.parametrize("header", [None, "Bearer", "Basic", "Bearer ", "Foo x"])
def test_userinfo_without_a_bearer_token_challenges_like_the_admin_api(client, header):
    """RFC 6750 §3: a request without credentials gets a challenge without an
    error; one whose header is not ``Bearer <token>`` gets ``invalid_token``."""
    headers = {"Authorization": header} if header is not None else {}
    for response in (client.get("/oauth/userinfo", headers=headers),
                     client.post("/oauth/userinfo", headers=headers, data={"access_token": ""})):
        assert response.status_code == 401
        assert response.get_json()["error"] == "invalid_token"  # the body's one error shape
        challenge = response.headers["WWW-Authenticate"]
        if header is None:
            assert challenge == 'Bearer realm="scopegate"'
        else:
            assert challenge.startswith('Bearer realm="scopegate", error="invalid_token"')


def test_userinfo_needs_the_openid_scope(client, signed_in, rp):
    access = tokens_for(client, rp, signed_in, scope="email")["access_token"]
    response = client.get("/oauth/userinfo", headers={"Authorization": f"Bearer {access}"})
    assert response.status_code == 403 and response.get_json()["error"] == "insufficient_scope"


def test_a_persons_tokens_introspect_as_human_with_their_role(client, signed_in, rp, admin,
                                                              api_token):
    tokens = tokens_for(client, rp, signed_in)
    claims = introspect(client, api_token, tokens["access_token"])
    assert claims["active"] is True and claims["user_type"] == "human"
    assert claims["role"] == "admin" and claims["sub"] == admin.uid
    assert claims["client_id"] == rp["client_id"] and claims["email"] == admin.email
    assert claims["token_type"] == "Bearer" and claims["renewable"] is False
    assert introspect(client, api_token, tokens["refresh_token"])["token_type"] == \
        "refresh_token"


def test_an_app_introspects_and_revokes_only_its_own_tokens(app, client, signed_in, rp, admin,
                                                            api_token):
    other = register(app, admin)
    mine = tokens_for(client, rp, signed_in)
    theirs = tokens_for(client, other, signed_in)
    auth = basic(rp["client_id"], rp["client_secret"])
    seen = client.post("/oauth/introspect", data={"token": mine["access_token"]}, headers=auth)
    assert seen.get_json()["active"] is True
    hidden = client.post("/oauth/introspect", data={"token": theirs["access_token"]},
                         headers=auth)
    assert hidden.get_json() == {"active": False}
    # Revoking the refresh token ends the sign-in's access tokens too (RFC 7009 §2.1).
    assert client.post("/oauth/revoke", data={"token": mine["refresh_token"]},
                       headers=auth).status_code == 200
    assert introspect(client, api_token, mine["access_token"]) == {"active": False}
    assert client.post("/oauth/revoke", data={"token": theirs["access_token"]},
                       headers=auth).status_code == 200  # a no-op, audited as the app's
    assert introspect(client, api_token, theirs["access_token"])["active"] is True
    [refused] = [e for e in audited(app, "token.revoke") if e["outcome"] == "denied"]
    assert (refused["org_id"], refused["actor"], refused["actor_name"]) == (
        admin.org_id, rp["client_id"], "Notebook hub")


def test_a_persons_app_token_is_no_credential_for_introspection_or_revocation(
        app, client, signed_in, rp, api_token, admin):
    """An app holds a person's token to act for them, not to read or end other
    tokens: as a bearer at /oauth/introspect and /oauth/revoke it reaches
    nothing, not even another token of the same person. The refused revocation
    is audited as that person's."""
    bearer = {"Authorization": f"Bearer {tokens_for(client, rp, signed_in)['access_token']}"}
    seen = client.post("/oauth/introspect", data={"token": api_token}, headers=bearer)
    assert seen.status_code == 200 and seen.get_json() == {"active": False}
    client.post("/oauth/revoke", data={"token": api_token}, headers=bearer)
    assert introspect(client, api_token, api_token)["active"] is True
    [refused] = audited(app, "token.revoke")
    assert (refused["org_id"], refused["actor"], refused["actor_name"], refused["outcome"]) \
        == (admin.org_id, admin.uid, admin.email, "denied")


def test_a_refresh_token_is_no_bearer_credential(client, signed_in, rp, api_token):
    """Only the app, with its own credentials, spends a refresh token: sent as a
    bearer to introspection or revocation it authenticates nobody."""
    bearer = {"Authorization": f"Bearer {tokens_for(client, rp, signed_in)['refresh_token']}"}
    for path in ("/oauth/introspect", "/oauth/revoke"):
        response = client.post(path, data={"token": api_token}, headers=bearer)
        assert (response.status_code, response.get_json()["error"]) == (401, "invalid_client")


def test_an_admin_revokes_a_persons_app_token_by_id(client, signed_in, rp, api_token):
    access = tokens_for(client, rp, signed_in)["access_token"]
    token_id = introspect(client, api_token, access)["token_id"]
    assert client.delete(f"/api/v1/tokens/{token_id}",
                         headers={"Authorization": f"Bearer {api_token}"}).status_code == 204
    assert client.get("/oauth/userinfo",
                      headers={"Authorization": f"Bearer {access}"}).status_code == 401


def test_a_persons_app_token_does_not_open_the_admin_api(client, signed_in, rp):
    access = tokens_for(client, rp, signed_in)["access_token"]
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {access}"})
    assert response.status_code == 401


def test_a_persons_app_token_as_a_bearer_neither_introspects_nor_revokes(client, signed_in,
                                                                        rp, api_token):
    """Introspection and revocation are for apps (their credentials), admins and
    machine users; what the app holds for a person reaches nothing there."""
    issued = tokens_for(client, rp, signed_in)
    access = issued["access_token"]
    assert introspect(client, access, access) == {"active": False}
    assert client.post("/oauth/revoke", data={"token": issued["refresh_token"]},
                       headers={"Authorization": f"Bearer {access}"}).status_code == 200
    assert introspect(client, api_token, access)["active"] is True


def test_revoking_by_account_covers_a_persons_app_tokens(app, client, signed_in, rp, admin,
                                                         api_token):
    tokens = tokens_for(client, rp, signed_in)
    with app.app_context():  # what offboarding does: every token tied to the account
        account = orgs.get_account(admin.email)
        db.session.execute(update(Token).where(Token.account_id == account.id,
                                               Token.kind.in_(["app", "refresh"]))
                           .values(revoked_at=int(time.time())))
        db.session.commit()
    assert introspect(client, api_token, tokens["access_token"]) == {"active": False}
    assert refresh(client, rp, tokens["refresh_token"]).get_json()["error"] == "invalid_grant"


# --- connected apps, offboarding, sign-out ------------------------------------------


def test_connected_apps_lists_what_was_shared_and_disconnecting_revokes(client, signed_in, rp,
                                                                        api_token):
    tokens = tokens_for(client, rp, signed_in)
    page = signed_in.text("/connected-apps")
    assert "Notebook hub" in page and "See your email address." in page
    response = signed_in.post(f"/connected-apps/{rp['client_id']}/revoke")
    assert response.status_code == 303
    assert "Notebook hub" not in signed_in.text("/connected-apps")
    assert introspect(client, api_token, tokens["access_token"]) == {"active": False}
    verifier, challenge = pkce()  # and the next sign-in asks again
    assert signed_in.get(authorize_url(rp["client_id"], challenge)).status_code == 200


def test_connected_apps_are_listed_newest_consent_first(app, admin):
    with app.app_context():
        account = orgs.get_account(admin.email)
        caller = callers.from_account(account)
        made = [apps.create(caller, name, [REDIRECT], False)[0] for name in ("A", "B", "C")]
        for each in made:
            consents.remember(account, each, ["openid"])
        db.session.execute(update(Consent).values(granted_at=100))
        db.session.execute(update(Consent).where(Consent.client_id == made[0].client_id)
                           .values(granted_at=200))  # A agreed to again, later
        db.session.commit()
        listed = [c.client_id for c in consents.connected(account)]
    assert listed == [made[0].client_id, made[2].client_id, made[1].client_id]


def test_disconnecting_forgets_only_that_persons_consent_to_that_app(app, client, rp, admin):
    boss = Browser(app.test_client())
    boss.login(admin)
    sign_in_to_app(boss, rp)  # consents on file before hers: found by mistake first
    member, other = joined_member(app, admin), register(app, admin)
    sign_in_to_app(member, other)
    sign_in_to_app(member, rp)
    assert member.post(f"/connected-apps/{rp['client_id']}/revoke").status_code == 303
    with app.app_context():
        left = db.session.execute(select(Consent.account_id, Consent.client_id)).all()
        mia = orgs.get_account("mia@acme.test").id
        boss = orgs.get_account(admin.email).id
    assert sorted(left) == sorted([(mia, other["client_id"]), (boss, rp["client_id"])])
    assert audited(app, "consent.revoke") == [{
        "org_id": admin.org_id, "actor": _uid(app, "mia@acme.test"), "actor_name": "mia@acme.test",
        "subject": _uid(app, "mia@acme.test"), "subject_name": "mia@acme.test",
        "target": rp["client_id"], "outcome": "success", "detail": "0 token(s) revoked"}]


def _uid(app, email: str) -> str:
    with app.app_context():
        return orgs.get_account(email).uid


def test_deleting_an_app_forgets_only_its_codes_and_consents_and_is_audited(
        app, signed_in, rp, admin):
    other = register(app, admin)
    for each in (rp, other):
        sign_in_to_app(signed_in, each)
    with app.app_context():
        apps.delete_app(callers.from_account(orgs.get_account(admin.email)), rp["client_id"])
        assert set(db.session.scalars(select(Consent.client_id))) == {other["client_id"]}
        assert set(db.session.scalars(select(AuthorizationCode.client_id))) == {other["client_id"]}
    assert audited(app, "app.delete") == [{
        "org_id": admin.org_id, "actor": admin.uid, "actor_name": admin.email, "subject": None,
        "subject_name": None, "target": rp["client_id"], "outcome": "success",
        "detail": "Notebook hub; 0 token(s) revoked"}]


def test_forget_all_forgets_every_consent_of_a_person(app, signed_in, rp, admin):
    sign_in_to_app(signed_in, rp)
    with app.app_context():
        account = orgs.get_account(admin.email)
        assert consents.forget_all(account) == 1
        db.session.commit()
        assert consents.connected(account) == []
        assert consents.forget_all(account) == 0  # nothing left to forget


def test_rp_initiated_logout_asks_then_ends_the_session_and_returns_with_state(
        client, signed_in, rp):
    id_token = tokens_for(client, rp, signed_in)["id_token"]
    url = (f"/oauth/logout?id_token_hint={id_token}&post_logout_redirect_uri={REDIRECT}"
           "&state=bye")
    asked = signed_in.get(url)
    assert asked.status_code == 200 and "Sign out of Scopegate?" in asked.get_data(as_text=True)
    assert signed_in.client.get("/dashboard").status_code == 200  # GET changed nothing
    done = signed_in.post("/oauth/logout", {"id_token_hint": id_token,
                                            "post_logout_redirect_uri": REDIRECT,
                                            "state": "bye"})
    assert done.status_code == 303 and done.headers["Location"] == REDIRECT + "?state=bye"
    assert signed_in.client.get("/dashboard").status_code == 302


@pytest.mark.parametrize("hinted", [True, False])
def test_rp_initiated_logout_is_audited_with_the_person_and_the_app_named(
        app, client, signed_in, rp, admin, hinted):
    form = {"id_token_hint": tokens_for(client, rp, signed_in)["id_token"]} if hinted else {}
    signed_in.get("/oauth/logout")
    assert signed_in.post("/oauth/logout", form).status_code == 303
    assert audited(app, "oidc.logout") == [{
        "org_id": admin.org_id, "actor": admin.uid, "actor_name": admin.email,
        "subject": admin.uid, "subject_name": admin.email,
        "target": rp["client_id"] if hinted else None, "outcome": "success", "detail": None}]


@pytest.mark.parametrize("target", ["https://evil.example.com/", REDIRECT + "x"])
def test_logout_never_redirects_to_an_unregistered_uri(client, signed_in, rp, target):
    id_token = tokens_for(client, rp, signed_in)["id_token"]
    response = signed_in.get(f"/oauth/logout?id_token_hint={id_token}"
                             f"&post_logout_redirect_uri={target}")
    assert response.status_code == 400 and "Location" not in response.headers
    assert "`post_logout_redirect_uri` is not registered for this app." in response.get_data(
        as_text=True)


def test_logout_needs_an_id_token_hint_to_redirect(signed_in):
    response = signed_in.get(f"/oauth/logout?post_logout_redirect_uri={REDIRECT}")
    assert response.status_code == 400
    assert "`post_logout_redirect_uri` needs an `id_token_hint`." in response.get_data(
        as_text=True)
    forged = signed_in.get(f"/oauth/logout?id_token_hint=e30.e30.x&post_logout_redirect_uri="
                           f"{REDIRECT}")
    assert forged.status_code == 400
    assert "`id_token_hint` is not an ID token issued here." in forged.get_data(as_text=True)


def test_logout_naming_a_deleted_app_is_refused(app, client, signed_in, rp, admin):
    id_token = tokens_for(client, rp, signed_in)["id_token"]
    with app.app_context():
        apps.delete_app(callers.from_account(orgs.get_account(admin.email)), rp["client_id"])
    response = signed_in.get(f"/oauth/logout?id_token_hint={id_token}")
    assert response.status_code == 400
    assert "The app named by `id_token_hint` is not registered." in response.get_data(
        as_text=True)


def test_every_step_is_audited_with_the_persons_unique_id(app, client, signed_in, rp, admin):
    first = tokens_for(client, rp, signed_in)
    refresh(client, rp, first["refresh_token"])
    refresh(client, rp, first["refresh_token"])
    signed_in.post(f"/connected-apps/{rp['client_id']}/revoke")
    with app.app_context():
        events = db.session.query(AuditEvent).filter(AuditEvent.subject == admin.uid).all()
        actions = {e.action for e in events}
    assert {"oidc.authorize", "consent.grant", "code.redeem", "token.refresh",
            "refresh.reuse", "consent.revoke"} <= actions


# --- people: members and offboarding ----------------------------------------------


MEMBER_PASSWORD = "a long enough passphrase"


def joined_member(app, admin, email="mia@acme.test") -> Browser:
    """A member invited by the admin, who chose a password and is signed in."""
    with app.app_context():
        caller = callers.from_account(orgs.get_account(admin.email))
        _, link = people.invite(caller, email, "member")
        links.use(link.url.rsplit("/", 1)[1], links.INVITE, MEMBER_PASSWORD, MEMBER_PASSWORD)
    browser = Browser(app.test_client())
    browser.get("/login")
    assert browser.post("/login", {"email": email, "password": MEMBER_PASSWORD}).status_code == 303
    browser.get("/dashboard")
    return browser


def test_a_member_signs_in_to_an_app_and_their_tokens_say_member(app, client, rp, admin,
                                                                  api_token):
    member = joined_member(app, admin)
    issued = tokens_for(client, rp, member)
    claims = introspect(client, api_token, issued["access_token"])
    assert claims["active"] is True
    assert (claims["user_type"], claims["role"], claims["email"]) == ("human", "member",
                                                                     "mia@acme.test")


def test_a_role_change_keeps_a_persons_app_tokens_which_report_the_new_role(
        app, client, rp, admin, api_token):
    """Only personal tokens carry the role they were issued under; an app's
    token for the person reports the current one, so it stays."""
    issued = tokens_for(client, rp, joined_member(app, admin))
    with app.app_context():
        caller = callers.from_account(orgs.get_account(admin.email))
        people.update(caller, "mia@acme.test", role="admin")
    claims = introspect(client, api_token, issued["access_token"])
    assert (claims["active"], claims["role"]) == (True, "admin")
    assert refresh(client, rp, issued["refresh_token"]).status_code == 200


@pytest.mark.parametrize("offboarding", ["disable", "delete"])
def test_offboarding_ends_a_persons_app_tokens_refresh_tokens_and_consents_at_once(
        app, client, rp, admin, api_token, offboarding):
    member = joined_member(app, admin)
    issued = tokens_for(client, rp, member)
    with app.app_context():
        caller = callers.from_account(orgs.get_account(admin.email))
        if offboarding == "disable":
            people.update(caller, "mia@acme.test", disabled=True)
        else:
            people.delete_person(caller, "mia@acme.test")
        assert db.session.query(Consent).count() == 0
    assert introspect(client, api_token, issued["access_token"]) == {"active": False}
    assert introspect(client, api_token, issued["refresh_token"]) == {"active": False}
    assert refresh(client, rp, issued["refresh_token"]).get_json()["error"] == "invalid_grant"
    userinfo = client.get("/oauth/userinfo",
                          headers={"Authorization": f"Bearer {issued['access_token']}"})
    assert userinfo.status_code == 401
    # Their browser session at Scopegate is gone too: the app sends them to sign in.
    verifier, challenge = pkce()
    response = member.get(authorize_url(rp["client_id"], challenge, prompt="none"))
    assert params_of(response.headers["Location"])["error"] == "login_required"


def test_disconnecting_an_app_revokes_only_that_persons_tokens_at_it(
        app, client, signed_in, rp, admin, api_token):
    mias = tokens_for(client, rp, joined_member(app, admin))  # another person, the same app
    mine = tokens_for(client, rp, signed_in)
    assert signed_in.post(f"/connected-apps/{rp['client_id']}/revoke").status_code == 303
    assert introspect(client, api_token, mine["access_token"]) == {"active": False}
    assert introspect(client, api_token, mias["access_token"])["active"] is True
