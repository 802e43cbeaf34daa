"""Operator-side rules in detail: purge boundaries, organization and resource-server names,
key rotation, and what the dashboard counts before a deletion."""

import re
import time

import pytest
from sqlalchemy import select, update

from app.errors import ScopegateError
from app.models import Account, AuditEvent, MachineUser, SigningKey, Token, db
from app.services import callers, keys, orgs, tokens

RETENTION = 1000


@pytest.fixture
def frozen_now(monkeypatch) -> int:
    """The rules' clock, stopped (tokens made by the fixtures stay live)."""
    at = int(time.time())
    monkeypatch.setattr(tokens, "now", lambda: at)
    return at


def token_rows(app, api, count: int) -> list[str]:
    api.post("/users", {"name": "bulk"})
    return [api.post("/users/bulk/tokens", {"scopes": ["cli"]}).get_json()["token_id"]
            for _ in range(count)]


def set_times(token_id: str, **values) -> None:
    db.session.execute(update(Token).where(Token.token_id == token_id).values(**values))


def test_purge_removes_only_tokens_dead_longer_than_the_retention(app, api, frozen_now):
    T = frozen_now
    expired_long, revoked_long, expired_edge, revoked_edge, live = token_rows(app, api, 5)
    cutoff = T - RETENTION
    with app.app_context():
        set_times(expired_long, expires_at=cutoff - 1)
        set_times(revoked_long, revoked_at=cutoff - 1, expires_at=T + 10)
        set_times(expired_edge, expires_at=cutoff)
        set_times(revoked_edge, revoked_at=cutoff, expires_at=T + 10)
        set_times(live, expires_at=T + 10)
        db.session.commit()
        assert tokens.purge(RETENTION, batch=1) == 2
        left = set(db.session.scalars(select(Token.token_id)))
    assert left >= {expired_edge, revoked_edge, live}
    assert not left & {expired_long, revoked_long}


def test_live_count_counts_neither_revoked_nor_expired_tokens(app, api, frozen_now):
    T = frozen_now
    live, revoked, expired = token_rows(app, api, 3)
    with app.app_context():
        set_times(live, expires_at=T + 1)
        set_times(revoked, revoked_at=T - 1, expires_at=T + 1)
        set_times(expired, expires_at=T)  # expiring now is expired
        db.session.commit()
        user = db.session.scalar(select(MachineUser).where(MachineUser.name == "bulk"))
        assert tokens.live_count(user) == 1


def test_revoking_a_users_tokens_touches_and_counts_only_live_ones(app, api, frozen_now):
    T = frozen_now
    live, expired = token_rows(app, api, 2)
    with app.app_context():
        set_times(live, expires_at=T + 1)
        set_times(expired, expires_at=T)  # expiring now is expired: dead already
        db.session.commit()
        user = db.session.scalar(select(MachineUser).where(MachineUser.name == "bulk"))
        assert tokens.revoke_all_of(user) == 1
        db.session.commit()
        revoked = dict(db.session.execute(select(Token.token_id, Token.revoked_at)).all())
    assert revoked[live] == T and revoked[expired] is None
    with app.app_context():
        assert tokens.live_count(db.session.merge(user)) == 0


def test_live_count_of_a_person_counts_only_their_live_tokens(app, api, org, frozen_now):
    T = frozen_now
    token_rows(app, api, 1)  # a machine user's live token: not the person's
    with app.app_context():
        admin = db.session.scalar(select(Account).where(Account.uid == org.admin_uid))
        revoked, expired = (tokens.create_personal(admin, callers.operator(org.id))[1].token_id
                            for _ in range(2))
        set_times(revoked, revoked_at=T - 1, expires_at=T + 1)
        set_times(expired, expires_at=T)  # expiring now is expired
        db.session.commit()
        assert tokens.live_count_of_account(admin) == 1  # the fixture's token
@pytest.mark.parametrize("name", ["", "   ", "x" * 101, None])
@pytest.mark.parametrize("create, what", [(orgs.create_resource_server, "resource server"),
                                          (orgs.create_org, "organization")])
