"""Rows that say what they are in a type column, with a buy side, a sell side and a fee (CoinTracking, BittyTax).

Each format gives a table from its type words to (direction, kind, subkind). The direction says which sides the
row must have: ``trade`` both, ``in`` the buy side, ``out`` the sell side. A type the table does not know is
reported (``UNKNOWN_LABEL``) and the row is booked by the sides it has, like a Koinly row without label: both a
trade, buy only a deposit, sell only a withdrawal. A type that taxsync books only approximately (loans, margin)
carries a note that becomes an ``UNSUPPORTED`` warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from taxsync.ledger.records import Leg, Quote, Transaction, TxKind
from taxsync.ledger.sources.base import FieldError, Normalized
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.types import Asset, Role, TimestampMs


@dataclass(frozen=True, slots=True)
class RowType:
    direction: str  # "trade", "in" or "out"
    kind: TxKind
    subkind: str = ""
    note: str = ""  # why taxsync books this type only approximately (an UNSUPPORTED warning)


@dataclass(frozen=True, slots=True)
class Sides:
    """What a row moves, read by the format: (amount, asset) or None for each side."""

    buy: tuple[Decimal, Asset] | None
    sell: tuple[Decimal, Asset] | None
    fee: tuple[Decimal, Asset] | None
    buy_column: str
    sell_column: str


PLAIN = {"trade": RowType("trade", TxKind.TRADE), "in": RowType("in", TxKind.DEPOSIT),
         "out": RowType("out", TxKind.WITHDRAWAL)}


def typed_transaction(word: str, type_column: str, types: Mapping[str, RowType], sides: Sides, *, ref: str,
                      account: str, timestamp: TimestampMs, quote: Quote | None, description: str,
                      txhash: str = "", exchange_id: str = "", source: str) -> Normalized:
    """The transaction of one typed row, or a ``FieldError`` when its sides do not fit its type."""
    key = " ".join(word.strip().lower().split())
    row_type = types.get(key)
    problems: list[Problem] = []
    if row_type is None:
        if sides.buy is None and sides.sell is None:
            raise FieldError(type_column, f"unknown type '{word}' and the row moves nothing")
        direction = "trade" if sides.buy and sides.sell else "in" if sides.buy else "out"
        row_type = PLAIN[direction]
        known = ", ".join(sorted({name for name in types}))
        problems.append(Problem(ProblemKind.UNKNOWN_LABEL, Severity.WARNING,
                                f"{source} type '{word}' is not known (known: {known}); booked as a plain "
                                f"{row_type.kind.value} by the amounts it has", ref))
    if row_type.direction in ("trade", "in") and sides.buy is None:
        raise FieldError(sides.buy_column, f"a {word} row needs the amount and asset it brought in")
    if row_type.direction in ("trade", "out") and sides.sell is None:
        raise FieldError(sides.sell_column, f"a {word} row needs the amount and asset it sent out")
    if row_type.direction == "in" and sides.sell is not None:
        raise FieldError(sides.sell_column, f"a {word} row brings units in: it has no sell side")
    if row_type.direction == "out" and sides.buy is not None:
        raise FieldError(sides.buy_column, f"a {word} row sends units out: it has no buy side")
    if row_type.note:
        problems.append(Problem(ProblemKind.UNSUPPORTED, Severity.WARNING, f"{source} type '{word}': {row_type.note}",
                                ref))
    legs: list[Leg] = []
    if sides.sell and sides.sell[0]:
        legs.append(Leg(sides.sell[1], -sides.sell[0], Role.OUT))
    if sides.buy and sides.buy[0]:
        legs.append(Leg(sides.buy[1], sides.buy[0], Role.IN))
    if sides.fee and sides.fee[0]:
        legs.append(Leg(sides.fee[1], -sides.fee[0], Role.FEE))
    transaction = Transaction(ref=ref, account=account, timestamp=timestamp, kind=row_type.kind, legs=tuple(legs),
                              quote=quote, subkind=row_type.subkind, label=word.strip(), description=description,
                              txhash=txhash, exchange_id=exchange_id)
    return Normalized(transaction, tuple(problems))


def side(amount: Decimal | None, code: Asset, amount_column: str, asset_column: str,
         noun: str = "asset") -> tuple[Decimal, Asset] | None:
    """One side of a row from its amount and asset (the file's ``noun`` for it), both or neither."""
    if amount is None:
        if code:
            raise FieldError(amount_column, f"{asset_column} is '{code}' but the amount is empty")
        return None
    if not code:
        raise FieldError(asset_column, f"{amount_column} is {amount} but the {noun} is empty")
    return amount, code
