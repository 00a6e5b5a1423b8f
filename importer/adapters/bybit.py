"""Bybit (v5 API, unified trading account): spot trades, deposits, withdrawals and income, completely and
incrementally.

The Bybit v5 rules this adapter is built around (Bybit API docs, page names in quotes):

* "Get Trade History" (``/v5/execution/list``, ccxt ``fetch_my_trades``): one stream for every market (no symbol
  needed) with ``category=spot``; at most **7 days** per request; data kept for **2 years** (ccxt's
  ``daysBack`` 730), so executions older than that are out of reach and the import says so; 100 rows a page,
  newest first, paged by ``nextPageCursor`` -> ``cursor``. ccxt asks ``execType=Trade``: perpetual funding
  executions (``execType: Funding``) are never fetched; they share the spot symbol id ("BTCUSDT") and would
  otherwise parse as spot trades (the ccxt-trade normalizer refuses them anyway).
* "Get Deposit Records (on-chain)" / "Get Withdrawal Records": at most **30 days** per request (only the last 30
  days when no range is given), 50 rows a page. Withdrawals list only on-chain ones unless ``withdrawType=2``
  (an internal transfer to another Bybit user is a withdrawal too). Records that are not final yet (pending,
  security check) are left for a later run, and the stream's coverage stops before the oldest of them.
* "Get Transaction Log" (``/v5/account/transaction-log``, ccxt ``fetch_ledger``): every balance change of the
  unified wallet; at most **7 days** per request and only **24 hours** when ``endTime`` is missing (ccxt's
  ``fetch_ledger`` ignores ``until``, so ``endTime`` is sent natively); 2 years of data; 50 rows a page. Its
  spot ``TRADE`` rows repeat the executions (one row per coin of each fill): they are not kept, so a trade is
  counted once, from the execution list, and income (``BONUS``, ``FEE_REFUND``, ``AIRDRP``, ``INTEREST``...)
  comes only from the log. Everything else is kept: ``TRANSFER_IN``/``TRANSFER_OUT`` (Funding <-> unified
  wallet, no movement for tax) as evidence, derivatives rows (``SETTLEMENT`` funding, linear ``TRADE`` fees and
  PnL) so the ledger can say what it does not book.
* Delisted spot markets vanish from "Get Instruments Info" while their executions are still served; ccxt then
  cannot split the symbol id, so the adapter adds the market (base + known quote suffix) and asks again.
* Bybit answers a transient server fault with ``retCode`` 10016 (or 10000, "Server Timeout"), which ccxt raises
  as a plain ``ExchangeError``; the adapter turns it into ``ExchangeNotAvailable`` so the sync retries it.

Resuming and cheap re-runs: each stream's ``covered_until`` is the end of the last window fetched completely
(minus ``LAG``, so rows written late or under clock skew are asked again); while a window is being paged, the
state's ``cursor`` holds ``[window start, window end, nextPageCursor]``, so a crash resumes on the same page of
the same window and nothing before it is asked again; rows already stored are dropped by id. A re-run with no
new activity therefore asks one request per stream (the window from ``covered_until`` to now), plus loading
the spot markets, the account mode and the wallet balance.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import ccxt

from importer.adapters.common import balances_batch, complete, fetched, held_totals, ledger_balances, windows
from importer.ccxt_url import add_market, market_for
from importer.sync import Batch, StreamKey, StreamState, SyncContext
from taxsync.types import DAY_MS, now_ms

# ccxt.bybit construction options for a spot import: load_markets asks only the spot instruments.
BYBIT_SPOT_OPTIONS: dict[str, Any] = {"fetchMarkets": {"types": ["spot"]}, "defaultType": "spot"}
RETENTION = 730 * DAY_MS  # executions and transaction log: 2 years
LAG = 60_000  # coverage stays this far behind now: late rows and clock skew are asked again next run
FINAL = frozenset({"ok", "failed", "canceled", "rejected", "fail"})  # ccxt's bybit statuses that are final
QUOTES = ("USDT", "USDC", "USDE", "USD1", "BTC", "ETH", "EUR", "BRL", "TRY", "PLN", "DAI", "MNT")
TRANSIENT_CODES = ('"retCode":10016', '"retCode":10000')
SOURCES = ("ccxt-trade", "ccxt-transaction", "ccxt-ledger")


@dataclass(frozen=True, slots=True)
class Spec:
    """How one history stream is asked for."""

    stream: str
    kind: str  # trade | transaction | ledger (the raw record source is ccxt-<kind>)
    method: str  # the ccxt method
    width: int  # the widest time range one request may cover (ms)
    page: int  # rows per page
    required: tuple[str, ...]  # fields every record must carry (else the body was cut short)
    params: Mapping[str, Any] = field(default_factory=dict)
    until: str = "until"  # how the window's end is passed: ccxt's "until", or Bybit's own "endTime"
    retention: int | None = None
    overlap: int = 0  # re-ask this much before covered_until (records that become final late)


SPECS = (
    Spec("trades", "trade", "fetch_my_trades", 7 * DAY_MS, 100, ("id", "timestamp", "symbol"),
         {"type": "spot"}, retention=RETENTION),
    Spec("deposits", "transaction", "fetch_deposits", 30 * DAY_MS, 50, ("id", "status", "currency"),
         overlap=DAY_MS),
    Spec("withdrawals", "transaction", "fetch_withdrawals", 30 * DAY_MS, 50, ("id", "status", "currency"),
         {"withdrawType": 2}, overlap=DAY_MS),
    Spec("ledger", "ledger", "fetch_ledger", 7 * DAY_MS, 50, ("id", "timestamp", "currency"),
         until="endTime", retention=RETENTION),
)


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()


def _next_cursor(page: list[dict[str, Any]]) -> str | None:
    """ccxt copies Bybit's ``nextPageCursor`` into the ``info`` of one row of the page (none: last page)."""
    for item in page:
        cursor = (item.get("info") or {}).get("nextPageCursor")
        if cursor:
            return str(cursor)
    return None


