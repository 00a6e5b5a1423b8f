"""Kraken ledgers and trades exports (History > Export) into ledger transactions.

Ledgers (``ledgers.csv``: ``txid, refid, time, type, subtype, aclass, asset, amount, fee, balance``; ``wallet``
from 2023, ``subclass`` from 2024): one row per asset per balance change, ``balance = before + amount - fee``.
The rows of a trade share its ``refid`` (the trade's id, as ccxt reports it) and ``importer.files.kraken``
groups them; a trade becomes one TRADE of the asset that fell for the one that rose, each row's fee a FEE leg.
``spend``/``receive`` pairs (Buy Crypto) are trades too. Deposits and withdrawals are one row: the amount (a
withdrawal's is negative) and the fee on top; Kraken writes them twice, once without ``txid`` while pending,
and only the row with a ``txid`` counts. ``staking``, and ``earn`` with subtype ``reward``, credited, are
income; ``transfer`` and the other ``earn`` subtypes move between the user's own Kraken wallets and give
nothing; ``margin``, ``rollover`` and ``settlement`` are derivatives, not supported yet. An unknown type is booked
by its sign with a warning.

Trades (``trades.csv``: ``txid, ordertxid, pair, time, type, ordertype, price, cost, fee, vol, margin, misc,
ledgers``): buy is IN ``vol`` of the base, OUT ``cost`` of the quote, FEE ``fee`` in the quote; sell the other
way. Pairs (``XXBTZUSD``, ``XBT/USD``, ``DOTEUR``) are split at a known quote asset.

Asset codes: Kraken's X/Z prefixes (``XXBT``, ``ZUSD``) and ``XBT``/``XDG`` become BTC, USD, DOGE; the
staking wallets' suffixes (``DOT.S``, ``ETH2.S``, ``USDC.M``) name the same asset.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from taxsync.ledger.records import Leg, Transaction, TxKind
from taxsync.ledger.sources.base import FieldError, Normalized
from taxsync.ledger.sources.fields import (
    optional_amount,
    record_amount,
    required_text,
    rows_of,
    text,
    timestamp,
    trade_legs,
)
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.types import Asset, Role

ASSETS: dict[str, str] = {
    "XXBT": "BTC", "XBT": "BTC", "XBT.M": "BTC", "XETH": "ETH", "XLTC": "LTC", "XXRP": "XRP", "XXLM": "XLM",
    "XXMR": "XMR", "XZEC": "ZEC", "XETC": "ETC", "XREP": "REP", "XMLN": "MLN", "XXDG": "DOGE", "XDG": "DOGE",
    "XDAO": "DAO", "XICN": "ICN", "XNMC": "NMC", "XXVN": "XVN", "ZUSD": "USD", "ZEUR": "EUR", "ZGBP": "GBP",
    "ZCAD": "CAD", "ZJPY": "JPY", "ZAUD": "AUD", "ZCHF": "CHF", "ETH2": "ETH", "KFEE": "KFEE",
}
STAKED_SUFFIXES = (".S", ".M", ".P", ".F", ".B", ".HOLD")
QUOTES = ("ZUSD", "ZEUR", "ZGBP", "ZCAD", "ZJPY", "ZCHF", "ZAUD", "XXBT", "XETH", "USDT", "USDC", "DAI", "PYUSD",
          "USD", "EUR", "GBP", "CAD", "JPY", "CHF", "AUD", "XBT", "ETH", "DOT")
TRADES = frozenset({"trade", "spend", "receive", "conversion", "sale"})
OWN_WALLETS = frozenset({"transfer"})
EARN_MOVES = frozenset({"allocation", "deallocation", "autoallocation", "migration", ""})
DERIVATIVES = frozenset({"margin", "rollover", "settlement", "credit", "dividend-reversal"})


def kraken_asset(code: str, column: str = "asset", index: int = 0) -> Asset:
    """Kraken's asset code as the asset everyone else names it."""
    cleaned = code.strip().upper()
    if not cleaned:
        raise FieldError(column, "the asset is empty", row=index)
    for suffix in STAKED_SUFFIXES:
        if cleaned.endswith(suffix) and len(cleaned) > len(suffix):
            cleaned = cleaned[: -len(suffix)]
            break
    cleaned = ASSETS.get(cleaned, cleaned)
    if not cleaned.replace(".", "").isalnum() or len(cleaned) > 20:
        raise FieldError(column, f"'{code}' is not an asset code", row=index)
    return Asset(cleaned)


def split_pair(pair: str) -> tuple[Asset, Asset]:
    cleaned = pair.strip().upper()
    if "/" in cleaned:
        base, _, quote = cleaned.partition("/")
        return kraken_asset(base, "pair"), kraken_asset(quote, "pair")
    for quote in QUOTES:
        if cleaned.endswith(quote) and len(cleaned) > len(quote):
            return kraken_asset(cleaned[: -len(quote)], "pair"), kraken_asset(quote, "pair")
    raise FieldError("pair", f"'{pair}' is not a market taxsync can split into two assets (such as XXBTZUSD)")


