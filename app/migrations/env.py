"""Alembic environment: the app's engine and metadata, one transaction, and a
PostgreSQL advisory lock so that several hosts running ``init-db`` at once
migrate one after the other instead of racing on CREATE TABLE."""

import logging

from alembic import context
from flask import current_app
from sqlalchemy import text

config = context.config
logger = logging.getLogger("alembic.env")

#: Arbitrary constant key of the advisory lock taken while migrating.
MIGRATION_LOCK_KEY = 0x5C09E6A7E


def get_engine():
    return current_app.extensions["migrate"].db.engine


def get_metadata():
    return current_app.extensions["migrate"].db.metadata


def run_migrations_offline():
    """Emit SQL to stdout (``flask db upgrade --sql``) instead of running it."""
    url = get_engine().url.render_as_string(hide_password=False)
    context.configure(url=url, target_metadata=get_metadata(), literal_binds=True,
                      **current_app.extensions["migrate"].configure_args)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def process_revision_directives(context, revision, directives):
        # `db migrate` with no model change writes no empty revision.
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)

    with get_engine().connect() as connection:
        context.configure(connection=connection, target_metadata=get_metadata(), **conf_args)
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Released at commit; a second host waits here, then finds head.
                connection.execute(text("SELECT pg_advisory_xact_lock(:k)"),
                                   {"k": MIGRATION_LOCK_KEY})
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
