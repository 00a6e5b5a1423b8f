"""Any other ccxt exchange, through the unified history methods, saying plainly what it cannot cover.

History is asked window by window from the account's start to now: trades in the widest window the
exchange allows (ccxt's ``features[...]['untilDays']``), deposits, withdrawals and ledger entries in 90-day
windows (many exchanges silently cap a request's range). Inside a window, pages go forward by time, each
starting at the newest timestamp already seen (rows sharing a millisecond across a page boundary must not be
lost); duplicates are dropped by exchange id; a short page or a page with nothing new ends the window. The
cursor is the end of the last finished window, so a crash re-asks at most one window.

What this cannot do, and says so in the import's notes: find trading pairs the exchange does not list while
they are needed for a symbol-per-request API (only pairs between currently held assets are asked), or page
exchanges that return the newest rows whatever ``since`` says. Those exchanges need a first-class adapter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import ccxt

from importer.adapters.common import complete, fetched, held_totals, settled, windows
from importer.sync import Batch, StreamKey, StreamState, SyncContext
from taxsync.types import DAY_MS, now_ms

DEFAULT_PAGE = 100
MOVEMENT_WINDOW_DAYS = 90
STREAMS: tuple[tuple[str, str, str, str], ...] = (  # (stream, ccxt `has` key, method, record kind)
    ("trades", "fetchMyTrades", "fetch_my_trades", "trade"),
    ("deposits", "fetchDeposits", "fetch_deposits", "transaction"),
    ("withdrawals", "fetchWithdrawals", "fetch_withdrawals", "transaction"),
    ("ledger", "fetchLedger", "fetch_ledger", "ledger"),
)


def _record_id(kind: str, item: dict[str, Any]) -> str:
    return f"{item.get('symbol')}:{item.get('id')}" if kind == "trade" else str(item.get("id"))


class GenericAdapter:
    def sync(self, ctx: SyncContext) -> Iterator[Batch]:
        exchange = ctx.exchange
        markets = ctx.call(exchange.load_markets)
        features = ((exchange.features or {}).get("spot") or {}).get("fetchMyTrades") or {}
        for stream, has, method, kind in STREAMS:
            if not exchange.has.get(has):
                ctx.notes.append(f"{ctx.exchange_id} has no {has} in ccxt: its {stream} are not imported; "
                                 "import the exchange's export file for them")
                continue
            try:
                yield from self._stream(ctx, markets, stream, kind, getattr(exchange, method), features)
            except (ccxt.NotSupported, ccxt.ArgumentsRequired) as error:
                ctx.notes.append(f"{ctx.exchange_id} could not give its {stream} through ccxt ({error}); import "
                                 "the exchange's export file for them")

    def _stream(self, ctx: SyncContext, markets: dict[str, Any], stream: str, kind: str, call: Any,
                features: dict[str, Any]) -> Iterator[Batch]:
        trades = stream == "trades"
        days = int(features.get("untilDays") or 0) if trades else MOVEMENT_WINDOW_DAYS
        size = int(features.get("limit") or DEFAULT_PAGE) if trades else DEFAULT_PAGE
        if trades and features.get("symbolRequired"):
            symbols = self._held_symbols(ctx, markets)
            ctx.notes.append(f"{ctx.exchange_id} needs a symbol per trade request: only the {len(symbols)} markets "
                             "between currently held assets were asked; pairs traded to zero or delisted are "
                             "missed — import the exchange's trade export for them")
            for symbol in symbols:
                yield from self._windows(ctx, StreamKey(stream, symbol), kind, days, size,
                                         lambda s, n, p, c=call, sym=symbol: c(sym, s, n, p))
        else:
            yield from self._windows(ctx, StreamKey(stream), kind, days, size, lambda s, n, p, c=call: c(None, s, n, p))

    def _held_symbols(self, ctx: SyncContext, markets: dict[str, Any]) -> list[str]:
        balance = ctx.call(ctx.exchange.fetch_balance)
        held = set(held_totals(balance))
        return sorted(s for s, m in markets.items() if m.get("spot") and {m["base"], m["quote"]} <= held)

    def _windows(self, ctx: SyncContext, key: StreamKey, kind: str, days: int, size: int,
                 fetch: Callable[[int, int, dict[str, Any]], list[dict[str, Any]]]) -> Iterator[Batch]:
        state = ctx.state(key)
        start = state.covered_until + 1 if state.covered_until else ctx.since_ms
        end = now_ms()
        for low, high in windows(start, end, days * DAY_MS) if days else [(start, end)]:
            since, seen = low, set[str]()
            while True:
                params = {"until": high} if days else {}
                page = ctx.call(lambda t=since, p=params: complete(fetch(t, size, p), "id", "timestamp"))
                new = [item for item in page if _record_id(kind, item) not in seen]
                seen.update(_record_id(kind, item) for item in page)
                newest = max((int(item["timestamp"]) for item in page), default=since)
                done = len(page) < size or not new or newest == since
                until = settled(high, state.covered_until) if done else state.covered_until
                state_now = StreamState(None, state.covered_from or ctx.since_ms, until)
                yield Batch(key, [fetched(ctx, kind, i, _record_id(kind, i)) for i in new], state_now,
                            f"{key.stream} {key.symbol}".strip())
                if done:
                    break
                since = newest
            state = StreamState(None, state.covered_from or ctx.since_ms, settled(high, state.covered_until))
