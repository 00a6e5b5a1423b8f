"""Binance: the whole spot history with as few requests as the API's rules allow.

Binance's traps (reference/peer-lessons.md, ccxt-notes.md §2):
* ``myTrades`` needs a symbol and there is no list of traded pairs; delisted pairs vanish from
  ``exchangeInfo``. Scanning every market costs hundreds of requests, so symbols are *discovered*: first the
  markets between assets the account is known to have held (balances, deposits, withdrawals, earlier trades),
  then, while the balances computed from the history still differ from the exchange's, the markets of the
  assets that differ, and finally pairs of those assets that are no longer listed.
* Trades are paged by ``fromId`` (ids are per symbol), 1000 a page; a short page ends the symbol.
* Deposit and withdrawal history is served in windows of at most 90 days; every window is asked, never
  stopping on an empty one. Pending movements hold the window's coverage back until they are final.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ccxt

from importer.adapters.common import (
    add_legs,
    balances_batch,
    by_popular_quote,
    complete,
    discover,
    fetched,
    held_totals,
    ledger_balances,
    unexplained,
    windows,
)
from importer.ccxt_url import add_market, market_for
from importer.sync import Batch, StreamKey, StreamState, SyncContext
from taxsync.types import DAY_MS, now_ms

PAGE = 1000
WINDOW = 90 * DAY_MS
OVERLAP = DAY_MS  # re-ask the last day: a movement may be booked a little after the time it carries
FINAL = {"ok", "failed", "canceled"}
QUOTES = ("USDT", "BUSD", "USDC", "FDUSD", "TUSD", "BTC", "ETH", "BNB", "EUR", "GBP", "TRY", "BRL")
SOURCES = ("ccxt-trade", "ccxt-transaction")


class BinanceAdapter:
    def sync(self, ctx: SyncContext) -> Iterator[Batch]:
        exchange = ctx.exchange
        markets = ctx.call(exchange.load_markets)
        balance = ctx.call(exchange.fetch_balance)
        held = held_totals(balance)
        yield balances_batch(held, "fetch_balance")
        yield from self._movements(ctx, "deposits", exchange.fetch_deposits)
        yield from self._movements(ctx, "withdrawals", exchange.fetch_withdrawals)
        yield from self._trades(ctx, markets, held)

    # -- deposits and withdrawals --------------------------------------------------------------------
    def _movements(self, ctx: SyncContext, stream: str, method: Any) -> Iterator[Batch]:
        key = StreamKey(stream)
        state = ctx.state(key)
        start = max(ctx.since_ms, state.covered_until + 1 - OVERLAP) if state.covered_until else ctx.since_ms
        covered_from = min(state.covered_from or start, start)
        covered_until = state.covered_until or start - 1
        held_back = False
        for low, high in windows(start, now_ms(), WINDOW):
            items: list[dict[str, Any]] = []
            while True:  # a window can hold more than one page
                params = {"until": high, "offset": len(items)}
                page = ctx.call(lambda p=params, a=low: complete(method(None, a, PAGE, p),  # type: ignore[misc]
                                                                 "id", "timestamp", "status", "currency"))
                items += page
                if len(page) < PAGE:
                    break
            pending = [i["timestamp"] for i in items if i.get("status") not in FINAL]
            if pending and not held_back:
                covered_until, held_back = max(covered_until, min(pending) - 1), True
            elif not held_back:
                covered_until = high
            final = [fetched(ctx, "transaction", i, f"{i['id']}") for i in items if i.get("status") in FINAL]
            yield Batch(key, final, StreamState(None, covered_from, covered_until),
                        method.__name__)

    # -- trades ---------------------------------------------------------------------------------------
    def _trades(self, ctx: SyncContext, markets: dict[str, Any], held: dict[str, Decimal]) -> Iterator[Batch]:
        """Known symbols first (incrementally), then discovery while the balances are not explained."""
        spot = {s: m for s, m in markets.items() if m.get("spot")}
        traded = sorted(k.symbol for k in ctx.keys("trades") if (ctx.stored_state(k) or StreamState()).cursor)
        for symbol in set(traded) - set(spot):  # delisted since it was traded: ccxt only asks for known symbols
            self._inject_market(ctx, *symbol.split("/"))
        computed = ledger_balances(ctx, SOURCES)
        done: set[str] = set()
        yield from self._fetch_symbols(ctx, traded, done, computed)
        # Each trade moves both its base and its quote, so a pair is worth asking only while both assets
        # still differ; asking popular pairs first and re-checking after each one keeps the probes few.

        def fetch(symbol: str) -> Iterator[Batch]:
            return self._fetch_symbols(ctx, [symbol], done, computed)

        yield from discover(ctx.exchange.markets, by_popular_quote(spot, QUOTES), held, computed, done, fetch)
        if left := unexplained(held, computed):  # pairs no longer listed: delisted markets keep their trades
            unlisted = self._unlisted(ctx, left, spot)  # adds markets to (a new) exchange.markets
            yield from discover(ctx.exchange.markets, unlisted, held, computed, done, fetch)
        if left := unexplained(held, computed):
            ctx.notes.append(
                "balances differ from the imported history for " + ", ".join(sorted(left)) + ": Binance "
                "Convert, small-balance dust, Earn and fiat movements are not imported by the API yet; import "
                "Binance's transaction-history export for them")

    def _fetch_symbols(self, ctx: SyncContext, symbols: list[str], done: set[str],
                       computed: dict[str, Decimal]) -> Iterator[Batch]:
        for symbol in symbols:
            done.add(symbol)
            key = StreamKey("trades", symbol)
            cursor = ctx.state(key).cursor
            while True:
                from_id = int(cursor) + 1 if cursor else 0
                try:
                    page = ctx.call(lambda s=symbol, f=from_id: complete(  # type: ignore[misc]
                        ctx.exchange.fetch_my_trades(s, None, PAGE, {"fromId": f}), "id", "timestamp", "symbol"))
                except ccxt.BadSymbol:
                    break
                if page:
                    cursor = str(max(int(t["id"]) for t in page))
                records = [fetched(ctx, "trade", t, f"{t['symbol']}:{t['id']}") for t in page]
                add_legs(computed, ctx, records)
                yield Batch(key, records, StreamState(cursor, None, now_ms()), f"fetch_my_trades {symbol}")
                if len(page) < PAGE:
                    break

    def _unlisted(self, ctx: SyncContext, residual: set[str], spot: dict[str, Any]) -> list[str]:
        """Pairs of the assets that differ that are not (or no longer) listed: delisted markets keep their
        trades on Binance, so each such pair is asked once."""
        listed_ids = {m["id"] for m in spot.values()}
        return [self._inject_market(ctx, base, quote) for quote in QUOTES for base in sorted(residual)
                if base != quote and quote in residual and f"{base}{quote}" not in listed_ids]

    @staticmethod
    def _inject_market(ctx: SyncContext, base: str, quote: str) -> str:
        market = market_for(f"{base}{quote}", base, quote)
        add_market(ctx.exchange, market)
        return str(market["symbol"])
