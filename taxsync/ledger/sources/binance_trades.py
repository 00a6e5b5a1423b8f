"""Binance spot trade history export (Orders > Trade History > Export) into ledger trades.

Layouts: ``Date(UTC), Pair, Side, Price, Executed, Amount, Fee`` (2021 on), where Executed, Amount and Fee
carry their asset after the number (``0.00150000BTC``, ``45.12345678USDT``, ``0.00000150BNB``), and the older
``Date(UTC), Market, Type, Price, Amount, Total, Fee, Fee Coin`` with plain numbers, the market's assets told
apart at a known quote asset (``BTCUSDT`` is BTC for USDT). BUY: IN the executed base, OUT the quote amount,
FEE the fee in its asset; SELL the other way. The export has no trade id: beside the API, a trade is matched
by its second and amounts (taxsync.ledger.duplicates).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from taxsync.ledger.records import Transaction, TxKind
from taxsync.ledger.sources.base import FieldError, Normalized
from taxsync.ledger.sources.fields import optional_amount, required_text, text, timestamp, trade_legs
from taxsync.parsing import parse_decimal
from taxsync.types import Asset

QUOTES = ("FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USDP", "DAI", "BTC", "ETH", "BNB", "EUR", "GBP", "TRY", "BRL",
          "AUD", "RUB", "UAH", "NGN", "ZAR", "PLN", "RON", "ARS", "JPY", "MXN", "COP", "CZK", "IDR", "XRP", "TRX",
          "DOGE", "DOT", "USD")
_WITH_ASSET = re.compile(r"\s*([+-]?[\d.]+(?:[eE][+-]?\d+)?)\s*([A-Za-z0-9]{1,20})\s*")


def split_market(market: str, column: str) -> tuple[Asset, Asset]:
    cleaned = market.strip().upper().replace("/", "").replace("-", "").replace("_", "")
    for quote in QUOTES:
        if cleaned.endswith(quote) and len(cleaned) > len(quote):
            return Asset(cleaned[: -len(quote)]), Asset(quote)
    raise FieldError(column, f"'{market}' is not a market taxsync can split into two assets (such as BTCUSDT)")


def _with_asset(row: Mapping[str, Any], column: str) -> tuple[Decimal, Asset]:
    value = text(row, column)
    match = _WITH_ASSET.fullmatch(value)
    if match is None:
        raise FieldError(column, f"'{value}' is not an amount with its asset (such as 0.0015BTC)")
    try:
        return parse_decimal(match.group(1)), Asset(match.group(2).upper())
    except ValueError as error:
        raise FieldError(column, str(error)) from None


def normalize_binance_trades(row: Mapping[str, Any], account: str, ref: str) -> Normalized:
    moment = timestamp(row, "Date(UTC)")
    side = required_text(row, "Side").upper()
    if side not in ("BUY", "SELL"):
        raise FieldError("Side", f"'{text(row, 'Side')}' is neither BUY nor SELL")
    pair = required_text(row, "Pair")
    if text(row, "Fee Coin"):  # the older layout: plain numbers, assets from the market
        base, quote = split_market(pair, "Pair")
        executed, spent = optional_amount(row, "Executed"), optional_amount(row, "Amount")
        fee, fee_asset = optional_amount(row, "Fee"), Asset(text(row, "Fee Coin").upper())
    else:
        (executed, base), (spent, quote) = _with_asset(row, "Executed"), _with_asset(row, "Amount")
        if base + quote != pair.upper().replace("/", "").replace("-", "").replace("_", ""):
            raise FieldError("Executed", f"{base} executed for {quote} does not make the pair {pair}")
        fee, fee_asset = _with_asset(row, "Fee") if text(row, "Fee") else (Decimal(0), base)
    if executed <= 0 or spent < 0 or fee < 0:
        raise FieldError("Executed" if executed <= 0 else "Amount" if spent < 0 else "Fee", "amounts must be positive")
    return Normalized(Transaction(ref=ref, account=account, timestamp=moment, kind=TxKind.TRADE,
                                  legs=trade_legs(base, quote, side, executed, spent, fee, fee_asset, "Side"),
                                  description=f"Binance {side.lower()} {pair}"))
