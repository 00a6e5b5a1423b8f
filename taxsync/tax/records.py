"""Typed, immutable records of the tax engine: what goes in (events, rules) and what comes out.

The engine never sees the database or the network: the service layer turns the valued ledger into
``Event`` values, the engine returns a ``TaxResult``. Every record carries ``ref``, the provenance of the
source row (``account/raw-record id``), so any report line points back to the data it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from taxsync.problems import Problem
from taxsync.types import Asset, Role, TimestampMs

SHARE_SCALE = Decimal("1e-18")


def share(total: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """``total * part / whole`` rounded half-even to 18 decimal places.

    Splitting a cost or proceeds by units rarely divides exactly; rounding each share to a fixed scale (far below
    a cent, and as fine as an 18-decimal token) and giving the remainder to what is left keeps every sum exact:
    the shares of a lot always add up to its cost, digit for digit."""
    return (total * part / whole).quantize(SHARE_SCALE, rounding=ROUND_HALF_EVEN)


class EventKind(StrEnum):
    """What an event means for cost basis (decided by the ledger and the transfer matcher)."""

    TRADE = "trade"  # out legs are disposed of, in legs acquired
    INCOME = "income"  # in legs are ordinary income at their value, which becomes their cost
    SPEND = "spend"  # out legs are disposed of at their value (payments, fees charged by a platform)
    DEPOSIT = "deposit"  # units arrived from outside the known accounts: zero cost unless told otherwise
    WITHDRAWAL = "withdrawal"  # units left for a place we do not know: removed without a gain, flagged
    GIFT_IN = "gift_in"  # received as a gift: the donor's basis carries over (unknown here: zero, flagged)
    GIFT_OUT = "gift_out"  # given away or donated: not a sale, the lots leave
    LOSS = "loss"  # lost or stolen: the lots leave without a deductible loss
    TRANSFER = "transfer"  # a withdrawal matched to a deposit into another own account
    INTERNAL = "internal"  # a movement that changes no ownership (staking in and out)


class Term(StrEnum):
    SHORT = "short"
    LONG = "long"


@dataclass(frozen=True, slots=True)
class ValuedLeg:
    """A signed movement of one asset, with its value in the tax currency when known (always positive)."""

    asset: Asset
    amount: Decimal
    role: Role
    value: Decimal | None


@dataclass(frozen=True, slots=True)
class Event:
    """One valued transaction, ready for the engine. ``to_account`` is set on transfers only."""

    ref: str
    account: str
    timestamp: TimestampMs
    kind: EventKind
    legs: tuple[ValuedLeg, ...]
    subkind: str = ""
    to_account: str = ""


@dataclass(frozen=True, slots=True)
class Lot:
    """Units acquired together and still (partly) held."""

    asset: Asset
    amount: Decimal
    cost: Decimal
    acquired: TimestampMs
    account: str
    ref: str

    @property
    def unit_cost(self) -> Decimal:
        return self.cost / self.amount if self.amount else Decimal(0)


@dataclass(frozen=True, slots=True)
class LotMatch:
    """The part of a lot consumed by one disposal. ``lot_ref`` is empty for units with no known acquisition."""

    lot_ref: str
    acquired: TimestampMs | None
    acquired_date: date | None
    amount: Decimal
    cost: Decimal
    account: str


@dataclass(frozen=True, slots=True)
class Disposal:
    """A sale, swap or spend matched to lots, for one holding term.

    A disposal whose lots straddle the holding-term boundary is reported as two disposals, as Form 8949 needs.
    ``acquired`` is None when the matched lots were acquired on several days ("various"); ``no_basis`` is the
    part of ``amount`` that had no known acquisition (given zero cost and flagged as a problem).
    """

    ref: str
    account: str
    asset: Asset
    amount: Decimal
    disposed_at: TimestampMs
    disposed: date
    acquired: date | None
    proceeds: Decimal
    cost: Decimal
    term: Term
    rule: str
    matches: tuple[LotMatch, ...]
    no_basis: Decimal = Decimal(0)

    @property
    def gain(self) -> Decimal:
        return self.proceeds - self.cost


@dataclass(frozen=True, slots=True)
class Income:
    """Units received as income; ``value`` is None when no price was known (a problem says so)."""

    ref: str
    account: str
    asset: Asset
    amount: Decimal
    value: Decimal | None
    kind: str
    received_at: TimestampMs
    received: date


@dataclass(frozen=True, slots=True)
class Holding:
    """Units held at the end of the computation with their remaining cost; ``account`` is ``"all"`` when
    basis is tracked across accounts (universal tracking)."""

    asset: Asset
    amount: Decimal
    cost: Decimal
    account: str


@dataclass(frozen=True, slots=True)
class TaxResult:
    disposals: tuple[Disposal, ...]
    income: tuple[Income, ...]
    holdings: tuple[Holding, ...]
    problems: tuple[Problem, ...]
