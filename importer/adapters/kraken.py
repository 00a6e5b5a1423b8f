"""Kraken: trades from ``TradesHistory`` and everything else (deposits, withdrawals, staking, earn) from the
``Ledgers`` endpoint, the most complete record Kraken keeps.

Both endpoints answer newest first, 50 rows a page, paged by ``ofs``; ``start`` (exclusive) may be the id of
the newest row already stored, which makes the nightly run one request per stream. Because pages run from new
to old, a stream's cursor moves only with its last page: a crash half-way re-asks the same range (duplicates
are dropped by id) and never skips a row. Kraken's private counter is tiered and decays slowly; ccxt's cost
table (6 x 1 s for history calls) keeps the starter tier from being locked out for 15 minutes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from importer.adapters.common import balances_batch, complete, fetched, held_totals
from importer.sync import Batch, StreamKey, StreamState, SyncContext
from taxsync.types import now_ms

PAGE = 50


class KrakenAdapter:
    def sync(self, ctx: SyncContext) -> Iterator[Batch]:
        exchange = ctx.exchange
        ctx.call(exchange.load_markets)
        balance = ctx.call(exchange.fetch_balance)
        yield balances_batch(held_totals(balance), "fetch_balance")
        yield from self._newest_first(ctx, StreamKey("trades"), "trade",
                                      lambda params: exchange.fetch_my_trades(None, None, None, params))
        yield from self._newest_first(ctx, StreamKey("ledger"), "ledger",
                                      lambda params: exchange.fetch_ledger(None, None, None, params))

    def _newest_first(self, ctx: SyncContext, key: StreamKey, kind: str,
                      fetch: Callable[[dict[str, Any]], list[dict[str, Any]]]) -> Iterator[Batch]:
        state = ctx.state(key)
        start: dict[str, Any] = {"start": state.cursor} if state.cursor else {"start": ctx.since_ms // 1000}
        newest: dict[str, Any] | None = None
        offset = 0
        while True:
            page = ctx.call(lambda o=offset: complete(fetch({**start, "ofs": o}), "id", "timestamp"))
            offset += len(page)
            if page and newest is None:
                newest = max(page, key=lambda item: (int(item["timestamp"]), str(item["id"])))
            last = len(page) < PAGE
            cursor = str(newest["id"]) if last and newest else state.cursor
            records = [fetched(ctx, kind, item, str(item["id"])) for item in page]
            yield Batch(key, records, StreamState(cursor, state.covered_from or ctx.since_ms, now_ms()),
                        key.stream)
            if last:
                break
