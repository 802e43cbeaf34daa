"""People: invitations by one-time link, roles, disabling, deleting, the
last-admin rule, members' reach, offboarding, tenant isolation (admin API
and services)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select, update

from app.api import representations
from app.errors import Forbidden, Unprocessable
from app.models import Account, Token, db, now
from app.services import (
    callers,
    links,
    logins,
    orgs,
    passwords,
    people,
    sessions,
    tokens,
    users,
)
from tests.conftest import Api
from tests.web.conftest import fast_argon2  # noqa: F401  (cheap argon2 for these tests)

PASSWORD = "a long enough passphrase"


def code_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def invite(api, email="ann@acme.test", role="member") -> dict:
    response = api.post("/people", {"email": email, "role": role})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@dataclass
class Joined:
    id: int
    uid: str
    joined_at: int


def join(app, invitation: dict, password=PASSWORD) -> Joined:
    """The invited person opens the link and chooses a password."""
    with app.app_context():
        account = links.use(code_of(invitation["invite_url"]), links.INVITE, password, password)
        return Joined(account.id, account.uid, account.joined_at)


def member_token(api, email="ann@acme.test") -> dict:
    response = api.post(f"/people/{email}/tokens", {"name": "laptop"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def events(api, action: str) -> list[dict]:
    return api.get(f"/activity?action={action}").get_json()["items"]


def assert_admin_acted_on_ann(event: dict, org, ann_uid: str, detail: str | None) -> None:
    """The whole audit record of an admin's action on ann@acme.test."""
    assert (event["actor"], event["actor_name"]) == (org.admin_uid, org.admin_email)
    assert (event["subject"], event["subject_name"]) == (ann_uid, "ann@acme.test")
    assert (event["target"], event["outcome"], event["detail"]) == (
        "ann@acme.test", "success", detail)


# -- invitations -------------------------------------------------------------


def test_invite_answers_the_person_and_a_one_time_link(api, org):
    body = invite(api)
    assert body["email"] == "ann@acme.test" and body["role"] == "member"
    assert body["invite_url"].startswith("http://localhost/invite/")
    assert body["status"] == "invited" and body["joined_at"] is None
    assert body["created_by"] == org.admin_uid
    [event] = events(api, "person.invite")
    assert_admin_acted_on_ann(event, org, body["uid"], "member")


def test_the_link_is_shown_once_and_stored_only_as_a_digest(app, api):
    url = invite(api)["invite_url"]
    assert "invite_url" not in api.get("/people/ann@acme.test").get_json()
    with app.app_context():
        stored = db.session.execute(db.text("SELECT code_hash FROM setup_code")).scalars().all()
    assert code_of(url) not in stored


def test_invited_person_chooses_a_password_once_and_joins(app, api):
    invitation = invite(api)
    account = join(app, invitation)
    assert account.joined_at is not None
    assert api.get("/people/ann@acme.test").get_json()["status"] == "active"
    with app.app_context():
        assert logins.authenticate("ann@acme.test", PASSWORD, None).uid == invitation["uid"]
        with pytest.raises(links.DeadLink):
            links.use(code_of(invitation["invite_url"]), links.INVITE, PASSWORD, PASSWORD)
    [event] = events(api, "person.join")
    assert (event["actor"], event["actor_name"]) == (invitation["uid"], "ann@acme.test")
    assert (event["subject"], event["subject_name"]) == (invitation["uid"], "ann@acme.test")
    assert event["target"] == "ann@acme.test" and event["outcome"] == "success"


def test_invitation_password_follows_the_password_rule(app, api):
    invitation = invite(api)
    with app.app_context(), pytest.raises(Unprocessable, match="at least 12 characters"):
        links.use(code_of(invitation["invite_url"]), links.INVITE, "short", "short")
    join(app, invitation)  # a refused password does not burn the link


