"""youth startkwalificatie, weighings about a youth

Contract 1.1 takes two new facts of a recorded disclosure from what is stored:

- `youth.startkwalificatie`: whether the youth holds a startkwalificatie (a havo, vwo or mbo-2
  diploma), set when the youth is created and by a correction; a recorded disclosure takes
  `subject.startkwalificatie` from it (change 7). Youths stored before this revision get
  false (no diploma recorded), the contract's default.
- `exception_record.youth_id`: the written weighing for using a statutory power (kind
  `statutory_power`, e.g. art. 1:240 BW towards the Raad voor de Kinderbescherming) is about
  a youth, not about a case: a disclosure on a legal route is made outside the casusoverleg,
  so it has no case. Such a weighing has `youth_id` and no `case_id`; a weighing in a case
  keeps its `case_id` (and no `youth_id`).

The youth table is altered in place on both dialects (SQLite adds a column with a constant
default, and drops one since 3.35, without copying the table; a copy would have to drop
`youth`, which the rows that refer to it forbid). exception_record, which nothing refers to,
is copied by SQLite's batch mode to let case_id be NULL.

Downgrading deletes the weighings about a youth (the older schema cannot hold them) and the
startkwalificatie of every youth.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('youth', sa.Column('startkwalificatie', sa.Boolean(), nullable=False,
                                     server_default=sa.false()))
    with op.batch_alter_table('exception_record', schema=None) as batch_op:
        batch_op.add_column(sa.Column('youth_id', sa.Integer(), nullable=True))
        batch_op.alter_column('case_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_exception_record_youth_id_youth'), 'youth',
                                    ['youth_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_exception_record_youth_id'), ['youth_id'],
                              unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM exception_record WHERE case_id IS NULL")
    with op.batch_alter_table('exception_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exception_record_youth_id'))
        batch_op.drop_constraint(batch_op.f('fk_exception_record_youth_id_youth'),
                                 type_='foreignkey')
        batch_op.alter_column('case_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('youth_id')
    op.drop_column('youth', 'startkwalificatie')
