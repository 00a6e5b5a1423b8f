"""Shared by the CSV exports: dates, amounts, one file per account, spreadsheet-safe bytes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from reports.csv_writer import render_csv
from reports.files import write_atomic
from taxsync.ledger.records import Leg, Transaction
from taxsync.types import Role, TimestampMs, decimal_text, to_datetime


def utc_text(timestamp: TimestampMs, *, suffix: str = " UTC") -> str:
    """``2024-03-01 14:25:00 UTC``, with the milliseconds when there are any (``14:25:00.250``)."""
    moment = to_datetime(timestamp)
    text = moment.strftime("%Y-%m-%d %H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text + suffix


def amount_text(value: Decimal) -> str:
    return decimal_text(abs(value))


def sides(tx: Transaction) -> tuple[list[Leg], list[Leg], list[Leg]]:
    """What left (sent), what arrived (received) and the fees, by the sign of each leg."""
    sent = [leg for leg in tx.legs if leg.role is not Role.FEE and leg.amount < 0]
    received = [leg for leg in tx.legs if leg.role is not Role.FEE and leg.amount > 0]
    fees = [leg for leg in tx.legs if leg.role is Role.FEE and leg.amount]
    return sent, received, fees


def target(out: Path, account: str, accounts: int) -> Path:
    """``out`` for one account; ``out`` with the account's name before the suffix for several."""
    if accounts <= 1:
        return out
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in account).strip(".") or "account"
    return out.with_name(f"{out.stem}-{safe}{out.suffix}")


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, render_csv(header, rows))


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
