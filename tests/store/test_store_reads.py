"""On PostgreSQL the fast path reads on a connection each thread keeps, in autocommit
(``models.prepared.Reads``): no pool checkout, pre-ping, BEGIN or ROLLBACK around an
introspection's two reads; a connection the database dropped is replaced without an
error; the engine's dispose closes it."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import event, text

from app.models import db
from app.models.prepared import READS
from tests.store.conftest import ON_PG

pytestmark = pytest.mark.skipif(not ON_PG, reason="a server database's read connection")


def kept_reads(app):
    """The test thread's fast-path reads (the test client serves on this thread)."""
    return app.extensions["scopegate.fastpath"].local.session.info[READS]


def backend_pid(app) -> int:
    return kept_reads(app).connection().info.backend_pid


def backends(app) -> set[int]:
    with app.app_context():
        pids = db.session.scalars(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).all()
        db.session.rollback()
    return set(pids)


def test_an_introspection_reads_on_the_same_kept_connection_every_time(app, api,
                                                                        scoped_token):
    assert api.introspect(scoped_token["token"]).get_json()["active"] is True
    first = backend_pid(app)
    assert api.introspect(scoped_token["token"]).get_json()["active"] is True
    assert backend_pid(app) == first


def test_a_repeated_introspection_takes_nothing_from_the_pool(app, api, scoped_token):
    """Once the first use is recorded (a write, in the session's transaction), the
    reads alone answer: no checkout, so no pre-ping, BEGIN or ROLLBACK."""
    api.introspect(scoped_token["token"])
    checkouts = []
    with app.app_context():
        event.listen(db.engine.pool, "checkout", lambda *args: checkouts.append(args))
    assert api.introspect(scoped_token["token"]).get_json()["active"] is True
    assert checkouts == []
    assert kept_reads(app).connection().info.transaction_status == 0  # IDLE: nothing open


def test_a_read_connection_the_database_dropped_is_replaced_without_an_error(
        app, api, scoped_token):
    api.introspect(scoped_token["token"])
    dropped = backend_pid(app)
    with app.app_context():
        assert db.session.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
        db.session.commit()
    answer = api.introspect(scoped_token["token"])
    assert answer.status_code == 200 and answer.get_json()["active"] is True
    assert backend_pid(app) != dropped


def test_a_request_reads_its_own_writes_in_its_transaction(app):
    """Once the session has begun a transaction, reads run in it, not on the kept
    connection, which could not see what is not committed yet."""
    from sqlalchemy import bindparam, insert, select

    from app.models import Organization
    from app.models.prepared import Prepared

    table = Organization.__table__
    by_name = Prepared(select(table.c.name).where(table.c.name == bindparam("name")))
    with app.app_context():
        db.session.registry.set(app.extensions["scopegate.fastpath"]._session())
        assert by_name.first({"name": "uncommitted"}) is None  # on the kept connection
        db.session.execute(insert(table).values(name="uncommitted", created_at=0))
        assert by_name.first({"name": "uncommitted"}) == {"name": "uncommitted"}
        db.session.rollback()
        assert by_name.first({"name": "uncommitted"}) is None


def scoped_tokens(app) -> int:
    with app.app_context():
        count = db.session.scalar(text("SELECT count(*) FROM token WHERE kind = 'scoped'"))
        db.session.rollback()
    return count


def test_a_token_that_fails_after_writing_leaves_no_row(app, client, machine_user,
                                                        monkeypatch):
    """Reads run outside the session's transaction, writes in it: the token row and its
    audit event are one transaction still, rolled back together when the save fails."""
    from tests.conftest import issue

    before = scoped_tokens(app)

    def store_down(token, request):
        raise RuntimeError("store down")

    monkeypatch.setattr(app.extensions["scopegate.authorization"], "_save_token", store_down)
    assert issue(client, machine_user).status_code == 500
    assert scoped_tokens(app) == before
    monkeypatch.undo()
    assert issue(client, machine_user).status_code == 200
    assert scoped_tokens(app) == before + 1


def test_disposing_the_engine_closes_the_kept_connection(app, api, scoped_token):
    api.introspect(scoped_token["token"])
    kept = backend_pid(app)
    assert kept in backends(app)
    with app.app_context():
        db.engine.dispose()
    for _ in range(50):  # the server process ends a moment after the client closes
        if kept not in backends(app):
            break
        time.sleep(0.05)
    assert kept not in backends(app)
