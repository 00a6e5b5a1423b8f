"""Coinbase Advanced (ccxt ``coinbase``): Advanced Trade fills, and every wallet's v2 transaction ledger.

What carries what, so that nothing is counted twice (Coinbase App docs, Track APIs "Transactions"; Advanced
Trade API "List Fills", "List Accounts"; reference/ccxt-notes.md §1-§2):

* ``trades``: List Fills (``fetch_my_trades``) is the only source of Advanced Trade trades, with price, size and
  commission. It answers newest first and pages with an opaque ``cursor``; ``start_sequence_timestamp`` (inclusive)
  is the newest fill already stored, so a nightly run asks one page. Because pages run from new to old, the
  stream's cursor moves only with its last page: a crash half-way re-asks the same range (duplicates are dropped
  by the fill's ``entry_id``) and never skips a fill. ccxt's ``since`` is not used: ccxt would also filter the
  page by ``trade_time``, which may be earlier than the sequence time the exchange filtered on.
* ``ledger <CODE>``: one stream per wallet listed by List Accounts (``fetch_accounts``, paged by ``cursor``),
  read with ``fetch_ledger(params={'account_id': ...})`` from ``/v2/accounts/{id}/transactions``. v2 pages are
  asked oldest first (``order=asc``, "Pagination": up to 100 rows, ``starting_after`` = the last id seen), so each
  page is committed with its cursor: the id of the newest *final* transaction stored. The ledger is stored whole
  (raw records are raw); the ``ccxt-ledger`` normalizer books sends, receives and fiat movements, staking, inflation
  rewards and interest, and skips ``advanced_trade_fill`` rows, which the fills carry.
* A pending transaction is not stored (a raw record is never updated) and holds the wallet's cursor before it, so
  it is fetched again until it is final; rows after it are stored meanwhile.

Balances come with the account list (``available_balance`` + ``hold``), so they cost no request; they are kept
in the ``balances`` stream state and compared with what the imported history adds up to.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from importer.adapters.common import balances_batch, complete, fetched, ledger_balances
from importer.sync import Batch, StreamKey, StreamState, SyncContext
from taxsync.types import now_ms

FILLS_PAGE = 250  # ccxt's own page size for coinbase fetchMyTrades pagination
LEDGER_PAGE = 100  # the v2 maximum ("Pagination")
FINAL = frozenset({"ok", "failed", "canceled", "expired"})
SOURCES = ("ccxt-trade", "ccxt-ledger")
# v2 types the fills do not carry and the ledger cannot book as a whole: each side is a separate wallet's row.
NOT_IN_FILLS = {"buy": "simple buys", "sell": "simple sells", "trade": "conversions",
                "retail_simple_dust": "dust sweeps"}


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _sequence(trade: dict[str, Any]) -> tuple[str, str]:
    """A fill's ``sequence_timestamp`` (falling back to ``trade_time``) as (sortable key, original text)."""
    info = trade.get("info") or {}
    text = str(info.get("sequence_timestamp") or info.get("trade_time") or "")
    whole, _, fraction = text.removesuffix("Z").partition(".")
    return f"{whole}.{fraction.ljust(9, '0')}", text


def _without(item: dict[str, Any], key: str) -> dict[str, Any]:
    """The record without the paging hint ccxt writes into its ``info`` (it differs from run to run)."""
    info = item.get("info")
    if isinstance(info, dict) and key in info:
        return {**item, "info": {k: v for k, v in info.items() if k != key}}
    return item


def _hint(items: list[dict[str, Any]], key: str) -> str | None:
    for item in items:
        value = (item.get("info") or {}).get(key)
        if value:
            return str(value)
    return None