def test_a_new_password_is_12_to_1024_characters_typed_twice_alike(app):
    with app.app_context():
        for fine in ("x" * 12, "x" * 1024):
            passwords.check_new_password(fine, fine)
        for refused, why in (("x" * 11, "at least 12 characters"),
                             ("x" * 1025, "at most 1024 characters")):
            with pytest.raises(Unprocessable, match=why):
                passwords.check_new_password(refused, refused)
        with pytest.raises(Unprocessable, match="The two passwords differ."):
            passwords.check_new_password("x" * 12, "y" * 12)


def test_an_expired_invitation_is_dead(app, api):
    invitation = invite(api)
    with app.app_context():
        db.session.execute(db.text("UPDATE setup_code SET expires_at = :t"), {"t": now() - 1})
        db.session.commit()
        with pytest.raises(links.DeadLink):
            links.person_of(code_of(invitation["invite_url"]), links.INVITE)


def test_a_link_is_dead_from_its_expiry_second(app, api, monkeypatch):
    code = code_of(invite(api)["invite_url"])
    assert len(code) == 32  # 192 random bits
    with app.app_context():
        expires_at = db.session.execute(db.text("SELECT expires_at FROM setup_code")).scalar()
        monkeypatch.setattr(links, "now", lambda: expires_at - 1)
        assert links.person_of(code, links.INVITE).email == "ann@acme.test"
        monkeypatch.setattr(links, "now", lambda: expires_at)
        with pytest.raises(links.DeadLink):
            links.person_of(code, links.INVITE)


def test_an_invitation_says_when_its_link_expires_24_hours_on(app, api):
    body = invite(api)
    with app.app_context():
        created, expires_at = db.session.execute(
            db.text("SELECT created_at, expires_at FROM setup_code")).one()
    assert expires_at - created == 24 * 3600
    assert body["invite_expires_at"] == representations.iso(expires_at)


def test_a_person_disabled_after_their_link_was_issued_cannot_use_it(app, api):
    code = code_of(invite(api)["invite_url"])
    with app.app_context():  # disabled without the offboarding that kills links
        db.session.execute(db.text("UPDATE account SET disabled_at = 1 "
                                   "WHERE email = 'ann@acme.test'"))
        db.session.commit()
        with pytest.raises(links.DeadLink):
            links.use(code, links.INVITE, PASSWORD, PASSWORD)


def test_a_new_link_for_one_person_leaves_other_peoples_links(app, api):
    bob = invite(api, "bob@acme.test")
    invite(api)
    api.post("/people/ann@acme.test/reset-link")
    with app.app_context():
        assert links.person_of(code_of(bob["invite_url"]), links.INVITE).uid == bob["uid"]


def test_an_invitation_code_is_not_a_reset_code(app, api):
    invitation = invite(api)
    with app.app_context(), pytest.raises(links.DeadLink):
        links.person_of(code_of(invitation["invite_url"]), links.RESET)


@pytest.mark.parametrize("body", [
    {"email": "ann@acme.test"},
    {"role": "member"},
    {"email": "ann@acme.test", "role": "owner"},
    {"email": "not-an-email", "role": "member"},
    {"email": 5, "role": "member"},
    {"email": {"a": 1}, "role": ["member"]},
    {"email": "a" * 64 + "@" + "b" * 190, "role": "member"},
    {"email": "ann\u00e9@acme.test", "role": "member"},
    {"email": 'a"b\\c@acme.test', "role": "member"},
    {"email": "ann@acme.test", "role": "member", "extra": 1},
])
def test_invite_refuses_bad_input_with_422(api, body):
    response = api.post("/people", body)
    assert response.status_code == 422
    assert response.get_json()["error"] == "invalid_request"


@pytest.mark.parametrize("last_label, status", [("d" * 61, 201), ("d" * 62, 422)])
def test_an_email_is_at_most_254_characters(api, last_label, status):
    email = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + last_label
    assert len(email) == 254 + (status == 422)
    assert api.post("/people", {"email": email, "role": "member"}).status_code == status


def test_an_admin_made_at_the_operator_cli_is_created_by_the_operator(api, org):
    assert api.get(f"/people/{org.admin_email}").get_json()["created_by"] == "operator"


