"""The exchange's own id of a trade or movement on each ledger transaction, to count an API record and the
same record from an exported file once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transactions") as batch:
        batch.add_column(sa.Column("exchange_id", sa.String(200), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("transactions") as batch:
        batch.drop_column("exchange_id")
