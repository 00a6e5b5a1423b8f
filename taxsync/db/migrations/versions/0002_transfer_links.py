"""The user's transfer decisions: manual links and unlinks, and the costs given for deposits.

Neither table has a foreign key to the ledger: transactions are rebuilt on every import, these rows must
outlive that, so they name transactions by a stable key (account, raw-record stream, external id).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MONEY = sa.String(64)  # DecimalText: exact decimals stored as plain text


def upgrade() -> None:
    op.create_table(
        "transfer_links",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("withdrawal_key", sa.String(400), nullable=False),
        sa.Column("deposit_key", sa.String(400), nullable=False),
        sa.Column("withdrawal_ref", sa.String(300), nullable=False),
        sa.Column("deposit_ref", sa.String(300), nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_transfer_links_pair", "transfer_links", ["withdrawal_key", "deposit_key"])
    op.create_table(
        "deposit_costs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("deposit_key", sa.String(400), nullable=False, unique=True),
        sa.Column("deposit_ref", sa.String(300), nullable=False),
        sa.Column("cost", MONEY, nullable=False),
        sa.Column("currency", sa.String(20), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in ("deposit_costs", "transfer_links"):
        op.drop_table(table)
