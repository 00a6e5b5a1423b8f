"""KuCoin high-frequency (HF) trading account: fills per symbol and the TRADE_HF ledger, in 7-day windows.

KuCoin's rules (KuCoin API docs, as cited in ccxt 4.5.90 ``kucoin.py``):
* ``GET /api/v1/hf/fills`` ("Get Trade History", https://www.kucoin.com/docs-new/rest/spot-trading/orders/
  get-trade-history) needs a ``symbol``; ``startAt``/``endAt`` (ms) at most 7 days apart (none: the last 7
  days); newest first; ``lastId`` (the ``id`` of the last row of the previous page) pages to older rows,
  ``limit`` at most 100. ccxt goes there when ``options["hf"]`` (set by ``load_markets`` from
  ``GET /api/v1/hf/accounts/opened``, "Get Account Type - Spot") or ``params["hf"]`` is true, and hands
  ``lastId`` through; the next ``lastId`` is the smallest ``info.id`` of a full page.
* ``GET /api/v1/hf/accounts/ledgers`` ("Get Account Ledgers - trade_hf", https://www.kucoin.com/docs-new/rest/
  account-info/account-funding/get-account-ledgers-tradehf): the same window rule and ``lastId`` paging,
  ``limit`` at most 200. Its rows (``TRANSFER``, ``TRADE_EXCHANGE``) are stored; the ccxt-ledger normalizer
  books only income types, so nothing here is counted twice with the fills.

There is no list of traded symbols, so they are discovered as for Binance: symbols traded in earlier runs first
(one request each on a re-run), then, while the exchange's balances (all wallets, ``GET /api/v1/accounts``)
differ from what the imported history adds up to, listed spot markets whose base and quote both still differ,
popular quotes first, re-checking after each symbol. Each symbol walks 7-day windows from ``since`` (or from the
end of its last finished window): a symbol asked but never traded costs one request per window once, and later
only what is newer than its ``covered_until``. State per symbol (``StreamKey("trades", symbol)``): ``cursor`` =
the newest fill id seen (none: never traded), ``covered_until`` = end of the last finished window, committed
with that window's fills, so a crash resumes at the first unfinished window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import ccxt

from importer.adapters.common import (
    add_legs,
    by_popular_quote,
    complete,
    discover,
    fetched,
    ledger_balances,
    settled,
    unexplained,
    windows,
)
from importer.ccxt_url import add_market, market_for
from importer.sync import Batch, Fetched, StreamKey, StreamState, SyncContext
from taxsync.types import DAY_MS, now_ms

WINDOW = 7 * DAY_MS
FILLS_PAGE = 100
LEDGER_PAGE = 200
QUOTES = ("USDT", "USDC", "BTC", "ETH", "KCS", "EUR", "TRX", "DAI", "TUSD", "BRL")
SOURCES = ("ccxt-trade", "ccxt-transaction", "ccxt-ledger")

Fetch = Callable[[int, int, dict[str, Any]], Any]  # (from ms, to ms, extra params) -> ccxt records
RowId = Callable[[dict[str, Any]], int]


def _fill_ident(trade: dict[str, Any]) -> str:
    """External id of an HF fill: ``symbol:tradeId`` (a classic fill, stored by id alone, never matches)."""
    return f"{trade.get('symbol')}:{trade.get('id')}"


def _trade_row_id(trade: dict[str, Any]) -> int:
    return int((trade.get("info") or {})["id"])


def _ledger_row_id(entry: dict[str, Any]) -> int:
    return int(entry["id"])


def _checked(items: Any, required: tuple[str, ...], row_id: RowId) -> list[dict[str, Any]]:
    """Complete records whose numeric ``lastId`` can be read; else ccxt.BadResponse (retried)."""
    rows = complete(items, *required)
    try:
        for row in rows:
            row_id(row)
    except (KeyError, TypeError, ValueError) as exc:
        raise ccxt.BadResponse("incomplete response: a record without a numeric id") from exc
    return rows


def walk(ctx: SyncContext, key: StreamKey, kind: str, origin: str, fetch: Fetch, page: int,
         required: tuple[str, ...], ident: Callable[[dict[str, Any]], str], row_id: RowId,
         on_records: Callable[[list[Fetched]], None] | None = None) -> Iterator[Batch]:
    """Consecutive 7-day windows from the stream's ``covered_until`` (or ``since``) to now, each paged by
    ``lastId`` until a short page; one batch per window with ``covered_until`` = the window's end."""
    state = ctx.state(key)
    start = state.covered_until + 1 if state.covered_until else ctx.since_ms
    covered_from = min(state.covered_from or start, start)
    cursor = state.cursor
    for low, high in windows(start, now_ms(), WINDOW):
        items: list[dict[str, Any]] = []
        last_id: int | None = None
        while True:
            extra = {"until": high} | ({"lastId": last_id} if last_id is not None else {})
            rows = ctx.call(lambda a=low, b=high, p=extra: _checked(fetch(a, b, p), required, row_id))
            items += rows
            if len(rows) < page:
                break
            last_id = min(row_id(r) for r in rows)
        records = [fetched(ctx, kind, i, ident(i)) for i in items]
        if on_records:
            on_records(records)
        if items:
            newest = max(row_id(i) for i in items)
            cursor = str(max(newest, int(cursor))) if cursor else str(newest)
        yield Batch(key, records, StreamState(cursor, covered_from, settled(high, state.covered_until)), origin)


