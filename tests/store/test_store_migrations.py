"""The schema is the migrations: every step runs up and down on the suite's
database (SQLite, then PostgreSQL in the second half of `make test`), the
head revision matches the models exactly, and `init-db` brings an empty,
an older or a pre-migration database to head."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from app.database import INITIAL_REVISION, alembic_config, upgrade
from app.models import db
from tests.conftest import ROOT, VENV_BIN
from tests.store.conftest import make_app, requires_pg


def revisions(app) -> list[str]:
    """Every revision, oldest first."""
    with app.app_context():
        script = ScriptDirectory.from_config(alembic_config())
        return [r.revision for r in reversed(list(script.walk_revisions()))]


def current(app) -> str | None:
    with app.app_context(), db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def tables(app) -> set[str]:
    with app.app_context():
        names = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    return names - {"alembic_version"}


def test_history_is_one_line_from_the_initial_revision(fresh_url):
    app = make_app(fresh_url)
    with app.app_context():
        script = ScriptDirectory.from_config(alembic_config())
        assert len(script.get_heads()) == 1, "two heads: merge them (flask db merge heads)"
    assert revisions(app)[0] == INITIAL_REVISION


def test_every_migration_runs_up_and_down(fresh_url):
    from alembic import command

    app = make_app(fresh_url)
    steps = revisions(app)
    seen = [set()]
    with app.app_context():
        for rev in steps:  # up, one step at a time
            command.upgrade(alembic_config(), rev)
            assert current(app) == rev
            seen.append(tables(app))
        assert seen[-1] == {t.name for t in db.metadata.sorted_tables}
        for i, rev in enumerate(reversed(steps)):  # and down again, checking each state
            command.downgrade(alembic_config(), "-1")
            assert tables(app) == seen[-(i + 2)], f"downgrade of {rev} left the wrong tables"
        assert current(app) is None and tables(app) == set()
        upgrade()  # and up again after a full round trip
        assert current(app) == steps[-1]
        db.engine.dispose()


def test_models_and_head_migration_do_not_drift(fresh_url):
    """If this fails, someone changed app/models without a migration:
    `flask --app wsgi db migrate -m "what changed"`, review, commit."""
    app = make_app(fresh_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert diffs == [], f"models differ from the head migration: {diffs}"


def test_init_db_upgrades_an_older_database_and_keeps_its_rows(fresh_url):
    from alembic import command

    app = make_app(fresh_url)
    with app.app_context():
        command.upgrade(alembic_config(), INITIAL_REVISION)
        db.session.execute(text("INSERT INTO organization (name, created_at) VALUES ('old', 1)"))
        db.session.commit()
        db.engine.dispose()
    result = run_flask(fresh_url, "init-db", "--json")
    assert result.returncode == 0, result.stderr
    assert current(app) == revisions(app)[-1]
    with app.app_context():
        assert db.session.execute(text("SELECT name FROM organization")).scalars().all() == ["old"]
        db.engine.dispose()


def test_a_database_made_before_migrations_is_adopted(fresh_url):
    """`create_all` databases (before migrations existed) have the initial
    schema and no alembic_version: init-db stamps them, then upgrades."""
    from alembic import command

    app = make_app(fresh_url)
    with app.app_context():
        command.upgrade(alembic_config(), INITIAL_REVISION)
        db.session.execute(text("DROP TABLE alembic_version"))
        db.session.commit()
        upgrade()
        db.engine.dispose()
    assert current(app) == revisions(app)[-1]


def test_init_db_on_an_empty_database_and_again_is_a_no_op(fresh_url):
    assert run_flask(fresh_url, "init-db").returncode == 0
    again = run_flask(fresh_url, "init-db", "--json")
    assert again.returncode == 0, again.stderr
    assert '"signing_key_created": false' in again.stdout


@requires_pg
def test_hosts_running_init_db_at_once_migrate_one_after_the_other(fresh_url):
    """An advisory lock serialises concurrent `init-db` runs on PostgreSQL."""
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda _: run_flask(fresh_url, "init-db"), range(3)))
    assert [r.returncode for r in results] == [0, 0, 0], [r.stderr[-500:] for r in results]
    assert current(make_app(fresh_url)) == revisions(make_app(fresh_url))[-1]


def run_flask(url: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SCOPEGATE_DATABASE_URL": url, "SCOPEGATE_SECRET_KEY": "x"}
    return subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False,
                          stdin=subprocess.DEVNULL)


def test_a_relative_sqlite_path_is_relative_to_the_working_directory(tmp_path, monkeypatch):
    """The README's operator commands, run in the checkout without
    SCOPEGATE_DATABASE_URL, open ./instance/scopegate.db (not
    instance/instance/...: 'unable to open database file')."""
    from app import create_app

    monkeypatch.chdir(tmp_path)
    app = create_app({"SCOPEGATE_DATABASE_URL": "sqlite:///instance/scopegate.db"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        f"sqlite:///{tmp_path}/instance/scopegate.db")
    with app.app_context():
        upgrade()
    assert (tmp_path / "instance" / "scopegate.db").stat().st_size > 0
