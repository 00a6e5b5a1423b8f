"""Runs: each import of an account and each nightly job, with its outcome, for `taxsync status` and `doctor`.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("command", sa.String(30), nullable=False),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE")),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("started_at", sa.BigInteger, nullable=False),
        sa.Column("finished_at", sa.BigInteger),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("exit_code", sa.Integer),
        sa.Column("summary", sa.Text, nullable=False),
    )
    op.create_index("ix_runs_command_started", "runs", ["command", "started_at"])
    op.create_index("ix_runs_account_id", "runs", ["account_id"])


def downgrade() -> None:
    op.drop_table("runs")