def test_resource_server_and_organization_names_must_be_1_to_100_characters(app, create, what,
                                                                            name):
    with app.app_context(), pytest.raises(ScopegateError) as raised:
        create(callers.operator(), name)
    assert raised.value.get_error_description() == f"The {what} name must be 1-100 characters."


def test_organization_names_are_unique_and_may_be_100_characters(app):
    with app.app_context():
        assert orgs.get_org(orgs.create_org(callers.operator(), "x" * 100).name)
        with pytest.raises(ScopegateError) as raised:
            orgs.create_org(callers.operator(), "x" * 100)
    assert raised.value.error == "conflict"


def test_creating_an_organization_and_its_admin_is_audited(app, org):
    with app.app_context():
        events = db.session.execute(select(
            AuditEvent.action, AuditEvent.actor, AuditEvent.org_id, AuditEvent.subject,
            AuditEvent.subject_name, AuditEvent.target, AuditEvent.outcome,
        ).where(AuditEvent.action.in_(["org.create", "account.create"])).order_by(AuditEvent.id))
        assert [tuple(e) for e in events] == [
            ("org.create", "operator", org.id, None, None, "acme", "success"),
            ("account.create", "operator", org.id, org.admin_uid, org.admin_email,
             org.admin_email, "success")]


def test_an_admin_made_by_the_operator_at_large_is_audited_in_their_organization(app, org):
    with app.app_context():
        acme = orgs.get_org("acme")
        second = orgs.create_admin(callers.operator(), acme, "second@acme.test")
        assert db.session.scalar(select(AuditEvent.org_id).where(
            AuditEvent.subject == second.uid)) == org.id


def test_an_account_is_found_by_its_email_in_any_case_and_spacing(app, org):
    with app.app_context():
        assert orgs.get_account(" Admin@ACME.test ").uid == org.admin_uid
        with pytest.raises(ScopegateError) as raised:
            orgs.get_account("nobody@acme.test")
    assert raised.value.error == "not_found"


def test_resource_server_names_are_unique_and_ids_are_rs_plus_16_hex(app):
    with app.app_context():
        server, secret = orgs.create_resource_server(callers.operator(), "x" * 100)
        assert re.fullmatch(r"rs-[0-9a-f]{16}", server.client_id)
        event = db.session.execute(select(AuditEvent.actor, AuditEvent.target, AuditEvent.detail)
                                   .where(AuditEvent.action == "resource_server.create")).one()
        assert tuple(event) == ("operator", server.client_id, "x" * 100)
        orgs.create_resource_server(callers.operator(), "models")
        with pytest.raises(ScopegateError) as raised:
            orgs.create_resource_server(callers.operator(), "models")
    assert raised.value.error == "conflict" and "'models'" in raised.value.description


def test_rotation_retires_the_previous_key_deletes_older_ones_and_is_audited(app):
    with app.app_context():
        first = keys.published()[0].kid
        second, dropped = keys.rotate(callers.operator())
        assert dropped == []
        retired = db.session.scalar(select(SigningKey).where(SigningKey.kid == first))
        assert retired.retired_at is not None
        third, dropped = keys.rotate(callers.operator())
        assert dropped == [first]
        assert list(db.session.scalars(select(SigningKey.kid).order_by(SigningKey.id))) == [
            second, third]
        events = db.session.execute(select(AuditEvent.actor, AuditEvent.target).where(
            AuditEvent.action == "key.rotate").order_by(AuditEvent.id)).all()
    assert [tuple(e) for e in events] == [("operator", second), ("operator", third)]


@pytest.mark.parametrize("who", ["admin_email", "admin_uid"])
def test_token_listing_filters_by_an_admin(api, org, scoped_token, who):
    items = api.get(f"/tokens?user={getattr(org, who)}").get_json()["items"]
    assert [(t["token_id"], t["kind"]) for t in items] == [(org.admin_token_id, "personal")]


def test_token_listing_cannot_filter_by_another_organizations_admin(api, other_org):
    assert api.get(f"/tokens?user={other_org.admin_email}").status_code == 404