def test_inviting_an_existing_email_is_409(api, org):
    response = api.post("/people", {"email": org.admin_email.upper(), "role": "member"})
    assert response.status_code == 409
    assert response.get_json()["error_description"] == (
        f"An account with email {org.admin_email} already exists.")


def test_a_persons_unique_id_is_in_the_configured_domain(app, api):
    uid = invite(api)["uid"]
    assert uid.endswith("@" + app.config["SCOPEGATE_ID_DOMAIN"]) and len(uid.split("@")[0]) == 10


def test_people_list_pages_like_the_other_lists(api, org):
    invite(api, "b@acme.test")
    invite(api, "c@acme.test")
    first = api.get("/people?limit=2").get_json()
    assert [p["email"] for p in first["items"]] == ["c@acme.test", "b@acme.test"]
    rest = api.get(f"/people?limit=2&cursor={first['next_cursor']}").get_json()
    assert [p["email"] for p in rest["items"]] == [org.admin_email]
    assert rest["next_cursor"] is None


def test_a_person_is_found_by_email_or_unique_id(api):
    uid = invite(api)["uid"]
    assert api.get(f"/people/{uid}").get_json()["email"] == "ann@acme.test"
    assert api.get("/people/nobody@acme.test").status_code == 404


# -- members ------------------------------------------------------------------


@pytest.mark.parametrize("name, status", [("x" * 100, 201), ("x" * 101, 422), (5, 422)])
def test_a_personal_tokens_name_is_a_string_of_at_most_100_characters(api, org, name, status):
    response = api.post(f"/people/{org.admin_email}/tokens", {"name": name})
    assert response.status_code == status
    if status == 422:
        assert "`name`" in response.get_json()["error_description"]


def test_member_token_introspects_as_member_without_admin_scope(app, api):
    invitation = invite(api)
    token = member_token(api)
    assert token["role"] == "member" and token["scopes"] == []
    info = api.introspect(token["token"]).get_json()
    assert info["active"] is True and info["role"] == "member"
    assert info["user_type"] == "human" and info["sub"] == invitation["uid"]
    assert "admin" not in info["scope"].split()


def test_a_personal_token_for_a_member_is_audited_with_the_member_and_role(api, org):
    uid = invite(api)["uid"]
    token = member_token(api)
    (event,) = [e for e in events(api, "token.create") if e["target"] == token["token_id"]]
    assert (event["actor"], event["subject"], event["subject_name"], event["detail"]) == (
        org.admin_uid, uid, "ann@acme.test", "personal member")


def test_member_token_is_403_on_the_admin_api(client, api):
    invite(api)
    member = Api(client, member_token(api)["token"])
    for path in ("/users", "/people", "/tokens", "/activity"):
        response = member.get(path)
        assert response.status_code == 403, path
        assert response.get_json()["error"] == "insufficient_scope"
    assert member.post("/people", {"email": "x@acme.test", "role": "admin"}).status_code == 403
    me = member.get("/me").get_json()
    assert me["role"] == "member" and me["scopes"] == []


def test_member_token_introspects_only_its_own_tokens(client, api, org):
    invite(api)
    token = member_token(api)["token"]
    member = Api(client, token)
    assert member.introspect(org.admin_token).get_json() == {"active": False}
    assert member.introspect(token).get_json()["active"] is True


def test_admin_cannot_issue_a_token_acting_as_another_admin(app, api):
    join(app, invite(api, "boss@acme.test", "admin"))
    response = api.post("/people/boss@acme.test/tokens", {})
    assert response.status_code == 403


def test_members_do_not_issue_their_own_personal_tokens(app, api):
    account = join(app, invite(api))
    with app.app_context(), pytest.raises(Forbidden, match="Only an admin"):
        account = db.session.get(Account, account.id)
        tokens.create_personal(account, callers.from_account(account), name="mine")


def test_a_member_is_told_only_an_admin_manages_people_even_below_the_api(app, api):
    account = join(app, invite(api))
    with app.app_context():
        member = callers.from_account(db.session.get(Account, account.id))
        for attempt in (lambda: people.listing(member),
                        lambda: people.get(member, "ann@acme.test"),
                        lambda: people.invite(member, "bob@acme.test", "admin")):
            with pytest.raises(Forbidden, match="(?i)only an admin of the organization"):
                attempt()


