"""The user's transfer decisions in the matcher: manual links, unlinks, links that no longer fit; and the cost
a user gives for a deposit, carried by valuation to the engine."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from taxsync.assets import FIAT
from taxsync.ledger.records import GivenCost, Leg, Quote, Transaction, Transfer, TxKind
from taxsync.ledger.transfers import link_problems, match_transfers
from taxsync.prices.valuation import value_ledger
from taxsync.problems import ProblemKind, Severity
from taxsync.tax.records import EventKind
from taxsync.types import Asset, Role, TimestampMs

HOUR = 3_600_000
USD = Asset("USD")


def move(kind: TxKind, ref: str, hours: float, amount: str, asset: str = "BTC", txhash: str = "") -> Transaction:
    """A withdrawal or deposit in the account named before the slash of ``ref``."""
    sign = -1 if kind is TxKind.WITHDRAWAL else 1
    leg = Leg(Asset(asset), sign * D(amount), Role.OUT if sign < 0 else Role.IN)
    return Transaction(ref, ref.split("/")[0], TimestampMs(int(hours * HOUR)), kind, (leg,), txhash=txhash)


def out(ref: str, hours: float, amount: str, **kw: str) -> Transaction:
    return move(TxKind.WITHDRAWAL, ref, hours, amount, **kw)


def into(ref: str, hours: float, amount: str, **kw: str) -> Transaction:
    return move(TxKind.DEPOSIT, ref, hours, amount, **kw)


def pairs(transfers: list[Transfer]) -> list[tuple[str, str, str]]:
    return [(t.withdrawal.ref, t.deposit.ref, t.matched_by) for t in transfers]


def test_a_link_pairs_what_the_rules_would_not() -> None:
    # three weeks on the way and 2% lost to an unrecorded fee: no rule pairs these
    w, d = out("exchange/1", 0, "1"), into("wallet/1", 21 * 24, "0.98")
    assert match_transfers([w, d])[1] == []
    remaining, transfers = match_transfers([w, d], links=[("exchange/1", "wallet/1")])
    assert remaining == [] and pairs(transfers) == [("exchange/1", "wallet/1", "manual")]
    assert link_problems([w, d], [("exchange/1", "wallet/1")]) == []


def test_an_unlink_keeps_a_hash_pair_apart_and_the_rules_may_pick_another_partner() -> None:
    w = out("exchange/1", 0, "1", txhash="0xa")
    same_hash, fits = into("wallet/1", 1, "1", txhash="0xa"), into("cold/1", 2, "1")
    assert pairs(match_transfers([w, same_hash, fits])[1]) == [("exchange/1", "wallet/1", "txhash")]
    remaining, transfers = match_transfers([w, same_hash, fits], unlinks=[("exchange/1", "wallet/1")])
    assert pairs(transfers) == [("exchange/1", "cold/1", "amount and time")] and remaining == [same_hash]


def test_a_link_takes_its_deposit_from_the_rules_and_they_match_the_rest() -> None:
    early, late = out("exchange/1", 0, "1"), out("exchange/2", 1, "1")
    first, second = into("wallet/1", 2, "1"), into("wallet/2", 3, "1")
    assert pairs(match_transfers([early, late, first, second])[1]) == [
        ("exchange/1", "wallet/1", "amount and time"), ("exchange/2", "wallet/2", "amount and time")]
    _, transfers = match_transfers([early, late, first, second], links=[("exchange/2", "wallet/1")])
    assert pairs(transfers) == [("exchange/2", "wallet/1", "manual"), ("exchange/1", "wallet/2", "amount and time")]


def test_told_to_link_and_to_unlink_the_same_pair_keeps_them_apart() -> None:
    w, d = out("exchange/1", 0, "1"), into("wallet/1", 1, "1")
    remaining, transfers = match_transfers([w, d], links=[("exchange/1", "wallet/1")],
                                           unlinks=[("exchange/1", "wallet/1")])
    assert transfers == [] and remaining == [w, d]


LEDGER = [
    out("exchange/1", 0, "1"),
    into("wallet/1", 1, "1"),
    into("wallet/eth", 1, "1", asset="ETH"),
    into("exchange/back", 2, "0.5"),
    into("wallet/more", 3, "1.5"),
    out("exchange/2", 4, "1"),
]


@pytest.mark.parametrize(("link", "reason"), [
    (("exchange/gone", "wallet/1"), "exchange/gone is no longer in the ledger"),
    (("exchange/1", "wallet/gone"), "wallet/gone is no longer in the ledger"),
    (("wallet/1", "exchange/1"), "wallet/1 is now a deposit, not a withdrawal"),
    (("exchange/1", "wallet/eth"), "the withdrawal moves BTC but the deposit ETH"),
    (("exchange/1", "exchange/back"), "both are in account 'exchange'"),
    (("exchange/1", "wallet/more"), "the deposit (1.5 BTC) is more than was withdrawn (1 BTC)"),
])
def test_a_link_that_no_longer_fits_is_a_problem_and_the_rules_decide(link: tuple[str, str], reason: str) -> None:
    remaining, transfers = match_transfers(LEDGER, links=[link])
    assert (remaining, transfers) == match_transfers(LEDGER)  # as if there were no link
    [problem] = link_problems(LEDGER, [link])
    assert (problem.kind, problem.severity, problem.source) == (
        ProblemKind.IGNORED_MANUAL_ENTRY, Severity.ERROR, link[0])
    assert f"manual transfer link {link[0]} -> {link[1]} is not applied: {reason}" in problem.message


def test_a_transaction_is_linked_once_the_first_link_wins() -> None:
    links = [("exchange/1", "wallet/1"), ("exchange/2", "wallet/1")]
    _, transfers = match_transfers(LEDGER, links=links)
    assert ("exchange/1", "wallet/1", "manual") in pairs(transfers)
    [problem] = link_problems(LEDGER, links)
    assert "wallet/1 is already linked to exchange/1" in problem.message


def test_a_ref_that_names_two_withdrawals_is_not_guessed() -> None:
    twins = [out("exchange/1", 0, "1"), out("exchange/1", 5, "2"), into("wallet/1", 30, "1")]
    _, transfers = match_transfers(twins, links=[("exchange/1", "wallet/1")])
    assert "manual" not in [t.matched_by for t in transfers]
    assert "exchange/1 names 2 transactions" in link_problems(twins, [("exchange/1", "wallet/1")])[0].message


def test_a_deposit_with_a_user_cost_carries_it_as_basis() -> None:
    bought, unknown = into("wallet/1", 0, "2", asset="ETH"), into("wallet/2", 1, "1", asset="ETH")
    eur = into("wallet/3", 2, "1", asset="ETH")
    w, d = out("exchange/1", 3, "1"), into("wallet/4", 4, "1")
    costs = {"wallet/1": GivenCost(Quote(D("5000"), USD), TimestampMs(1_600_000_000_000)),
             "wallet/3": GivenCost(Quote(D("900"), Asset("EUR")), TimestampMs(1_600_000_000_000)),
             "wallet/4": GivenCost(Quote(D("1"), USD))}
    events, problems = value_ledger([bought, unknown, eur], [Transfer(w, d, "manual")], USD, FIAT, costs)
    assert [(e.ref, e.kind, e.basis, e.acquired) for e in events] == [
        ("wallet/1", EventKind.DEPOSIT, D("5000"), 1_600_000_000_000), ("wallet/2", EventKind.DEPOSIT, None, None),
        ("wallet/3", EventKind.DEPOSIT, None, None),  # a cost not in the tax currency is not used, nor its day
        ("exchange/1", EventKind.TRANSFER, None, None)]  # a transfer's deposit keeps the moved lots' cost
    assert events[-1].subkind == "manual"
    [problem] = problems
    assert problem.source == "wallet/3" and "900 EUR, not USD" in problem.message
