"""Koinly universal rows into ledger transactions: kinds, labels, legs, fees and field errors."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from taxsync.ledger.records import TxKind
from taxsync.ledger.sources import FieldError
from taxsync.ledger.sources.koinly import normalize_koinly
from taxsync.problems import ProblemKind
from taxsync.types import Role
from tests.conftest import KOINLY_HEADER

HEADER = KOINLY_HEADER.split(",")


def row(text: str) -> dict[str, str]:
    return dict(zip(HEADER, text.split(","), strict=True))


def test_trade_with_fee_and_net_worth() -> None:
    result = normalize_koinly(row("2024-03-01 14:25:00 UTC,1,ETH,0.05,BTC,0.001,ETH,3000,usd,,Swap,0xab"), "a", "r")
    tx = result.transaction
    assert tx is not None and tx.kind is TxKind.TRADE and result.problems == ()
    assert [(leg.asset, leg.amount, leg.role) for leg in tx.legs] == [
        ("ETH", D("-1"), Role.OUT), ("BTC", D("0.05"), Role.IN), ("ETH", D("-0.001"), Role.FEE)]
    assert (tx.quote.amount, tx.quote.currency, tx.txhash) == (D("3000"), "USD", "0xab")
    assert tx.timestamp == 1709303100000


@pytest.mark.parametrize(
    ("text", "kind", "subkind"),
    [
        ("2024-01-01,,,1,ETH,,,100,USD,Staking,,", TxKind.INCOME, "staking"),
        ("2024-01-01,,,1,ETH,,,100,USD,lending interest,,", TxKind.INCOME, "interest"),
        ("2024-01-01,,,1,ETH,,,,,,,", TxKind.DEPOSIT, ""),
        ("2024-01-01,,,1,ETH,,,,,gift,,", TxKind.GIFT_IN, "gift"),
        ("2024-01-01,1,ETH,,,,,,,,,", TxKind.WITHDRAWAL, ""),
        ("2024-01-01,1,ETH,,,,,100,USD,cost,,", TxKind.SPEND, "cost"),
        ("2024-01-01,1,ETH,,,,,,,Donation,,", TxKind.GIFT_OUT, "donation"),
        ("2024-01-01,1,ETH,,,,,,,lost,,", TxKind.LOSS, "lost"),
        ("2024-01-01,1,ETH,,,,,,,stake,,", TxKind.INTERNAL, "stake"),
        ("2024-01-01,,,,,0.1,ETH,,,,,", TxKind.SPEND, "fee"),
    ],
)
def test_labels_refine_the_kind(text: str, kind: TxKind, subkind: str) -> None:
    tx = normalize_koinly(row(text), "a", "r").transaction
    assert tx is not None and (tx.kind, tx.subkind) == (kind, subkind)


def test_unknown_label_is_a_problem_not_a_crash() -> None:
    result = normalize_koinly(row("2024-01-01,,,1,ETH,,,,,moon bonus,,"), "a", "file.csv:7")
    assert result.transaction is not None and result.transaction.kind is TxKind.DEPOSIT
    assert [(p.kind, p.source) for p in result.problems] == [(ProblemKind.UNKNOWN_LABEL, "file.csv:7")]


@pytest.mark.parametrize(
    ("fields", "column"),
    [
        ({"Date": "yesterday"}, "Date"),
        ({"Sent Amount": "1.2.3"}, "Sent Amount"),
        ({"Sent Amount": "1,000"}, "Sent Amount"),  # thousands separators are refused, not guessed
        ({"Sent Currency": ""}, "Sent Currency"),
        ({"Sent Amount": ""}, "Sent Amount"),
        ({"Sent Amount": "-1"}, "Sent Amount"),
        ({"Sent Amount": "", "Sent Currency": ""}, "Sent Amount"),  # moves nothing at all
    ],
)
def test_bad_fields_name_their_column(fields: dict[str, str], column: str) -> None:
    with pytest.raises(FieldError) as error:
        normalize_koinly({**row("2024-01-01,1,ETH,,,,,,,,,"), **fields}, "a", "r")
    assert error.value.column == column


@pytest.mark.parametrize(
    ("text", "millis"),
    [
        ("2024-03-01 14:25:00 UTC", 1709303100000),
        ("2024-03-01 14:25", 1709303100000),
        ("2024-03-01T14:25:00.123Z", 1709303100123),
        ("2024-03-01T15:25:00.123+01:00", 1709303100123),
        ("2024-03-01 14:25:00.1239", 1709303100123),
    ],
)
def test_dates_are_utc_milliseconds(text: str, millis: int) -> None:
    tx = normalize_koinly(row(f"{text},1,ETH,,,,,,,,,"), "a", "r").transaction
    assert tx is not None and tx.timestamp == millis