def test_an_admin_of_another_organization_cannot_issue_a_members_personal_token(
        app, api, other_org):
    account = join(app, invite(api))
    with app.app_context(), pytest.raises(Forbidden, match="Only an admin"):
        stranger = orgs.get_account(other_org.admin_email)
        tokens.create_personal(db.session.get(Account, account.id),
                               callers.from_account(stranger))


def test_a_deleted_admin_is_still_named_as_the_creator_of_their_machine_users(app, api):
    boss = join(app, invite(api, "boss@acme.test", "admin"))
    with app.app_context():
        users.create(callers.from_account(db.session.get(Account, boss.id)), "bot", ["cli"])
    assert api.delete("/people/boss@acme.test").status_code == 204
    bot = api.get("/users/bot").get_json()
    assert (bot["created_by"], bot["created_by_name"]) == (boss.uid, "boss@acme.test")


def test_role_change_revokes_personal_tokens(api, org):
    ann = invite(api)
    token = member_token(api)
    response = api.patch("/people/ann@acme.test", {"role": "admin"})
    assert response.status_code == 200 and response.get_json()["role"] == "admin"
    assert api.introspect(token["token"]).get_json() == {"active": False}
    [event] = events(api, "person.update")
    assert_admin_acted_on_ann(event, org, ann["uid"],
                              "role member -> admin; 1 personal token(s) revoked")


def test_role_change_leaves_the_tokens_apps_hold_for_the_person(app, api, org):
    """Only personal tokens carry the role's rights; an app's sign-in stays."""
    ann = join(app, invite(api))
    member_token(api)
    with app.app_context():
        account = db.session.get(Account, ann.id)
        _, app_token = tokens._new(kind=tokens.APP, org_id=account.org_id, subject_uid=ann.uid,
                                   subject_name=account.email, scope=[], lifetime=3600,
                                   created_by=ann.uid, account_id=ann.id,
                                   client_id="app-notebooks")
        db.session.commit()
        app_token_id = app_token.token_id
    assert api.patch("/people/ann@acme.test", {"role": "admin"}).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Token.revoked_at).where(
            Token.token_id == app_token_id)) is None
    [event] = events(api, "person.update")
    assert_admin_acted_on_ann(event, org, ann.uid,
                              "role member -> admin; 1 personal token(s) revoked")


@pytest.mark.parametrize("body", [{}, {"role": "root"}, {"disabled": "yes"}, {"name": "x"},
                                  {"role": None}, {"role": ["admin"]}, {"disabled": 1}])
def test_update_refuses_bad_input_with_422(api, body):
    invite(api)
    assert api.patch("/people/ann@acme.test", body).status_code == 422


def test_a_disabled_flag_that_is_not_a_boolean_is_refused_saying_so(api):
    invite(api)
    answer = api.patch("/people/ann@acme.test", {"disabled": "yes"})
    assert answer.status_code == 422
    assert "`disabled` must be true or false" in answer.get_json()["error_description"].lower()


def test_an_unknown_person_is_404_saying_so(api):
    answer = api.get("/people/nobody@acme.test")
    assert answer.status_code == 404
    assert "no such person" in answer.get_json()["error_description"].lower()


# -- the last admin -----------------------------------------------------------


@pytest.mark.parametrize("change", ["demote", "disable", "delete"])
def test_the_last_admin_cannot_be_removed(api, org, change):
    path = f"/people/{org.admin_email}"
    response = {"demote": lambda: api.patch(path, {"role": "member"}),
                "disable": lambda: api.patch(path, {"disabled": True}),
                "delete": lambda: api.delete(path)}[change]()
    assert response.status_code == 409
    assert response.get_json()["error_description"] == (
        f"{org.admin_email} is the last admin of the organization: "
        f"make another person admin before you {change} them.")
    assert api.get("/me").status_code == 200  # nothing happened to the admin


