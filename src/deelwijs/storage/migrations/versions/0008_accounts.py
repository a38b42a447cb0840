"""accounts, sessions, personal access tokens and the account events

Issue 13: the web app and the CLI act as accounts. `account` (a professional, FG,
administrator, parent or youth; argon2id password hash, sealed TOTP secret, lock-out
counters, an OpenID Connect subject), `account_subject` (whose data a parent's or youth's
account sees), `web_session` (a browser's session: only the SHA-256 of its cookie),
`access_token` (personal access tokens: only their SHA-256) and `account_event` (logins,
lock-outs, hats, tokens; no personal data of youths). Downgrading drops the five tables.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'account',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(100), nullable=False),
        sa.Column('display_name', sa.String(200), nullable=False),
        sa.Column('kind', sa.String(16), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=True),
        sa.Column('professional_id', sa.Integer(), nullable=True),
        sa.Column('email', sa.String(254), nullable=True),
        sa.Column('password_hash', sa.String(200), nullable=True),
        sa.Column('totp_sealed', sa.LargeBinary(), nullable=True),
        sa.Column('totp_confirmed_at', sa.DateTime(), nullable=True),
        sa.Column('totp_last_step', sa.BigInteger(), nullable=True),
        sa.Column('oidc_subject', sa.String(400), nullable=True),
        sa.Column('failed_logins', sa.Integer(), nullable=False),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.Column('last_login_at', sa.DateTime(), nullable=True),
        sa.Column('disabled_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['region_id'], ['region.id'],
                                name=op.f('fk_account_region_id_region')),
        sa.ForeignKeyConstraint(['professional_id'], ['professional.id'],
                                name=op.f('fk_account_professional_id_professional')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account')),
        sa.UniqueConstraint('username', name=op.f('uq_account_username')),
        sa.UniqueConstraint('professional_id', name=op.f('uq_account_professional_id')),
        sa.UniqueConstraint('oidc_subject', name=op.f('uq_account_oidc_subject')),
    )
    op.create_index(op.f('ix_account_region_id'), 'account', ['region_id'])
    op.create_table(
        'account_subject',
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('youth_id', sa.Integer(), nullable=False),
        sa.Column('guardian_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'],
                                name=op.f('fk_account_subject_account_id_account')),
        sa.ForeignKeyConstraint(['youth_id'], ['youth.id'],
                                name=op.f('fk_account_subject_youth_id_youth')),
        sa.ForeignKeyConstraint(['guardian_id'], ['guardian.id'],
                                name=op.f('fk_account_subject_guardian_id_guardian')),
        sa.PrimaryKeyConstraint('account_id', 'youth_id', name=op.f('pk_account_subject')),
    )
    op.create_table(
        'web_session',
        sa.Column('id', sa.String(64), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('csrf', sa.String(64), nullable=False),
        sa.Column('hat', sa.String(32), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('second_factor_at', sa.DateTime(), nullable=True),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'],
                                name=op.f('fk_web_session_account_id_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_web_session')),
    )
    op.create_index(op.f('ix_web_session_account_id'), 'web_session', ['account_id'])
    op.create_table(
        'access_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(100), nullable=False),
        sa.Column('token_hash', sa.String(64), nullable=False),
        sa.Column('prefix', sa.String(16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=True),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'],
                                name=op.f('fk_access_token_account_id_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_access_token')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_access_token_token_hash')),
    )
    op.create_index(op.f('ix_access_token_account_id'), 'access_token', ['account_id'])
    op.create_table(
        'account_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=True),
        sa.Column('event', sa.String(32), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.Column('remote', sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'],
                                name=op.f('fk_account_event_account_id_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_event')),
    )
    op.create_index(op.f('ix_account_event_account_id'), 'account_event', ['account_id'])


def downgrade() -> None:
    for table in ('account_event', 'access_token', 'web_session', 'account_subject', 'account'):
        op.drop_table(table)
