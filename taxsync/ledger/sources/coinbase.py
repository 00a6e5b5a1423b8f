"""Coinbase transaction history report (Coinbase app: Reports, "Transaction history" CSV) into transactions.

Layout (Coinbase help "Generate a transaction report"), over time: ``Timestamp, Transaction Type, Asset,
Quantity Transacted, USD Spot Price at Transaction, USD Subtotal, USD Total (inclusive of fees), USD Fees,
Notes`` (2021), then ``Spot Price Currency, Spot Price at Transaction, ... Fees and/or Spread`` (2022), then
``ID`` first and ``Price Currency, Price at Transaction`` (2023 on), after a few lines of preamble; amounts may
carry a currency sign (``$1,234.56``, ``-$5.00``) and newer files sign the quantity of what left. Quantities are
taken without sign; the type says the direction.

Buy: IN the quantity, OUT the subtotal in the price currency, FEE the fees in it (total = subtotal + fees).
Sell: OUT the quantity, IN the subtotal, FEE the fees (total = subtotal - fees). An Advanced Trade fill whose
notes name another quote (``Bought 0.1 ETH for 250 USDC on ETH-USDC``) pays that asset, and its fee in it.
Convert: OUT the quantity, IN what the notes say it became (``Converted 0.01 BTC to 0.15 ETH``); its spread is
inside the rate, not paid apart, so there is no fee leg; the subtotal is its stated value. Send and Receive,
Deposit and Withdrawal, and the moves to and from Coinbase Pro/Exchange are withdrawals and deposits. Rewards,
Earn, staking and inflation rewards are income, valued at their subtotal. Moves into and out of staking within
Coinbase give nothing. Another type is booked by the sign of its quantity, with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from taxsync.ledger.records import Leg, Quote, Transaction, TxKind
from taxsync.ledger.sources.base import FieldError, Normalized
from taxsync.ledger.sources.fields import optional_amount, record_amount, record_asset, required_text, text, timestamp
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.types import Asset, Role

TOTAL, FEES = "Total (inclusive of fees and/or spread)", "Fees and/or Spread"
BUYS = frozenset({"buy", "advanced trade buy", "advance trade buy"})
SELLS = frozenset({"sell", "advanced trade sell", "advance trade sell"})
IN_MOVES = frozenset({"receive", "deposit", "pro withdrawal", "exchange withdrawal"})
OUT_MOVES = frozenset({"send", "withdrawal", "pro deposit", "exchange deposit"})
INCOME: dict[str, str] = {
    "rewards income": "reward", "reward income": "reward", "coinbase earn": "reward", "learning reward": "reward",
    "incentives rewards payout": "reward", "earn payout": "reward", "subscription rebate": "reward",
    "subscription rebates (24 hours)": "reward", "staking income": "staking", "inflation reward": "staking",
    "interest": "interest",
}
OWN_WALLETS = frozenset({"retail staking transfer", "retail unstaking transfer", "retail eth2 deprecation",
                         "staking transfer", "unstaking transfer"})
_CONVERTED = re.compile(r"Converted\s+([\d.,]+)\s+(\S+)\s+to\s+([\d.,]+)\s+(\S+)", re.IGNORECASE)
_FOR_QUOTE = re.compile(r"for\s+([\d.]+)\s+([A-Z0-9]+)\s+on\s+[A-Z0-9]+-([A-Z0-9]+)")


def normalize_coinbase(row: Mapping[str, Any], account: str, ref: str) -> Normalized:
    moment = timestamp(row, "Timestamp")
    kind_text = required_text(row, "Transaction Type")
    kind = " ".join(kind_text.lower().split())
    coin = record_asset(row, "Asset")
    quantity = abs(record_amount(row, "Quantity Transacted"))
    currency = Asset(text(row, "Price Currency").upper() or "USD")
    subtotal = abs(optional_amount(row, "Subtotal", symbols=True))
    fees = abs(optional_amount(row, FEES, symbols=True))
    notes = text(row, "Notes")
    base: dict[str, Any] = {"ref": ref, "account": account, "timestamp": moment, "label": kind_text,
                            "description": f"Coinbase {kind_text}" + (f": {notes}" if notes else ""),
                            "exchange_id": text(row, "ID")}
    if kind in OWN_WALLETS or not quantity:
        return Normalized(None)
    if kind in BUYS or kind in SELLS:
        quote, paid = currency, subtotal or abs(optional_amount(row, TOTAL, symbols=True)) - fees
        if (named := _FOR_QUOTE.search(notes)) and named.group(2) == named.group(3) and named.group(2) != currency:
            quote, paid = Asset(named.group(2)), Decimal(named.group(1))  # fees are then paid in the quote asset
            base["quote"] = Quote(subtotal, currency) if subtotal else None
        sign = 1 if kind in BUYS else -1
        legs = [Leg(coin, sign * quantity, Role.IN if sign > 0 else Role.OUT),
                Leg(quote, -sign * paid, Role.OUT if sign > 0 else Role.IN)]
        legs.sort(key=lambda leg: leg.role is Role.IN)
        if fees:
            legs.append(Leg(quote, -fees, Role.FEE))
        return Normalized(Transaction(**base, kind=TxKind.TRADE, legs=tuple(leg for leg in legs if leg.amount)))
    if kind == "convert":
        match = _CONVERTED.search(notes)
        if match is None:
            raise FieldError("Notes", f"'{notes}' does not say what was converted into (expected "
                             "'Converted 0.01 BTC to 0.15 ETH')")
        got = Decimal(match.group(3).replace(",", ""))
        legs = (Leg(coin, -quantity, Role.OUT), Leg(Asset(match.group(4).upper()), got, Role.IN))
        return Normalized(Transaction(**base, kind=TxKind.TRADE, subkind="convert", legs=legs,
                                      quote=Quote(subtotal, currency) if subtotal else None))
    if kind in INCOME:
        value = subtotal or abs(optional_amount(row, TOTAL, symbols=True))
        return Normalized(Transaction(**base, kind=TxKind.INCOME, subkind=INCOME[kind],
                                      legs=(Leg(coin, quantity, Role.IN),),
                                      quote=Quote(value, currency) if value else None))
    if kind in IN_MOVES or kind in OUT_MOVES:
        incoming = kind in IN_MOVES
        leg = Leg(coin, quantity if incoming else -quantity, Role.IN if incoming else Role.OUT)
        return Normalized(Transaction(**base, kind=TxKind.DEPOSIT if incoming else TxKind.WITHDRAWAL, legs=(leg,)))
    incoming = not text(row, "Quantity Transacted").startswith("-")
    direction = TxKind.DEPOSIT if incoming else TxKind.WITHDRAWAL
    problem = Problem(ProblemKind.UNKNOWN_LABEL, Severity.WARNING,
                      f"Coinbase transaction type '{kind_text}' is not known to taxsync: booked as a "
                      f"{direction.value} of {quantity} {coin}; check what it was", ref)
    leg = Leg(coin, quantity if incoming else -quantity, Role.IN if incoming else Role.OUT)
    return Normalized(Transaction(**base, kind=direction, legs=(leg,)), (problem,))
