"""The outcome of the last prices sync for moments it could not price (no price exists / source failed).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "price_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("asset", sa.String(50), nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("exchange", sa.String(50), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("attempted_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("asset", "timestamp", name="uq_price_attempt"),
    )


def downgrade() -> None:
    op.drop_table("price_attempts")