class CoinbaseAdapter:
    def sync(self, ctx: SyncContext) -> Iterator[Batch]:
        ctx.call(ctx.exchange.load_markets)
        wallets = self._accounts(ctx)
        held = self._held(wallets)
        yield balances_batch(held, "fetch_accounts")
        yield from self._fills(ctx)
        pending: Counter[str] = Counter()
        for key, wallet in self._ledger_keys(wallets):
            yield from self._ledger(ctx, key, str(wallet["id"]), pending)
        self._notes(ctx, held, pending)

    # -- accounts ---------------------------------------------------------------------------------------------
    def _accounts(self, ctx: SyncContext) -> list[dict[str, Any]]:
        """Every wallet, following List Accounts' ``cursor`` (ccxt writes it into the last account's info)."""
        wallets: list[dict[str, Any]] = []
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            params = {"cursor": cursor} if cursor else {}
            page = ctx.call(lambda p=params: complete(ctx.exchange.fetch_accounts(p), "id", "code"))
            wallets += page
            cursor = _hint(page, "cursor")
            if not page or not cursor or cursor in seen:
                return wallets
            seen.add(cursor)

    @staticmethod
    def _held(wallets: list[dict[str, Any]]) -> dict[str, Decimal]:
        held: dict[str, Decimal] = {}
        for wallet in wallets:
            info = wallet.get("info") or {}
            parts = [(info.get("available_balance") or {}).get("value"), (info.get("hold") or {}).get("value"),
                     (info.get("balance") or {}).get("amount")]  # v3 available + hold, or v2 balance
            amount = sum((Decimal(str(p)) for p in parts if p not in (None, "")), Decimal(0))
            if amount:
                held[wallet["code"]] = held.get(wallet["code"], Decimal(0)) + amount
        return held

    @staticmethod
    def _ledger_keys(wallets: list[dict[str, Any]]) -> list[tuple[StreamKey, dict[str, Any]]]:
        """A stream per wallet, named by its currency; ``CODE:id`` if one currency has several wallets."""
        per_code = Counter(str(w["code"]) for w in wallets)
        return [(StreamKey("ledger", str(w["code"]) if per_code[str(w["code"])] == 1 else f"{w['code']}:{w['id']}"), w)
                for w in wallets]

    # -- fills ------------------------------------------------------------------------------------------------
    def _fills(self, ctx: SyncContext) -> Iterator[Batch]:
        key = StreamKey("trades")
        state = ctx.state(key)
        start = state.cursor or _iso(ctx.since_ms)
        newest = (_sequence({"info": {"sequence_timestamp": state.cursor}}) if state.cursor else None)
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            params: dict[str, Any] = {"start_sequence_timestamp": start, **({"cursor": cursor} if cursor else {})}
            page = ctx.call(lambda p=params: complete(ctx.exchange.fetch_my_trades(None, None, FILLS_PAGE, p),
                                                      "id", "timestamp", "symbol"))
            for trade in page:
                newest = max(newest or _sequence(trade), _sequence(trade))
            cursor = _hint(page, "cursor")
            last = not page or not cursor or cursor in seen
            records = [fetched(ctx, "trade", _without(t, "cursor"), str(t["info"].get("entry_id") or
                                                                        f"{t['symbol']}:{t['id']}")) for t in page]
            done = StreamState(newest[1] if newest else None, state.covered_from or ctx.since_ms, now_ms())
            yield Batch(key, records, done if last else state, "fetch_my_trades")
            if last:
                return
            seen.add(cursor or "")

    # -- per-wallet ledgers -----------------------------------------------------------------------------------
    def _ledger(self, ctx: SyncContext, key: StreamKey, account_id: str, pending: Counter[str]) -> Iterator[Batch]:
        state = ctx.state(key)
        cursor = state.cursor  # the newest final transaction stored; everything up to it is stored
        after = cursor
        held_back = False
        while True:
            params = {"account_id": account_id, "order": "asc", **({"starting_after": after} if after else {})}
            page = ctx.call(lambda p=params: complete(ctx.exchange.fetch_ledger(None, None, LEDGER_PAGE, p),
                                                      "id", "timestamp", "status"))
            records = []
            for entry in page:  # ccxt sorts by time, stably: the order the exchange served
                if entry["status"] not in FINAL:
                    held_back = True
                    pending[key.symbol] += 1
                    continue
                if not held_back:
                    cursor = str(entry["id"])
                if entry["timestamp"] >= ctx.since_ms:
                    records.append(fetched(ctx, "ledger", _without(entry, "next_starting_after"), str(entry["id"])))
            yield Batch(key, records, StreamState(cursor, state.covered_from or ctx.since_ms, now_ms()),
                        f"fetch_ledger {key.symbol}")
            after = _hint(page, "next_starting_after")
            if not page or not after:
                return

    # -- notes ------------------------------------------------------------------------------------------------
    def _notes(self, ctx: SyncContext, held: dict[str, Decimal], pending: Counter[str]) -> None:
        if pending:
            ctx.notes.append("coinbase: " + ", ".join(f"{n} {code}" for code, n in sorted(pending.items())) +
                             " transaction(s) still pending; they are imported once Coinbase completes them")
        simple = Counter(str((p.get("info") or {}).get("type")) for p in ctx.raw_payloads("ccxt-ledger")
                         if (p.get("info") or {}).get("type") in NOT_IN_FILLS)
        if simple:
            ctx.notes.append("coinbase: " + ", ".join(f"{n} {NOT_IN_FILLS[t]} ({t})" for t, n in sorted(simple.items()))
                             + " are not in the Advanced Trade fills and are not booked as trades yet: import "
                             "Coinbase's transaction-history report for them")
        computed = ledger_balances(ctx, SOURCES)
        differ = sorted(a for a in set(held) | set(computed) if held.get(a, Decimal(0)) != computed.get(a, Decimal(0)))
        if differ:
            ctx.notes.append("coinbase: balances differ from the imported history for " + ", ".join(differ) +
                             (" (pending transactions are already held in the balance)" if pending else ""))
