"""SQLite writers queue on a file lock (``models.writers``): a second writer waits for
the first's transaction to end, woken by the kernel instead of sleeping in SQLite's busy
handler; a writer that already holds SQLite's lock never waits on the queue (no cycle)."""

from __future__ import annotations

import fcntl
import os
import stat
import threading

import pytest
from sqlalchemy import text

from app.models import db
from app.services import audit
from tests.conftest import make_test_app
from tests.store.conftest import ON_PG

pytestmark = pytest.mark.skipif(ON_PG, reason="SQLite's writer queue")


@pytest.fixture
def app(tmp_path):
    return make_test_app(tmp_path)


@pytest.fixture
def queue_lock(tmp_path):
    """Another process's view of the queue: its own descriptor on the lock file."""
    fd = os.open(tmp_path / "test.db-writers.lock", os.O_RDWR | os.O_CREAT, 0o600)
    yield fd
    os.close(fd)


def queue_is_free(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    fcntl.flock(fd, fcntl.LOCK_UN)
    return True


def write(app, then):
    """A hot-path write (an audit event) in a transaction of its own; ``then`` ends it."""
    with app.app_context():
        audit.record("token.issue", subject="svc")
        then()


def test_a_write_holds_the_queue_until_its_transaction_commits(app, tmp_path, queue_lock):
    during = []
    write(app, lambda: (during.append(queue_is_free(queue_lock)), db.session.commit()))
    assert during == [False]
    assert queue_is_free(queue_lock)
    assert stat.S_IMODE(os.stat(tmp_path / "test.db-writers.lock").st_mode) == 0o600


def test_a_rolled_back_or_abandoned_write_lets_go_of_the_queue(app, queue_lock):
    write(app, db.session.rollback)
    assert queue_is_free(queue_lock)
    write(app, lambda: None)  # the app context's teardown closes the session
    assert queue_is_free(queue_lock)


def test_a_second_writer_waits_for_the_first_to_commit(app):
    """It waits in the queue, not in SQLite's busy handler: with that handler off
    (busy_timeout 0) a writer that did not queue would fail with "database is locked"."""
    first_wrote, order = threading.Event(), []

    def first():
        def hold():
            first_wrote.set()
            threading.Event().wait(0.3)
            order.append("first commits")
            db.session.commit()
        write(app, hold)

    def second():
        with app.app_context():
            db.session.connection().exec_driver_sql("PRAGMA busy_timeout=0")
            try:
                audit.record("token.issue", subject="svc")
                order.append("second writes")
                db.session.commit()
            finally:
                db.session.connection().exec_driver_sql("PRAGMA busy_timeout=5000")
                db.session.commit()

    thread = threading.Thread(target=first)
    thread.start()
    first_wrote.wait(5)
    second()
    thread.join(5)
    assert order == ["first commits", "second writes"]


def test_a_writer_already_in_a_transaction_never_waits_on_the_queue(app, queue_lock):
    """It may hold SQLite's write lock, which the queue's holder could be waiting for."""
    fcntl.flock(queue_lock, fcntl.LOCK_EX)  # another process is at the head of the queue
    done = threading.Event()

    def already_writing():
        with app.app_context():
            db.session.execute(text("UPDATE organization SET name = name"))
            audit.record("token.issue", subject="svc")
            db.session.commit()
            done.set()

    thread = threading.Thread(target=already_writing, daemon=True)
    thread.start()
    assert done.wait(5)
    fcntl.flock(queue_lock, fcntl.LOCK_UN)


@pytest.fixture
def machine(app):
    from tests.conftest import Api, Machine, make_org

    api = Api(app.test_client(), make_org(app, "acme").admin_token)
    api.post("/users", {"name": "bot"})
    creds = api.post("/users/bot/credentials").get_json()
    return Machine("bot", "", creds["client_id"], creds["client_secret"])


def scoped_tokens(app) -> int:
    with app.app_context():
        return db.session.scalar(text("SELECT count(*) FROM token WHERE kind = 'scoped'"))


def test_a_token_lets_the_next_writer_go_once_answered(app, machine, queue_lock):
    from tests.conftest import issue

    assert issue(app.test_client(), machine).status_code == 200
    assert queue_is_free(queue_lock)
    assert scoped_tokens(app) == 1


def test_a_token_that_fails_after_writing_leaves_no_row_and_lets_the_next_writer_go(
        app, machine, queue_lock, monkeypatch):
    """The fast path writes on its own connection outside the session's transaction; what
    a failed request wrote is rolled back at its end, and the queue is free again."""
    from tests.conftest import issue

    def store_down(token, request):
        raise RuntimeError("store down")

    monkeypatch.setattr(app.extensions["scopegate.authorization"], "_save_token", store_down)
    assert issue(app.test_client(), machine).status_code == 500
    assert queue_is_free(queue_lock)
    monkeypatch.undo()
    assert issue(app.test_client(), machine).status_code == 200
    assert scoped_tokens(app) == 1


def test_a_tokens_first_use_waits_in_the_queue_like_any_write(app, machine, queue_lock,
                                                              monkeypatch):
    """Introspecting a token for the first time writes ``last_used_at``: many fresh tokens
    make that a hot-path write, so it queues behind the writer holding the lock (another
    process, here) instead of sleeping in SQLite's busy handler."""
    from app.models import writers
    from tests.conftest import basic, issue

    value = issue(app.test_client(), machine).get_json()["access_token"]
    queued = threading.Event()

    class SpyFcntl:  # the real fcntl, telling the test when a writer asks for the queue
        def __getattr__(self, name):
            return getattr(fcntl, name)

        def flock(self, fd, operation):
            if operation == fcntl.LOCK_EX:
                queued.set()
            return fcntl.flock(fd, operation)

    monkeypatch.setattr(writers, "fcntl", SpyFcntl())

    def last_used_at():
        with app.app_context():
            return db.session.scalar(text("SELECT last_used_at FROM token "
                                          "WHERE kind = 'scoped'"))

    answers = []
    fcntl.flock(queue_lock, fcntl.LOCK_EX)
    introspecting = threading.Thread(target=lambda: answers.append(app.test_client().post(
        "/oauth/introspect", data={"token": value},
        headers=basic(machine.client_id, machine.client_secret))))
    introspecting.start()
    try:
        assert queued.wait(10), "the first use never asked for the writers' queue"
        introspecting.join(0.2)
        assert introspecting.is_alive()  # waiting in the queue,
        assert last_used_at() is None  # with nothing written yet
    finally:
        fcntl.flock(queue_lock, fcntl.LOCK_UN)
        introspecting.join(10)
    assert answers[0].get_json()["active"] is True
    assert last_used_at() is not None
    assert queue_is_free(queue_lock)


def test_a_rollback_reaches_direct_writes_before_a_later_commit(app):
    """On its own SQLite connection the fast path writes outside the session's transaction;
    ``prepared.rollback`` must still undo them (a plain ``Session.rollback`` with no
    transaction of its own would not, and the request's next commit would keep them)."""
    from sqlalchemy.orm import Session

    from app.models import prepared

    with app.app_context():
        connection = db.engine.connect()
        db.session.registry.set(Session(bind=connection))
        audit.record("token.issue", subject="rolled-back")
        prepared.rollback()
        audit.record("token.issue", subject="committed")
        prepared.commit()
        db.session.remove()
        connection.close()
    with app.app_context():
        subjects = db.session.scalars(text("SELECT subject FROM audit_event")).all()
    assert subjects == ["committed"]


def test_the_sessions_own_commit_keeps_direct_writes_too(app, queue_lock):
    """Code that commits the usual way (``db.session.commit()``) after a direct write on
    the fast path's connection commits it, and lets the next writer go."""
    from sqlalchemy.orm import Session

    with app.app_context():
        connection = db.engine.connect()
        db.session.registry.set(Session(bind=connection))
        audit.record("token.issue", subject="committed")
        db.session.commit()
        assert queue_is_free(queue_lock)
        db.session.remove()
        connection.close()
    with app.app_context():
        subjects = db.session.scalars(text("SELECT subject FROM audit_event")).all()
    assert subjects == ["committed"]


def test_a_finished_threads_descriptor_on_the_queue_is_closed(app):
    """A development server starts a thread per request; each writer thread's descriptor
    on the lock file must go with it, or the process runs out of descriptors."""
    def write_once():
        write(app, db.session.commit)

    def open_descriptors() -> int:
        return len(os.listdir("/proc/self/fd"))

    write_once()  # this thread's own descriptor, kept while it lives
    before = open_descriptors()
    for _ in range(20):
        thread = threading.Thread(target=write_once)
        thread.start()
        thread.join()
    assert open_descriptors() <= before + 1
