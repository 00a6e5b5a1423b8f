"""Any other ccxt exchange, through the unified history methods, saying plainly what it cannot cover.

Streams are paged forward by time: each page starts at the newest timestamp already seen (not one past it:
rows sharing a millisecond across a page boundary must not be lost), duplicates are dropped by exchange id,
and a page that brings nothing new ends the stream. The stream's cursor is the newest timestamp stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from importer.adapters.common import complete, fetched
from importer.store import now_ms
from importer.sync import Batch, StreamKey, StreamState, SyncContext

PAGE = 100
STREAMS: tuple[tuple[str, str, str, str], ...] = (  # (stream, ccxt `has` key, method, record kind)
    ("trades", "fetchMyTrades", "fetch_my_trades", "trade"),
    ("deposits", "fetchDeposits", "fetch_deposits", "transaction"),
    ("withdrawals", "fetchWithdrawals", "fetch_withdrawals", "transaction"),
    ("ledger", "fetchLedger", "fetch_ledger", "ledger"),
)


def _trade_id(item: dict[str, Any]) -> str:
    return f"{item.get('symbol')}:{item.get('id')}"


class GenericAdapter:
    def sync(self, ctx: SyncContext) -> Iterator[Batch]:
        exchange = ctx.exchange
        markets = ctx.call(exchange.load_markets)
        spot = (exchange.features or {}).get("spot") or {}
        needs_symbol = bool((spot.get("fetchMyTrades") or {}).get("symbolRequired"))
        for stream, has, method, kind in STREAMS:
            if not exchange.has.get(has):
                ctx.notes.append(f"{ctx.exchange_id} has no {has} in ccxt: {stream} are not imported; "
                                 "import the exchange's export file for them")
                continue
            call = getattr(exchange, method)
            if stream == "trades" and needs_symbol:
                symbols = self._held_symbols(ctx, markets)
                ctx.notes.append(f"{ctx.exchange_id} needs a symbol per trade request: only the "
                                 f"{len(symbols)} markets between currently held assets were asked")
                for symbol in symbols:
                    yield from self._paged(ctx, StreamKey(stream, symbol), kind,
                                           lambda since, c=call, s=symbol: c(s, since, PAGE))
            else:
                yield from self._paged(ctx, StreamKey(stream), kind, lambda since, c=call: c(None, since, PAGE))

    def _held_symbols(self, ctx: SyncContext, markets: dict[str, Any]) -> list[str]:
        balance = ctx.call(ctx.exchange.fetch_balance)
        held = {c for c, v in (balance.get("total") or {}).items() if v not in (None, "") and Decimal(str(v))}
        return sorted(s for s, m in markets.items() if m.get("spot") and {m["base"], m["quote"]} <= held)

    def _paged(self, ctx: SyncContext, key: StreamKey, kind: str,
               fetch: Callable[[int], list[dict[str, Any]]]) -> Iterator[Batch]:
        state = ctx.state(key)
        since = int(state.cursor) if state.cursor else ctx.since_ms
        seen: set[str] = set()
        while True:
            page = ctx.call(lambda t=since: complete(fetch(t), "id", "timestamp"))
            ids = [_trade_id(i) if kind == "trade" else str(i.get("id")) for i in page]
            new = [(i, item) for i, item in zip(ids, page, strict=True) if i not in seen]
            if not new:
                break
            seen.update(ids)
            newest = max(int(item["timestamp"]) for item in page)
            records = [fetched(ctx, kind, item, ident) for ident, item in new]
            yield Batch(key, records, StreamState(str(newest), state.covered_from or ctx.since_ms, now_ms()),
                        f"{key.stream} {key.symbol}".strip())
            if len(page) < PAGE or newest == since:
                break
            since = newest
