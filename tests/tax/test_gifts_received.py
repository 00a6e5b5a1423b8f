"""Gifts received: the donor's cost carries over in the US and Germany, the market value when received is the
cost in the UK, Canada and Australia (jurisdictions.GIFTS_RECEIVED), through the engine and through the CLI."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import pytest

from taxsync.problems import ProblemKind, Severity
from taxsync.tax.engine import compute
from taxsync.tax.records import Event, EventKind, Term, ValuedLeg
from taxsync.types import Asset, Role
from tests.conftest import write_koinly
from tests.tax.conftest import at, movement, rules, sell


def gift(when: str, units: str, asset: str, value: str | None, basis: str | None = None) -> Event:
    """A gift of ``units`` received, worth ``value`` (the market value valuation found) when received."""
    legs = (ValuedLeg(Asset(asset), D(units), Role.IN, None if value is None else D(value)),)
    return Event("gift", "a", at(when), EventKind.GIFT_IN, legs, basis=None if basis is None else D(basis))


@pytest.mark.parametrize("jurisdiction", ["uk", "ca", "au"])
def test_a_gift_costs_its_market_value_where_the_law_says_so(jurisdiction: str) -> None:
    """UK TCGA 1992 s.17, CA ITA s.69(1)(c), AU ITAA 1997 s112-20: 1 BTC received worth 20,000, sold for 25,000:
    gain 5,000 and nothing to report about its cost."""
    cash = rules(jurisdiction).currency
    result = compute([gift("2024-08-01", "1", "BTC", "20000"), sell("2024-09-02", "1", "BTC", "25000", cash=cash)],
                     rules(jurisdiction))
    assert [(r.cost, r.gain) for r in result.disposals] == [(D(20000), D(5000))]
    assert not [p for p in result.problems if p.kind is ProblemKind.MISSING_COST_BASIS]


def test_a_gift_without_a_known_value_is_held_at_unknown_cost_and_its_sale_flagged() -> None:
    result = compute([gift("2024-08-01", "1", "BTC", None), sell("2024-09-02", "1", "BTC", "25000", cash="GBP")],
                     rules("uk"))
    assert [(r.cost, r.gain) for r in result.disposals] == [(D(0), D(25000))]
    assert ProblemKind.MISSING_COST_BASIS in [p.kind for p in result.problems]


@pytest.mark.parametrize("jurisdiction", ["us", "de"])
def test_the_donors_cost_carries_over_when_given(jurisdiction: str) -> None:
    """US IRC §1015, DE §23 Abs. 1 Satz 3 EStG: the donor paid 8,000; the market value of 20,000 does not count."""
    cash = rules(jurisdiction).currency
    events = [gift("2024-08-01", "1", "BTC", "20000", basis="8000"), sell("2024-09-02", "1", "BTC", "25000", cash=cash)]
    result = compute(events, rules(jurisdiction))
    assert [(r.cost, r.gain) for r in result.disposals] == [(D(8000), D(17000))]
    assert not [p for p in result.problems if p.kind is ProblemKind.MISSING_COST_BASIS]
    unknown = compute([replace(events[0], basis=None), events[1]], rules(jurisdiction))
    assert [(r.cost, r.gain) for r in unknown.disposals] == [(D(0), D(25000))]
    assert "transfers cost" in next(p.message for p in unknown.problems if p.source == "gift")


def test_gift_movement_helper_still_books_zero_in_the_us() -> None:
    result = compute([movement(EventKind.GIFT_IN, "2024-01-01", "1", "ETH", ref="g")], rules("us"))
    assert [(h.amount, h.cost) for h in result.holdings] == [(D(1), D(0))]


def gift_history(path: Path, currency: str) -> Path:
    """1 BTC received as a gift (its value stated, as the Koinly file may), sold two months later."""
    return write_koinly(
        path,
        f"2024-06-03 10:00:00 UTC,,,1,BTC,,,20000,{currency},gift,From my aunt,",
        f"2024-08-05 10:00:00 UTC,1,BTC,25000,{currency},,,,,,Sell,",
    )


def test_donor_cost_given_with_transfers_cost_reaches_the_us_report(cli, tmp_path: Path) -> None:
    home, out = tmp_path / "ws", tmp_path / "out"
    cli("init", "--home", home, "--jurisdiction", "us", "--currency", "USD")
    cli("import-file", gift_history(tmp_path / "gifts.csv", "USD"), "--account", "wallet", "--home", home)
    cli("transfers", "cost", "wallet/gifts.csv:2", "8000", "--note", "aunt's purchase, 2019", "--home", home)
    cli("report", "--year", "2024", "--format", "json", "--out", out, "--home", home)
    report = json.loads((out / "taxsync-us-2024-fifo.json").read_text(encoding="utf-8"))
    assert [(d["cost"], d["gain"]) for d in report["disposals"]] == [("8000", "17000")]
    assert not [p for p in report["problems"] if p["kind"] == "missing_cost_basis"]


def test_a_uk_report_takes_a_gift_at_its_market_value(cli, tmp_path: Path) -> None:
    home, out = tmp_path / "ws", tmp_path / "out"
    cli("init", "--home", home, "--jurisdiction", "uk", "--currency", "GBP")
    cli("import-file", gift_history(tmp_path / "gifts.csv", "GBP"), "--account", "wallet", "--home", home)
    cli("report", "--year", "2025", "--format", "json", "--out", out, "--home", home)
    report = json.loads(next(out.glob("*.json")).read_text(encoding="utf-8"))
    assert [(d["cost"], d["gain"]) for d in report["disposals"]] == [("20000", "5000")]
    assert any("market value when received" in note for note in report["notes"])


@pytest.mark.parametrize("code", ["de", "us"])
def test_a_gift_keeps_the_donors_acquisition_day(code: str) -> None:
    """The donor bought on 10 January 2023 for 5,000; the gift arrives on 1 March 2024 and is sold on 1 June
    2024: held since the donor's day, more than a year (DE §23 Abs. 1 Satz 3 EStG: tax-free; US IRC §1223(2):
    long term). Without the donor's day the holding period counts from the gift, and a warning says so."""
    donated = replace(gift("2024-03-01", "1", "BTC", "6000", basis="5000"), acquired=at("2023-01-10"))
    (row,) = compute([donated, sell("2024-06-01", "1", "BTC", "7000")], rules(code)).disposals
    assert (row.term, row.acquired.isoformat(), row.cost, row.gain) == (Term.LONG, "2023-01-10", D("5000"),
                                                                          D("2000"))
    result = compute([gift("2024-03-01", "1", "BTC", "6000", basis="5000"), sell("2024-06-01", "1", "BTC", "7000")],
                     rules(code))
    assert result.disposals[0].term is Term.SHORT
    (warning,) = result.problems
    assert warning.severity is Severity.WARNING and "--acquired" in warning.message


