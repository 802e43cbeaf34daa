"""Growth: `purge-expired` deletes old dead tokens in batches, and the hot
lookups stay index lookups however big the tables get (EXPLAIN on
PostgreSQL, over 100k tokens and 200k audit events)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event, select, text, update

from app.models import Token, db, now
from app.services import activity, callers, tokens
from tests.store.conftest import make_app, prepare, requires_pg

DAY = 86400


def add_token(org_id: int, *, issued: int, expires: int, revoked: int | None = None) -> str:
    value, token = tokens._new(kind="scoped", org_id=org_id, subject_uid="u@x",
                               subject_name="u", scope=["cli"], lifetime=expires - issued,
                               created_by="test")
    # _new returns a detached copy of the row: set the times on the row itself.
    db.session.execute(update(Token).where(Token.token_id == token.token_id).values(
        issued_at=issued, expires_at=expires, revoked_at=revoked))
    db.session.commit()
    return token.token_id


def test_purge_expired_removes_only_tokens_dead_longer_than_the_retention(app, org, runner):
    t = now()
    with app.app_context():
        old_expired = add_token(org.id, issued=t - 90 * DAY, expires=t - 60 * DAY)
        old_revoked = add_token(org.id, issued=t - 50 * DAY, expires=t + DAY,
                                revoked=t - 40 * DAY)
        recently_expired = add_token(org.id, issued=t - 20 * DAY, expires=t - 10 * DAY)
        recently_revoked = add_token(org.id, issued=t - 20 * DAY, expires=t + DAY,
                                     revoked=t - 5 * DAY)
        live = add_token(org.id, issued=t - DAY, expires=t + DAY)
    result = runner.invoke(args=["purge-expired", "--retention", str(30 * DAY), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"removed": 2, "retention": 30 * DAY}
    with app.app_context():
        left = set(db.session.scalars(select(Token.token_id)))
    assert {old_expired, old_revoked}.isdisjoint(left)
    assert {recently_expired, recently_revoked, live} <= left
    # it is audited
    with app.app_context():
        from app.models import AuditEvent

        assert db.session.scalars(select(AuditEvent.detail).where(
            AuditEvent.action == "token.purge")).all() == ["2 removed"]


def test_purge_works_in_batches_and_commits_each(app, org):
    t = now()
    with app.app_context():
        for _ in range(7):
            add_token(org.id, issued=t - 90 * DAY, expires=t - 60 * DAY)
        commits = []

        def count(session):
            commits.append(1)

        session = db.session()
        event.listen(session, "after_commit", count)
        try:
            assert tokens.purge(30 * DAY, batch=3) == 7
        finally:
            event.remove(session, "after_commit", count)
        assert len(commits) >= 3  # 3 + 3 + 1: never one huge transaction
        assert tokens.purge(30 * DAY, batch=3) == 0


def test_purge_default_retention_comes_from_the_setting(app, org, runner):
    t = now()
    with app.app_context():
        add_token(org.id, issued=t - 90 * DAY, expires=t - 31 * DAY)
    result = runner.invoke(args=["purge-expired", "--json"])
    assert json.loads(result.output)["removed"] == 1
    assert json.loads(result.output)["retention"] == app.config["SCOPEGATE_PURGE_RETENTION"]


# --- EXPLAIN on PostgreSQL ---------------------------------------------------

SEED = [
    "INSERT INTO organization (name, created_at) "
    "SELECT 'org' || g, 0 FROM generate_series(2, 50) g",
    "INSERT INTO token (token_id, token_hash, kind, org_id, subject_uid, subject_name, "
    "created_by, scope, issued_at, expires_at) "
    "SELECT md5(g::text), md5('a' || g) || md5('b' || g), 'scoped', 1 + g % 50, "
    "'u' || (g % 3000) || '@x', 'user' || (g % 3000), 'admin', 'cli', 0, 2000000000 "
    "FROM generate_series(1, 100000) g",
    "INSERT INTO audit_event (at, org_id, actor, actor_name, subject, subject_name, action, "
    "outcome) SELECT g, 1 + g % 50, 'u' || (g % 3000) || '@x', 'user' || (g % 3000), "
    "'u' || ((g * 7) % 3000) || '@x', 'user' || ((g * 7) % 3000), "
    "(ARRAY['token.create', 'token.issue', 'api.call', 'token.revoke'])[1 + g % 4], "
    "'success' FROM generate_series(1, 200000) g",
    "ANALYZE",
]


@pytest.fixture(scope="module")
def big_app(tmp_path_factory):
    """A PostgreSQL database with 100k tokens and 200k audit events in 50 orgs."""
    from tests.store.conftest import ON_PG, PG_URL

    if not ON_PG:
        pytest.skip("PostgreSQL only")
    from tests import pg

    url = pg.create_database(PG_URL)
    prepare(url)  # org 1 "acme" with its admin
    app = make_app(url)
    with app.app_context():
        for statement in SEED:
            db.session.execute(text(statement))
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()
    pg.drop_database(url)


def plans_of(app, call) -> list[tuple[str, str]]:
    """Run ``call`` in the app and EXPLAIN every SELECT it sent."""
    sent = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            call()
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        db.session.rollback()
        with db.engine.connect() as conn:
            return [(statement, "\n".join(r[0] for r in conn.exec_driver_sql(
                "EXPLAIN " + statement, parameters))) for statement, parameters in sent]


def assert_indexed(plans, table: str) -> None:
    assert plans, "nothing was queried"
    for statement, plan in plans:
        if f"FROM {table}" in statement or f"JOIN {table}" in statement:
            assert f"Seq Scan on {table}" not in plan, f"{statement}\n{plan}"
            assert "Index" in plan, f"{statement}\n{plan}"


def admin(org_id: int = 1) -> callers.Caller:
    return callers.Caller(callers.ADMIN, "u1@x", "user1", org_id, frozenset({"admin"}))


@requires_pg
def test_introspection_lookup_is_an_index_scan(big_app):
    value = "sgt_" + "A" * 40  # the shape does not matter to the plan; the hash lookup does

    def lookup():
        db.session.execute(select(Token).where(Token.token_hash == "0" * 64)).all()
        tokens.find(value)

    plans = plans_of(big_app, lookup)
    assert_indexed(plans, "token")
    assert any("uq_token_token_hash" in plan for _, plan in plans)


@requires_pg
@pytest.mark.parametrize("filters", [
    {},
    {"actors": ["user17"]},
    {"users": ["user17"]},
    {"users": ["u17@x"]},
    {"action": "token.revoke"},
    {"actors": ["u17@x"], "action": "token.create"},
])
def test_activity_queries_use_indexes(big_app, filters):
    plans = plans_of(big_app, lambda: activity.query(admin(), limit=50, **filters))
    assert_indexed(plans, "audit_event")


@requires_pg
@pytest.mark.parametrize("filters", [{}, {"kind": "scoped"}, {"user": "user350"},
                                     {"user": "u350@x"}])  # in org 1
def test_token_listing_uses_indexes(big_app, filters):
    plans = plans_of(big_app, lambda: tokens.listing(admin(), limit=50, **filters))
    assert_indexed(plans, "token")
