"""index sparse token and audit columns only where they are set

A scoped token has no ``family_id``, ``account_id`` or ``revoked_at`` and a
successful audit event no ``source``; every query on those indexes asks for a
value (``= ?``, the revocation feed's ``IS NOT NULL``), so rows without one
need no entry. Each issuance then writes four index entries fewer: measured
on the bare store, a token and its audit event cost 208-213 µs CPU per
commit with full indexes and 172-181 µs with these (bench/RESULTS.md §16).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 14:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

#: (table, index, columns, the column that must be set)
SPARSE = (
    ('token', 'ix_token_family', ['family_id'], 'family_id'),
    ('token', 'ix_token_account', ['account_id'], 'account_id'),
    ('token', 'ix_token_revoked', ['revoked_at', 'id'], 'revoked_at'),
    ('audit_event', 'ix_audit_source', ['source', 'id'], 'source'),
)


def upgrade():
    for table, name, columns, column in SPARSE:
        where = sa.text(f'{column} IS NOT NULL')
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=False,
                        sqlite_where=where, postgresql_where=where)


def downgrade():
    for table, name, columns, _ in SPARSE:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, unique=False)
