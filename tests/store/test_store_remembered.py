"""The fast path remembers the client and token rows it read on its SQLite connection
(``models.prepared.Remembered``) only while nothing changed the database: every change,
made by this connection, another one of the process, or another process, is seen at the
very next request."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.models import db, prepared
from app.services import tokens
from tests.conftest import basic, issue
from tests.store.conftest import ON_PG

pytestmark = pytest.mark.skipif(ON_PG, reason="SQLite's data_version")


@pytest.fixture
def reads(monkeypatch) -> list:
    """Every read that reached the database (not answered from remembered rows)."""
    made = []
    original = prepared.Prepared.read

    def read(self, params):
        made.append(dict(params))
        return original(self, params)

    monkeypatch.setattr(prepared.Prepared, "read", read)
    return made


def introspect(client, machine_user, token: str) -> dict:
    response = client.post("/oauth/introspect", data={"token": token},
                           headers=basic(machine_user.client_id, machine_user.client_secret))
    assert response.status_code == 200
    return response.get_json()


@pytest.fixture
def token(client, machine_user) -> str:
    return issue(client, machine_user, scope="cli").get_json()["access_token"]


@pytest.fixture
def remembered(client, machine_user, token, reads) -> str:
    """The token, introspected until its rows are answered from memory."""
    introspect(client, machine_user, token)  # records the token's first use: a change
    introspect(client, machine_user, token)  # the first read after it is not remembered
    introspect(client, machine_user, token)
    before = len(reads)
    assert introspect(client, machine_user, token)["active"] is True
    assert before >= 2 and len(reads) == before
    return token


def test_a_repeated_introspection_reads_nothing_from_the_database(client, machine_user,
                                                                 remembered, reads):
    before = len(reads)
    assert introspect(client, machine_user, remembered)["active"] is True
    assert len(reads) == before


def test_a_token_revoked_through_the_admin_api_is_inactive_at_the_next_introspection(
        client, api, machine_user, remembered):
    token = remembered
    token_id = introspect(client, machine_user, token)["token_id"]
    assert api.delete(f"/tokens/{token_id}").status_code == 204
    assert introspect(client, machine_user, token) == {"active": False}


def test_a_token_revoked_by_another_process_is_inactive_at_the_next_introspection(
        app, client, machine_user, remembered, tmp_path):
    token = remembered
    other = sqlite3.connect(tmp_path / "test.db")  # another process's connection
    other.execute("UPDATE token SET revoked_at = 1 WHERE kind = 'scoped'")
    other.commit()
    other.close()
    assert introspect(client, machine_user, token) == {"active": False}


def test_an_old_secret_stops_working_at_once_after_new_credentials(client, api, machine_user,
                                                                   remembered):
    token = remembered
    assert api.post("/users/demo-user/credentials").status_code in (200, 201)
    response = client.post("/oauth/introspect", data={"token": token},
                           headers=basic(machine_user.client_id, machine_user.client_secret))
    assert response.status_code == 401


def own_connection():
    """The fast path's arrangement: a session bound to one connection of its own."""
    connection = db.engine.connect()
    db.session.registry.set(Session(bind=connection))
    return connection


def test_a_change_made_on_the_same_connection_is_read_at_once(app, token):
    """SQLite's data_version ignores the connection's own commits; its count of changed
    rows does not."""
    with app.app_context():
        connection = own_connection()
        for _ in range(3):  # remembered from the second read on
            assert tokens.find(token).revoked_at is None
        db.session.execute(text("UPDATE token SET revoked_at = 5 WHERE kind = 'scoped'"))
        db.session.commit()
        for _ in range(3):
            assert tokens.find(token).revoked_at == 5
        db.session.remove()
        connection.close()


def test_nothing_is_remembered_inside_a_transaction(app, token):
    """A row read after this connection's own uncommitted write could be rolled back."""
    with app.app_context():
        connection = own_connection()
        db.session.execute(text("UPDATE token SET revoked_at = 7 WHERE kind = 'scoped'"))
        assert tokens.find(token).revoked_at == 7
        assert tokens.find(token).revoked_at == 7
        db.session.rollback()
        assert tokens.find(token).revoked_at is None
        assert tokens.find(token).revoked_at is None
        db.session.remove()
        connection.close()


def test_remembered_rows_stay_bounded(app, token, monkeypatch):
    monkeypatch.setattr(prepared.Remembered, "MAX_ROWS", 3)
    with app.app_context():
        connection = own_connection()
        for n in range(10):
            assert tokens._BY_HASH.first({"token_hash": f"{n:064d}"}) is None
        remembered = db.session.bind.info[prepared._REMEMBERED]
        assert 0 < len(remembered.rows) <= 3
        db.session.remove()
        connection.close()


def test_a_remembered_row_is_a_copy_the_caller_cannot_spoil(app, token):
    with app.app_context():
        connection = own_connection()
        statement = tokens._BY_HASH
        params = {"token_hash": tokens.secrets.digest(token)}
        statement.first(params)["revoked_at"] = 99
        assert statement.first(params)["revoked_at"] is None
        db.session.remove()
        connection.close()
