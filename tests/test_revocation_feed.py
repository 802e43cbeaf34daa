"""GET /oauth/revocations: the feed resource servers poll so that a cached or
locally validated token is refused soon after it is revoked."""

import json

import pytest
from sqlalchemy import update

from app.models import Token, db, now
from tests.conftest import Api, basic, issue


def create_resource_server(runner, name="sessions-service", *options):
    out = runner.invoke(args=["create-resource-server", name, *options, "--json"])
    return json.loads(out.output.strip().splitlines()[-1])


@pytest.fixture
def rs(runner):
    server = create_resource_server(runner)
    return basic(server["client_id"], server["client_secret"])


def feed(client, headers, since=None, limit=None):
    query = {k: v for k, v in (("since", since), ("limit", limit)) if v is not None}
    return client.get("/oauth/revocations", query_string=query, headers=headers)


def revoked_ids(client, headers, since=None) -> set[str]:
    return {item["token_id"] for item in feed(client, headers, since).get_json()["items"]}


def new_token(api, user="demo-user", scopes=("cli",)) -> dict:
    return api.post(f"/users/{user}/tokens", {"scopes": list(scopes)}).get_json()


def test_feed_lists_a_token_revoked_by_id(client, api, rs, scoped_token):
    api.delete(f"/tokens/{scoped_token['token_id']}")
    body = feed(client, rs).get_json()
    assert [i["token_id"] for i in body["items"]] == [scoped_token["token_id"]]
    item = body["items"][0]
    assert abs(item["revoked_at"] - now()) <= 2 and item["exp"] > now()
    assert isinstance(body["next_cursor"], str)


def test_feed_lists_a_token_revoked_by_value(client, api, rs, machine_user):
    value = issue(client, machine_user).get_json()["access_token"]
    token_id = api.introspect(value).get_json()["token_id"]
    client.post("/oauth/revoke", data={"token": value},
                headers=basic(machine_user.client_id, machine_user.client_secret))
    assert revoked_ids(client, rs) == {token_id}


def test_feed_lists_every_token_of_a_deleted_user(client, api, rs, machine_user):
    ids = {new_token(api)["token_id"] for _ in range(3)}
    api.delete("/users/demo-user")
    assert revoked_ids(client, rs) == ids


def test_feed_lists_a_token_revoked_by_its_machine_user(client, api, rs, machine_user):
    own = issue(client, machine_user, scope="revoke_user_token cli").get_json()["access_token"]
    victim = issue(client, machine_user, scope="cli").get_json()["access_token"]
    victim_id = api.introspect(victim).get_json()["token_id"]
    Api(client, own).delete(f"/tokens/{victim_id}")
    assert revoked_ids(client, rs) == {victim_id}


def test_feed_lists_any_row_whose_revoked_at_is_set(client, app, api, rs, scoped_token):
    """Revocation paths added later (offboarding, refresh families, app
    deletion) set ``revoked_at`` on the same table: the feed needs no change."""
    with app.app_context():
        db.session.execute(update(Token).where(Token.token_id == scoped_token["token_id"])
                           .values(revoked_at=now()))
        db.session.commit()
    assert revoked_ids(client, rs) == {scoped_token["token_id"]}


def test_feed_leaves_out_expired_and_live_tokens(client, app, api, rs, machine_user):
    live, expired = new_token(api), new_token(api)
    with app.app_context():
        db.session.execute(update(Token).where(Token.token_id == expired["token_id"])
                           .values(revoked_at=now() - 100, expires_at=now() - 1))
        db.session.commit()
    assert revoked_ids(client, rs) == set()
    assert live["token_id"]


def test_feed_leaves_out_a_token_expiring_this_second(client, app, api, rs, machine_user,
                                                     monkeypatch):
    """Expiring now is expired (as introspection has it): nothing left to refuse."""
    from app.services import revocations

    T = now()
    monkeypatch.setattr(revocations, "now", lambda: T)
    expiring, later = new_token(api), new_token(api)
    with app.app_context():
        for token, exp in ((expiring, T), (later, T + 1)):
            db.session.execute(update(Token).where(Token.token_id == token["token_id"])
                               .values(revoked_at=T - 100, expires_at=exp))
        db.session.commit()
    assert revoked_ids(client, rs) == {later["token_id"]}


