"""GET /api/v1/activity: every action recorded once, filterable by user."""

import time
from dataclasses import replace

import pytest

from app.models import now
from app.services import audit, callers, orgs, subjects
from tests.conftest import Api, issue

EVENT_FIELDS = {"id", "at", "actor", "actor_name", "subject", "action", "target", "outcome",
                "ip", "request_id"}


def test_each_action_is_recorded_once_with_who_what_where(api, org, machine_user,
                                                           scoped_token):
    events = api.get("/activity?user=demo-user").get_json()["items"]
    actions = [e["action"] for e in events]
    assert actions == ["token.create", "credentials.create", "user.create"]  # newest first
    for e in events:
        assert set(e) >= EVENT_FIELDS
        assert e["actor"] == org.admin_uid and e["actor_name"] == org.admin_email
        assert (e["subject"], e["subject_name"]) == (machine_user.email, "demo-user")
        assert e["outcome"] == "success" and e["ip"] == "127.0.0.1" and e["request_id"]
    assert [e["target"] for e in events] == [scoped_token["token_id"], machine_user.email,
                                             machine_user.email]
    assert events[0]["detail"] == "create_session read_user_session"  # the scopes granted
    assert events[1]["detail"] == "0 token(s) obtained with the previous secret revoked"


def test_request_id_is_echoed_and_recorded(api, org):
    response = api.client.post("/api/v1/users", json={"name": "traced"},
                               headers={**api._headers(), "X-Request-Id": "req-123"})
    assert response.headers["X-Request-Id"] == "req-123"
    event = api.get("/activity?action=user.create").get_json()["items"][0]
    assert event["request_id"] == "req-123"


def test_a_request_id_ending_in_a_newline_is_replaced(api):
    response = api.client.get("/api/v1/users",
                              environ_overrides={"HTTP_X_REQUEST_ID": "req-123\n"},
                              headers=api._headers())
    assert response.status_code == 200
    assert len(response.headers["X-Request-Id"]) == 32 and "\n" not in response.headers[
        "X-Request-Id"]


def test_filter_by_unique_id_matches_name(api, machine_user, scoped_token):
    by_name = api.get("/activity?user=demo-user").get_json()["items"]
    by_uid = api.get(f"/activity?user={machine_user.email}").get_json()["items"]
    assert by_name == by_uid


def test_user_filter_matches_acting_or_subject_actor_only_acting(client, api, machine_user):
    issue(client, machine_user)
    as_user = {e["action"] for e in api.get("/activity?user=demo-user").get_json()["items"]}
    as_actor = {e["action"] for e in api.get("/activity?actor=demo-user").get_json()["items"]}
    assert "user.create" in as_user and "token.issue" in as_user
    assert as_actor == {"token.issue"}


def test_several_users_at_once(api):
    api.post("/users", {"name": "alpha"})
    api.post("/users", {"name": "beta"})
    api.post("/users", {"name": "gamma"})
    events = api.get("/activity?user=alpha&user=beta").get_json()["items"]
    assert sorted(e["target"] for e in events) == sorted(
        [api.get("/users/alpha").get_json()["email"], api.get("/users/beta").get_json()["email"]])


def test_filter_by_action_and_time(api, machine_user):
    now = int(time.time())
    assert api.get(f"/activity?action=user.create&since={now - 60}").get_json()["items"]
    assert api.get(f"/activity?until={now - 3600}").get_json()["items"] == []
    assert api.get("/activity?since=2000-01-01T00:00:00Z").get_json()["items"]
    assert api.get("/activity?since=yesterday").status_code == 422


@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize("value", ["yesterday", "9" * 30])
def test_a_bad_time_is_422_naming_its_parameter(api, name, value):
    response = api.get(f"/activity?{name}={value}")
    assert response.status_code == 422
    assert f"`{name}`" in response.get_json()["error_description"]


