"""free text encrypted per youth

Case titles, meeting agendas, agenda items, actions, the answers of a written weighing and the
notes of workflow steps about an identifiable youth are kept encrypted with the youth's own
key (as minutes and disclosure contents already were), so that crypto-shredding reaches them
too. The plaintext columns stay for anonymous cases; rows written before this revision keep
their plaintext until the youth's retention run empties it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 22:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

COLUMNS = (("casus", "title_enc"), ("meeting", "agenda_enc"), ("agenda_item", "title_enc"),
           ("action", "description_enc"), ("exception_record", "answers_enc"),
           ("workflow_step", "note_enc"))


def upgrade() -> None:
    for table, column in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    for table, column in reversed(COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
