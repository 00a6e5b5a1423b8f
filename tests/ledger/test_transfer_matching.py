"""Matching withdrawals to deposits between own accounts."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from taxsync.ledger.records import Leg, Transaction, TxKind
from taxsync.ledger.transfers import match_transfers
from taxsync.types import Asset, Role, TimestampMs

HOUR = 3_600_000


def move(kind: TxKind, account: str, hours: float, amount: str, fee: str = "0", txhash: str = "") -> Transaction:
    sign = -1 if kind is TxKind.WITHDRAWAL else 1
    legs = [Leg(Asset("BTC"), sign * D(amount), Role.OUT if sign < 0 else Role.IN)]
    if D(fee):
        legs.append(Leg(Asset("BTC"), -D(fee), Role.FEE))
    return Transaction(f"{account}:{hours}", account, TimestampMs(int(hours * HOUR)), kind, tuple(legs),
                       txhash=txhash)


def test_same_hash_matches_even_far_apart() -> None:
    w = move(TxKind.WITHDRAWAL, "a", 0, "1", txhash="0xa")
    d = move(TxKind.DEPOSIT, "b", 500, "1", txhash="0xa")
    remaining, transfers = match_transfers([w, d])
    assert remaining == [] and [(t.withdrawal, t.deposit, t.matched_by) for t in transfers] == [(w, d, "txhash")]


def test_amount_and_time_match_within_fee() -> None:
    w = move(TxKind.WITHDRAWAL, "a", 0, "1", fee="0.0005")
    d = move(TxKind.DEPOSIT, "b", 2, "0.9995")
    assert len(match_transfers([w, d])[1]) == 1


def test_no_match_more_received_than_sent_or_too_late_or_same_account() -> None:
    w = move(TxKind.WITHDRAWAL, "a", 0, "1")
    for deposit in (move(TxKind.DEPOSIT, "b", 1, "1.01"), move(TxKind.DEPOSIT, "b", 24 * 8, "1"),
                    move(TxKind.DEPOSIT, "a", 1, "1"), move(TxKind.DEPOSIT, "b", 1, "0.9")):
        remaining, transfers = match_transfers([w, deposit])
        assert transfers == [] and len(remaining) == 2


def test_each_deposit_is_used_once_earliest_first() -> None:
    w1, w2 = move(TxKind.WITHDRAWAL, "a", 0, "1"), move(TxKind.WITHDRAWAL, "a", 1, "1")
    d1, d2 = move(TxKind.DEPOSIT, "b", 2, "1"), move(TxKind.DEPOSIT, "c", 3, "1")
    _, transfers = match_transfers([d2, w2, d1, w1])
    assert [(t.withdrawal, t.deposit) for t in transfers] == [(w1, d1), (w2, d2)]


def _scan_all(transactions: list[Transaction]) -> list[tuple[str, str]]:
    """The rule as written (each withdrawal, oldest first, takes the earliest fitting deposit of all), by a
    plain scan of every deposit: the reference the windowed search must agree with."""
    from taxsync.ledger.transfers import _fits

    withdrawals = sorted((t for t in transactions if t.kind is TxKind.WITHDRAWAL), key=lambda t: t.timestamp)
    deposits = sorted((t for t in transactions if t.kind is TxKind.DEPOSIT), key=lambda t: t.timestamp)
    used: set[int] = set()
    pairs = []
    for withdrawal in withdrawals:
        for deposit in deposits:
            if id(deposit) not in used and _fits(withdrawal, deposit):
                used.add(id(deposit))
                pairs.append((withdrawal.ref, deposit.ref))
                break
    return pairs


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([TxKind.WITHDRAWAL, TxKind.DEPOSIT]), st.sampled_from("abc"),
                          st.integers(0, 24 * 30), st.sampled_from(["1", "0.999", "0.9995", "2", "0.5"]),
                          st.sampled_from(["0", "0.0005", "0.001"]), st.sampled_from(["BTC", "ETH"])),
                max_size=40))
def test_windowed_matching_takes_the_same_deposits_as_a_scan_of_all(moves: list) -> None:  # type: ignore[type-arg]
    transactions = []
    for n, (kind, account, hours, amount, fee, asset) in enumerate(moves):
        tx = move(kind, account, hours, amount, fee if kind is TxKind.WITHDRAWAL else "0")
        legs = tuple(Leg(Asset(asset), leg.amount, leg.role) for leg in tx.legs)
        transactions.append(tx._replace(ref=f"{tx.ref}#{n}", legs=legs))
    _, transfers = match_transfers(transactions)
    assert [(t.withdrawal.ref, t.deposit.ref) for t in transfers] == _scan_all(transactions)
