"""KuCoin (classic or high-frequency spot account): fills, deposits, withdrawals and ledgers in 7-day windows.

KuCoin's rules this adapter follows (KuCoin API docs as cited in ccxt 4.5.90 ``kucoin.py``, ccxt-notes.md §2):
* Every history endpoint (``/api/v1/fills``, ``/api/v1/deposits``, ``/api/v1/withdrawals``,
  ``/api/v1/accounts/ledgers``) answers one time range of at most 7 days (``startAt``/``endAt`` in ms; a
  longer range is refused, a missing end means start + 7 days), newest first, paged by ``currentPage`` /
  ``pageSize`` (at most 500). Each stream walks consecutive 7-day windows from the account's start date (or
  from the end of the last finished window) up to now, asking every window, and pages inside a window until a
  short page. A re-run with nothing new is one request per stream.
* Each stream's state ``covered_until`` is the end of its last finished window and is committed with that
  window's records, so a crash resumes at the first unfinished window; duplicates are dropped by id.
  Deposits or withdrawals still processing are not stored and hold ``covered_until`` just before them, so the
  next run asks again until they are final.
* What counts where (nothing twice): trades from the fills (fee in ``feeCurrency``); deposits and withdrawals
  from their endpoints; the ledger is stored whole, and the ccxt-ledger normalizer books only its income rows
  (``Rewards``, ``Other rewards``, ``KuCoin Bonus``... -> ccxt ``bonus``/``airdrop``/``referral``) and skips
  ``Deposit``/``Withdrawal``/``Transfer``/``Trade_Exchange`` (ccxt ``transaction``/``transfer``/``trade``).
* ``load_markets`` is reduced to currencies + spot symbols (+ ccxt's account-type probes): no tickers, margin
  symbol lists or futures contracts. The key needs a passphrase (ccxt ``password``).
* High-frequency (HF) trading accounts (``GET /api/v1/hf/accounts/opened`` is true, KuCoin docs "Get Account
  Type - Spot", https://www.kucoin.com/docs-new/rest/account-info/account-funding/get-account-type-spot):
  the classic streams above are still read (with ccxt's ``hf`` turned off per call: the MAIN wallet's ledger,
  and fills from before the account moved to HF), then the TRADE_HF ledger and the HF fills, one symbol per
  request, with the traded symbols discovered from the balances (``kucoin_hf``). Deposits and withdrawals use
  the same endpoints for both kinds of account.
* Unified (UTA) accounts (``/api/ua/v1/...``) are refused with a clear error rather than imported half. Fills
  before 2019-02-18 are not served by ``/api/v1/fills`` (ccxt's comment); a note says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import ccxt

from importer.adapters.common import balances_batch, complete, fetched, settled, windows
from importer.adapters.kucoin_hf import hf_ledger, hf_trades
from importer.sync import Batch, StreamKey, StreamState, SyncContext
from taxsync.types import DAY_MS, now_ms

PAGE = 500
WINDOW = 7 * DAY_MS
FINAL = {"ok", "failed", "canceled"}
FILLS_FROM_MS = 1_550_448_000_000  # 2019-02-18T00:00:00Z: /api/v1/fills has nothing older
SPOT_ONLY = {"types": ["spot"], "fetchTickersFees": False}

Fetch = Callable[[int, int, int], list[dict[str, Any]]]  # (from ms, to ms, page number) -> records


def _deposit_id(item: dict[str, Any]) -> str:
    """KuCoin deposit rows have no id: ``walletTxId`` (hash@address) is unique per credited deposit."""
    info = item.get("info") or {}
    return str(item.get("id") or info.get("walletTxId") or f"{item.get('currency')}:{item.get('timestamp')}")


class KucoinAdapter:
    def sync(self, ctx: SyncContext) -> Iterator[Batch]:
        exchange = ctx.exchange
        exchange.options["fetchMarkets"] = {**(exchange.options.get("fetchMarkets") or {}), **SPOT_ONLY}
        ctx.call(exchange.load_markets, False, {"marginables": False})
        if exchange.options.get("uta"):
            raise ccxt.NotSupported("kucoin: this is a unified trading account (UTA); its history is not "
                                    "imported yet")
        hf = bool(exchange.options.get("hf"))
        if ctx.since_ms < FILLS_FROM_MS:
            ctx.notes.append("kucoin: trades before 2019-02-18 are not available through /api/v1/fills; import "
                             "KuCoin's trade-history export for them")
        balances, held = self._balances(ctx)
        yield balances
        params = {"pageSize": PAGE, "hf": False}  # the classic endpoints, also on an HF account
        yield from self._walk(ctx, StreamKey("deposits"), "transaction", ("timestamp", "status", "currency"),
                              _deposit_id, lambda lo, hi, p: exchange.fetch_deposits(
                                  None, lo, PAGE, {"until": hi, "currentPage": p}))
        yield from self._walk(ctx, StreamKey("withdrawals"), "transaction", ("id", "timestamp", "status",
                                                                             "currency"),
                              lambda r: str(r["id"]), lambda lo, hi, p: exchange.fetch_withdrawals(
                                  None, lo, PAGE, {"until": hi, "currentPage": p}))
        yield from self._walk(ctx, StreamKey("ledger"), "ledger", ("id", "timestamp", "currency"),
                              lambda r: str(r["id"]), lambda lo, hi, p: exchange.fetch_ledger(
                                  None, lo, None, {**params, "until": hi, "currentPage": p}))
        yield from self._walk(ctx, StreamKey("trades"), "trade", ("id", "timestamp", "symbol"), lambda r: str(r["id"]),
                              lambda lo, hi, p: exchange.fetch_my_trades(
                                  None, lo, None, {**params, "until": hi, "currentPage": p}))
        if hf:  # after the movements and income: symbol discovery compares the balances with all of them
            yield from hf_ledger(ctx)
            yield from hf_trades(ctx, held)

    @staticmethod
    def _balances(ctx: SyncContext) -> tuple[Batch, dict[str, Decimal]]:
        """MAIN + TRADE / TRADE_HF (+ margin) wallets summed per currency, from one ``GET /api/v1/accounts``
        (KuCoin docs "Get Account List - Spot", .../account-info/account-funding/get-account-list-spot)."""
        rows = ctx.call(ctx.exchange.private_get_accounts).get("data") or []
        held: dict[str, Decimal] = {}
        for row in rows:
            code = ctx.exchange.safe_currency_code(row.get("currency"))
            held[code] = held.get(code, Decimal(0)) + Decimal(str(row.get("balance") or "0"))
        held = {c: v for c, v in held.items() if v}
        return balances_batch(held, "private_get_accounts"), held

    @staticmethod
    def _walk(ctx: SyncContext, key: StreamKey, kind: str, required: tuple[str, ...],
              ident: Callable[[dict[str, Any]], str], fetch: Fetch) -> Iterator[Batch]:
        state = ctx.state(key)
        start = state.covered_until + 1 if state.covered_until else ctx.since_ms
        covered_from = min(state.covered_from or start, start)
        covered_until = state.covered_until or start - 1
        held_back = False
        for low, high in windows(start, now_ms(), WINDOW):
            items: list[dict[str, Any]] = []
            page = 1
            while True:  # newest first inside the window; a short page is the last
                rows = ctx.call(lambda a=low, b=high, p=page: complete(fetch(a, b, p), *required))
                items += rows
                if len(rows) < PAGE:
                    break
                page += 1
            pending = [int(i["timestamp"]) for i in items if kind == "transaction" and i.get("status") not in FINAL]
            if pending and not held_back:
                covered_until, held_back = max(covered_until, min(pending) - 1), True
            elif not held_back:
                covered_until = settled(high, covered_until)
            records = [fetched(ctx, kind, i, ident(i)) for i in items
                       if kind != "transaction" or i.get("status") in FINAL]
            yield Batch(key, records, StreamState(None, covered_from, covered_until), key.stream)
