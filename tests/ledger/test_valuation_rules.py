"""Valuation from the trade's own tax-currency side and from the value a source states."""

from __future__ import annotations

from decimal import Decimal as D

from taxsync.assets import FIAT
from taxsync.ledger.records import Leg, Quote, Transaction, Transfer, TxKind
from taxsync.prices.valuation import value_ledger
from taxsync.problems import ProblemKind
from taxsync.tax.records import EventKind
from taxsync.types import Asset, Role, TimestampMs

USD = Asset("USD")


def tx(kind: TxKind, *legs: tuple[str, str, Role], quote: tuple[str, str] | None = None, account: str = "a",
       ts: int = 0) -> Transaction:
    return Transaction(f"{account}:{ts}", account, TimestampMs(ts), kind,
                       tuple(Leg(Asset(a), D(n), r) for a, n, r in legs),
                       quote=Quote(D(quote[0]), Asset(quote[1])) if quote else None)


def values(transaction: Transaction) -> list[D | None]:
    events, _ = value_ledger([transaction], [], USD, FIAT)
    return [leg.value for leg in events[0].legs]


def test_purchase_is_valued_by_its_usd_side_and_fee_by_unit_price() -> None:
    t = tx(TxKind.TRADE, ("USD", "-100", Role.OUT), ("ETH", "0.05", Role.IN), ("ETH", "-0.0005", Role.FEE))
    assert values(t) == [D("100"), D("100"), D("1.0000")]


def test_crypto_to_crypto_takes_the_stated_value_on_both_sides() -> None:
    t = tx(TxKind.TRADE, ("ETH", "-1", Role.OUT), ("BTC", "0.05", Role.IN), quote=("3000", "USD"))
    assert values(t) == [D("3000"), D("3000")]


def test_no_value_is_a_problem_never_a_silent_zero() -> None:
    t = tx(TxKind.TRADE, ("ETH", "-1", Role.OUT), ("BTC", "0.05", Role.IN), quote=("2800", "EUR"))
    events, problems = value_ledger([t], [], USD, FIAT)
    assert [leg.value for leg in events[0].legs] == [None, None]
    assert [p.kind for p in problems] == [ProblemKind.MISSING_PRICE]
    assert "BTC, ETH" in problems[0].message


def test_plain_deposit_needs_no_value_but_income_does() -> None:
    assert value_ledger([tx(TxKind.DEPOSIT, ("ETH", "1", Role.IN))], [], USD, FIAT)[1] == []
    problems = value_ledger([tx(TxKind.INCOME, ("ETH", "1", Role.IN))], [], USD, FIAT)[1]
    assert [p.kind for p in problems] == [ProblemKind.MISSING_PRICE]


def test_transfer_event_carries_the_fee_and_the_gap() -> None:
    w = tx(TxKind.WITHDRAWAL, ("BTC", "-1", Role.OUT), ("BTC", "-0.001", Role.FEE), quote=("60000", "USD"))
    d = tx(TxKind.DEPOSIT, ("BTC", "0.998", Role.IN), account="b", ts=1000)
    events, problems = value_ledger([], [Transfer(w, d, "amount and time")], USD, FIAT)
    (event,) = events
    assert (event.kind, event.account, event.to_account, problems) == (EventKind.TRANSFER, "a", "b", [])
    assert [(leg.amount, leg.role, leg.value) for leg in event.legs if leg.role is Role.FEE] == [
        (D("-0.001"), Role.FEE, D("60.000")), (D("-0.002"), Role.FEE, D("120"))]


def test_a_fee_charged_on_the_deposit_is_paid_by_the_receiving_account() -> None:
    """a buys 1 BTC for $60,000 and sends 0.5 to b; b's exchange keeps 0.01 BTC as a deposit fee. Per wallet the
    lots must end as the ledger does: a 0.5, b 0.49 (the fee, worth $600 at $60,000, is b's disposal)."""
    from zoneinfo import ZoneInfo

    from taxsync.tax.engine import Rules, compute
    from taxsync.tax.jurisdictions import JURISDICTIONS

    buy = tx(TxKind.TRADE, ("USD", "-60000", Role.OUT), ("BTC", "1", Role.IN), ts=0)
    w = tx(TxKind.WITHDRAWAL, ("BTC", "-0.5", Role.OUT), ts=1000)
    d = tx(TxKind.DEPOSIT, ("BTC", "0.5", Role.IN), ("BTC", "-0.01", Role.FEE), quote=("30000", "USD"), account="b",
           ts=2000)
    events, problems = value_ledger([buy], [Transfer(w, d, "amount and time")], USD, FIAT)
    assert [(e.kind, e.account) for e in events] == [
        (EventKind.TRADE, "a"), (EventKind.TRANSFER, "a"), (EventKind.TRANSFER, "b")]
    us = JURISDICTIONS["us"]
    result = compute(events, Rules(USD, "fifo", ZoneInfo("UTC"), us.term, FIAT, tracking="per-wallet"))
    assert [(h.account, h.amount, h.cost) for h in result.holdings] == [
        ("a", D("0.5"), D("30000")), ("b", D("0.49"), D("29400"))]
    assert [(d.account, d.amount, d.proceeds, d.cost) for d in result.disposals] == [
        ("b", D("0.01"), D("600"), D("600"))]
    assert problems == []
