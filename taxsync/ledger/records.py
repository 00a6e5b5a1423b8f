"""Typed records of the normalized ledger.

Legs, quotes and transactions are named tuples: immutable and typed like frozen dataclasses, and several times
quicker to make, which counts when a million rows of an export are read (bench/import_million.py)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from taxsync.types import Asset, Role, TimestampMs


class TxKind(StrEnum):
    """What a transaction is, as far as its source tells (transfers are found later by matching)."""

    TRADE = "trade"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    INCOME = "income"
    SPEND = "spend"
    GIFT_IN = "gift_in"
    GIFT_OUT = "gift_out"
    LOSS = "loss"
    INTERNAL = "internal"


class Leg(NamedTuple):
    asset: Asset
    amount: Decimal  # signed: positive in, negative out or fee
    role: Role


class Quote(NamedTuple):
    """A value of the whole transaction that the source itself states (Koinly's Net Worth columns)."""

    amount: Decimal
    currency: Asset


class GivenCost(NamedTuple):
    """What the user says the units of a deposit from outside (or a gift received) cost in total, and, if they
    say, when they were acquired (by them, or by the donor where the donor's cost carries over)."""

    cost: Quote
    acquired: TimestampMs | None = None


class Transaction(NamedTuple):
    ref: str  # provenance: "account/raw-record id" or "file:line"
    account: str
    timestamp: TimestampMs
    kind: TxKind
    legs: tuple[Leg, ...]
    quote: Quote | None = None
    subkind: str = ""
    label: str = ""
    description: str = ""
    txhash: str = ""
    # The exchange's own id of the trade or movement (as ccxt reports it), to match API and export.
    exchange_id: str = ""

    def main_leg(self) -> Leg | None:
        """The single non-fee leg of a deposit, withdrawal or income; None when there is not exactly one."""
        legs = [leg for leg in self.legs if leg.role is not Role.FEE]
        return legs[0] if len(legs) == 1 else None


@dataclass(frozen=True, slots=True)
class Transfer:
    """A withdrawal from one own account matched to a deposit into another."""

    withdrawal: Transaction
    deposit: Transaction
    matched_by: str  # "txhash", "amount and time" or "manual"
