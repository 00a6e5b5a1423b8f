"""The holdings check, run with every report: do the engine's lots hold the units the ledger says are there?

The tax engine turns the ledger into lots, and a lot that is lost, doubled or left behind changes every cost
basis after it without any error. So each report counts the units again, straight from the ledger and without
the engine: the sum of the leg amounts per account and asset over the transactions up to the end of the
period (fiat is cash, not lots, and is skipped). That balance is compared with what the engine's holdings say
is left (``Holding`` rows are the sums of the remaining lots, per account under per-wallet tracking, per asset
with ``account == "all"`` under universal tracking; the check compares at the same level).

Ledger balance and lots may differ for reasons that are not bugs. Each is part of the rule:

* **Units that were never held.** A pool cannot go below zero. When units leave while the ledger shows none
  (a sale, withdrawal or fee with its purchase missing), the engine disposes of them at zero cost and reports
  MISSING_COST_BASIS or NEGATIVE_BALANCE; the ledger goes negative, the pool stays at zero, and units that
  arrive later fill the pool but only bring the ledger back towards zero. Comparing ``max(ledger, 0)`` at the
  end is therefore not enough: the difference stays after the ledger is positive again. The expected lot total
  is the *clamped* running balance, recomputed here: the ledger balance in time order, floored at zero after
  each transaction. It equals the ledger balance exactly when the balance never went below zero. A difference
  of exactly that shortfall is *explained* (an INFO note saying so); any other is an ERROR.
* **Transfers.** A matched withdrawal and deposit are one move, booked when the units leave, as the engine
  books them: the deposit's units count at the withdrawal's time, so a transfer in transit over the period end
  counts at the receiving account. Per wallet, the receiver gets no more units than the sender held (the rest
  was already missing at the sender and is reported there).
* **Staking in and out** (``internal`` transactions) changes no ownership: only their fees count.
* **The US switch to per-wallet basis** (Reg. 1.1012-1(j), Rev. Proc. 2024-28): universal until the switch,
  then each wallet receives, in name order, the units it holds out of the asset's lots, as the allocation does.
* **Matching that looks ahead** (UK: same day and the next 30 days) can cover a sale with a later purchase,
  so fewer units may go missing than the time-ordered balance suggests. For these methods a difference is
  explained when the lots hold between the ledger balance and the clamped balance; outside it is an ERROR.

Anything else (units the engine dropped, doubled, or booked to the wrong account) is an INTEGRITY error
naming the asset, the account, both figures and the difference.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, localcontext
from zoneinfo import ZoneInfo

from taxsync.ledger.records import Transaction, Transfer, TxKind
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.tax.records import Holding
from taxsync.types import Asset, Role, TimestampMs, day_start, decimal_text

ZERO = Decimal(0)
ALL = "all"  # the account of a universal holding
LOOK_AHEAD_METHODS = frozenset({"uk-pooling"})  # may match a disposal with a later acquisition

Key = tuple[str, str]  # (account or "all", asset)


@dataclass(frozen=True, slots=True)
class Compared:
    """One balance compared: the ledger's units, the units the lots should hold, the units they hold."""

    account: str
    asset: Asset
    ledger: Decimal
    expected: Decimal
    lots: Decimal


@dataclass(frozen=True, slots=True)
class IntegrityReport:
    """The outcome of the holdings check: how many balances were compared, how many differ without an
    explanation (``differences``: errors) and how many differ for a known reason (``explained``)."""

    checked: int
    differences: int
    explained: int
    problems: tuple[Problem, ...] = ()
    rows: tuple[Compared, ...] = field(default=(), repr=False)

    @property
    def passed(self) -> bool:
        return self.differences == 0


@dataclass(frozen=True, slots=True)
class _Flow:
    """The unit movements of one transaction (or one matched transfer), at the time the engine books it."""

    timestamp: TimestampMs
    deltas: tuple[tuple[str, str, Decimal], ...]  # (account, asset, signed amount)
    move: tuple[str, str, str, Decimal] | None = None  # transfer: (asset, sender, receiver, units received)


