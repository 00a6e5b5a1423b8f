"""When the units of a deposit from outside were acquired (by you, or by the donor of a gift whose cost carries
over), as the user says with `taxsync transfers cost --acquired`: their holding period starts then.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deposit_costs") as batch:
        batch.add_column(sa.Column("acquired_at", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deposit_costs") as batch:
        batch.drop_column("acquired_at")
