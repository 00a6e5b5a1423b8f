"""OKX: spot fills, trading-account bills, deposits and withdrawals, newest first, with OKX's cursors.

OKX's rules (OKX API v5 docs; reference/ccxt-notes.md §2, §5):
* Fills come from "Get transaction details (last 3 months)" (``trade/fills-history``; ``trade/fills`` keeps only
  3 days), the method ccxt's ``fetch_my_trades`` uses. Bills come from "Get bills details (last 3 months)"
  (``account/bills-archive``; ``account/bills`` keeps 7 days) without an ``instType`` filter, because income such
  as auto-lend interest has none (ccxt's ``fetch_ledger`` would add ``instType=SPOT``). Older fills and bills are
  not served at all: the import says so and points to OKX's own export.
* Pages hold at most 100 rows, newest first. ``after=<billId>`` asks for rows older than a bill id, which is
  unambiguous, so both id streams walk down from the newest row with ``after``, bounded below by ``begin`` (the
  time of the newest row already stored); a page with fewer than 100 rows, or one reaching a stored id, ends the
  walk. Deposit and withdrawal history ("Get deposit history" / "Get withdrawal history") page by time: ``after``
  is a ``ts`` (rows strictly older); the walk asks ``after = oldest ts + 1`` so rows sharing the boundary
  millisecond are asked again and de-duplicated by id. Their history has no documented retention.
* Deposits and withdrawals that are not final (ccxt status ``pending``) are not stored, and the stream's mark
  stays below the oldest of them, so they are fetched again until final.

Crash safety: each page is one batch, stored with the stream's state. A walk in progress records how far down it
got (``walk``); a resumed run finishes that walk before moving the mark to the walk's newest row, so nothing is
skipped and at most one page is asked twice. With nothing new, each stream costs one request.

The raw rows are turned into ccxt structures by ccxt's own parsers (``parse_trades``, ``parse_ledger``,
``parse_transactions``), called directly on the implicit endpoints so no cursor parameter leaks into them.
Not imported: margin and derivatives fills (``instType`` other than SPOT) and funding-account bills (Simple
Earn, staking); a difference between OKX's balances and the imported history is reported in the notes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import ccxt

from importer.adapters.common import balances_batch, complete, fetched, held_totals, ledger_balances
from importer.sync import Batch, Fetched, StreamKey, StreamState, SyncContext
from taxsync.types import DAY_MS, now_ms

PAGE = 100
# Spot instruments only: load_markets then asks GET public/instruments once (plus asset/currencies with a key)
# instead of once per type. The same dict belongs in importer.exchanges.OPTIONS["okx"].
OKX_OPTIONS: dict[str, Any] = {"fetchMarkets": {"types": ["spot"]}}
RETENTION_MS = 90 * DAY_MS  # "last 3 months"
FINAL = frozenset({"ok", "failed", "canceled"})
SOURCES = ("ccxt-trade", "ccxt-transaction", "ccxt-ledger")
EXPORT_HINT = {  # taxsync reads no OKX file format yet: `taxsync import-file` takes Koinly's universal CSV
    "trades": "import OKX's trade-history export for earlier years (taxsync import-file reads it once converted "
              "to Koinly's CSV format)",
    "ledger": "import OKX's account statement (bills) for earlier years (taxsync import-file reads it once "
              "converted to Koinly's CSV format)",
}


@dataclass(frozen=True, slots=True)
class IdStream:
    """A stream paged by bill id: which implicit endpoint, which ccxt parser, what it is called."""

    stream: str
    kind: str  # trade | ledger
    endpoint: str  # ccxt implicit method
    parser: str  # ccxt parse_* method for the whole list
    params: tuple[tuple[str, str], ...]
    what: str


TRADES = IdStream("trades", "trade", "private_get_trade_fills_history", "parse_trades", (("instType", "SPOT"),),
                  "spot trades (fills)")
LEDGER = IdStream("ledger", "ledger", "private_get_account_bills_archive", "parse_ledger", (), "account bills")


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()


class OkxAdapter:
    def sync(self, ctx: SyncContext) -> Iterator[Batch]:
        exchange = ctx.exchange
        exchange.options["fetchMarkets"] = dict(OKX_OPTIONS["fetchMarkets"])
        ctx.call(exchange.load_markets)
        held = held_totals(*(ctx.call(exchange.fetch_balance, {"type": account})  # account/balance, asset/balances
                             for account in ("trading", "funding")))
        yield balances_batch(held, "fetch_balance")
        yield from self._by_id(ctx, TRADES)
        yield from self._by_id(ctx, LEDGER)
        yield from self._by_time(ctx, "deposits", exchange.private_get_asset_deposit_history)
        yield from self._by_time(ctx, "withdrawals", exchange.private_get_asset_withdrawal_history)
        self._compare(ctx, held)

    # -- fills and bills: bill-id cursors -------------------------------------------------------------
    def _page(self, ctx: SyncContext, call: Callable[[dict[str, Any]], Any], parse: Callable[[list[Any]], Any],
              params: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
        """(rows OKX returned, the ccxt structures made of them); an incomplete answer is retried."""
        def once() -> tuple[int, list[dict[str, Any]]]:
            data = call(params).get("data")
            if not isinstance(data, list):
                raise ccxt.BadResponse(f"{ctx.exchange_id}: an answer without a data list")
            return len(data), complete(parse(data), "id", "timestamp")
        result: tuple[int, list[dict[str, Any]]] = ctx.call(once)
        return result

    def _by_id(self, ctx: SyncContext, spec: IdStream) -> Iterator[Batch]:
        key = StreamKey(spec.stream)
        state = ctx.state(key)
        cursor: dict[str, Any] = json.loads(state.cursor) if state.cursor else {}
        mark, mark_ts = cursor.get("mark"), cursor.get("mark_ts")
        walk: dict[str, Any] = cursor.get("walk") or {}
        now = now_ms()
        self._retention_note(ctx, spec.stream, spec.what, state, mark is None, now)
        covered_from = state.covered_from or max(ctx.since_ms, now - RETENTION_MS)
        call = getattr(ctx.exchange, spec.endpoint)
        parser = getattr(ctx.exchange, spec.parser)
        begin = mark_ts if mark_ts is not None else ctx.since_ms
        while True:
            params: dict[str, Any] = {**dict(spec.params), "begin": begin, "limit": PAGE}
            if walk.get("after"):
                params["after"] = walk["after"]
            count, items = self._page(ctx, call, parser, params)
            ids = [int(item["info"]["billId"]) for item in items]
            fresh = [item for item, bill in zip(items, ids, strict=True) if mark is None or bill > int(mark)]
            if items and not walk.get("top"):
                newest = max(items, key=lambda item: int(item["info"]["billId"]))
                walk = {"top": str(newest["info"]["billId"]), "top_ts": int(newest["timestamp"])}
            done = count < PAGE or (mark is not None and min(ids) <= int(mark))
            if items:
                walk["after"] = str(min(ids))
            if done:
                cursor = {"mark": walk["top"], "mark_ts": walk["top_ts"]} if walk.get("top") else {
                    k: v for k, v in (("mark", mark), ("mark_ts", mark_ts)) if v is not None}
                new_state = StreamState(json.dumps(cursor), covered_from, now)
            else:
                cursor = {"mark": mark, "mark_ts": mark_ts, "walk": walk}
                new_state = StreamState(json.dumps(cursor), covered_from, state.covered_until)
            yield Batch(key, [self._record(ctx, spec.kind, item) for item in fresh], new_state, spec.endpoint)
            if done:
                return

    @staticmethod
    def _record(ctx: SyncContext, kind: str, item: dict[str, Any]) -> Fetched:
        external = f"{item['symbol']}:{item['id']}" if kind == "trade" else str(item["id"])  # trade ids: per pair
        return fetched(ctx, kind, item, external)

    def _retention_note(self, ctx: SyncContext, stream: str, what: str, state: StreamState, first: bool,
                        now: int) -> None:
        oldest = now - RETENTION_MS
        if first and ctx.since_ms < oldest:
            ctx.notes.append(f"OKX's API serves {what} of the last 3 months only: those before {_day(oldest)} "
                             f"cannot be imported through it; {EXPORT_HINT[stream]}")
        elif not first and state.covered_until is not None and state.covered_until < oldest:
            ctx.notes.append(f"the last complete import of OKX {what} was on {_day(state.covered_until)}, more than "
                             f"3 months ago: those between then and {_day(oldest)} are no longer served by OKX's "
                             f"API; {EXPORT_HINT[stream]}")

    # -- deposits and withdrawals: ts cursors ---------------------------------------------------------
    def _by_time(self, ctx: SyncContext, stream: str, call: Callable[[dict[str, Any]], Any]) -> Iterator[Batch]:
        key = StreamKey(stream)
        state = ctx.state(key)
        cursor: dict[str, Any] = json.loads(state.cursor) if state.cursor else {}
        mark_ts: int | None = cursor.get("mark_ts")
        mark_ids = set(cursor.get("mark_ids", []))
        walk: dict[str, Any] = cursor.get("walk") or {}
        covered_from = state.covered_from or ctx.since_ms
        now = now_ms()
        while True:
            params: dict[str, Any] = {"limit": PAGE}
            if walk.get("after") is not None:
                params["after"] = walk["after"]
            count, items = self._page(ctx, call, ctx.exchange.parse_transactions, params)
            oldest = min((int(i["timestamp"]) for i in items), default=None)
            new = [i for i in items if mark_ts is None or int(i["timestamp"]) > mark_ts
                   or (int(i["timestamp"]) == mark_ts and str(i["id"]) not in mark_ids)]
            final = [i for i in new if i.get("status") in FINAL and int(i["timestamp"]) >= ctx.since_ms]
            self._remember(walk, new, final)
            if oldest is None or count < PAGE:
                done = True
            else:
                reached = oldest < ctx.since_ms or (mark_ts is not None and oldest <= mark_ts)
                if oldest + 1 == walk.get("after") and not reached:  # a whole page inside one millisecond
                    raise ccxt.ExchangeError(f"okx {stream}: more than {PAGE} records share one millisecond, which "
                                             "OKX's ts cursor cannot page")
                done = reached
                walk["after"] = oldest + 1
            covered: int | None = state.covered_until
            if done:
                cursor = self._time_mark(walk, mark_ts, mark_ids)
                covered = now if walk.get("pending") is None else int(walk["pending"]) - 1
            else:
                cursor = {"mark_ts": mark_ts, "mark_ids": sorted(mark_ids), "walk": walk}
            yield Batch(key, [fetched(ctx, "transaction", i, str(i["id"])) for i in final],
                        StreamState(json.dumps(cursor), covered_from, covered), f"{stream} history")
            if done:
                return

    @staticmethod
    def _remember(walk: dict[str, Any], new: list[dict[str, Any]], final: list[dict[str, Any]]) -> None:
        """Keep the walk's newest final record(s) and its oldest pending one."""
        for item in final:
            ts, ident = int(item["timestamp"]), str(item["id"])
            if walk.get("top_ts") is None or ts > walk["top_ts"]:
                walk["top_ts"], walk["top_ids"] = ts, [ident]
            elif ts == walk["top_ts"] and ident not in walk["top_ids"]:
                walk["top_ids"] = [*walk["top_ids"], ident]
        for item in new:
            if item.get("status") not in FINAL:
                ts = int(item["timestamp"])
                walk["pending"] = ts if walk.get("pending") is None else min(ts, walk["pending"])

    @staticmethod
    def _time_mark(walk: dict[str, Any], mark_ts: int | None, mark_ids: set[str]) -> dict[str, Any]:
        """The stream's mark after a finished walk: its newest final record, or just below its oldest pending one
        (records at the mark's millisecond are listed, so a later page can tell them from new ones)."""
        if walk.get("pending") is not None:
            return {"mark_ts": int(walk["pending"]) - 1, "mark_ids": []}
        top = walk.get("top_ts")
        if top is None or (mark_ts is not None and top < mark_ts):
            return {"mark_ts": mark_ts, "mark_ids": sorted(mark_ids)} if mark_ts is not None else {}
        ids = set(walk.get("top_ids", [])) | (mark_ids if top == mark_ts else set())
        return {"mark_ts": top, "mark_ids": sorted(ids)}

    # -- what the history cannot explain --------------------------------------------------------------
    def _compare(self, ctx: SyncContext, held: dict[str, Decimal]) -> None:
        computed = ledger_balances(ctx, SOURCES)
        differ = sorted(code for code in set(held) | set(computed)
                        if held.get(code, Decimal(0)) != computed.get(code, Decimal(0)))
        if differ:
            ctx.notes.append(
                "balances differ from the imported history for " + ", ".join(differ) + ": OKX's API serves fills "
                "and bills of the last 3 months only, and margin or derivatives trades and funding-account earnings "
                "(Simple Earn, staking) are not imported; " + EXPORT_HINT["trades"])