def test_an_invited_admin_who_has_not_joined_does_not_count(app, api, org):
    invitation = invite(api, "boss@acme.test", "admin")
    assert api.patch(f"/people/{org.admin_email}", {"role": "member"}).status_code == 409
    join(app, invitation)
    assert api.patch(f"/people/{org.admin_email}", {"role": "member"}).status_code == 200


def test_only_enabled_admins_of_the_organization_who_joined_count(app, api, org, other_org):
    """A member, a disabled admin and another organization's admins leave the
    last admin still the last."""
    join(app, invite(api, "ann@acme.test", "member"))
    join(app, invite(api, "boss@acme.test", "admin"))
    assert api.patch("/people/boss@acme.test", {"disabled": True}).status_code == 200
    path = f"/people/{org.admin_email}"
    assert api.patch(path, {"role": "member"}).status_code == 409
    assert api.patch(path, {"disabled": True}).status_code == 409
    assert api.delete(path).status_code == 409


def test_without_an_admin_who_joined_the_rule_keeps_nobody(app):
    """An organization whose first admin has not joined yet: the operator may
    still remove its people, that admin included (nobody is the last admin)."""
    with app.app_context():
        newco = orgs.create_org(callers.operator(), "newco")
        operator = callers.operator(newco.id)
        people.invite(operator, "boss@newco.test", "admin")
        _, link = people.invite(operator, "ann@newco.test", "member")
        links.use(code_of(link.url), links.INVITE, PASSWORD, PASSWORD)
        people.delete_person(operator, "ann@newco.test")
        people.delete_person(operator, "boss@newco.test")
        assert db.session.scalar(select(Account.id).where(Account.org_id == newco.id)) is None


# -- offboarding ----------------------------------------------------------------


@pytest.fixture
def ann(app, api):
    """A member who joined, is signed in to the dashboard and holds a personal token."""
    account = join(app, invite(api))
    token = member_token(api)
    with app.app_context():
        sid = sessions.start(db.session.get(Account, account.id), "127.0.0.1")
    return {"uid": account.uid, "sid": sid, "token": token}


def assert_everything_ended(app, api, ann):
    assert api.introspect(ann["token"]["token"]).get_json() == {"active": False}
    with app.app_context():
        assert sessions.resume(ann["sid"]) is None
        with pytest.raises(logins.LoginFailed):
            logins.authenticate("ann@acme.test", PASSWORD, None)


def test_disabling_ends_sessions_tokens_and_sign_in_at_once(app, api, org, ann):
    body = api.patch("/people/ann@acme.test", {"disabled": True}).get_json()
    assert body["status"] == "disabled" and body["disabled"] is True
    assert_everything_ended(app, api, ann)
    [event] = events(api, "person.disable")
    assert_admin_acted_on_ann(event, org, ann["uid"], "1 session(s) ended, 1 token(s) revoked")


def test_disabling_a_person_who_holds_nothing_audits_that_nothing_ended(api, org):
    invitation = invite(api)
    api.patch("/people/ann@acme.test", {"disabled": True})
    [event] = events(api, "person.disable")
    assert_admin_acted_on_ann(event, org, invitation["uid"],
                              "0 session(s) ended, 0 token(s) revoked")


def test_deleting_ends_everything_and_keeps_history(app, api, org, ann):
    assert api.delete("/people/ann@acme.test").status_code == 204
    assert_everything_ended(app, api, ann)
    assert api.get("/people/ann@acme.test").status_code == 404
    history = api.get(f"/activity?user={ann['uid']}").get_json()["items"]
    assert {"person.delete", "person.join", "person.invite"} <= {e["action"] for e in history}
    [event] = events(api, "person.delete")
    assert_admin_acted_on_ann(event, org, ann["uid"], "1 session(s) ended, 1 token(s) revoked")
    revoked = api.get(f"/tokens/{ann['token']['token_id']}").get_json()
    assert revoked["active"] is False and revoked["email"] == "ann@acme.test"