def check_holdings(
    transactions: Iterable[Transaction],
    transfers: Iterable[Transfer],
    holdings: Iterable[Holding],
    *,
    period_end: date,
    zone: ZoneInfo,
    fiat: frozenset[str],
    tracking: str = "universal",
    per_wallet_from: TimestampMs | None = None,
    method: str = "fifo",
    matched_later: Mapping[str, Decimal] | None = None,
) -> IntegrityReport:
    """Compare ``holdings`` (the engine's, at the end of ``period_end``) with the ledger's own balances.

    ``transfers`` are the matched pairs among ``transactions`` (``match_transfers``); ``tracking`` and
    ``per_wallet_from`` are the engine's rules (universal until ``per_wallet_from``, if given).
    ``matched_later``: units per asset sold before the end that UK matching takes from acquisitions after it
    (bed and breakfast, CRYPTO22256): the pool at the end still holds them, so they count as held."""
    until = day_start(period_end + timedelta(days=1), zone)
    held = tuple(holdings)
    flows = _flows(transactions, transfers, until, fiat)
    look_ahead = method in LOOK_AHEAD_METHODS
    if held:
        per_wallet = all(h.account != ALL for h in held)
    else:
        switched = per_wallet_from is not None and any(f.timestamp >= per_wallet_from for f in flows)
        per_wallet = not look_ahead and (tracking == "per-wallet" or switched)
    switch = per_wallet_from if per_wallet and tracking == "universal" else None
    with localcontext() as context:
        context.prec = 50
        ledger, expected = _replay(flows, per_wallet, switch)
        for asset, units in (matched_later or {}).items():
            ledger[(ALL, asset)] = ledger.get((ALL, asset), ZERO) + units
            expected[(ALL, asset)] = expected.get((ALL, asset), ZERO) + units
        lots: dict[Key, Decimal] = defaultdict(Decimal)
        for holding in held:
            lots[(holding.account, holding.asset)] += holding.amount
    rows = tuple(
        Compared(key[0], Asset(key[1]), ledger.get(key, ZERO), expected.get(key, ZERO), lots.get(key, ZERO))
        for key in sorted(set(ledger) | set(expected) | set(lots))
    )
    problems: list[Problem] = []
    differences = explained = 0
    for row in rows:
        if row.lots == row.ledger:
            continue
        if _explained(row, look_ahead):
            explained += 1
            problems.append(_explanation(row, period_end, look_ahead))
        else:
            differences += 1
            problems.append(_difference(row, period_end))
    return IntegrityReport(len(rows), differences, explained, tuple(problems), rows)


def _flows(transactions: Iterable[Transaction], transfers: Iterable[Transfer], until: TimestampMs,
           fiat: frozenset[str]) -> list[_Flow]:
    """Unit movements in the order the engine books them: by time, ties in ledger order, transfers after."""
    pairs = list(transfers)
    paired = {id(tx) for pair in pairs for tx in (pair.withdrawal, pair.deposit)}
    flows: list[_Flow] = []
    for tx in transactions:
        if id(tx) in paired or tx.timestamp >= until:
            continue
        legs = [leg for leg in tx.legs if leg.asset not in fiat and (tx.kind is not TxKind.INTERNAL
                                                                      or leg.role is Role.FEE)]
        if legs:
            flows.append(_Flow(tx.timestamp, tuple((tx.account, leg.asset, leg.amount) for leg in legs)))
    for pair in pairs:
        if pair.withdrawal.timestamp < until:
            flows.append(_transfer_flow(pair, fiat))
    flows.sort(key=lambda flow: flow.timestamp)  # stable
    return flows


def _transfer_flow(pair: Transfer, fiat: frozenset[str]) -> _Flow:
    """A matched transfer: the units received move from sender to receiver; the rest of the withdrawal (its
    fees, and units lost on the way) leaves the sender; the deposit's fees leave the receiver."""
    withdrawal, deposit = pair.withdrawal, pair.deposit
    sent, received = withdrawal.main_leg(), deposit.main_leg()
    assert sent is not None and received is not None  # the matcher pairs single-leg movements only
    deltas = [(withdrawal.account, leg.asset, leg.amount) for leg in withdrawal.legs
              if leg is not sent and leg.asset not in fiat]
    if sent.asset not in fiat and abs(sent.amount) != abs(received.amount):
        deltas.append((withdrawal.account, sent.asset, abs(received.amount) - abs(sent.amount)))
    deltas += [(deposit.account, leg.asset, leg.amount) for leg in deposit.legs
               if leg is not received and leg.asset not in fiat]
    move = (None if received.asset in fiat
            else (received.asset, withdrawal.account, deposit.account, abs(received.amount)))
    return _Flow(withdrawal.timestamp, tuple(deltas), move)


