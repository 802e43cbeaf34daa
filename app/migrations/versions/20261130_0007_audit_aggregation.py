"""audit events aggregate repeated refusals (count, last_at, source); index by time

Revision ID: 0007
Revises: 0003
Create Date: 2026-11-30 08:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('count', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('last_at', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('source', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_audit_source', ['source', 'id'], unique=False)
        batch_op.create_index('ix_audit_at', ['at'], unique=False)


def downgrade():
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_at')
        batch_op.drop_index('ix_audit_source')
        batch_op.drop_column('source')
        batch_op.drop_column('last_at')
        batch_op.drop_column('count')
