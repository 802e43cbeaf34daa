"""The admin API as the documentation walks through it, and its refusals."""

import time

import pytest
from sqlalchemy import update

from app.models import Token, db
from app.services import callers, reach, tokens
from sdk.auth.scopes import CATALOG
from tests.conftest import Api, issue

THIRTY_DAYS = 30 * 86400


def test_create_user_generates_unique_id_with_whole_catalog(api, org):
    response = api.post("/users", {"name": "demo-user"})
    assert response.status_code == 201
    user = response.get_json()
    local, _, domain = user["email"].partition("@")
    assert len(local) == 10 and int(local, 16) >= 0 and domain == "scopegate.local"
    assert user["user_type"] == "generated"
    assert user["scopes"] == list(CATALOG)
    assert user["created_by"] == org.admin_uid
    assert user["active"] is True


def test_create_user_with_scope_ceiling(api):
    user = api.post("/users", {"name": "reader", "scopes": ["read_user_session"]}).get_json()
    assert user["scopes"] == ["read_user_session"]


def test_duplicate_user_name_is_409(api):
    api.post("/users", {"name": "demo-user"})
    response = api.post("/users", {"name": "demo-user"})
    assert response.status_code == 409
    assert response.get_json()["error"] == "conflict"
    assert response.get_json()["error_description"] == "A user named 'demo-user' already exists."


@pytest.mark.parametrize("body, status, why", [
    ({"name": 5}, 422, "`name` must be a string"),
    ({"name": ""}, 422, "`name` must be 1-100 characters"),
    ({"name": "has space"}, 422, "`name` must be 1-100 characters"),
    ({}, 422, "name"),
    ({"name": "x", "extra": 1}, 422, "extra"),
    ({"name": "x", "scopes": ["admin"]}, 400, "admin"),
    ({"name": "x", "scopes": "cli"}, 422, "scopes"),
    ({"name": "x", "scopes": [1]}, 422, "scopes"),
    ([1, 2], 422, "object"),
])
def test_bad_user_bodies_are_refused_saying_why(api, body, status, why):
    response = api.post("/users", body)
    assert response.status_code == status
    assert why in response.get_json()["error_description"]


