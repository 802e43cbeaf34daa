"""resource servers: may_revoke flag, revocation feed index, token format

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-30 07:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('resource_server', schema=None) as batch_op:
        # Existing resource servers lose nothing they were meant to have:
        # revocation by resource servers is the hole this closes.
        batch_op.add_column(sa.Column('may_revoke', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('format', sa.String(length=8), nullable=False,
                                      server_default='opaque'))
        batch_op.create_index('ix_token_revoked', ['revoked_at', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('token', schema=None) as batch_op:
        batch_op.drop_index('ix_token_revoked')
        batch_op.drop_column('format')
    with op.batch_alter_table('resource_server', schema=None) as batch_op:
        batch_op.drop_column('may_revoke')