def test_enabling_again_restores_sign_in_but_not_tokens(app, api, org, ann):
    api.patch("/people/ann@acme.test", {"disabled": True})
    assert api.patch("/people/ann@acme.test", {"disabled": False}).get_json()["status"] == "active"
    with app.app_context():
        assert logins.authenticate("ann@acme.test", PASSWORD, None).uid == ann["uid"]
    assert api.introspect(ann["token"]["token"]).get_json() == {"active": False}
    [event] = events(api, "person.enable")
    assert_admin_acted_on_ann(event, org, ann["uid"], None)


def test_offboarding_revokes_every_token_of_the_account_whatever_its_kind(app, api, ann):
    """Apps' tokens for a person (another kind, same table) die with the person too."""
    with app.app_context():
        account = db.session.scalar(select(Account).where(Account.uid == ann["uid"]))
        value, _ = tokens._new(kind="app", org_id=account.org_id, subject_uid=account.uid,
                               subject_name=account.email, scope=[], lifetime=3600,
                               created_by=account.uid, account_id=account.id,
                               client_id="app-notebooks")
        db.session.commit()
        ended = people.offboard(account)
        db.session.commit()
        assert ended.tokens == 2 and ended.sessions == 1
        live = db.session.scalars(select(Token).where(Token.subject_uid == ann["uid"],
                                                      Token.revoked_at.is_(None))).all()
        assert live == []


def test_disabling_revokes_a_persons_token_stored_without_its_account(app, api, ann):
    """A row found by the person's unique ID alone (``account_id`` never set)
    dies with the others."""
    with app.app_context():
        db.session.execute(update(Token).where(Token.token_id == ann["token"]["token_id"])
                           .values(account_id=None))
        db.session.commit()
    api.patch("/people/ann@acme.test", {"disabled": True})
    assert api.introspect(ann["token"]["token"]).get_json() == {"active": False}


def test_a_disabled_person_gets_no_new_token(api, ann):
    api.patch("/people/ann@acme.test", {"disabled": True})
    response = api.post("/people/ann@acme.test/tokens", {})
    assert response.status_code == 409
    assert "ann@acme.test" in response.get_json()["error_description"]


@pytest.mark.parametrize("change", [{"disabled_at": 1}, {"role": "admin"}])
def test_a_person_disabled_or_promoted_while_their_token_is_issued_gets_none(
        app, api, ann, monkeypatch, change):
    """The second read inside the write transaction sees a change that landed
    between the first check and the insert: no token is made."""
    insert = tokens._new

    def changed_meanwhile(**row):
        made = insert(**row)
        db.session.execute(update(Account).where(Account.uid == ann["uid"]).values(**change))
        return made

    monkeypatch.setattr(tokens, "_new", changed_meanwhile)
    response = api.post("/people/ann@acme.test/tokens", {"name": "raced"})
    assert response.status_code == 409
    assert "ann@acme.test" in response.get_json()["error_description"]
    with app.app_context():
        assert db.session.scalar(select(Token).where(Token.name == "raced")) is None


def test_tokens_a_person_created_for_machine_users_stay(app, client, api):
    """They belong to the machine users; offboarding the person does not stop the programs."""
    account = join(app, invite(api, "boss@acme.test", "admin"))
    with app.app_context():
        boss = db.session.get(Account, account.id)
        value, _ = tokens.create_personal(boss, callers.from_account(boss))
    boss_api = Api(client, value)
    boss_api.post("/users", {"name": "bot"})
    scoped = boss_api.post("/users/bot/tokens", {"scopes": ["cli"]}).get_json()
    assert api.delete("/people/boss@acme.test").status_code == 204
    assert boss_api.get("/me").status_code == 401
    assert api.introspect(scoped["token"]).get_json()["active"] is True


# -- forgotten passwords ----------------------------------------------------------


