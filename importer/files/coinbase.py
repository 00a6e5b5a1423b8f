"""Coinbase transaction history report: three header layouts since 2021, after a few lines of preamble."""

from importer.files.base import FileFormat
from taxsync.ledger.sources.coinbase import FEES, TOTAL

COINBASE_HISTORY = FileFormat(
    name="coinbase-history",
    title="Coinbase transaction history",
    required=("Timestamp", "Transaction Type", "Asset", "Quantity Transacted", "Subtotal", TOTAL, FEES),
    optional=("ID", "Price Currency", "Price at Transaction", "Notes"),
    aliases=(
        ("Spot Price Currency", "Price Currency"), ("Spot Price at Transaction", "Price at Transaction"),
        ("USD Spot Price at Transaction", "Price at Transaction"), ("USD Subtotal", "Subtotal"),
        ("USD Total (inclusive of fees)", TOTAL), ("Total (inclusive of fees)", TOTAL), ("USD Fees", FEES),
        ("Fees", FEES),
    ),
    exchange="coinbase",
    numbers=("Quantity Transacted", "Price at Transaction", "Subtotal", TOTAL, FEES),
    preamble=10,
    layout="the report's header (after its preamble lines), Timestamp like 2024-03-01T14:25:00Z or "
           "2024-03-01 14:25:00 UTC, amounts like 1234.5 or $1,234.50 (USD when the file names no currency)",
    variants=(
        "Timestamp,Transaction Type,Asset,Quantity Transacted,USD Spot Price at Transaction,USD Subtotal,"
        "USD Total (inclusive of fees),USD Fees,Notes",
        "Timestamp,Transaction Type,Asset,Quantity Transacted,Spot Price Currency,Spot Price at Transaction,"
        "Subtotal,Total (inclusive of fees and/or spread),Fees and/or Spread,Notes",
        "ID,Timestamp,Transaction Type,Asset,Quantity Transacted,Price Currency,Price at Transaction,Subtotal,"
        "Total (inclusive of fees and/or spread),Fees and/or Spread,Notes",
    ),
)
