"""Helpers shared by adapters: payloads for raw records, fixed time windows, ledger balances, symbol discovery."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import ccxt

from importer.sync import Batch, Fetched, StreamKey, StreamState, SyncContext
from taxsync.ledger.sources import NORMALIZERS, FieldError
from taxsync.types import now_ms

SETTLE_MS = 3_600_000  # the newest hour is asked again next time: exchanges book some rows a little late


def settled(high: int, previous: int | None = None) -> int:
    """How far a finished window may count as covered: never into the last ``SETTLE_MS``, never backwards."""
    return max(min(high, now_ms() - SETTLE_MS), previous or 0)


def fetched(ctx: SyncContext, kind: str, item: dict[str, Any], external_id: str) -> Fetched:
    """A ccxt unified structure (with ``info``, the exchange's raw row) as a raw record payload."""
    return Fetched(f"ccxt-{kind}", external_id, {"exchange": ctx.exchange_id, "kind": kind, **item})


def windows(start: int, end: int, width: int) -> Iterator[tuple[int, int]]:
    """Consecutive inclusive [from, to] millisecond windows of at most ``width`` covering [start, end]."""
    while start <= end:
        stop = min(start + width - 1, end)
        yield start, stop
        start = stop + 1


def _add(totals: dict[str, Decimal], source: str, payloads: Iterable[dict[str, Any]], account: str) -> None:
    normalize = NORMALIZERS[source]
    for payload in payloads:
        try:
            tx = normalize(payload, account, "").transaction
        except FieldError:
            continue
        for leg in tx.legs if tx else ():
            totals[leg.asset] = totals.get(leg.asset, Decimal(0)) + leg.amount


def ledger_balances(ctx: SyncContext, sources: Iterable[str]) -> dict[str, Decimal]:
    """Per-asset sum of the legs the stored raw records normalize to: what the history says is held."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for source in sources:
        _add(totals, source, ctx.raw_payloads(source), ctx.account)
    return dict(totals)


def add_legs(totals: dict[str, Decimal], ctx: SyncContext, records: Iterable[Fetched]) -> None:
    """Add the legs of freshly fetched records to running per-asset totals."""
    for record in records:
        _add(totals, record.source, [record.payload], ctx.account)


def held_totals(*balances: Mapping[str, Any]) -> dict[str, Decimal]:
    """The non-zero ``total`` of each asset over one or more ccxt balance structures, added up, exact."""
    held: dict[str, Decimal] = {}
    for balance in balances:
        for code, value in (balance.get("total") or {}).items():
            if value not in (None, ""):
                held[code] = held.get(code, Decimal(0)) + Decimal(str(value))
    return {code: value for code, value in held.items() if value}


def balances_batch(held: Mapping[str, Decimal], origin: str) -> Batch:
    """The exchange's own balances, kept as a stream state for reconciliation and the balance audit."""
    snapshot = json.dumps({code: str(value) for code, value in sorted(held.items())})
    return Batch(StreamKey("balances"), [], StreamState(snapshot, covered_until=now_ms()), origin)


def complete(items: Any, *keys: str) -> list[dict[str, Any]]:
    """``items`` if it is a list of records that all carry ``keys``; else ccxt.BadResponse (retried).

    A body cut short in transit can still reach the parser and come out as records of nothing."""
    if not isinstance(items, list) or any(not isinstance(i, dict) or any(i.get(k) in (None, "") for k in keys)
                                          for i in items):
        raise ccxt.BadResponse("incomplete response: records without " + ", ".join(keys))
    return items


def unexplained(held: dict[str, Decimal], computed: dict[str, Decimal]) -> set[str]:
    """Assets whose balance on the exchange differs from what the imported history adds up to."""
    return {a for a in set(held) | set(computed) if held.get(a, Decimal(0)) != computed.get(a, Decimal(0))}


def by_popular_quote(markets: dict[str, Any], quotes: Sequence[str]) -> list[str]:
    """Spot symbols, those quoted in the most popular ``quotes`` first (then by symbol)."""
    spot = [s for s, m in markets.items() if m.get("spot")]
    return sorted(spot, key=lambda s: (quotes.index(markets[s]["quote"]) if markets[s]["quote"] in quotes
                                       else len(quotes), s))


def discover(markets: dict[str, Any], candidates: Iterable[str], held: dict[str, Decimal],
             computed: dict[str, Decimal], done: set[str], fetch: Callable[[str], Iterator[Batch]]) -> Iterator[Batch]:
    """Fetch (``fetch(symbol)``, which must add what it finds to ``computed``) each candidate whose base AND quote
    are both still unexplained, re-checking after every symbol; stop once nothing is unexplained.

    Each trade moves both its base and its quote, so a pair is worth asking only while both assets differ."""
    for symbol in candidates:
        left = unexplained(held, computed)
        if not left:
            return
        market = markets[symbol]
        if symbol not in done and market["base"] in left and market["quote"] in left:
            done.add(symbol)
            yield from fetch(symbol)