def test_cursor_pages_through_every_revocation_once(client, app, api, rs, machine_user):
    ids = [new_token(api)["token_id"] for _ in range(5)]
    with app.app_context():  # revoked long enough ago to be settled
        for age, token_id in enumerate(reversed(ids), start=100):
            db.session.execute(update(Token).where(Token.token_id == token_id)
                               .values(revoked_at=now() - age))
        db.session.commit()
    seen, cursor, pages = [], None, 0
    while True:
        body = feed(client, rs, since=cursor, limit="2").get_json()
        seen += [i["token_id"] for i in body["items"]]
        cursor, pages = body["next_cursor"], pages + 1
        if len(body["items"]) < 2:
            break
    assert seen == ids and pages == 3
    assert feed(client, rs, since=cursor).get_json()["items"] == []


def test_cursor_pages_through_revocations_stamped_in_the_same_second(client, app, api, rs,
                                                                      machine_user):
    """A bulk revocation stamps many rows with one second: the cursor's row id
    tells them apart, so a page boundary inside that second skips none."""
    ids = [new_token(api)["token_id"] for _ in range(3)]
    with app.app_context():
        db.session.execute(update(Token).where(Token.token_id.in_(ids))
                           .values(revoked_at=now() - 100))
        db.session.commit()
    seen, cursor = [], None
    for _ in range(3):
        body = feed(client, rs, since=cursor, limit="1").get_json()
        seen += [i["token_id"] for i in body["items"]]
        cursor = body["next_cursor"]
    assert seen == ids


def test_a_page_ending_at_the_last_revocation_is_caught_up(client, api, rs, machine_user):
    """A page holding exactly ``limit`` items and nothing after them is caught up: its
    cursor steps back by the lag like any caught-up cursor, so a revocation stamped
    before it but committed later is not skipped (the next read re-serves these)."""
    first, second = new_token(api), new_token(api)
    for token in (first, second):
        api.delete(f"/tokens/{token['token_id']}")
    page = feed(client, rs, limit="2").get_json()
    assert {item["token_id"] for item in page["items"]} == {first["token_id"], second["token_id"]}
    assert revoked_ids(client, rs, since=page["next_cursor"]) == {
        first["token_id"], second["token_id"]}


def test_feed_follows_revocation_time_not_token_age(client, app, api, rs, machine_user):
    older, newer = (new_token(api)["token_id"] for _ in range(2))
    with app.app_context():  # the newer token was revoked first
        for token_id, age in ((older, 100), (newer, 200)):
            db.session.execute(update(Token).where(Token.token_id == token_id)
                               .values(revoked_at=now() - age))
        db.session.commit()
    first = feed(client, rs, limit="1").get_json()
    second = feed(client, rs, since=first["next_cursor"], limit="1").get_json()
    assert [i["token_id"] for i in first["items"] + second["items"]] == [newer, older]


def test_caught_up_cursor_re_serves_recent_revocations(client, api, rs, scoped_token):
    """A row stamped before the reader caught up but committed after it is
    not skipped: the caught-up cursor steps back by the feed's lag."""
    api.delete(f"/tokens/{scoped_token['token_id']}")
    cursor = feed(client, rs).get_json()["next_cursor"]
    assert revoked_ids(client, rs, since=cursor) == {scoped_token["token_id"]}


def test_revocation_committed_late_is_not_skipped(client, app, api, rs, machine_user):
    early = new_token(api)
    api.delete(f"/tokens/{new_token(api)['token_id']}")
    cursor = feed(client, rs).get_json()["next_cursor"]
    with app.app_context():  # stamped 3 s ago, visible only now
        db.session.execute(update(Token).where(Token.token_id == early["token_id"])
                           .values(revoked_at=now() - 3))
        db.session.commit()
    assert early["token_id"] in revoked_ids(client, rs, since=cursor)


@pytest.mark.parametrize("since", ["abc", "1", "1.2.3", "-1.0", "9" * 30 + ".1"])
def test_malformed_cursor_is_invalid_request(client, rs, since):
    response = feed(client, rs, since=since)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


@pytest.mark.parametrize("limit", ["1", "1000"])
def test_limit_from_1_to_1000_is_accepted(client, rs, limit):
    assert feed(client, rs, limit=limit).status_code == 200


@pytest.mark.parametrize("limit", ["0", "1001", "x"])
def test_limit_out_of_range_is_invalid_request(client, rs, limit):
    assert feed(client, rs, limit=limit).status_code == 400


