"""Binance transaction history ("Generate all statements"): groups of rows into ledger transactions.

Layout (Binance's help "How to generate a transaction history statement"): ``User_ID, UTC_Time, Account,
Operation, Coin, Change, Remark``, one row per coin per balance change, ``Change`` signed. A spot trade is
several rows at the same second: the coin bought and the coin spent (``Buy``/``Sell`` in older statements,
``Transaction Buy``/``Spend``/``Sold``/``Revenue`` in newer ones) and its fee (``Fee``, ``Transaction Fee``);
``importer.files.binance`` groups them into one record ``{"rows": [...]}``, and Convert and small-asset (dust)
conversions likewise. Every other operation is one row.

A trade group becomes one TRADE: the coins with a positive change are IN, negative OUT, fee rows FEE; fills of
the same second add up. A group that moves more than one coin each way (two markets traded in the same second)
cannot be told apart into trades: it is not booked and an error problem says so. Deposits and withdrawals are
the change itself (the export does not separate a withdrawal's network fee: the change is all that left).
Earn and staking rewards, distributions and referral commissions are income. Moves between the user's own
Binance wallets (Spot, Funding, Earn subscriptions and redemptions) change nothing and give nothing. Rows of
futures, margin and options accounts are derivatives, not supported yet (a warning each). An operation not
known here is booked by its sign as a deposit or withdrawal, with a warning that names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from taxsync.ledger.records import Leg, Transaction, TxKind
from taxsync.ledger.sources.base import Normalized
from taxsync.ledger.sources.fields import record_amount, record_asset, required_text, rows_of, text, timestamp
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.types import Asset, Role

# Operation (lower case) -> the group it belongs to; operations not listed are one row each.
GROUPS: dict[str, str] = {
    **dict.fromkeys(("buy", "sell", "fee", "transaction buy", "transaction spend", "transaction sold",
                     "transaction revenue", "transaction fee", "transaction related", "large otc trading"), "trade"),
    **dict.fromkeys(("binance convert", "convert"), "convert"),
    **dict.fromkeys(("small assets exchange bnb", "small assets exchange"), "dust"),
}
FEES = frozenset({"fee", "transaction fee"})
INCOME: dict[str, str] = {
    **dict.fromkeys(("simple earn flexible interest", "simple earn locked rewards", "staking rewards",
                     "eth 2.0 staking rewards", "pos savings interest", "bnb vault rewards", "super bnb mining",
                     "simple earn flexible airdrop", "launchpool interest", "liquid swap rewards",
                     "wbeth staking rewards"), "staking"),
    **dict.fromkeys(("savings interest", "savings distribution", "flexible savings interest"), "interest"),
    **dict.fromkeys(("distribution", "airdrop assets", "launchpool airdrop", "launchpad token distribution"),
                    "airdrop"),
    **dict.fromkeys(("commission history", "referral kickback", "commission rebate", "referral commission",
                     "cash voucher distribution", "mission reward distribution", "crypto box", "bonus"), "reward"),
}
MOVES: dict[str, TxKind] = {
    "deposit": TxKind.DEPOSIT, "fiat deposit": TxKind.DEPOSIT, "crypto deposit": TxKind.DEPOSIT,
    "withdraw": TxKind.WITHDRAWAL, "withdrawal": TxKind.WITHDRAWAL, "fiat withdraw": TxKind.WITHDRAWAL,
    "fiat withdrawal": TxKind.WITHDRAWAL, "crypto withdrawal": TxKind.WITHDRAWAL,
}
OWN_WALLETS = frozenset({
    "simple earn flexible subscription", "simple earn flexible redemption", "simple earn locked subscription",
    "simple earn locked redemption", "staking purchase", "staking redemption", "pos savings purchase",
    "pos savings redemption", "savings purchase", "savings principal redemption", "launchpool subscription",
    "launchpool redemption", "transfer between main and funding wallet", "main and funding account transfer",
    "transfer between spot account and um futures account", "transfer between spot account and cm futures account",
    "transfer_in", "transfer_out", "transfer funds to funding wallet", "transfer funds to spot",
    "bnb vault subscription", "bnb vault redemption", "sub-account transfer",
})
DERIVATIVE_ACCOUNTS = ("futures", "margin", "options")


_KEYS: dict[str, str] = {}  # operation as written -> as looked up (a file has a few dozen distinct ones)


def operation_key(operation: str) -> str:
    key = _KEYS.get(operation)
    if key is None:
        key = " ".join(operation.lower().split())
        if len(_KEYS) < 10_000:
            _KEYS[operation] = key
    return key


def group_of(operation: str) -> str:
    return GROUPS.get(operation_key(operation), "")


def normalize_binance(payload: Mapping[str, Any], account: str, ref: str) -> Normalized:
    rows = rows_of(payload, "Operation")
    moments: dict[str, int] = {}  # the rows of a group share their time: each text is read once
    operations: list[str] = []
    coins: list[Asset] = []
    changes: list[Decimal] = []
    for i, row in enumerate(rows):
        if (when := text(row, "UTC_Time")) not in moments:
            moments[when] = timestamp(row, "UTC_Time", index=i)
        operations.append(operation_key(required_text(row, "Operation", index=i)))
        coins.append(record_asset(row, "Coin", index=i))
        changes.append(record_amount(row, "Change", index=i))
    moment = moments[text(rows[0], "UTC_Time")]
    wallet = text(rows[0], "Account")
    op, remark = text(rows[0], "Operation"), text(rows[0], "Remark")
    description = f"Binance {op}" + (f" ({wallet})" if wallet else "") + (f": {remark}" if remark else "")
    if any(word in wallet.lower() for word in DERIVATIVE_ACCOUNTS):
        return _problem(ProblemKind.UNSUPPORTED, Severity.WARNING,
                        f"{description}: {changes[0]} {coins[0]} in a {wallet} account is derivatives or margin "
                        "trading, not supported yet", ref)
    if len(rows) > 1 or group_of(operations[0]):
        return _trade(rows, operations, coins, changes, moment, account, ref, description)
    coin, change, kind = coins[0], changes[0], operations[0]
    base = {"ref": ref, "account": account, "timestamp": moment, "description": description}
    if kind in OWN_WALLETS or not change:
        return Normalized(None)
    if kind in INCOME:
        if change < 0:
            return _problem(ProblemKind.UNSUPPORTED, Severity.WARNING,
                            f"{description} takes {-change} {coin}: income cannot be negative; not booked", ref)
        return Normalized(Transaction(**base, kind=TxKind.INCOME, subkind=INCOME[kind], label=op,
                                      legs=(Leg(coin, change, Role.IN),)))
    direction = TxKind.DEPOSIT if change > 0 else TxKind.WITHDRAWAL
    problems: tuple[Problem, ...] = ()
    if kind in MOVES and MOVES[kind] is not direction:
        problems = (Problem(ProblemKind.UNKNOWN_LABEL, Severity.WARNING,
                            f"{description} has a change of {change} {coin}, the wrong sign for a {op}: booked "
                            f"as a {direction.value}", ref),)
    elif kind not in MOVES:
        problems = (Problem(ProblemKind.UNKNOWN_LABEL, Severity.WARNING,
                            f"Binance operation '{op}' is not known to taxsync: booked as a {direction.value} of "
                            f"{abs(change)} {coin}; check what it was", ref),)
    legs = (Leg(coin, change, Role.IN if change > 0 else Role.OUT),)
    return Normalized(Transaction(**base, kind=direction, label=op, legs=legs), problems)


def _trade(rows: Any, operations: list[str], coins: list[Asset], changes: list[Decimal], moment: int,
           account: str, ref: str, description: str) -> Normalized:
    moved: dict[tuple[Asset, Role], Decimal] = {}
    for operation, coin, change in zip(operations, coins, changes, strict=True):
        if not change:
            continue
        role = Role.FEE if operation in FEES else Role.IN if change > 0 else Role.OUT
        if role is Role.FEE and change > 0:
            role = Role.IN  # a fee rebate: more received
        moved[coin, role] = moved.get((coin, role), Decimal(0)) + change
    ins = sorted({coin for coin, role in moved if role is Role.IN})
    outs = sorted({coin for coin, role in moved if role is Role.OUT})
    if len(ins) != 1 or len(outs) != 1:
        what = ", ".join(f"{change} {coin}" for coin, change in zip(coins, changes, strict=True))
        return _problem(ProblemKind.UNSUPPORTED, Severity.ERROR,
                        f"{description}: the {len(rows)} rows of this second ({what}) do not make one trade of "
                        "one coin for another (two markets traded in the same second, or a side missing), so "
                        "taxsync cannot tell which rows belong together; not booked. Add these trades from "
                        "Binance's trade history as a Koinly universal file", ref)
    subkind = {"convert": "convert", "dust": "dust"}.get(group_of(operations[0]), "")
    legs = [Leg(coin, change, role) for (coin, role), change in moved.items() if role is not Role.FEE and change]
    legs += [Leg(coin, change, role) for (coin, role), change in moved.items() if role is Role.FEE and change]
    legs.sort(key=lambda leg: (leg.role is Role.FEE, leg.role is Role.IN))
    return Normalized(Transaction(ref=ref, account=account, timestamp=moment, kind=TxKind.TRADE,  # type: ignore[arg-type]
                                  legs=tuple(legs), subkind=subkind, description=description))


def _problem(kind: ProblemKind, severity: Severity, message: str, ref: str) -> Normalized:
    return Normalized(None, (Problem(kind, severity, message, ref),))