@pytest.mark.parametrize(("units", "proceeds", "cost", "gain"), [
    ("1", "12000", "10000", "2000"),  # above the donor's basis: a gain on the donor's basis
    ("1", "4000", "6000", "-2000"),  # below the value when given: a loss on that value
    ("1", "8000", "8000", "0"),  # in between: neither gain nor loss
    ("0.5", "2000", "3000", "-1000"),  # half of it: each half of the bases
])
def test_a_us_gift_worth_less_than_the_donors_basis_has_a_lower_basis_for_a_loss(
        units: str, proceeds: str, cost: str, gain: str) -> None:
    """Donor's basis 10,000, worth 6,000 when given (Treas. Reg. 1.1015-1(a), IRC §1015(a))."""
    events = [replace(gift("2024-03-01", "1", "BTC", "6000", basis="10000"), acquired=at("2023-01-10")),
              sell("2024-06-01", units, "BTC", proceeds)]
    (row,) = compute(events, rules("us")).disposals
    assert (row.cost, row.gain) == (D(cost), D(gain))
    assert compute(events, rules("us")).problems == ()


def test_germany_has_no_lower_basis_for_a_gift() -> None:
    """§23 EStG: the donor's Anschaffungskosten carry over whatever the gift was worth."""
    events = [replace(gift("2024-03-01", "1", "BTC", "6000", basis="10000"), acquired=at("2023-06-10")),
              sell("2024-06-01", "1", "BTC", "4000")]
    (row,) = compute(events, rules("de")).disposals
    assert (row.cost, row.gain) == (D("10000"), D("-6000"))


def test_a_us_gift_of_unknown_value_is_a_warning() -> None:
    events = [replace(gift("2024-03-01", "1", "BTC", None, basis="10000"), acquired=at("2023-01-10"))]
    (warning,) = compute(events, rules("us")).problems
    assert warning.kind is ProblemKind.MISSING_PRICE and "1.1015-1(a)" in warning.message
