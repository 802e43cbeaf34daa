"""apps, authorization codes, consents; token families for people's tokens

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-30 08:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('app',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=120), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('client_secret_hash', sa.String(length=64), nullable=True),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('redirect_uris_json', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.Integer(), nullable=False),
    sa.Column('secret_rotated_at', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_app_org_id_organization'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app')),
    sa.UniqueConstraint('client_id', name=op.f('uq_app_client_id'))
    )
    with op.batch_alter_table('app', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_org_id'), ['org_id'], unique=False)

    op.create_table('authorization_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=120), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('redirect_uri', sa.Text(), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('nonce', sa.String(length=255), nullable=True),
    sa.Column('code_challenge', sa.String(length=128), nullable=False),
    sa.Column('code_challenge_method', sa.String(length=10), nullable=False),
    sa.Column('auth_time', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.Integer(), nullable=False),
    sa.Column('used_at', sa.Integer(), nullable=True),
    sa.Column('family_id', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_authorization_code_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['client_id'], ['app.client_id'], name=op.f('fk_authorization_code_client_id_app'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_authorization_code')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_authorization_code_code_hash'))
    )
    with op.batch_alter_table('authorization_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_authorization_code_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_authorization_code_client_id'), ['client_id'], unique=False)

    op.create_table('consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.String(length=120), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('granted_at', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_consent_account_id_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['client_id'], ['app.client_id'], name=op.f('fk_consent_client_id_app'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent')),
    sa.UniqueConstraint('account_id', 'client_id', name='uq_consent_account_client')
    )
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_client_id'), ['client_id'], unique=False)

    with op.batch_alter_table('token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('family_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('parent_token_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('auth_time', sa.Integer(), nullable=True))
        batch_op.create_index('ix_token_family', ['family_id'], unique=False)
        batch_op.create_index('ix_token_client', ['client_id'], unique=False)
        batch_op.create_index('ix_token_account', ['account_id'], unique=False)


def downgrade():
    with op.batch_alter_table('token', schema=None) as batch_op:
        batch_op.drop_index('ix_token_account')
        batch_op.drop_index('ix_token_client')
        batch_op.drop_index('ix_token_family')
        batch_op.drop_column('auth_time')
        batch_op.drop_column('parent_token_id')
        batch_op.drop_column('family_id')

    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_client_id'))
        batch_op.drop_index(batch_op.f('ix_consent_account_id'))
    op.drop_table('consent')

    with op.batch_alter_table('authorization_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_authorization_code_client_id'))
        batch_op.drop_index(batch_op.f('ix_authorization_code_account_id'))
    op.drop_table('authorization_code')

    with op.batch_alter_table('app', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_org_id'))
    op.drop_table('app')