def _spot_trade_row(item: dict[str, Any]) -> bool:
    """A transaction-log row of a spot fill, which the execution list books already."""
    info = item.get("info") or {}
    return info.get("type") == "TRADE" and info.get("category") == "spot"


def _resume(cursor: str | None) -> tuple[int, int, str] | None:
    if not cursor:
        return None
    lo, hi, page_cursor = json.loads(cursor)
    return int(lo), int(hi), str(page_cursor)


class BybitAdapter:
    def sync(self, ctx: SyncContext) -> Iterator[Batch]:
        """Markets, account mode and wallet balance, then trades, deposits, withdrawals and the log, in turn."""
        exchange = ctx.exchange
        if exchange.markets is None:  # a spot import needs the spot markets only
            exchange.options["fetchMarkets"] = {**(exchange.options.get("fetchMarkets") or {}), "types": ["spot"]}
        ctx.call(exchange.load_markets)
        _, unified = ctx.call(exchange.is_unified_enabled)
        balance = ctx.call(exchange.fetch_balance)
        held = held_totals(balance)
        now = now_ms()
        yield balances_batch(held, "fetch_balance")
        for spec in SPECS:
            if spec.stream == "ledger" and not unified:
                ctx.notes.append("this Bybit account is not a unified trading account: income from the "
                                 "transaction log (bonuses, fee refunds, airdrops, interest) is not imported; "
                                 "import Bybit's asset-history export for it")
                continue
            yield from self._stream(ctx, spec, now)
        self._reconcile(ctx, held)

    # -- one stream, window by window ------------------------------------------------------------------------
    def _stream(self, ctx: SyncContext, spec: Spec, now: int) -> Iterator[Batch]:
        key = StreamKey(spec.stream)
        state = ctx.state(key)
        floor = ctx.since_ms if spec.retention is None else max(ctx.since_ms, now - spec.retention)
        resume = _resume(state.cursor)
        if state.covered_from is not None and floor < state.covered_from:
            resume, start = None, floor  # an earlier start than before: walk everything again
        elif resume is not None:
            start = resume[0]
        elif state.covered_until is not None:
            start = max(state.covered_until + 1 - spec.overlap, floor)
        else:
            start = floor
        covered_from = min(state.covered_from if state.covered_from is not None else start, start)
        if covered_from > ctx.since_ms:
            ctx.notes.append(f"Bybit keeps {spec.stream} for 2 years only: {spec.stream} before "
                             f"{_day(covered_from)} cannot be imported through the API; import Bybit's exported "
                             "history for older activity")
        covered_until = state.covered_until if state.covered_until is not None else start - 1
        held_back = False
        for lo, hi in windows(start, now, spec.width):
            cursor = resume[2] if resume is not None and (resume[0], resume[1]) == (lo, hi) else None
            pending: list[int] = []
            while True:
                params = {**spec.params, spec.until: hi, **({"cursor": cursor} if cursor else {})}
                page = self._fetch(ctx, spec, lo, params)
                cursor = _next_cursor(page)
                records = []
                for item in page:
                    if spec.kind == "transaction" and item.get("status") not in FINAL:
                        pending.append(int(item.get("timestamp") or lo))
                    elif not _spot_trade_row(item):
                        records.append(fetched(ctx, spec.kind, item, str(item["id"])))
                done = cursor is None or not page
                if done and not held_back:
                    if pending:
                        covered_until, held_back = max(covered_until, min(pending) - 1), True
                    else:
                        covered_until = max(covered_until, min(hi, now - LAG))
                mid = None if done else json.dumps([lo, hi, cursor])
                yield Batch(key, records, StreamState(mid, covered_from, covered_until), spec.method)
                if done:
                    break

    def _fetch(self, ctx: SyncContext, spec: Spec, since: int, params: dict[str, Any]) -> list[dict[str, Any]]:
        method = getattr(ctx.exchange, spec.method)

        def once() -> list[dict[str, Any]]:
            try:
                return complete(method(None, since, spec.page, dict(params)), *spec.required)
            except ccxt.ExchangeError as error:
                if type(error) is ccxt.ExchangeError and any(code in str(error) for code in TRANSIENT_CODES):
                    raise ccxt.ExchangeNotAvailable(str(error)) from error  # retried by ctx.call
                raise

        page: list[dict[str, Any]] = ctx.call(once)
        if spec.kind == "trade" and self._add_delisted(ctx, page):
            page = ctx.call(once)  # parse the page again, now that ccxt knows the market
        return page

    @staticmethod
    def _add_delisted(ctx: SyncContext, page: list[dict[str, Any]]) -> bool:
        """Teach ccxt the spot markets of executions whose symbol id it could not resolve (delisted)."""
        added = False
        for symbol_id in sorted({str(t["info"].get("symbol")) for t in page if "/" not in str(t.get("symbol"))}):
            quote = next((q for q in QUOTES if symbol_id.endswith(q) and len(symbol_id) > len(q)), None)
            if quote is None:
                note = (f"Bybit market {symbol_id} is no longer listed and its quote coin is not known: its trades "
                        "cannot be read")
                if note not in ctx.notes:
                    ctx.notes.append(note)
                continue
            base = symbol_id.removesuffix(quote)
            add_market(ctx.exchange, market_for(symbol_id, base, quote, info={"symbol": symbol_id,
                                                                              "baseCoin": base, "quoteCoin": quote,
                                                                              "status": "Closed"}))
            ctx.notes.append(f"Bybit market {symbol_id} is no longer listed; its trades were read as {base}/{quote}")
            added = True
        return added

    # -- what the exchange holds vs what the history adds up to ------------------------------------------------
    @staticmethod
    def _reconcile(ctx: SyncContext, held: dict[str, Decimal]) -> None:
        computed = ledger_balances(ctx, SOURCES)
        differing = sorted(a for a in set(held) | set(computed)
                           if held.get(a, Decimal(0)) != computed.get(a, Decimal(0)))
        if differing:
            detail = ", ".join(f"{a} (wallet {held.get(a, Decimal(0))}, history {computed.get(a, Decimal(0))})"
                               for a in differing)
            ctx.notes.append(
                f"Bybit's unified wallet balance differs from the imported spot history for {detail}: perpetual "
                "and futures funding and PnL (derivatives) are not imported, and coins held in the Funding wallet "
                "or in Earn are not part of the unified wallet")
