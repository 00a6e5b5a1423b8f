"""Typed, immutable records of the tax engine: what goes in (events, rules) and what comes out.

The engine never sees the database or the network: the service layer turns the valued ledger into
``Event`` values, the engine returns a ``TaxResult``. Every record carries ``ref``, the provenance of the
source row (``account/raw-record id``), so any report line points back to the data it came from.

Records are immutable. Those made by the million (``ValuedLeg`` in valuation; ``Lot``, ``LotMatch``,
``Disposal`` in the engine's inner loop) are typed ``NamedTuple``s rather than frozen dataclasses: a frozen
dataclass sets each field through ``object.__setattr__`` and costs three times as much to build, which a
million-transaction year feels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import NamedTuple

from taxsync.problems import Problem
from taxsync.types import Asset, Role, TimestampMs, pickled_by_fields

SHARE_SCALE = Decimal("1e-18")


def share(total: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """``total * part / whole`` rounded half-even to 18 decimal places.

    Splitting a cost or proceeds by units rarely divides exactly; rounding each share to a fixed scale (far below
    a cent, and as fine as an 18-decimal token) and giving the remainder to what is left keeps every sum exact:
    the shares of a lot always add up to its cost, digit for digit."""
    return (total * part / whole).quantize(SHARE_SCALE, ROUND_HALF_EVEN)  # positional: no keyword parsing


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


class ValuedLeg(NamedTuple):
    """A signed movement of one asset, with its value in the tax currency when known (always positive) and
    where that value came from (``source``: the trade's own side, a stated value, a rate or a price)."""

    asset: Asset
    amount: Decimal
    role: Role
    value: Decimal | None
    source: str = ""


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Event:
    """One valued transaction, ready for the engine. ``to_account`` is set on transfers only; ``basis`` is the
    cost the user gave for units that arrived from outside the known accounts (a deposit), if any, and
    ``acquired`` when the user says those units were acquired (before they arrived)."""

    ref: str
    account: str
    timestamp: TimestampMs
    kind: EventKind
    legs: tuple[ValuedLeg, ...]
    subkind: str = ""
    to_account: str = ""
    basis: Decimal | None = None
    acquired: TimestampMs | None = None


class Lot(NamedTuple):
    """Units acquired together and still (partly) held; ``acquired_date`` is the local day of ``acquired``."""

    asset: Asset
    amount: Decimal
    cost: Decimal
    acquired: TimestampMs
    account: str
    ref: str
    acquired_date: date
    unknown: Decimal = Decimal(0)  # units whose cost is not known (zero used): unmatched deposits, gifts, no price
    # A US gift worth less than the donor's basis when given: the basis for a loss is that value (Treas. Reg.
    # 1.1015-1(a)); None everywhere else (``cost`` is the basis for gain and loss alike).
    loss_cost: Decimal | None = None

    @property
    def unit_cost(self) -> Decimal:
        return self.cost / self.amount if self.amount else Decimal(0)


class LotMatch(NamedTuple):
    """The part of a lot consumed by one disposal. ``lot_ref`` is empty for units with no known acquisition;
    ``unknown`` is the part of ``amount`` whose cost was not known when it was acquired (zero was used)."""

    lot_ref: str
    acquired: TimestampMs | None
    acquired_date: date | None
    amount: Decimal
    cost: Decimal
    account: str
    unknown: Decimal = Decimal(0)
    loss_cost: Decimal | None = None  # the lot's basis for a loss, where it differs (a US gift: Lot.loss_cost)


class Disposal(NamedTuple):
    """A sale, swap or spend matched to lots, for one holding term.

    A disposal whose lots straddle the holding-term boundary is reported as two disposals, as Form 8949 needs.
    ``acquired`` is None when the matched lots were acquired on several days ("various"); ``no_basis`` is the
    part of ``amount`` that had no known acquisition (given zero cost and flagged as a problem); units acquired at
    an unknown cost show in their matches' ``unknown`` (and are flagged too).
    ``adjustment`` is added to the gain, as Form 8949's column (g) and Schedule 3 do: a superficial loss denied
    in Canada is a positive adjustment that brings the loss towards zero, ``adjustment_code`` says which rule.
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
    adjustment: Decimal = Decimal(0)
    adjustment_code: str = ""

    @property
    def gain(self) -> Decimal:
        return self.proceeds - self.cost + self.adjustment


@pickled_by_fields
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


@pickled_by_fields
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
    opening: tuple[Holding, ...] = ()  # holdings just before the moment ``compute`` was asked about, if any