def test_paginates_newest_first(api):
    for i in range(5):
        api.post("/users", {"name": f"u{i}"})
    first = api.get("/activity?action=user.create&limit=2").get_json()
    second = api.get(f"/activity?action=user.create&limit=2&cursor={first['next_cursor']}"
                     ).get_json()
    ids = [e["id"] for e in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 4
    assert api.get("/activity?limit=0").status_code == 422
    assert api.get("/activity?cursor=abc").status_code == 422


def test_denied_admin_call_is_recorded(client, api, scoped_token, machine_user):
    Api(client, scoped_token["token"]).get("/users")
    events = api.get("/activity?action=api.call").get_json()["items"]
    assert len(events) == 1
    assert events[0]["outcome"] == "denied" and events[0]["actor"] == machine_user.email
    assert events[0]["actor_name"] == "demo-user"
    assert events[0]["target"] == "GET /api/v1/users"


def test_delete_user_is_recorded_with_who_whom_and_token_count(api, org, machine_user,
                                                               scoped_token):
    api.delete("/users/demo-user")
    (event,) = api.get("/activity?action=user.delete").get_json()["items"]
    assert (event["actor"], event["actor_name"]) == (org.admin_uid, org.admin_email)
    assert (event["subject"], event["subject_name"]) == (machine_user.email, "demo-user")
    assert (event["target"], event["outcome"]) == (machine_user.email, "success")
    assert event["detail"] == "1 token(s) revoked"
    assert api.get("/activity?user=demo-user").get_json()["items"]  # still findable by name


def test_delete_user_counts_only_the_tokens_it_revoked(api, machine_user):
    first = api.post("/users/demo-user/tokens", {"scopes": ["cli"]}).get_json()
    api.post("/users/demo-user/tokens", {"scopes": ["cli"]})
    api.delete(f"/tokens/{first['token_id']}")
    api.post("/users", {"name": "idle-user"})
    api.delete("/users/demo-user")
    api.delete("/users/idle-user")
    details = [e["detail"] for e in api.get("/activity?action=user.delete").get_json()["items"]]
    assert details == ["0 token(s) revoked", "1 token(s) revoked"]


@pytest.mark.parametrize("who", ["admin_email", "admin_uid"])
def test_filter_by_an_admin_matches_what_the_admin_did(api, org, machine_user, who):
    events = api.get(f"/activity?user={getattr(org, who)}").get_json()["items"]
    assert {e["action"] for e in events} >= {"user.create", "credentials.create"}
    # what the admin did, and what the operator did to the admin (account, token)
    assert {e["actor"] for e in events} == {org.admin_uid, "operator"}


def test_client_ip_comes_from_a_trusted_proxy_only(app):
    """Behind SCOPEGATE_TRUST_PROXY=1 the audit records X-Forwarded-For;
    without it a client cannot choose the IP it is recorded with."""
    from app import create_app
    from app.database import upgrade
    from tests.conftest import make_org

    proxied = create_app({**app.config, "SCOPEGATE_TRUST_PROXY": 1})
    with proxied.app_context():
        upgrade()
    for flask_app, org_name, expected in ((proxied, "behind-proxy", "203.0.113.7"),
                                          (app, "direct", "127.0.0.1")):
        org = make_org(flask_app, org_name)
        api = Api(flask_app.test_client(), org.admin_token)
        api.client.post("/api/v1/users", json={"name": "via-proxy"},
                        headers={**api._headers(), "X-Forwarded-For": "203.0.113.7"})
        event = api.get("/activity?action=user.create").get_json()["items"][0]
        assert event["ip"] == expected


def test_issue_and_revocation_events_name_subject_and_target(client, api, machine_user):
    value = issue(client, machine_user, scope="cli").get_json()["access_token"]
    token_id = api.introspect(value).get_json()["token_id"]
    issue(client, machine_user, scope="admin")
    client.post("/oauth/revoke", data={"token": value},
                headers={"Authorization": f"Bearer {value}"})
    events = api.get("/activity?user=demo-user").get_json()["items"]
    seen = {(e["action"], e["outcome"]): e for e in events}
    for key in [("token.issue", "success"), ("token.revoke", "success")]:
        event = seen[key]
        assert (event["subject"], event["subject_name"], event["target"]) == (
            machine_user.email, "demo-user", token_id), key
    denied = seen[("token.issue", "denied")]
    assert (denied["subject"], denied["subject_name"]) == (machine_user.email, "demo-user")
    assert "admin" in denied["detail"]


def test_user_filters_are_capped_at_twenty(api):
    """Each value costs three lookups: 440 of them took 0.57 s (issue 13)."""
    many = "&".join(f"user=u{i}" for i in range(21))
    response = api.get(f"/activity?{many}")
    assert response.status_code == 400
    assert "At most 20" in response.get_json()["error_description"]
    assert api.get("/activity?" + "&".join(f"user=u{i}" for i in range(20))).status_code == 200
    actors = "&".join(f"actor=u{i}" for i in range(21))
    assert api.get(f"/activity?{actors}").status_code == 400
    assert api.get("/activity?" + "&".join(f"actor=u{i}" for i in range(20))).status_code == 200


AT = 1_800_000_000  # 2027-01-15T08:00:00Z


def event_at(app, api, at: int = AT) -> None:
    from sqlalchemy import update

    from app.models import AuditEvent, db

    api.post("/users", {"name": "dated"})
    with app.app_context():
        db.session.execute(update(AuditEvent).where(AuditEvent.action == "user.create")
                           .values(at=at))
        db.session.commit()


def found(api, **query) -> int:
    response = api.get("/activity", query_string={"action": "user.create", **query})
    assert response.status_code == 200, response.get_json()
    return len(response.get_json()["items"])


def test_since_and_until_include_their_own_second(app, api):
    event_at(app, api)
    assert found(api, since=AT) == found(api, until=AT) == 1
    assert found(api, since=AT + 1) == found(api, until=AT - 1) == 0


@pytest.fixture
def server_in_tokyo(monkeypatch):
    """The server's local time zone is not UTC (naive times must not use it)."""
    monkeypatch.setenv("TZ", "JST-9")  # POSIX form: no tzdata needed
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("since, count", [
    ("2027-01-15T08:00:00Z", 1), ("2027-01-15T08:00:01Z", 0),
    ("2027-01-15t08:00:00z", 1), ("2027-01-15t08:00:01z", 0),  # RFC 3339 §5.6
    ("2027-01-15T08:00:00", 1), ("2027-01-15T08:00:01", 0),  # naive is UTC
    ("2027-01-15T09:00:00+01:00", 1), ("2027-01-15T09:00:01+01:00", 0),
    ("2027-01-15", 1), ("2027-01-16", 0), ("", 1),
])
def test_times_are_iso_8601_or_a_date_and_naive_means_utc(app, api, server_in_tokyo, since,
                                                          count):
    event_at(app, api)
    assert found(api, since=since) == count


# Who a name or unique ID stands for (app/services/subjects.py) after `flask
# purge-audit` removed the creation events: live users are found from their own
# rows, and an ID that only acted is still found by its events.

@pytest.fixture
def purged(app, api, org, other_org, machine_user):
    """``demo-user`` in acme, a ``demo-user`` and an admin in globex, then every
    audit event deleted (as an old enough retention would); globex's admin's ID."""
    Api(api.client, other_org.admin_token).post("/users", {"name": "demo-user"})
    with app.app_context():
        theirs = orgs.get_account(other_org.admin_email).uid
        audit.purge(now() + 1)
    return theirs


def _uids(app, org, value):
    with app.app_context():
        return subjects.uids(callers.from_account(orgs.get_account(org.admin_email)), value)


def test_a_live_machine_user_is_found_by_name_and_id_after_audit_purge(
        app, org, machine_user, purged):
    assert _uids(app, org, "demo-user") == {machine_user.email}
    assert _uids(app, org, machine_user.email) == {machine_user.email}


def test_a_live_admin_is_found_by_email_and_id_after_audit_purge(app, org, purged):
    assert _uids(app, org, org.admin_email) == {org.admin_uid}
    assert _uids(app, org, org.admin_uid) == {org.admin_uid}


def test_another_organizations_users_are_not_found_after_audit_purge(app, org, other_org,
                                                                      purged):
    assert _uids(app, org, purged) == set()  # globex's admin, by ID
    assert _uids(app, org, other_org.admin_email) == set()
    assert _uids(app, other_org, org.admin_uid) == set()


def test_an_id_that_only_acted_is_found_by_its_events(app, org, purged):
    with app.app_context():
        admin = callers.from_account(orgs.get_account(org.admin_email))
        gone = replace(admin, uid="person-who-left@ids.test")
        audit.record("user.create", actor=gone, commit=True)
    assert _uids(app, org, "person-who-left@ids.test") == {"person-who-left@ids.test"}


def test_a_deleted_user_that_never_acted_is_found_by_its_id_in_events_about_it(app, api, org):
    uid = api.post("/users", {"name": "short-lived"}).get_json()["email"]
    api.delete("/users/short-lived")
    assert _uids(app, org, uid) == {uid}  # only ever the subject, never the actor
    assert {e["action"] for e in api.get(f"/activity?user={uid}").get_json()["items"]} == {
        "user.create", "user.delete"}


def test_live_users_are_named_after_audit_purge_and_other_organizations_are_not(
        app, org, other_org, machine_user, purged):
    with app.app_context():
        caller = callers.from_account(orgs.get_account(org.admin_email))
        theirs = subjects.uids(callers.from_account(orgs.get_account(other_org.admin_email)),
                               "demo-user")
        assert subjects.names_of(caller, {org.admin_uid, machine_user.email, purged, *theirs}
                                 ) == {org.admin_uid: org.admin_email,
                                       machine_user.email: "demo-user"}