def _replay(flows: Sequence[_Flow], per_wallet: bool,
            switch: TimestampMs | None) -> tuple[dict[Key, Decimal], dict[Key, Decimal]]:
    """The ledger balance per key and the clamped balance (floored at zero after each flow) per key.

    Keys are (account, asset) per wallet, ("all", asset) universally. With ``switch``, balances are kept
    universally until the first flow at or after it, then allocated to the wallets (Rev. Proc. 2024-28)."""
    wallets: dict[Key, Decimal] = defaultdict(Decimal)  # raw per-account balances
    pooled: dict[Key, Decimal] = defaultdict(Decimal)  # clamped, universal
    clamped: dict[Key, Decimal] = defaultdict(Decimal)  # clamped, per wallet
    universal = not per_wallet or switch is not None
    for flow in flows:
        if universal and per_wallet and switch is not None and flow.timestamp >= switch:
            clamped = _allocate(pooled, wallets)
            universal = False
        if flow.move is not None:
            asset, sender, receiver, units = flow.move
            wallets[(sender, asset)] -= units
            wallets[(receiver, asset)] += units
            if not universal:  # the receiver gets the units the sender held, no more
                before = clamped[(sender, asset)]
                clamped[(sender, asset)] = max(before - units, ZERO)
                clamped[(receiver, asset)] += min(units, before)
        net: dict[Key, Decimal] = defaultdict(Decimal)
        for account, asset, amount in flow.deltas:
            wallets[(account, asset)] += amount
            net[(ALL, asset) if universal else (account, asset)] += amount
        target = pooled if universal else clamped
        for key, amount in net.items():
            target[key] = max(target[key] + amount, ZERO)
    if per_wallet:
        return dict(wallets), dict(clamped)
    totals: dict[Key, Decimal] = defaultdict(Decimal)
    for (_, asset), amount in wallets.items():
        totals[(ALL, asset)] += amount
    return dict(totals), dict(pooled)


def _allocate(pooled: dict[Key, Decimal], wallets: dict[Key, Decimal]) -> dict[Key, Decimal]:
    """The universal units of each asset given to the wallets holding it, in name order, each up to its balance
    (what taxsync.tax.wallets does with the lots); units no wallet holds are not allocated."""
    clamped: dict[Key, Decimal] = defaultdict(Decimal)
    left = {asset: units for (_, asset), units in pooled.items()}
    for (account, asset), units in sorted(wallets.items()):
        if units > 0:
            given = min(units, left.get(asset, ZERO))
            left[asset] = left.get(asset, ZERO) - given
            clamped[(account, asset)] = given
    return clamped


def _explained(row: Compared, look_ahead: bool) -> bool:
    if row.expected == row.ledger:  # the balance never went below zero: the lots must hold exactly that
        return False
    if look_ahead:
        return max(row.ledger, ZERO) <= row.lots <= row.expected
    return row.lots == row.expected


def _where(row: Compared) -> str:
    return "all accounts" if row.account == ALL else f"account '{row.account}'"


def _explanation(row: Compared, period_end: date, look_ahead: bool) -> Problem:
    gap = row.lots - row.ledger
    if gap > 0:
        how = (f"{decimal_text(gap)} {row.asset} left while none were held (sold, sent or paid as fees with no "
               "known acquisition" + (" and no purchase in the matching window after it" if look_ahead else "")
               + "; see the missing cost basis and negative balance problems)")
    else:
        how = (f"{decimal_text(-gap)} {row.asset} here came with no lots: they arrived by transfer from an account "
               "that did not hold them, or were more than the lots covered when basis moved to per-wallet "
               "tracking (see the negative balance and missing cost basis problems)")
    return Problem(
        ProblemKind.INTEGRITY, Severity.INFO,
        f"holdings check, {row.asset} in {_where(row)}: the ledger balance at the end of {period_end} is "
        f"{decimal_text(row.ledger)}, the cost-basis lots hold {decimal_text(row.lots)}. This difference is "
        f"expected: {how}. Importing the history that brought them in removes it",
        f"{row.account}/{row.asset}")


def _difference(row: Compared, period_end: date) -> Problem:
    gap = decimal_text(row.lots - row.expected)
    because = ("" if row.expected == row.ledger else
               f"; {decimal_text(row.expected)} were expected, as the balance went below zero on the way")
    return Problem(
        ProblemKind.INTEGRITY, Severity.ERROR,
        f"holdings check failed, {row.asset} in {_where(row)}: the ledger balance at the end of {period_end} "
        f"is {decimal_text(row.ledger)}, the cost-basis lots hold {decimal_text(row.lots)}{because} "
        f"(difference {gap} {row.asset}). Gains and holdings of {row.asset} cannot be trusted: check its "
        "transactions in this account (taxsync problems lists the rows already flagged); if they are right, "
        "report this message as a taxsync bug",
        f"{row.account}/{row.asset}")
