"""The workspace's revision: a number that goes up with every transaction that changes the data figures are
made from, so that results kept between commands can tell whether they still hold. And an index of where raw
records come from (account, stream, origin): reading the ledger and a report's data sources ask for the
distinct sources, which was a scan of every payload (a second at 200,000 records).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "revision",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("n", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(table, [{"id": 1, "n": 0}])
    op.create_index("ix_raw_records_source", "raw_records", ["account_id", "stream", "origin"])


def downgrade() -> None:
    op.drop_index("ix_raw_records_source", table_name="raw_records")
    op.drop_table("revision")