def hf_ledger(ctx: SyncContext) -> Iterator[Batch]:
    """The TRADE_HF wallet's ledger (``/api/v1/hf/accounts/ledgers``) as stream ``ledger_hf``."""
    exchange = ctx.exchange
    yield from walk(ctx, StreamKey("ledger_hf"), "ledger", "fetch_ledger hf",
                    lambda lo, hi, p: exchange.fetch_ledger(None, lo, LEDGER_PAGE, {"hf": True, **p}),
                    LEDGER_PAGE, ("id", "timestamp", "currency"), lambda r: str(r["id"]), _ledger_row_id)


def hf_trades(ctx: SyncContext, held: dict[str, Decimal]) -> Iterator[Batch]:
    """Fills of the symbols traded before, then of discovered symbols while the balances are unexplained."""
    exchange = ctx.exchange
    known = sorted(k.symbol for k in ctx.keys("trades")
                   if k.symbol and (ctx.stored_state(k) or StreamState()).cursor)
    for symbol in known:
        if symbol not in exchange.markets:  # delisted since: ccxt only asks for markets it knows
            base, quote = symbol.split("/")
            add_market(exchange, market_for(f"{base}-{quote}", base, quote))
    computed = ledger_balances(ctx, SOURCES)
    counted = {_fill_ident(p) for p in ctx.raw_payloads("ccxt-trade")}  # already in ``computed``

    def count(records: list[Fetched]) -> None:
        """Add the legs of fills not stored before (``--full`` and resumed windows fetch stored fills again)."""
        new = [r for r in records if r.external_id not in counted]
        counted.update(r.external_id for r in new)
        add_legs(computed, ctx, new)

    def fetch(symbol: str) -> Iterator[Batch]:
        yield from walk(ctx, StreamKey("trades", symbol), "trade", f"fetch_my_trades hf {symbol}",
                        lambda lo, hi, p: exchange.fetch_my_trades(symbol, lo, FILLS_PAGE, {"hf": True, **p}),
                        FILLS_PAGE, ("id", "timestamp", "symbol"), _fill_ident, _trade_row_id, count)

    done: set[str] = set(known)
    for symbol in known:
        yield from fetch(symbol)
    yield from discover(exchange.markets, by_popular_quote(exchange.markets, QUOTES), held, computed, done, fetch)
    if left := unexplained(held, computed):
        ctx.notes.append(
            "kucoin: balances differ from the imported history for " + ", ".join(sorted(left)) + " (HF account: "
            "traded symbols are found from the balances; history before the import's start date, Convert, "
            "Earn, margin or futures movements are not imported by the API); import KuCoin's export for them")
