"""region controller and FG contact

The inzage (art. 15 AVG copy) a parent receives must name the controller
(verwerkingsverantwoordelijke) and say how to reach its functionaris gegevensbescherming
(FG), instead of "vraag ons". A region records them:

- `controller_name`: the controller's name, e.g. the municipality or the partnership that
  runs the casusoverleg;
- `controller_address`: its postal address (free text, lines separated by newlines);
- `fg_name`, `fg_email`, `fg_phone`: how to reach its FG.

All are nullable: regions stored before this revision have none until an administrator sets
them (`deelwijs region update`); the inzage then says they are not recorded. The region
table is altered in place on both dialects. Downgrading drops the five columns and what they
hold.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

COLUMNS = (("controller_name", sa.String(200)), ("controller_address", sa.String(500)),
           ("fg_name", sa.String(200)), ("fg_email", sa.String(254)),
           ("fg_phone", sa.String(40)))


def upgrade() -> None:
    for column, type_ in COLUMNS:
        op.add_column('region', sa.Column(column, type_, nullable=True))


def downgrade() -> None:
    # in place on both dialects (SQLite drops a column since 3.35): a batch copy would have to
    # drop `region`, which every organisation, youth and case refers to
    for column, _type in reversed(COLUMNS):
        op.drop_column('region', column)
