"""Match withdrawals to deposits between the user's own accounts, so a move is not taken for a sale.

A withdrawal and a deposit form a transfer when they move the same asset between two different accounts and
either carry the same transaction hash, or the deposit arrives within ``WINDOW`` of the withdrawal for no more
than was sent and no less than sent minus its network fee (or ``TOLERANCE`` of it when no fee is recorded).

The user's decisions come first and win: a manual *link* pairs a withdrawal and a deposit (named by ref) even
when the rules would not, and an *unlink* keeps a pair apart whatever the rules say, so the rules may pick
other partners for both. Then hash matches are made; then each withdrawal, oldest first, takes the earliest
fitting deposit. A link that no longer fits the ledger (a ref gone after a re-import, a row that is now
something else) is left out and reported by ``link_problems``, never a crash.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from decimal import Decimal

from taxsync.ledger.records import Transaction, Transfer, TxKind
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.types import Role

WINDOW_BEFORE_MS = 60 * 60 * 1000  # exchanges' clocks and booking times differ: allow an hour early
WINDOW_AFTER_MS = 7 * 24 * 60 * 60 * 1000
TOLERANCE = Decimal("0.005")

Pair = tuple[str, str]  # (withdrawal ref, deposit ref)


def _principal(tx: Transaction) -> tuple[str, Decimal] | None:
    leg = tx.main_leg()
    return (leg.asset, abs(leg.amount)) if leg else None


def _fits(withdrawal: Transaction, deposit: Transaction) -> bool:
    sent, received = _principal(withdrawal), _principal(deposit)
    if sent is None or received is None or sent[0] != received[0] or withdrawal.account == deposit.account:
        return False
    if not -WINDOW_BEFORE_MS <= deposit.timestamp - withdrawal.timestamp <= WINDOW_AFTER_MS:
        return False
    fee = sum((-leg.amount for leg in withdrawal.legs if leg.role is Role.FEE and leg.asset == sent[0]),
              Decimal(0))
    allowance = max(fee, sent[1] * TOLERANCE)
    return Decimal(0) <= sent[1] - received[1] <= allowance


def why_not_linkable(withdrawal: Transaction, deposit: Transaction) -> str | None:
    """Why the two cannot be one transfer even by hand, or None when they can (any time apart, any fee)."""
    sent, received = _principal(withdrawal), _principal(deposit)
    for tx, principal in ((withdrawal, sent), (deposit, received)):
        if principal is None:
            return f"{tx.ref} does not move exactly one asset"
    assert sent is not None and received is not None
    if sent[0] != received[0]:
        return f"the withdrawal moves {sent[0]} but the deposit {received[0]}"
    if withdrawal.account == deposit.account:
        return f"both are in account '{withdrawal.account}'; a transfer moves between two accounts"
    if received[1] > sent[1]:
        return f"the deposit ({received[1]} {received[0]}) is more than was withdrawn ({sent[1]} {sent[0]})"
    return None


def _one(by_ref: Mapping[str, Sequence[Transaction]], ref: str, kind: TxKind) -> Transaction | str:
    """The single transaction of ``kind`` named ``ref``, or why there is none."""
    named = by_ref.get(ref, ())
    if not named:
        return f"{ref} is no longer in the ledger"
    of_kind = [tx for tx in named if tx.kind is kind]
    if not of_kind:
        return f"{ref} is now a {named[0].kind.value}, not a {kind.value}"
    if len(of_kind) > 1:
        return f"{ref} names {len(of_kind)} transactions"
    return of_kind[0]


def _forced(everything: Sequence[Transaction], links: Iterable[Pair],
            unlinks: Collection[Pair]) -> tuple[list[Transfer], list[Problem]]:
    """The manual links that fit, as transfers, and a problem for each one that does not."""
    links = list(links)
    named = {ref for pair in links for ref in pair}
    by_ref: dict[str, list[Transaction]] = defaultdict(list)
    for tx in everything if named else ():  # only the transactions a link names
        if tx.ref in named:
            by_ref[tx.ref].append(tx)
    partner: dict[int, str] = {}  # id of a linked transaction -> ref of the other side
    transfers: list[Transfer] = []
    problems: list[Problem] = []
    for w_ref, d_ref in links:
        if (w_ref, d_ref) in unlinks:  # told both: keeping apart is the safe reading
            continue
        withdrawal, deposit = _one(by_ref, w_ref, TxKind.WITHDRAWAL), _one(by_ref, d_ref, TxKind.DEPOSIT)
        if isinstance(withdrawal, str) or isinstance(deposit, str):
            reason = withdrawal if isinstance(withdrawal, str) else str(deposit)
        else:
            reason = why_not_linkable(withdrawal, deposit) or next(
                (f"{tx.ref} is already linked to {partner[id(tx)]}" for tx in (withdrawal, deposit)
                 if id(tx) in partner), None)
        if reason:
            problems.append(Problem(
                ProblemKind.IGNORED_MANUAL_ENTRY, Severity.ERROR,
                f"manual transfer link {w_ref} -> {d_ref} is not applied: {reason}. The rules decide for "
                "both as if there were no link; see `taxsync transfers list`, then link again or unlink",
                w_ref))
            continue
        assert not isinstance(withdrawal, str) and not isinstance(deposit, str)
        partner[id(withdrawal)], partner[id(deposit)] = d_ref, w_ref
        transfers.append(Transfer(withdrawal, deposit, "manual"))
    return transfers, problems


def match_transfers(
    transactions: Iterable[Transaction], *, links: Iterable[Pair] = (), unlinks: Iterable[Pair] = ()
) -> tuple[list[Transaction], list[Transfer]]:
    """Split ``transactions`` into those left as they are and the transfers found among them.

    ``links`` are (withdrawal ref, deposit ref) pairs to make whatever the rules say (in order: a transaction
    already linked is not linked again); ``unlinks`` are pairs never to make. What a link cannot do is
    reported by ``link_problems``.
    """
    everything = list(transactions)
    forbidden = frozenset(unlinks)
    transfers, _ = _forced(everything, links, forbidden)
    used: set[int] = {id(tx) for transfer in transfers for tx in (transfer.withdrawal, transfer.deposit)}
    withdrawals = sorted((t for t in everything if t.kind is TxKind.WITHDRAWAL and id(t) not in used),
                         key=lambda t: t.timestamp)
    deposits = sorted((t for t in everything if t.kind is TxKind.DEPOSIT and id(t) not in used),
                      key=lambda t: t.timestamp)

    def free(withdrawal: Transaction, deposit: Transaction) -> bool:
        return id(deposit) not in used and (withdrawal.ref, deposit.ref) not in forbidden

    by_hash: dict[tuple[str, str], list[Transaction]] = defaultdict(list)
    for deposit in deposits:
        if deposit.txhash and (principal := _principal(deposit)):
            by_hash[(principal[0], deposit.txhash)].append(deposit)
    for withdrawal in withdrawals:
        principal = _principal(withdrawal)
        if not withdrawal.txhash or principal is None:
            continue
        for deposit in by_hash.get((principal[0], withdrawal.txhash), []):
            if free(withdrawal, deposit) and deposit.account != withdrawal.account:
                used.update((id(withdrawal), id(deposit)))
                transfers.append(Transfer(withdrawal, deposit, "txhash"))
                break

    # Each withdrawal looks only at deposits of its asset inside its time window (bisected), in time order:
    # the same earliest fitting deposit as a scan of all deposits, without the quadratic cost.
    by_asset: dict[str, tuple[list[int], list[Transaction]]] = {}
    for deposit in deposits:
        if (principal := _principal(deposit)) is not None and id(deposit) not in used:
            times, group = by_asset.setdefault(principal[0], ([], []))
            times.append(deposit.timestamp)
            group.append(deposit)
    for withdrawal in withdrawals:
        if id(withdrawal) in used or (principal := _principal(withdrawal)) is None:
            continue
        times, group = by_asset.get(principal[0], ((), ()))
        start = bisect_left(times, withdrawal.timestamp - WINDOW_BEFORE_MS)
        for index in range(start, bisect_right(times, withdrawal.timestamp + WINDOW_AFTER_MS)):
            deposit = group[index]
            if free(withdrawal, deposit) and _fits(withdrawal, deposit):
                used.update((id(withdrawal), id(deposit)))
                transfers.append(Transfer(withdrawal, deposit, "amount and time"))
                break

    remaining = [t for t in everything if id(t) not in used]
    return remaining, transfers


def link_problems(
    transactions: Iterable[Transaction], links: Iterable[Pair], unlinks: Iterable[Pair] = ()
) -> list[Problem]:
    """A problem for each of ``links`` that ``match_transfers`` leaves out, saying why."""
    return _forced(list(transactions), links, frozenset(unlinks))[1]
