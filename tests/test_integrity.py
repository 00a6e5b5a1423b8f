"""The holdings check (taxsync.ledger.integrity): the engine's lots against the ledger's own unit balances.

Each case is a short ledger an accountant can follow, run through the real pipeline (transfer matching,
valuation, engine), then checked: clean histories pass, known differences are explained, and a planted
difference fails, naming the asset, the account and the figures. A seeded random history test runs every
method and tracking mode. At the end, a real workspace report carries the check in its JSON and PDF.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path
from zoneinfo import ZoneInfo

import pypdf
import pytest

from taxsync.app import pipeline, service
from taxsync.app import report as report_module
from taxsync.assets import FIAT
from taxsync.ledger.integrity import IntegrityReport, check_holdings
from taxsync.ledger.records import Leg, Transaction, TxKind
from taxsync.ledger.transfers import match_transfers
from taxsync.prices.valuation import value_ledger
from taxsync.problems import ProblemKind, Severity
from taxsync.tax.engine import Rules, compute
from taxsync.tax.jurisdictions import JURISDICTIONS
from taxsync.tax.records import Holding
from taxsync.types import Asset, Role, TimestampMs, day_start, from_datetime
from tests.conftest import SAMPLE

NY = ZoneInfo("America/New_York")
SWITCH = day_start(date(2025, 1, 1), NY)  # the US move to per-wallet basis


def at(text: str) -> TimestampMs:
    """``"2024-03-01 10:00"`` in New York."""
    return from_datetime(datetime.fromisoformat(text).replace(tzinfo=NY))


def buy(account: str, when: str, units: str, asset: str = "BTC", usd: str = "1000", ref: str = "") -> Transaction:
    legs = (Leg(Asset("USD"), -D(usd), Role.OUT), Leg(Asset(asset), D(units), Role.IN))
    return Transaction(ref or f"{account}/buy {when}", account, at(when), TxKind.TRADE, legs)


def sell(account: str, when: str, units: str, asset: str = "BTC", usd: str = "1000", fee: str = "") -> Transaction:
    legs = [Leg(Asset(asset), -D(units), Role.OUT), Leg(Asset("USD"), D(usd), Role.IN)]
    if fee:
        legs.append(Leg(Asset(asset), -D(fee), Role.FEE))
    return Transaction(f"{account}/sell {when}", account, at(when), TxKind.TRADE, tuple(legs))


def move(sender: str, receiver: str, sent_at: str, arrived_at: str, units: str, fee: str = "",
         asset: str = "BTC") -> list[Transaction]:
    """A withdrawal and its deposit, paired by their hash."""
    out = [Leg(Asset(asset), -D(units), Role.OUT)] + ([Leg(Asset(asset), -D(fee), Role.FEE)] if fee else [])
    tx = f"0x{sent_at}"
    return [Transaction(f"{sender}/out {sent_at}", sender, at(sent_at), TxKind.WITHDRAWAL, tuple(out), txhash=tx),
            Transaction(f"{receiver}/in {arrived_at}", receiver, at(arrived_at), TxKind.DEPOSIT,
                        (Leg(Asset(asset), D(units), Role.IN),), txhash=tx)]


def run(history: Sequence[Transaction], end: date, *, method: str = "fifo", tracking: str = "universal",
        switch: TimestampMs | None = None,
        corrupt: Callable[[tuple[Holding, ...]], tuple[Holding, ...]] | None = None) -> IntegrityReport:
    """The pipeline up to ``end`` (as the pipeline runs it), then the check on its holdings."""
    transactions = sorted(history, key=lambda tx: tx.timestamp)
    remaining, transfers = match_transfers(transactions)
    events, _ = value_ledger(remaining, transfers, Asset("USD"), FIAT)
    until = day_start(end + timedelta(days=1), NY)
    rules = Rules(Asset("USD"), method, NY, JURISDICTIONS["us"].term, FIAT, tracking=tracking,
                  per_wallet_from=switch)
    holdings = compute([e for e in events if e.timestamp < until], rules).holdings
    return check_holdings(transactions, transfers, corrupt(holdings) if corrupt else holdings, period_end=end,
                          zone=NY, fiat=FIAT, tracking=tracking, per_wallet_from=switch, method=method)


def figures(report: IntegrityReport) -> dict[tuple[str, str], tuple[D, D, D]]:
    """(account, asset) -> (ledger, expected, lots) of the rows that differ."""
    return {(r.account, r.asset): (r.ledger, r.expected, r.lots) for r in report.rows if r.ledger != r.lots}


# --- histories that reconcile -----------------------------------------------------------------------------

CLEAN = [
    buy("coinbase", "2024-01-10 09:00", "1"),
    buy("coinbase", "2024-02-10 09:00", "0.5", "ETH"),
    sell("coinbase", "2024-03-01 12:00", "0.25", fee="0.001"),
    *move("coinbase", "ledger", "2024-04-01 10:00", "2024-04-01 10:30", "0.5", fee="0.0002"),
    Transaction("ledger/stake", "ledger", at("2024-05-01 10:00"), TxKind.INTERNAL,
                (Leg(Asset("BTC"), D("-0.2"), Role.OUT),), subkind="stake"),  # still owned: no change in lots
    Transaction("coinbase/staking", "coinbase", at("2024-06-30 00:00"), TxKind.INCOME,
                (Leg(Asset("ETH"), D("0.01"), Role.IN),), subkind="staking"),
    Transaction("coinbase/cash", "coinbase", at("2024-07-01 00:00"), TxKind.DEPOSIT,
                (Leg(Asset("USD"), D("5000"), Role.IN),)),  # fiat is cash, not lots
]


# UK share matching pools all accounts whatever the tracking, so it runs universal only.
METHODS_AND_TRACKING = [(m, t) for m in ("fifo", "lifo", "hifo", "acb") for t in ("universal", "per-wallet")]
METHODS_AND_TRACKING.append(("uk-pooling", "universal"))


@pytest.mark.parametrize(("method", "tracking"), METHODS_AND_TRACKING)
def test_a_clean_history_passes_under_every_method(method: str, tracking: str) -> None:
    report = run(CLEAN, date(2024, 12, 31), method=method, tracking=tracking)
    assert (report.differences, report.explained, report.problems) == (0, 0, ())
    assert report.passed and report.checked == (2 if tracking == "universal" else 3)


def test_a_transfer_in_transit_over_the_period_end_counts_at_the_receiver() -> None:
    history = [buy("a", "2024-06-01 10:00", "2"), *move("a", "b", "2024-12-31 23:00", "2025-01-01 02:00", "1")]
    report = run(history, date(2024, 12, 31), tracking="per-wallet")
    assert report.passed and report.explained == 0
    assert {(r.account, r.ledger, r.lots) for r in report.rows} == {("a", D(1), D(1)), ("b", D(1), D(1))}


# --- known differences: explained, not flagged ------------------------------------------------------------


def test_units_sold_while_none_were_held_are_explained_even_after_the_balance_recovers() -> None:
    # Sold 1 BTC with its purchase missing, then bought 2: the ledger holds 1, the lots 2. max(ledger, 0) would
    # call this a bug; the clamped running balance (0 after the sale, 2 after the purchase) explains it.
    history = [sell("coinbase", "2024-02-01 10:00", "1"), buy("coinbase", "2024-03-01 10:00", "2")]
    report = run(history, date(2024, 12, 31))
    assert (report.differences, report.explained) == (0, 1)
    assert figures(report) == {("all", "BTC"): (D(1), D(2), D(2))}
    (note,) = report.problems
    assert (note.kind, note.severity, note.source) == (ProblemKind.INTEGRITY, Severity.INFO, "all/BTC")
    assert "the ledger balance at the end of 2024-12-31 is 1, the cost-basis lots hold 2" in note.message
    assert "1 BTC left while none were held" in note.message


def test_a_negative_ledger_balance_at_the_end_is_explained_by_empty_lots() -> None:
    report = run([sell("coinbase", "2024-09-10 10:00", "400", "ADA", usd="140")], date(2024, 12, 31))
    assert report.passed and figures(report) == {("all", "ADA"): (D(-400), D(0), D(0))}


def test_per_wallet_a_transfer_carries_only_the_units_the_sender_held() -> None:
    history = [buy("a", "2024-01-05 10:00", "0.4"), *move("a", "b", "2024-02-01 10:00", "2024-02-01 11:00", "1")]
    report = run(history, date(2024, 12, 31), tracking="per-wallet")
    assert (report.differences, report.explained) == (0, 2)
    assert figures(report) == {("a", "BTC"): (D("-0.6"), D(0), D(0)), ("b", "BTC"): (D(1), D("0.4"), D("0.4"))}
    assert "0.6 BTC here came with no lots" in report.problems[1].message


def test_the_2025_switch_to_per_wallet_basis_allocates_what_the_lots_cover() -> None:
    # Universal in 2024: b's sale takes a lot of a's. On 1 Jan 2025 the one lot left goes to a (the only wallet
    # with units); b's negative balance gets nothing.
    history = [buy("a", "2024-01-05 10:00", "2"), sell("b", "2024-06-01 10:00", "1"), buy("a", "2025-02-01 10:00", "1")]
    report = run(history, date(2025, 12, 31), switch=SWITCH)
    assert report.passed and report.explained == 2
    assert figures(report) == {("a", "BTC"): (D(3), D(2), D(2)), ("b", "BTC"): (D(-1), D(0), D(0))}


def test_uk_matching_may_cover_a_sale_with_a_later_purchase() -> None:
    # Sold 1 with none held, bought it back 10 days later: the 30-day rule matches them, nothing is missing.
    history = [sell("a", "2024-05-01 10:00", "1"), buy("a", "2024-05-11 10:00", "1"), buy("a", "2024-09-01 10:00", "1")]
    assert figures(run(history, date(2025, 4, 5), method="uk-pooling")) == {}
    assert figures(run(history, date(2025, 4, 5), method="fifo")) == {("all", "BTC"): (D(1), D(2), D(2))}


# --- real differences: flagged --------------------------------------------------------------------------


def scaled(asset: str, factor: str) -> Callable[[tuple[Holding, ...]], tuple[Holding, ...]]:
    return lambda held: tuple(replace(h, amount=h.amount * D(factor)) if h.asset == asset else h for h in held)


def test_a_planted_difference_fails_naming_asset_account_figures_and_difference() -> None:
    report = run(CLEAN, date(2024, 12, 31), corrupt=scaled("BTC", "0.9"))
    assert not report.passed and (report.differences, report.explained) == (1, 0)
    (error,) = report.problems
    assert (error.kind, error.severity, error.source) == (ProblemKind.INTEGRITY, Severity.ERROR, "all/BTC")
    assert error.message.startswith(
        "holdings check failed, BTC in all accounts: the ledger balance at the end of 2024-12-31 is 0.7488, "
        "the cost-basis lots hold 0.67392 (difference -0.07488 BTC)")
    assert "report this message as a taxsync bug" in error.message


def test_per_wallet_a_lot_booked_to_the_wrong_account_fails_twice() -> None:
    def swap(held: tuple[Holding, ...]) -> tuple[Holding, ...]:
        return tuple(replace(h, account={"coinbase": "ledger", "ledger": "coinbase"}[h.account])
                     if h.asset == "BTC" else h for h in held)

    report = run(CLEAN, date(2024, 12, 31), tracking="per-wallet", corrupt=swap)
    assert report.differences == 2
    assert {p.source for p in report.problems} == {"coinbase/BTC", "ledger/BTC"}
    assert "BTC in account 'ledger'" in " ".join(p.message for p in report.problems)


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda held: held[1:],  # a holding lost
        lambda held: (*held, Holding(Asset("SOL"), D(5), D(751), "all")),  # one the ledger never had
        lambda held: tuple(replace(h, amount=h.amount + D("1E-18")) for h in held),  # off in the last digit
    ],
    ids=["lost", "invented", "last-digit"],
)
def test_any_other_difference_fails(corrupt: Callable[[tuple[Holding, ...]], tuple[Holding, ...]]) -> None:
    assert not run(CLEAN, date(2024, 12, 31), corrupt=corrupt).passed


def test_a_difference_inside_a_negative_history_still_fails() -> None:
    history = [sell("coinbase", "2024-02-01 10:00", "1"), buy("coinbase", "2024-03-01 10:00", "2")]
    report = run(history, date(2024, 12, 31), corrupt=scaled("BTC", "0.75"))  # 1.5 instead of 2
    assert report.differences == 1
    assert "2 were expected, as the balance went below zero" in report.problems[0].message


def test_uk_lots_outside_the_explainable_range_fail() -> None:
    history = [sell("a", "2024-05-01 10:00", "1"), buy("a", "2024-09-01 10:00", "1")]
    assert run(history, date(2025, 4, 5), method="uk-pooling").passed
    assert not run(history, date(2025, 4, 5), method="uk-pooling", corrupt=scaled("BTC", "3")).passed


# --- random histories: the check agrees with the engine --------------------------------------------------

START = datetime(2024, 11, 1, tzinfo=UTC)


def random_history(rng: random.Random) -> list[Transaction]:
    """Buys, sells (some with nothing held), swaps, fees, transfers (some arriving days later or an hour
    early), income, unmatched deposits and withdrawals, gifts, losses and staking, over three accounts.
    Transfers carry no deposit-side fee: the engine charges those to the sending account."""
    history: list[Transaction] = []
    moment = START
    for i in range(rng.randint(5, 40)):
        moment += timedelta(hours=rng.choice([1, 2, 3, 30, 70]))
        when = moment.astimezone(NY).strftime("%Y-%m-%d %H:%M:%S")
        account, asset = rng.choice("abc"), rng.choice(["BTC", "ETH"])
        units, fee = str(D(rng.randint(1, 40)) / 10), rng.choice(["", "", "0.01"])
        pick = rng.random()
        if pick < 0.3:
            history.append(buy(account, when, units, asset, ref=f"{account}/{i}"))
        elif pick < 0.5:
            history.append(sell(account, when, units, asset, fee=fee))
        elif pick < 0.72:
            receiver = rng.choice([x for x in "abc" if x != account])
            arrived = (moment + timedelta(minutes=rng.choice([-30, 1, 60, 3 * 1440]))).astimezone(NY)
            history += move(account, receiver, when, arrived.strftime("%Y-%m-%d %H:%M:%S"), units, fee, asset)
        else:
            kind = rng.choice([TxKind.INCOME, TxKind.DEPOSIT, TxKind.WITHDRAWAL, TxKind.GIFT_OUT, TxKind.LOSS,
                               TxKind.INTERNAL, TxKind.SPEND])
            sign = 1 if kind in (TxKind.INCOME, TxKind.DEPOSIT) else -1
            legs = (Leg(Asset(asset), sign * D(units), Role.IN if sign > 0 else Role.OUT),)
            history.append(Transaction(f"{account}/{i}", account, at(when), kind, legs, subkind="x"))
    return history


@pytest.mark.parametrize("seed", range(25))
def test_random_histories_reconcile_under_every_method_and_tracking(seed: int) -> None:
    history = random_history(random.Random(seed))
    for method, tracking in METHODS_AND_TRACKING:
        for switch in (None, SWITCH) if tracking == "universal" else (None,):
            for end in (date(2024, 11, 20), date(2024, 12, 31), date(2025, 1, 15)):
                report = run(history, end, method=method, tracking=tracking, switch=switch)
                assert report.passed, (method, tracking, switch, end, figures(report))


# --- a real workspace report ---------------------------------------------------------------------------


@pytest.fixture
def sample_workspace(workspace):  # type: ignore[no-untyped-def]
    service.import_files(workspace, [SAMPLE / "coinbase.csv"], account="coinbase")
    service.import_files(workspace, [SAMPLE / "ledger.csv"], account="ledger")
    return workspace


def pdf_text(path: Path) -> str:
    return " ".join(" ".join(page.extract_text() for page in pypdf.PdfReader(path).pages).split())


@pytest.mark.parametrize("tracking", ["universal", "per-wallet"])
def test_the_sample_report_passes_the_check(sample_workspace, tracking: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    paths = service.build_report(sample_workspace, year="2024", tracking=tracking, formats=("json", "pdf"),
                                 out=tmp_path).paths
    report = json.loads(paths[0].read_text())
    assert report["integrity"] == {"checked": 4 if tracking == "universal" else 5, "differences": 0,
                                   "explained": 1, "passed": True}
    (note,) = [p for p in report["problems"] if p["kind"] == "integrity"]
    assert note["severity"] == "info" and "400 ADA left while none were held" in note["message"]
    text = pdf_text(paths[1])
    checked = report["integrity"]["checked"]
    assert f"Holdings check passed ({checked} balances compared with the ledger, 1 with a known difference" in text
    assert "FAILED" not in text


def test_a_planted_difference_fails_the_report(sample_workspace, monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    analyze = pipeline.analyze

    def corrupted(*args: object, **kwargs: object) -> pipeline.Analysis:
        analysis = analyze(*args, **kwargs)  # type: ignore[arg-type]
        result = analysis.result
        held = tuple(replace(h, amount=h.amount - D("0.01")) if h.asset == "ETH" else h for h in result.holdings)
        return replace(analysis, result=replace(result, holdings=held))

    monkeypatch.setattr(report_module, "analyze", corrupted)
    paths = service.build_report(sample_workspace, year="2024", formats=("json", "pdf"), out=tmp_path).paths
    report = json.loads(paths[0].read_text())
    assert report["integrity"] == {"checked": 4, "differences": 1, "explained": 1, "passed": False}
    (error,) = [p for p in report["problems"] if p["kind"] == "integrity" and p["severity"] == "error"]
    assert error["source"] == "all/ETH"
    assert "ledger balance at the end of 2024-12-31 is 5.028, the cost-basis lots hold 5.018" in error["message"]
    assert "(difference -0.01 ETH)" in error["message"]
    text = pdf_text(paths[1])
    assert "Holdings check failed: 1 balance in the ledger differs from the cost-basis lots" in text
    assert "FAILED (1 of 4 balances differ from the lots, see Problems)" in text