def test_malformed_json_is_400(api):
    response = api.post("/users", data="{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_body_over_the_limit_is_413(api):
    response = api.post("/users", data="x" * (65 * 1024), content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"] == "request_too_large"


def test_create_token_returns_documented_fields(api, machine_user, scoped_token):
    assert set(scoped_token) == {"token", "token_id", "user_id", "email", "scopes",
                                 "expires_at"}
    assert scoped_token["token"].startswith("sgt_")
    assert len(scoped_token["token_id"]) == 32
    assert scoped_token["user_id"] == "demo-user"
    assert scoped_token["email"] == machine_user.email
    assert scoped_token["scopes"] == ["create_session", "read_user_session"]


def test_token_lifetime_defaults_to_30_days(app, api, machine_user, scoped_token):
    info = api.introspect(scoped_token["token"]).get_json()
    assert info["exp"] - info["iat"] == THIRTY_DAYS


def test_token_lifetime_above_30_days_is_refused(api, machine_user):
    response = api.post("/users/demo-user/tokens",
                        {"scopes": ["cli"], "expires_in": THIRTY_DAYS + 1})
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid_request"
    assert "maximum lifetime" in body["error_description"]


@pytest.mark.parametrize("expires_in, status", [(0, 400), (-5, 400), ("10", 422), (1.5, 422),
                                               (True, 422)])
def test_token_lifetime_must_be_positive_integer(api, machine_user, expires_in, status):
    response = api.post("/users/demo-user/tokens", {"scopes": ["cli"], "expires_in": expires_in})
    assert response.status_code == status
    assert "`expires_in`" in response.get_json()["error_description"]


def test_token_scopes_outside_catalog_are_refused(api, machine_user):
    response = api.post("/users/demo-user/tokens", {"scopes": ["create_session", "superuser"]})
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid_scope"
    assert "superuser" in body["error_description"]
    assert "create_session" in body["error_description"]  # lists the valid ones


def test_token_scopes_above_user_ceiling_are_refused(api):
    api.post("/users", {"name": "reader", "scopes": ["read_user_session"]})
    response = api.post("/users/reader/tokens", {"scopes": ["create_session"]})
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid_scope"
    # names the scope refused and the ones this user may have
    assert "create_session" in body["error_description"]
    assert "read_user_session" in body["error_description"]


def test_admin_scope_can_never_be_granted(api, machine_user):
    response = api.post("/users/demo-user/tokens", {"scopes": ["admin"]})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_scope"


def test_empty_scope_list_is_refused(api, machine_user):
    response = api.post("/users/demo-user/tokens", {"scopes": []})
    assert response.status_code == 400
    assert "at least one scope" in response.get_json()["error_description"].lower()


def test_a_machine_user_needs_at_least_one_scope(api):
    response = api.post("/users", {"name": "x", "scopes": []})
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid_scope"
    assert "at least one scope" in body["error_description"].lower()


def test_a_scope_that_is_not_a_string_is_422_naming_the_field(api, machine_user):
    response = api.post("/users/demo-user/tokens", {"scopes": [1]})
    assert response.status_code == 422
    assert "`scopes`" in response.get_json()["error_description"]


def test_list_tokens_shows_metadata_never_secrets(api, org, scoped_token):
    response = api.get("/tokens")
    assert response.status_code == 200
    items = response.get_json()["items"]
    kinds = {t["kind"] for t in items}
    assert kinds == {"personal", "scoped"}
    text = response.get_data(as_text=True)
    assert scoped_token["token"] not in text and org.admin_token not in text
    assert "token_hash" not in text
    scoped = next(t for t in items if t["token_id"] == scoped_token["token_id"])
    assert set(scoped) >= {"token_id", "kind", "user_id", "email", "scopes", "created_by",
                           "created_at", "expires_at", "revoked_at", "last_used_at"}


def test_a_token_an_admin_creates_is_listed_as_the_machine_users_made_by_the_admin(
        api, org, machine_user, scoped_token):
    [listed] = api.get("/tokens?kind=scoped").get_json()["items"]
    assert listed["client_id"] == machine_user.client_id
    assert (listed["user_id"], listed["email"]) == ("demo-user", machine_user.email)
    assert listed["created_by"] == org.admin_uid


def test_list_tokens_filters_by_user_kind_and_active(api, scoped_token):
    assert [t["token_id"] for t in api.get("/tokens?user=demo-user").get_json()["items"]] == [
        scoped_token["token_id"]]
    assert all(t["kind"] == "personal" for t in api.get("/tokens?kind=personal").get_json()[
        "items"])
    api.delete(f"/tokens/{scoped_token['token_id']}")
    inactive = api.get("/tokens?active=false").get_json()["items"]
    assert [t["token_id"] for t in inactive] == [scoped_token["token_id"]]
    assert api.get("/tokens?active=maybe").status_code == 422


def test_a_token_listing_refusal_names_what_was_wrong(api, machine_user):
    unknown = api.get("/tokens?user=nobody")
    assert unknown.status_code == 404 and "nobody" in unknown.get_json()["error_description"]
    bad_kind = api.get("/tokens?kind=bogus")
    assert bad_kind.status_code == 422 and "`kind`" in bad_kind.get_json()["error_description"]


def test_the_active_filter_counts_a_token_expiring_this_second_as_inactive(
        app, api, machine_user, monkeypatch):
    """Active means not revoked and expiring after now, as introspection has it."""
    T = int(time.time())
    monkeypatch.setattr(tokens, "now", lambda: T)
    live, expiring, revoked = (
        api.post("/users/demo-user/tokens", {"scopes": ["cli"]}).get_json()["token_id"]
        for _ in range(3))
    with app.app_context():
        for token_id, values in ((live, {"expires_at": T + 1}), (expiring, {"expires_at": T}),
                                 (revoked, {"revoked_at": T - 1, "expires_at": T + 1})):
            db.session.execute(update(Token).where(Token.token_id == token_id).values(**values))
        db.session.commit()

    def listed(active: str) -> set[str]:
        items = api.get(f"/tokens?kind=scoped&active={active}").get_json()["items"]
        return {t["token_id"] for t in items}

    assert listed("true") == {live}
    assert listed("false") == {expiring, revoked}


def test_another_organizations_users_are_unknown_to_the_token_list(client, api, other_org,
                                                                    machine_user):
    """Its names and unique IDs, of live users, deleted ones and admins, are 404
    exactly like a name nobody ever had: a list never confirms they exist."""
    rival = Api(client, other_org.admin_token)
    live = rival.post("/users", {"name": "rival-bot"}).get_json()
    gone = rival.post("/users", {"name": "gone-bot"}).get_json()
    rival.delete("/users/gone-bot")
    for value in ("rival-bot", live["email"], "gone-bot", gone["email"],
                  other_org.admin_email, other_org.admin_uid):
        assert api.get(f"/tokens?user={value}").status_code == 404, value


def test_a_name_another_organization_also_uses_is_not_marked_shared(client, api, other_org,
                                                                    scoped_token):
    """"Shared" means several users of this organization had the name; another
    organization's users are neither counted nor revealed."""
    rival = Api(client, other_org.admin_token)
    rival.post("/users", {"name": "demo-user"})
    rival.post("/users/demo-user/tokens", {"scopes": ["cli"]})
    assert api.get("/users/demo-user").get_json()["name_shared"] is False
    [token] = api.get("/tokens?user=demo-user").get_json()["items"]
    assert token["user_name_shared"] is False


def test_list_tokens_paginates_with_cursor(api, machine_user):
    for _ in range(5):
        api.post("/users/demo-user/tokens", {"scopes": ["cli"]})
    first = api.get("/tokens?kind=scoped&limit=2").get_json()
    second = api.get(f"/tokens?kind=scoped&limit=2&cursor={first['next_cursor']}").get_json()
    third = api.get(f"/tokens?kind=scoped&limit=2&cursor={second['next_cursor']}").get_json()
    ids = [t["token_id"] for page in (first, second, third) for t in page["items"]]
    assert len(ids) == 5 == len(set(ids))
    assert third["next_cursor"] is None


def test_a_last_page_that_is_exactly_full_has_no_next_cursor(api, machine_user):
    for _ in range(3):
        api.post("/users/demo-user/tokens", {"scopes": ["cli"]})
    page = api.get("/tokens?kind=scoped&limit=3").get_json()
    assert len(page["items"]) == 3 and page["next_cursor"] is None


def test_a_page_holds_1_to_500_items(api):
    for limit in (1, 500):
        assert api.get(f"/tokens?limit={limit}").status_code == 200, limit
    for limit in (0, 501):
        response = api.get(f"/tokens?limit={limit}")
        assert response.status_code == 422, limit
        assert "`limit`" in response.get_json()["error_description"]


def test_revoke_by_token_id_takes_effect_immediately(api, scoped_token):
    assert api.introspect(scoped_token["token"]).get_json()["active"] is True
    assert api.delete(f"/tokens/{scoped_token['token_id']}").status_code == 204
    assert api.introspect(scoped_token["token"]).get_json() == {"active": False}


def test_revoke_is_idempotent(api, scoped_token):
    assert api.delete(f"/tokens/{scoped_token['token_id']}").status_code == 204
    assert api.delete(f"/tokens/{scoped_token['token_id']}").status_code == 204


def test_revoke_unknown_token_id_is_404(api):
    assert api.delete("/tokens/" + "0" * 32).status_code == 404


def test_renew_never_goes_past_issue_plus_30_days(api, machine_user):
    token = api.post("/users/demo-user/tokens",
                     {"scopes": ["cli"], "expires_in": 3600}).get_json()
    before = api.introspect(token["token"]).get_json()
    assert before["renewable"] is True
    response = api.post(f"/tokens/{token['token_id']}/renew", {"expires_in": THIRTY_DAYS + 100})
    assert response.status_code == 200
    body = response.get_json()
    assert body["clamped"] is True and "clamped" in body["message"]
    after = api.introspect(token["token"]).get_json()
    assert after["exp"] == before["iat"] + THIRTY_DAYS
    assert after["renewable"] is False


def test_renew_within_limit_extends(api, machine_user):
    token = api.post("/users/demo-user/tokens",
                     {"scopes": ["cli"], "expires_in": 60}).get_json()
    body = api.post(f"/tokens/{token['token_id']}/renew", {"expires_in": 7200}).get_json()
    assert body["clamped"] is False
    info = api.introspect(token["token"]).get_json()
    assert 7100 < info["exp"] - info["iat"] <= 7200 + 5


def test_renew_revoked_token_is_409(api, scoped_token):
    api.delete(f"/tokens/{scoped_token['token_id']}")
    assert api.post(f"/tokens/{scoped_token['token_id']}/renew").status_code == 409


def test_delete_user_revokes_all_its_tokens_and_credentials(api, client, machine_user,
                                                            scoped_token):
    issued = issue(client, machine_user).get_json()["access_token"]
    assert api.delete("/users/demo-user").status_code == 204
    assert api.introspect(scoped_token["token"]).get_json() == {"active": False}
    assert api.introspect(issued).get_json() == {"active": False}
    assert issue(client, machine_user).status_code == 401
    assert api.get("/users/demo-user").status_code == 404
    listed = api.get("/tokens?kind=scoped").get_json()["items"]
    assert all(t["revoked_at"] for t in listed)


def test_deleted_user_name_can_be_reused(api, machine_user):
    api.delete("/users/demo-user")
    again = api.post("/users", {"name": "demo-user"})
    assert again.status_code == 201
    assert again.get_json()["email"] != machine_user.email


def test_get_and_list_users(api, machine_user):
    assert api.get("/users/demo-user").get_json()["email"] == machine_user.email
    assert api.get(f"/users/{machine_user.email}").get_json()["name"] == "demo-user"
    names = [u["name"] for u in api.get("/users").get_json()["items"]]
    assert names == ["demo-user"]


def test_a_user_names_the_admin_who_created_it(api, org, machine_user):
    admin_uid = api.get("/me").get_json()["sub"]
    for user in (api.get("/users/demo-user").get_json(), api.get("/users").get_json()["items"][0]):
        assert (user["created_by"], user["created_by_name"]) == (admin_uid, org.admin_email)


def test_users_list_pages_like_the_other_lists(api):
    for name in ("first-bot", "second-bot", "third-bot"):
        api.post("/users", {"name": name})
    first = api.get("/users?limit=2").get_json()
    assert [u["name"] for u in first["items"]] == ["third-bot", "second-bot"]
    rest = api.get(f"/users?limit=2&cursor={first['next_cursor']}").get_json()
    assert [u["name"] for u in rest["items"]] == ["first-bot"]
    assert rest["next_cursor"] is None


def test_credentials_are_shown_once_and_replace_previous(api, client, machine_user):
    again = api.post("/users/demo-user/credentials").get_json()
    assert again["client_id"] == machine_user.client_id
    assert again["client_secret"] != machine_user.client_secret
    assert issue(client, machine_user).status_code == 401
    assert "client_secret" not in api.get("/users/demo-user").get_json()


def test_new_credentials_revoke_the_tokens_the_old_secret_obtained(api, client, machine_user,
                                                                   scoped_token):
    minted = [issue(client, machine_user).get_json()["access_token"] for _ in range(2)]
    again = api.post("/users/demo-user/credentials").get_json()
    assert again["revoked_tokens"] == 2
    for value in minted:
        assert api.introspect(value).get_json() == {"active": False}
    # A token the admin created for the user is not tied to the secret: it stays.
    assert api.introspect(scoped_token["token"]).get_json()["active"] is True
    assert api.post("/users/demo-user/credentials").get_json()["revoked_tokens"] == 0


@pytest.mark.parametrize("name", ["f1bd9ff87c@scopegate.local", "0123456789@other.example",
                                  "ABCDEF0123@x"])
def test_names_shaped_like_a_unique_id_are_refused(api, name):
    response = api.post("/users", {"name": name})
    assert response.status_code == 422
    assert "unique ID" in response.get_json()["error_description"]


@pytest.mark.parametrize("name", ["0\n", "demo-user\n", "bot\n\n"])
def test_a_name_ending_in_a_newline_is_refused(api, name):
    """Found by `make fuzz`: a regular expression's ``$`` also matches before a
    final newline, so the names' pattern must match the whole name."""
    response = api.post("/users", {"name": name})
    assert response.status_code == 422
    assert "1-100 characters" in response.get_json()["error_description"]


@pytest.mark.parametrize("name", ["svc@team", "f1bd9ff87@short.example", "bot-0123456789"])
def test_names_with_an_at_sign_are_still_allowed(api, name):
    assert api.post("/users", {"name": name}).status_code == 201


# --- authentication and authorization of the admin API -----------------------


def test_missing_bearer_token_is_401_with_challenge(client, org):
    response = client.get("/api/v1/users")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"] == "invalid_token"


@pytest.mark.parametrize("header", ["Bearer nope", "Bearer sgp_" + "A" * 39, "Basic abc",
                                    "Bearer"])
def test_bad_bearer_token_is_401_invalid_token(client, org, header):
    response = client.get("/api/v1/users", headers={"Authorization": header})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_revoked_admin_token_is_401(api, org):
    api.delete(f"/tokens/{org.admin_token_id}")
    assert api.get("/users").status_code == 401


def test_scoped_token_cannot_use_admin_calls(client, scoped_token):
    scoped = Api(client, scoped_token["token"])
    for response in (scoped.get("/users"), scoped.post("/users", {"name": "x"}),
                     scoped.get("/tokens"), scoped.get("/activity"),
                     scoped.delete("/users/demo-user")):
        assert response.status_code == 403
        assert response.get_json()["error"] == "insufficient_scope"


def test_scoped_token_may_read_me_and_scopes(client, scoped_token):
    scoped = Api(client, scoped_token["token"])
    me = scoped.get("/me").get_json()
    assert me["user_id"] == "demo-user" and me["role"] == "machine"
    names = [s["name"] for s in scoped.get("/scopes").get_json()["items"]]
    assert names == list(CATALOG)


def test_revoke_user_token_scope_revokes_only_own_client_credentials_tokens(
        api, client, machine_user):
    holder = api.post("/users/demo-user/tokens", {"scopes": ["revoke_user_token"]}).get_json()
    own = issue(client, machine_user, scope="cli").get_json()["access_token"]
    own_id = api.introspect(own).get_json()["token_id"]
    admin_made = api.post("/users/demo-user/tokens", {"scopes": ["cli"]}).get_json()
    scoped = Api(client, holder["token"])
    assert scoped.delete(f"/tokens/{admin_made['token_id']}").status_code == 404
    assert api.introspect(admin_made["token"]).get_json()["active"] is True
    assert scoped.delete(f"/tokens/{own_id}").status_code == 204
    assert api.introspect(own).get_json() == {"active": False}


def test_a_revocation_by_id_is_audited_with_who_revoked_what(api, org, machine_user,
                                                              scoped_token):
    api.delete(f"/tokens/{scoped_token['token_id']}")
    (event,) = api.get("/activity?action=token.revoke").get_json()["items"]
    assert (event["outcome"], event["actor"], event["actor_name"]) == (
        "success", org.admin_uid, org.admin_email)
    assert (event["subject"], event["subject_name"], event["target"]) == (
        machine_user.email, "demo-user", scoped_token["token_id"])


def test_a_refused_revocation_by_id_is_audited_with_the_token_and_its_user(
        api, client, machine_user):
    holder = api.post("/users/demo-user/tokens", {"scopes": ["revoke_user_token"]}).get_json()
    admin_made = api.post("/users/demo-user/tokens", {"scopes": ["cli"]}).get_json()
    Api(client, holder["token"]).delete(f"/tokens/{admin_made['token_id']}")
    (event,) = api.get("/activity?action=token.revoke").get_json()["items"]
    assert (event["outcome"], event["actor"], event["target"]) == (
        "denied", machine_user.email, admin_made["token_id"])
    assert (event["subject"], event["subject_name"]) == (machine_user.email, "demo-user")


def test_scoped_token_without_revoke_scope_cannot_revoke(api, client, machine_user,
                                                         scoped_token):
    own = issue(client, machine_user, scope="cli").get_json()["access_token"]
    own_id = api.introspect(own).get_json()["token_id"]
    scoped = Api(client, scoped_token["token"])
    assert scoped.delete(f"/tokens/{own_id}").status_code == 403


@pytest.mark.parametrize("kind, scopes", [
    (callers.MEMBER, ()), (callers.PERSON, ("revoke_user_token",)), (callers.APP, ()),
    (callers.RESOURCE_SERVER, ()), (callers.MACHINE, ("cli",))])
def test_only_admins_and_machine_users_with_revoke_user_token_revoke_by_id(
        app, client, machine_user, kind, scopes):
    """The rule behind DELETE /api/v1/tokens/{id}, whatever the route lets through:
    any other caller is refused, even for a token it obtained itself."""
    value = issue(client, machine_user, scope="cli").get_json()["access_token"]
    with app.app_context():
        token = tokens.find(value)
        caller = callers.Caller(kind, token.created_by, "x", token.org_id, frozenset(scopes),
                                may_revoke=True)
        assert reach.may_revoke_by_id(caller, token) is False
        holder = callers.Caller(callers.MACHINE, token.created_by, "x", token.org_id,
                                frozenset({"revoke_user_token"}))
        assert reach.may_revoke_by_id(holder, token) is True


# --- tenant isolation -------------------------------------------------------


def test_objects_of_another_organization_are_404(client, api, other_org, machine_user,
                                                 scoped_token):
    other = Api(client, other_org.admin_token)
    assert other.get("/users/demo-user").status_code == 404
    assert other.get(f"/users/{machine_user.email}").status_code == 404
    assert other.delete("/users/demo-user").status_code == 404
    assert other.post("/users/demo-user/tokens", {"scopes": ["cli"]}).status_code == 404
    assert other.post("/users/demo-user/credentials").status_code == 404
    assert other.get(f"/tokens/{scoped_token['token_id']}").status_code == 404
    assert other.delete(f"/tokens/{scoped_token['token_id']}").status_code == 404
    assert other.post(f"/tokens/{scoped_token['token_id']}/renew").status_code == 404
    assert api.introspect(scoped_token["token"]).get_json()["active"] is True


def test_listings_never_show_another_organization(client, api, other_org, scoped_token):
    other = Api(client, other_org.admin_token)
    assert other.get("/users").get_json()["items"] == []
    tokens = other.get("/tokens").get_json()["items"]
    assert [t["kind"] for t in tokens] == ["personal"]
    events = other.get("/activity").get_json()["items"]
    assert all(e["actor"] != "demo-user" and e["subject"] != scoped_token["email"]
               for e in events)


def test_same_user_name_in_two_organizations(client, api, other_org):
    other = Api(client, other_org.admin_token)
    assert api.post("/users", {"name": "demo-user"}).status_code == 201
    assert other.post("/users", {"name": "demo-user"}).status_code == 201


def test_unknown_route_and_method_are_json(api):
    assert api.get("/nope").get_json()["error"] == "not_found"
    response = api.client.put("/api/v1/users", headers=api._headers())
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"
