"""people: who created an account, when it joined, disabled state; invite and
reset links on the setup-code table

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 08:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('joined_at', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('disabled_at', sa.Integer(), nullable=True))
    # Accounts made before invitations existed were made by an operator and are in use.
    op.execute("UPDATE account SET joined_at = created_at, created_by = 'operator'")

    with op.batch_alter_table('setup_code', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=10), server_default='setup',
                                      nullable=False))
        batch_op.add_column(sa.Column('account_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_setup_code_account_id'), ['account_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_setup_code_account_id_account'), 'account',
                                    ['account_id'], ['id'], ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('setup_code', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_setup_code_account_id_account'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_setup_code_account_id'))
        batch_op.drop_column('account_id')
        batch_op.drop_column('purpose')

    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_column('disabled_at')
        batch_op.drop_column('joined_at')
        batch_op.drop_column('created_by')
