"""region controller OIN

The VNG register of processing activities (VAR) names the controller by its OIN
(Organisatie-identificatienummer, 20 digits) in `verantwoordelijkeOrganisatie`. A region now
records it beside the controller's name (migration 0005), so the register no longer has to
find an organisation of the same name; the controller need not be a party of its own casus.

Nullable: regions stored before this revision have none until an administrator sets it
(`deelwijs region update CODE --controller-oin ...`); the register then still looks for the
region's organisation with the controller's name, and without an OIN leaves the VAR part out
with a Dutch reason. Downgrading drops the column and what it holds.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('region', sa.Column('controller_oin', sa.String(20), nullable=True))


def downgrade() -> None:
    # in place on both dialects, as 0005 (a batch copy would have to drop `region`)
    op.drop_column('region', 'controller_oin')
