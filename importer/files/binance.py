"""Binance transaction history export ("Generate all statements"), with the rows of one trade grouped.

Rows of a spot trade (or a Convert, or a small-asset conversion) share UTC_Time and Account; they are grouped
by (time, account, kind of operation) in file order. A small-asset conversion of several coins at once is split
into one record per coin when it has one BNB row per coin (the k-th coin with the k-th BNB row), and a group
of Convert rows into its consecutive pairs, so each record is one swap. Other rows are one record each.
"""

from __future__ import annotations

from collections.abc import Sequence

from importer.files.base import FileFormat, Line
from taxsync.ledger.sources.binance import group_of


def _split(kind: str, rows: list[Line]) -> list[list[Line]]:
    if kind == "dust" and len(rows) > 2:
        bnb = [row for row in rows if row[1].get("Coin", "").strip().upper() == "BNB"]
        other = [row for row in rows if row not in bnb]
        if len(bnb) == len(other):
            return [sorted(pair) for pair in zip(other, bnb, strict=True)]
    if kind == "convert" and len(rows) > 2 and len(rows) % 2 == 0:
        pairs = [rows[i:i + 2] for i in range(0, len(rows), 2)]
        if all(_signs(pair) == {"-", "+"} for pair in pairs):
            return pairs
    return [rows]


def _signs(rows: list[Line]) -> set[str]:
    return {"-" if row[1].get("Change", "").strip().startswith("-") else "+" for row in rows}


def group_binance(lines: Sequence[Line]) -> list[list[Line]]:
    groups: dict[tuple[str, str, str], list[Line]] = {}
    records: list[list[Line]] = []
    for line in lines:
        values = line[1]
        kind = group_of(values.get("Operation", ""))
        if not kind:
            records.append([line])
            continue
        key = (values.get("UTC_Time", "").strip(), values.get("Account", "").strip(), kind)
        if key not in groups:
            groups[key] = []
            records.append(groups[key])
        groups[key].append(line)
    return [part for record in records
            for part in (_split(group_of(record[0][1].get("Operation", "")), record) if len(record) > 2 else [record])]


BINANCE_HISTORY = FileFormat(
    name="binance-history",
    title="Binance transaction history",
    required=("UTC_Time", "Account", "Operation", "Coin", "Change"),
    optional=("User_ID", "Remark"),
    aliases=(("User ID", "User_ID"), ("UTC Time", "UTC_Time"), ("Time", "UTC_Time")),
    exchange="binance",
    numbers=("Change",),
    group=group_binance,
    layout="header User_ID,UTC_Time,Account,Operation,Coin,Change,Remark; UTC_Time like 2024-03-01 14:25:00 "
           "(UTC); Change signed, like -0.0015",
    variants=("User_ID,UTC_Time,Account,Operation,Coin,Change,Remark",
              "User ID,UTC Time,Account,Operation,Coin,Change,Remark"),
)

BINANCE_TRADES = FileFormat(
    name="binance-trades",
    title="Binance spot trade history",
    required=("Date(UTC)", "Pair", "Side", "Executed", "Amount"),
    optional=("Price", "Fee"),
    aliases=(("Date (UTC)", "Date(UTC)"),),
    exchange="binance",
    numbers=("Price", "Executed", "Amount", "Fee"),
    layout="header Date(UTC),Pair,Side,Price,Executed,Amount,Fee; Date(UTC) like 2024-03-01 14:25:00; Executed, "
           "Amount and Fee with their asset, like 0.0015BTC",
    variants=("Date(UTC),Pair,Side,Price,Executed,Amount,Fee",),
)

# The layout before 2021: its Amount is what the later one calls Executed, its Total the later Amount.
BINANCE_TRADES_2019 = FileFormat(
    name="binance-trades-2019",
    title="Binance spot trade history (before 2021)",
    required=("Date(UTC)", "Pair", "Side", "Executed", "Amount", "Fee Coin"),
    optional=("Price", "Fee"),
    aliases=(("Market", "Pair"), ("Type", "Side"), ("Amount", "Executed"), ("Total", "Amount")),
    exchange="binance",
    numbers=("Price", "Executed", "Amount", "Fee"),
    layout="header Date(UTC),Market,Type,Price,Amount,Total,Fee,Fee Coin; Date(UTC) like 2024-03-01 14:25:00; "
           "plain numbers like 0.0015",
    variants=("Date(UTC),Market,Type,Price,Amount,Total,Fee,Fee Coin",),
)