def normalize_kraken_ledgers(payload: Mapping[str, Any], account: str, ref: str) -> Normalized:
    rows = [row for row in rows_of(payload, "refid")]
    parsed = [(text(row, "txid"), text(row, "type").lower(), text(row, "subtype").lower(),
               kraken_asset(text(row, "asset"), "asset", i), record_amount(row, "amount", index=i),
               optional_amount(row, "fee", index=i), timestamp(row, "time", index=i))
              for i, row in enumerate(rows)]
    booked = [entry for entry in parsed if entry[0]]  # the pending copy of a deposit or withdrawal has no txid
    if not booked:
        return Normalized(None)
    txid, kind, subtype, coin, change, fee, moment = booked[0]
    refid = text(rows[0], "refid")
    base: dict[str, Any] = {"ref": ref, "account": account, "timestamp": moment, "label": kind,
                            "description": f"Kraken {kind}" + (f" {subtype}" if subtype else "") + f", refid {refid}"}
    fees = tuple(Leg(entry[3], -entry[5], Role.FEE) for entry in booked if entry[5])
    if kind in OWN_WALLETS or (kind == "earn" and subtype in EARN_MOVES) or (not change and not fee):
        return Normalized(None)
    if kind in DERIVATIVES:
        return _problem(Severity.WARNING, f"Kraken {kind} of {change} {coin} (fee {fee}) is margin or derivatives "
                        "trading, not supported yet", ref)
    if len(booked) > 1 or kind in TRADES:
        return _ledger_trade(booked, base, fees, refid, ref)
    base["exchange_id"] = txid
    main = (Leg(coin, change, Role.IN if change > 0 else Role.OUT),) if change else ()
    if kind in ("staking", "earn", "dividend", "reward"):
        if change < 0:
            return _problem(Severity.WARNING, f"Kraken {kind} takes {-change} {coin}: not booked", ref)
        subkind = "staking" if kind in ("staking", "earn") else "reward"
        return Normalized(Transaction(**base, kind=TxKind.INCOME, subkind=subkind, legs=main + fees))
    direction = TxKind.DEPOSIT if change > 0 else TxKind.WITHDRAWAL
    problems: tuple[Problem, ...] = ()
    if kind not in ("deposit", "withdrawal"):
        problems = (Problem(ProblemKind.UNKNOWN_LABEL, Severity.WARNING,
                            f"Kraken ledger type '{kind}' is not known to taxsync: booked as a {direction.value} "
                            f"of {abs(change)} {coin}; check what it was", ref),)
    elif (kind == "deposit") != (change > 0):
        problems = (Problem(ProblemKind.UNKNOWN_LABEL, Severity.WARNING,
                            f"Kraken {kind} of {change} {coin} has the wrong sign: booked as a {direction.value}",
                            ref),)
    if not main:
        return Normalized(Transaction(**base, kind=TxKind.SPEND, subkind="fee", legs=fees), problems)
    return Normalized(Transaction(**base, kind=direction, legs=main + fees), problems)


def _ledger_trade(booked: list[Any], base: dict[str, Any], fees: tuple[Leg, ...], refid: str,
                  ref: str) -> Normalized:
    moved: dict[Asset, Decimal] = {}
    for entry in booked:
        moved[entry[3]] = moved.get(entry[3], Decimal(0)) + entry[4]
    outs = [Leg(coin, change, Role.OUT) for coin, change in moved.items() if change < 0]
    ins = [Leg(coin, change, Role.IN) for coin, change in moved.items() if change > 0]
    if len(outs) != 1 or len(ins) != 1:
        what = ", ".join(f"{change} {coin}" for coin, change in moved.items())
        return _problem(Severity.ERROR, f"Kraken rows of refid {refid} ({what}) are not one asset for another; not "
                        "booked. Check the export is complete (both sides of the trade)", ref)
    base["exchange_id"] = refid
    return Normalized(Transaction(**base, kind=TxKind.TRADE, legs=(outs[0], ins[0], *fees)))


def normalize_kraken_trades(row: Mapping[str, Any], account: str, ref: str) -> Normalized:
    base_asset, quote_asset = split_pair(required_text(row, "pair"))
    side = text(row, "type").lower()
    if side not in ("buy", "sell"):
        raise FieldError("type", f"'{text(row, 'type')}' is neither buy nor sell")
    volume, cost, fee = record_amount(row, "vol"), record_amount(row, "cost"), optional_amount(row, "fee")
    if volume <= 0 or cost < 0 or fee < 0:
        raise FieldError("vol" if volume <= 0 else "cost" if cost < 0 else "fee", "amounts must be positive")
    if optional_amount(row, "margin"):
        return _problem(Severity.WARNING, f"Kraken margin trade {text(row, 'txid')} is not supported yet", ref)
    legs = trade_legs(base_asset, quote_asset, side, volume, cost, fee, quote_asset, "type")
    txid = text(row, "txid")
    order = text(row, "ordertxid")
    return Normalized(Transaction(
        ref=ref, account=account, timestamp=timestamp(row, "time"), kind=TxKind.TRADE, legs=legs,
        description=f"Kraken {side} {text(row, 'pair')}, trade {txid}" + (f" (order {order})" if order else ""),
        exchange_id=txid,
    ))


def _problem(severity: Severity, message: str, ref: str) -> Normalized:
    return Normalized(None, (Problem(ProblemKind.UNSUPPORTED, severity, message, ref),))
