"""One event from two sources counts once: by exchange id, else by time to the second and amounts."""

from __future__ import annotations

from decimal import Decimal as D

from taxsync.ledger.duplicates import Origin, drop_copies
from taxsync.ledger.records import Leg, Transaction, TxKind
from taxsync.problems import ProblemKind, Severity
from taxsync.types import Asset, Role, TimestampMs

API = Origin("binance", True, "binance-main")
EXPORT = Origin("binance", False, "binance-main/export.csv")
OTHER_EXPORT = Origin("binance", False, "binance-old/export.csv")
KOINLY = Origin("", False, "wallet/koinly.csv")
T0 = 1_704_275_231_000  # 2024-01-03 09:47:11 UTC


def trade(ref: str, ms: int, btc: str, usdt: str, fee: str = "0", exchange_id: str = "") -> Transaction:
    legs = [Leg(Asset("USDT"), -D(usdt), Role.OUT), Leg(Asset("BTC"), D(btc), Role.IN)]
    if D(fee):
        legs.append(Leg(Asset("BNB"), -D(fee), Role.FEE))
    return Transaction(ref, ref.split("/")[0], TimestampMs(ms), TxKind.TRADE, tuple(legs), exchange_id=exchange_id)


def refs(transactions: list[Transaction]) -> list[str]:
    return [tx.ref for tx in transactions]


def test_same_exchange_id_and_amounts_keeps_the_api_copy() -> None:
    api = trade("binance-main/trades:77", T0 + 123, "0.1", "4000", "0.001", exchange_id="77")
    file = trade("binance-main/export.csv:2", T0 + 5000, "0.1", "4000", "0.001", exchange_id="77")
    kept, problems = drop_copies([file, api], [EXPORT, API])
    assert refs(kept) == ["binance-main/trades:77"]
    assert [(p.kind, p.severity, p.source) for p in problems] == [
        (ProblemKind.DUPLICATE_SUSPICION, Severity.INFO, "binance-main/export.csv:2")]
    assert "binance-main/trades:77" in problems[0].message and "exchange id 77" in problems[0].message


def test_same_id_with_other_amounts_is_kept_twice_and_flagged() -> None:
    api = trade("binance-main/trades:77", T0, "0.1", "4000", exchange_id="77")
    file = trade("binance-main/export.csv:2", T0, "0.1", "4001", exchange_id="77")
    kept, problems = drop_copies([api, file], [API, EXPORT])
    assert len(kept) == 2
    assert [(p.severity, p.source) for p in problems][:1] == [(Severity.WARNING, "binance-main/export.csv:2")]


def test_export_rounded_to_the_second_matches_by_time_and_net_amounts() -> None:
    api = trade("binance-main/trades:1", T0 + 640, "0.1", "4000", "0.001")
    file = trade("binance-main/export.csv:2", T0, "0.1", "4000", "0.001")
    kept, problems = drop_copies([file, api], [EXPORT, API])
    assert refs(kept) == ["binance-main/trades:1"] and problems[0].severity is Severity.INFO


def test_one_export_row_of_several_fills_in_that_second_matches_their_sum() -> None:
    fills = [trade(f"binance-main/trades:{n}", T0 + 200 + n, btc, usdt, fee)
             for n, (btc, usdt, fee) in enumerate([("0.02", "800", "0.0002"), ("0.03", "1200", "0.0003")])]
    other_market = Transaction("binance-main/trades:9", "binance-main", TimestampMs(T0 + 300), TxKind.TRADE,
                               (Leg(Asset("ETH"), D("-1"), Role.OUT), Leg(Asset("USDT"), D("3000"), Role.IN)))
    file = trade("binance-main/export.csv:2", T0, "0.05", "2000", "0.0005")
    kept, _ = drop_copies([file, *fills, other_market], [EXPORT, API, API, API])
    assert refs(kept) == [*refs(fills), "binance-main/trades:9"]


def test_a_second_apart_or_other_amounts_are_not_merged_but_suspected() -> None:
    api = trade("binance-main/trades:1", T0, "0.1", "4000", "0.001")
    later = trade("binance-main/export.csv:2", T0 + 30_000, "0.1", "4000", "0.001")
    other_fee = trade("binance-main/export.csv:3", T0, "0.2", "8000", "0.002")
    kept, problems = drop_copies([api, later], [API, EXPORT])
    assert len(kept) == 2
    assert [(p.severity, p.source) for p in problems] == [(Severity.WARNING, "binance-main/export.csv:2")]
    assert "30 s apart" in problems[0].message
    kept, problems = drop_copies([api, other_fee], [API, EXPORT])
    assert len(kept) == 2 and problems == []


def test_two_identical_rows_of_one_source_are_two_trades() -> None:
    one = trade("binance-main/export.csv:2", T0, "0.1", "4000")
    two = trade("binance-main/export.csv:3", T0, "0.1", "4000")
    assert drop_copies([one, two], [EXPORT, EXPORT]) == ([one, two], [])


def test_each_api_fill_absorbs_one_export_copy_only() -> None:
    fills = [trade(f"binance-main/trades:{n}", T0 + n, "0.1", "4000") for n in range(2)]
    rows = [trade(f"binance-main/export.csv:{n}", T0, "0.1", "4000") for n in range(3)]
    kept, problems = drop_copies([*fills, *rows], [API, API, EXPORT, EXPORT, EXPORT])
    assert refs(kept) == [*refs(fills), "binance-main/export.csv:2"]
    assert [p.severity for p in problems].count(Severity.INFO) == 2


def test_two_exports_of_one_exchange_in_two_accounts_keep_the_first_by_name() -> None:
    new = trade("binance-main/export.csv:2", T0, "0.1", "4000")
    old = trade("binance-old/export.csv:7", T0, "0.1", "4000")
    kept, _ = drop_copies([old, new], [OTHER_EXPORT, EXPORT])
    assert refs(kept) == ["binance-main/export.csv:2"]


def test_a_file_of_unknown_exchange_is_never_merged_only_suspected() -> None:
    api = trade("binance-main/trades:1", T0, "0.1", "4000")
    koinly = trade("wallet/koinly.csv:2", T0, "0.1", "4000")
    kept, problems = drop_copies([api, koinly], [API, KOINLY])
    assert len(kept) == 2 and [p.severity for p in problems] == [Severity.WARNING]
