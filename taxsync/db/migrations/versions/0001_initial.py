"""The first schema: accounts, raw records, transactions and legs, prices, sync state.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

MONEY = sa.String(64)  # DecimalText: exact decimals stored as plain text


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("exchange", sa.String(50)),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "raw_records",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("stream", sa.String(50), nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("locator", sa.String(100), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("imported_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("account_id", "stream", "external_id", name="uq_raw_natural_key"),
    )
    op.create_index("ix_raw_records_account_id", "raw_records", ["account_id"])
    op.create_table(
        "transactions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("raw_record_id", sa.Integer, sa.ForeignKey("raw_records.id", ondelete="CASCADE")),
        sa.Column("ref", sa.String(300), nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("subkind", sa.String(50), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("txhash", sa.String(200), nullable=False),
        sa.Column("quote_amount", MONEY),
        sa.Column("quote_currency", sa.String(20)),
    )
    op.create_index("ix_transactions_timestamp", "transactions", ["timestamp"])
    op.create_index("ix_transactions_account_id", "transactions", ["account_id"])
    op.create_index("ix_transactions_raw_record_id", "transactions", ["raw_record_id"])
    op.create_table(
        "legs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "transaction_id", sa.Integer, sa.ForeignKey("transactions.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("asset", sa.String(50), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
    )
    op.create_index("ix_legs_transaction_id", "legs", ["transaction_id"])
    op.create_table(
        "prices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("base", sa.String(50), nullable=False),
        sa.Column("quote", sa.String(50), nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("resolution", sa.String(10), nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("fetched_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("base", "quote", "timestamp", "resolution", "source", name="uq_price_point"),
    )
    op.create_table(
        "sync_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("stream", sa.String(50), nullable=False),
        sa.Column("symbol", sa.String(50), nullable=False),
        sa.Column("cursor", sa.Text),
        sa.Column("covered_from", sa.BigInteger),
        sa.Column("covered_until", sa.BigInteger),
        sa.Column("updated_at", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("account_id", "stream", "symbol", name="uq_sync_stream"),
    )
    op.create_index("ix_sync_state_account_id", "sync_state", ["account_id"])


    op.create_table(
        "ledger_problems",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("raw_record_id", sa.Integer, sa.ForeignKey("raw_records.id", ondelete="CASCADE")),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
    )
    op.create_index("ix_ledger_problems_account_id", "ledger_problems", ["account_id"])


def downgrade() -> None:
    for table in ("ledger_problems", "sync_state", "prices", "legs", "transactions", "raw_records", "accounts"):
        op.drop_table(table)