def test_feed_requires_client_credentials(client):
    response = feed(client, {})
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_a_refusal_says_which_credentials_the_feed_needs(client, api, machine_user):
    unauthenticated = feed(client, api._headers()).get_json()  # a bearer token is not enough
    assert "client_secret_basic" in unauthenticated["error_description"]
    not_a_server = feed(client, basic(machine_user.client_id, machine_user.client_secret))
    assert "resource servers" in not_a_server.get_json()["error_description"]


def test_wrong_secret_is_refused(client, runner):
    server = create_resource_server(runner)
    response = feed(client, basic(server["client_id"], "sgs_wrong"))
    assert response.status_code == 401


def test_admin_token_is_refused(client, api):
    assert feed(client, api._headers()).status_code == 401


def test_machine_user_credentials_are_refused(client, api, machine_user):
    response = feed(client, basic(machine_user.client_id, machine_user.client_secret))
    assert response.status_code == 403
    assert response.get_json()["error"] == "unauthorized_client"
    (denied,) = api.get("/activity?action=revocations.read").get_json()["items"]
    assert (denied["outcome"], denied["actor"], denied["actor_name"], denied["detail"]) == (
        "denied", machine_user.email, "demo-user", "not a resource server")


def test_machine_user_token_is_refused(client, scoped_token):
    headers = {"Authorization": f"Bearer {scoped_token['token']}"}
    assert feed(client, headers).status_code == 401


def test_feed_spans_every_organization(client, api, other_org, rs, scoped_token):
    other = Api(client, other_org.admin_token)
    other.post("/users", {"name": "their-user"})
    theirs = new_token(other, "their-user")
    api.delete(f"/tokens/{scoped_token['token_id']}")
    other.delete(f"/tokens/{theirs['token_id']}")
    assert revoked_ids(client, rs) == {scoped_token["token_id"], theirs["token_id"]}


# --- people's revocations: offboarding, app deletion, refresh families ------------


def person_tokens(app, org, *, refresh: bool = True) -> tuple[str, dict]:
    """An app of the organization and its admin's access (+ refresh) token for it,
    as a sign-in leaves them. Returns (app client_id, {kind: token_id})."""
    from app.models import Account, Token
    from app.services import apps, callers, orgs, tokens

    with app.app_context():
        account = orgs.get_account(org.admin_email)
        registered, _ = apps.create(callers.from_account(account), "Notebook hub",
                                    ["https://hub.acme.test/callback"])
        _, access, refresh_value = tokens.issue_to_app(
            registered, account, ["openid"], family_id="f" * 32, auth_time=now(),
            refresh=refresh, family_end=now() + 3600)
        db.session.commit()
        ids = {"app": access.token_id}
        if refresh_value:
            ids["refresh"] = db.session.query(Token.token_id).filter_by(
                kind="refresh", account_id=db.session.get(Account, account.id).id).scalar()
        return registered.client_id, ids


def test_feed_lists_the_tokens_of_a_deleted_app(client, app, api, org, rs):
    client_id, ids = person_tokens(app, org)
    assert api.delete(f"/apps/{client_id}").status_code == 204
    assert revoked_ids(client, rs) == set(ids.values())


def test_feed_lists_a_revoked_refresh_family(client, app, org, rs):
    from app.services import tokens

    _, ids = person_tokens(app, org)
    with app.app_context():
        tokens.revoke_family("f" * 32)
        db.session.commit()
    assert revoked_ids(client, rs) == set(ids.values())


def test_a_missing_family_revokes_nothing(client, app, api, rs, scoped_token):
    """Tokens outside any sign-in have no family: "no family" must not match them all."""
    from app.services import tokens

    with app.app_context():
        assert tokens.revoke_family(None) == 0
        db.session.commit()
    assert revoked_ids(client, rs) == set()
    assert api.introspect(scoped_token["token"]).get_json()["active"] is True


def test_feed_lists_every_token_of_an_offboarded_person(client, app, api, rs):
    from app.services import links

    invited = api.post("/people", {"email": "ann@acme.test", "role": "member"}).get_json()
    with app.app_context():
        links.use(invited["invite_url"].rsplit("/", 1)[1], links.INVITE,
                  "a long enough passphrase", "a long enough passphrase")
    token = api.post("/people/ann@acme.test/tokens", {"name": "laptop"}).get_json()
    assert api.patch("/people/ann@acme.test", {"disabled": True}).status_code == 200
    assert token["token_id"] in revoked_ids(client, rs)
