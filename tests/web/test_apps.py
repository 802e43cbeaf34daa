"""Apps people sign in to: the admin API, the dashboard's Apps page and the
operator command, one behaviour per test."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.models import AuditEvent, db
from tests.web.conftest import secret_on
from tests.web.oidc_helpers import REDIRECT


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def create(client, token, **body):
    body = {"name": "Notebook hub", "redirect_uris": [REDIRECT], **body}
    return client.post("/api/v1/apps", json=body, headers=auth(token))


def test_registering_a_confidential_app_shows_its_secret_once(client, api_token):
    response = create(client, api_token)
    assert response.status_code == 201
    body = response.get_json()
    assert body["client_id"].startswith("app-") and body["client_secret"].startswith("sgs_")
    assert body["name"] == "Notebook hub" and body["redirect_uris"] == [REDIRECT]
    assert body["public"] is False
    shown = client.get(f"/api/v1/apps/{body['client_id']}", headers=auth(api_token)).get_json()
    assert "client_secret" not in shown and shown["client_id"] == body["client_id"]


def test_a_public_app_has_no_secret(client, api_token):
    body = create(client, api_token, public=True).get_json()
    assert body["public"] is True and "client_secret" not in body


@pytest.mark.parametrize("uri", [
    "http://127.0.0.1:8080/cb", "http://localhost/cb", "http://[::1]:9000/cb",
    "http://127.0.0.2:8080/cb",  # any address of the loopback range
    "https://hub.example.com/oauth/callback?tenant=a", "https://x.example/cb"])
def test_https_and_loopback_redirect_uris_are_accepted(client, api_token, uri):
    assert create(client, api_token, redirect_uris=[uri]).status_code == 201


@pytest.mark.parametrize("uri, why", [
    ("http://hub.example.com/cb", "only for loopback"), ("/relative/cb", "absolute"),
    ("hub.example.com/cb", "absolute"), ("ftp://x.example/cb", "absolute https"),
    ("https:///cb", "absolute"),  # a scheme and a path, but no host
    ("https://x.example/cb#frag", "fragment"), ("javascript:alert(1)", "absolute"),
    ("https://user:pw@x.example/cb", "credentials"),
    ("https://user@x.example/cb", "credentials"),  # a user name alone is one too
    ("https://x.example/a b", "spaces"), ("https://x.example:99999/cb", "not a valid URI"),
    ("", "1-2000 characters"), ("https://x.example/\x00", "control characters"),
    ("https://x.example/" + "a" * 1983, "1-2000 characters")])  # one past the longest
def test_other_redirect_uris_are_refused_saying_why(client, api_token, uri, why):
    response = create(client, api_token, redirect_uris=[uri])
    assert response.status_code == 422 and response.get_json()["error"] == "invalid_request"
    assert why in response.get_json()["error_description"]


def test_the_longest_redirect_uri_and_the_most_of_them_are_accepted(client, api_token):
    longest = "https://x.example/" + "a" * 1982
    assert len(longest) == 2000
    assert create(client, api_token, redirect_uris=[longest]).status_code == 201
    most = [f"https://x.example/cb{n}" for n in range(10)]
    assert create(client, api_token, redirect_uris=most).get_json()["redirect_uris"] == most


@pytest.mark.parametrize("body, why", [
    ({"redirect_uris": [REDIRECT]}, "`name`"), ({"name": "x"}, "`redirect_uris`"),
    ({"name": "x", "redirect_uris": []}, "non-empty list"),
    ({"name": "x", "redirect_uris": REDIRECT}, "non-empty list"),
    ({"name": "", "redirect_uris": [REDIRECT]}, "1-100 printable"),
    ({"name": "hub\x00", "redirect_uris": [REDIRECT]}, "1-100 printable"),
    ({"name": "h" * 101, "redirect_uris": [REDIRECT]}, "1-100 printable"),
    ({"name": "x", "redirect_uris": [REDIRECT], "public": "yes"}, "`public`"),
    ({"name": "x", "redirect_uris": [REDIRECT] * 11}, "At most 10"),
    ({"name": "x", "redirect_uris": [REDIRECT], "secret": "mine"}, "secret"),
    ({"name": ["x"], "redirect_uris": [REDIRECT]}, "`name`"),
    ({"name": "x", "redirect_uris": [1]}, "must be a string")])
def test_a_malformed_registration_is_a_422_saying_why(client, api_token, body, why):
    response = client.post("/api/v1/apps", json=body, headers=auth(api_token))
    assert response.status_code == 422 and why in response.get_json()["error_description"]


def test_a_name_of_100_characters_is_accepted(client, api_token):
    assert create(client, api_token, name="h" * 100).status_code == 201


def test_registering_an_app_is_audited_with_its_kind(app, client, api_token, admin):
    made = [create(client, api_token, public=public).get_json()["client_id"]
            for public in (False, True)]
    with app.app_context():
        events = db.session.query(AuditEvent).filter_by(action="app.create") \
            .order_by(AuditEvent.id).all()
        seen = [(e.org_id, e.actor, e.target, e.detail, e.outcome) for e in events]
    assert seen == [(admin.org_id, admin.uid, made[0], "Notebook hub (confidential)", "success"),
                    (admin.org_id, admin.uid, made[1], "Notebook hub (public)", "success")]


def test_apps_are_listed_a_page_at_a_time(client, api_token):
    made = [create(client, api_token, name=n).get_json()["client_id"] for n in ("A", "B")]
    first = client.get("/api/v1/apps?limit=1", headers=auth(api_token)).get_json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    rest = client.get(f"/api/v1/apps?limit=1&cursor={first['next_cursor']}",
                      headers=auth(api_token)).get_json()
    assert sorted(a["client_id"] for a in first["items"] + rest["items"]) == sorted(made)


def test_apps_are_listed_for_their_organization_only(app, client, api_token, other_admin):
    from app.services import apps, callers, orgs

    mine = create(client, api_token).get_json()["client_id"]
    with app.app_context():
        account = orgs.get_account(other_admin.email)
        theirs, _ = apps.create(callers.from_account(account), "Other", [REDIRECT])
        theirs_id = theirs.client_id
    listed = client.get("/api/v1/apps", headers=auth(api_token)).get_json()
    assert [a["client_id"] for a in listed["items"]] == [mine]
    for method in ("get", "delete"):
        response = getattr(client, method)(f"/api/v1/apps/{theirs_id}", headers=auth(api_token))
        assert response.status_code == 404
    assert client.post(f"/api/v1/apps/{theirs_id}/secret",
                       headers=auth(api_token)).status_code == 404


def test_a_missing_app_is_404_saying_what_was_asked(client, api_token):
    malformed = client.get("/api/v1/apps/notebook-hub", headers=auth(api_token))
    assert malformed.status_code == 404
    assert "app-0123456789abcdef" in malformed.get_json()["error_description"]  # the shape
    unknown = client.get("/api/v1/apps/app-0000000000000000", headers=auth(api_token))
    assert unknown.status_code == 404
    assert "app-0000000000000000" in unknown.get_json()["error_description"]


def test_another_organizations_app_is_answered_like_one_that_does_not_exist(
        app, client, api_token, other_admin):
    from app.services import apps, callers, orgs

    with app.app_context():
        account = orgs.get_account(other_admin.email)
        theirs = apps.create(callers.from_account(account), "Other", [REDIRECT])[0].client_id
    missing = "app-0000000000000000"
    for method, path in (("get", ""), ("delete", ""), ("post", "/secret")):
        answers = [getattr(client, method)(f"/api/v1/apps/{each}{path}", headers=auth(api_token))
                   for each in (theirs, missing)]
        assert [a.status_code for a in answers] == [404, 404]
        bodies = [a.get_data(as_text=True) for a in answers]
        assert bodies[0].replace(theirs, missing) == bodies[1]


def test_rotating_the_secret_replaces_it(client, api_token):
    body = create(client, api_token).get_json()
    rotated = client.post(f"/api/v1/apps/{body['client_id']}/secret", headers=auth(api_token))
    assert rotated.status_code == 201
    new = rotated.get_json()["client_secret"]
    assert new != body["client_secret"]
    from tests.conftest import basic

    def works(secret):
        return client.post("/oauth/introspect", data={"token": "sga_x"},
                           headers=basic(body["client_id"], secret)).status_code == 200
    assert works(new) and not works(body["client_secret"])


def test_a_public_app_has_no_secret_to_rotate(client, api_token):
    body = create(client, api_token, public=True).get_json()
    response = client.post(f"/api/v1/apps/{body['client_id']}/secret", headers=auth(api_token))
    assert response.status_code == 422
    assert response.get_json()["error_description"] == "A public app has no secret to rotate."


def test_rotating_the_secret_is_dated_and_audited(app, client, api_token, admin):
    client_id = create(client, api_token).get_json()["client_id"]
    rotated = client.post(f"/api/v1/apps/{client_id}/secret", headers=auth(api_token))
    when = rotated.get_json()["secret_rotated_at"]
    assert when is not None
    shown = client.get(f"/api/v1/apps/{client_id}", headers=auth(api_token)).get_json()
    assert shown["secret_rotated_at"] == when
    with app.app_context():
        [event] = db.session.query(AuditEvent).filter_by(action="app.rotate_secret").all()
        assert (event.org_id, event.actor, event.actor_name, event.target, event.detail,
                event.outcome) == (admin.org_id, admin.uid, admin.email, client_id,
                                   "Notebook hub", "success")


def test_deleting_an_app_is_204_and_audited(app, client, api_token):
    client_id = create(client, api_token).get_json()["client_id"]
    assert client.delete(f"/api/v1/apps/{client_id}", headers=auth(api_token)).status_code == 204
    assert client.get(f"/api/v1/apps/{client_id}", headers=auth(api_token)).status_code == 404
    with app.app_context():
        actions = [e.action for e in db.session.query(AuditEvent).filter_by(target=client_id)]
    assert actions == ["app.create", "app.delete"]


def test_deleting_an_app_revokes_every_token_issued_to_it(client, api_token, signed_in):
    from tests.web.test_oidc_flow import introspect, tokens_for

    body = create(client, api_token).get_json()
    tokens = tokens_for(client, body, signed_in)
    client.delete(f"/api/v1/apps/{body['client_id']}", headers=auth(api_token))
    assert introspect(client, api_token, tokens["access_token"]) == {"active": False}
    assert introspect(client, api_token, tokens["refresh_token"]) == {"active": False}
    (event,) = client.get("/api/v1/activity?action=app.delete",
                          headers=auth(api_token)).get_json()["items"]
    assert event["detail"].endswith("; 2 token(s) revoked")


def test_deleting_an_app_counts_only_live_tokens_and_keeps_earlier_revocation_times(
        app, client, api_token, signed_in, monkeypatch):
    """A token revoked before is neither counted again nor re-dated: the
    revocation feed orders by revoked_at, and resource servers page it."""
    from app.models import Token
    from app.services import tokens as token_rules
    from tests.web.test_oidc_flow import tokens_for

    body = create(client, api_token).get_json()
    issued = tokens_for(client, body, signed_in)
    client.post("/oauth/revoke", data={"token": issued["access_token"]},
                headers=auth(api_token))
    with app.app_context():
        first = db.session.scalar(select(Token.revoked_at).where(Token.kind == "app"))
    monkeypatch.setattr(token_rules, "now", lambda: first + 100)
    client.delete(f"/api/v1/apps/{body['client_id']}", headers=auth(api_token))
    (event,) = client.get("/api/v1/activity?action=app.delete",
                          headers=auth(api_token)).get_json()["items"]
    assert event["detail"].endswith("; 1 token(s) revoked")
    with app.app_context():
        assert db.session.scalar(select(Token.revoked_at).where(Token.kind == "app")) == first


def test_apps_need_an_admin_token(client, scoped_token_value):
    for response in (client.get("/api/v1/apps", headers=auth(scoped_token_value)),
                     create(client, scoped_token_value)):
        assert response.status_code == 403


@pytest.fixture
def scoped_token_value(client, api_token) -> str:
    client.post("/api/v1/users", json={"name": "bot"}, headers=auth(api_token))
    return client.post("/api/v1/users/bot/tokens", json={"scopes": ["cli"]},
                       headers=auth(api_token)).get_json()["token"]


def test_the_openapi_document_describes_the_apps_api(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert set(paths["/api/v1/apps"]) == {"get", "post"}
    assert set(paths["/api/v1/apps/{client_id}"]) == {"parameters", "get", "delete"}
    assert set(paths["/api/v1/apps/{client_id}/secret"]) == {"parameters", "post"}
    created = paths["/api/v1/apps"]["post"]["responses"]["201"]
    assert created["content"]["application/json"]["schema"]["$ref"].endswith("/NewAppResult")


# --- the dashboard ----------------------------------------------------------------


def test_the_dashboard_registers_an_app_and_shows_the_secret_once(signed_in):
    page = signed_in.text("/apps/new")
    assert "Redirect URIs" in page
    response = signed_in.post("/apps", {"name": "Model registry",
                                        "redirect_uris": f"{REDIRECT}\nhttp://127.0.0.1:9/cb"})
    assert response.status_code == 303
    revealed = signed_in.text(response.headers["Location"])
    assert secret_on(revealed, "sgs") and "app-" in revealed
    assert secret_on(signed_in.text(response.headers["Location"]), "sgs") is None
    listing = signed_in.text("/apps")
    assert "Model registry" in listing and "http://127.0.0.1:9/cb" in listing


def test_the_dashboard_shows_a_bad_redirect_uri_on_the_form(signed_in):
    response = signed_in.post("/apps", {"name": "Hub", "redirect_uris": "http://hub.example/cb"})
    assert response.status_code == 422
    assert "plain http is allowed only for loopback" in response.get_data(as_text=True)


def test_the_dashboard_registers_a_public_app_without_a_secret(signed_in):
    response = signed_in.post("/apps", {"name": "SPA", "redirect_uris": REDIRECT,
                                        "public": "on"})
    assert response.status_code == 303 and "/apps/app-" in response.headers["Location"]
    assert "public (PKCE only" in signed_in.text(response.headers["Location"])


def test_the_dashboard_rotates_and_deletes_an_app(signed_in):
    created = signed_in.post("/apps", {"name": "Hub", "redirect_uris": REDIRECT})
    first = secret_on(signed_in.text(created.headers["Location"]), "sgs")
    client_id = next(a for a in signed_in.text("/apps").split('"') if a.startswith("/apps/app-"))
    client_id = client_id.removeprefix("/apps/")
    signed_in.get(f"/apps/{client_id}")
    rotated = signed_in.post(f"/apps/{client_id}/secret")
    second = secret_on(signed_in.text(rotated.headers["Location"]), "sgs")
    assert second and second != first
    assert "revoked with it" in signed_in.text(f"/apps/{client_id}/delete")
    deleted = signed_in.post(f"/apps/{client_id}/delete")
    assert deleted.status_code == 303 and signed_in.get(f"/apps/{client_id}").status_code == 404


def test_another_organizations_app_page_is_404(app, signed_in, other_signed_in):
    created = other_signed_in.post("/apps", {"name": "Theirs", "redirect_uris": REDIRECT})
    other_signed_in.get(created.headers["Location"])
    theirs = next(a for a in other_signed_in.text("/apps").split('"')
                  if a.startswith("/apps/app-")).removeprefix("/apps/")
    assert signed_in.get(f"/apps/{theirs}").status_code == 404
    assert "Theirs" not in signed_in.text("/apps")


# --- the operator command -----------------------------------------------------------


def test_create_app_prints_json_with_the_secret_once(runner, admin):
    result = runner.invoke(args=["create-app", "Hub", "--org", admin.org, "--redirect-uri",
                                 REDIRECT, "--redirect-uri", "http://127.0.0.1:9/cb", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["client_id"].startswith("app-") and body["client_secret"].startswith("sgs_")
    assert body["redirect_uris"] == [REDIRECT, "http://127.0.0.1:9/cb"]


def test_create_app_public_has_no_secret(runner, admin):
    result = runner.invoke(args=["create-app", "SPA", "--org", admin.org, "--redirect-uri",
                                 REDIRECT, "--public", "--json"])
    body = json.loads(result.output)
    assert body["public"] is True and "client_secret" not in body


def test_create_app_refuses_a_bad_uri_without_a_traceback(runner, admin):
    result = runner.invoke(args=["create-app", "Hub", "--org", admin.org, "--redirect-uri",
                                 "http://hub.example/cb"])
    assert result.exit_code != 0 and "loopback" in result.output
    assert "Traceback" not in result.output