def test_reset_link_sets_a_new_password_and_ends_other_sessions(app, api, org, ann):
    first = api.post("/people/ann@acme.test/reset-link").get_json()
    second = api.post("/people/ann@acme.test/reset-link")
    assert second.status_code == 201
    link = second.get_json()
    assert link["purpose"] == "reset" and link["reset_url"].startswith("http://localhost/reset/")
    with app.app_context():
        # Until the link is used, the current password still works.
        assert logins.authenticate("ann@acme.test", PASSWORD, None)
        with pytest.raises(links.DeadLink):  # the newer link killed the first one
            links.person_of(code_of(first["reset_url"]), links.RESET)
        links.use(code_of(link["reset_url"]), links.RESET, "a brand new passphrase",
                  "a brand new passphrase")
        assert sessions.resume(ann["sid"]) is None
        with pytest.raises(logins.LoginFailed):
            logins.authenticate("ann@acme.test", PASSWORD, None)
        assert logins.authenticate("ann@acme.test", "a brand new passphrase", None)
    issued = events(api, "person.reset_link")
    assert len(issued) == 2
    for event in issued:
        assert_admin_acted_on_ann(event, org, ann["uid"], "reset")
    [event] = events(api, "person.password")
    assert (event["actor"], event["actor_name"]) == (ann["uid"], "ann@acme.test")
    assert (event["subject"], event["subject_name"]) == (ann["uid"], "ann@acme.test")
    assert event["target"] == "ann@acme.test" and event["outcome"] == "success"


def test_a_reset_ends_only_that_persons_sessions(app, api, org, ann):
    link = api.post("/people/ann@acme.test/reset-link").get_json()
    with app.app_context():
        admin_sid = sessions.start(orgs.get_account(org.admin_email), "127.0.0.1")
        links.use(code_of(link["reset_url"]), links.RESET, "a brand new passphrase",
                  "a brand new passphrase")
        assert sessions.resume(ann["sid"]) is None
        assert sessions.resume(admin_sid) is not None


def test_a_new_link_for_a_person_who_never_joined_is_a_new_invitation(app, api):
    invitation = invite(api)
    link = api.post("/people/ann@acme.test/reset-link").get_json()
    assert link["purpose"] == "invite" and "/invite/" in link["reset_url"]
    with app.app_context(), pytest.raises(links.DeadLink):
        links.person_of(code_of(invitation["invite_url"]), links.INVITE)


def test_disabling_kills_the_person_s_links(app, api, ann):
    link = api.post("/people/ann@acme.test/reset-link").get_json()
    api.patch("/people/ann@acme.test", {"disabled": True})
    with app.app_context(), pytest.raises(links.DeadLink):
        links.person_of(code_of(link["reset_url"]), links.RESET)
    refused = api.post("/people/ann@acme.test/reset-link")
    assert refused.status_code == 409 and refused.get_json()["error_description"] == (
        "ann@acme.test is disabled: enable the account first.")


# -- tenant isolation ---------------------------------------------------------------


def test_another_organization_s_people_are_not_found(client, api, other_org):
    uid = invite(api)["uid"]
    other = Api(client, other_org.admin_token)
    for key in ("ann@acme.test", uid):
        assert other.get(f"/people/{key}").status_code == 404
        assert other.patch(f"/people/{key}", {"disabled": True}).status_code == 404
        assert other.delete(f"/people/{key}").status_code == 404
        assert other.post(f"/people/{key}/reset-link").status_code == 404
        assert other.post(f"/people/{key}/tokens", {}).status_code == 404
    emails = [p["email"] for p in other.get("/people").get_json()["items"]]
    assert emails == [other_org.admin_email]
    assert api.get("/people/ann@acme.test").get_json()["status"] == "invited"


def test_operator_invites_into_any_organization(app, org):
    with app.app_context():
        acme = orgs.get_org("acme")
        account, link = people.invite(callers.operator(acme.id), "ops@acme.test", "admin")
        assert account.created_by == "operator" and link.purpose == links.INVITE


@pytest.mark.parametrize("path", ["/people/a%00b", "/people/" + "x" * 5000,
                                  "/people/%E2%80%AE@acme.test"])
def test_hostile_people_paths_are_clear_4xx(api, path):
    for response in (api.get(path), api.patch(path, {"disabled": True}), api.delete(path),
                     api.post(path + "/reset-link"), api.post(path + "/tokens", {})):
        assert 400 <= response.status_code < 500 and response.is_json
