"""Helpers shared by adapters: payloads for raw records, fixed time windows, ledger balances."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

import ccxt

from importer.sync import Fetched, SyncContext
from taxsync.ledger.sources import NORMALIZERS, FieldError

DAY_MS = 86_400_000


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


def complete(items: Any, *keys: str) -> list[dict[str, Any]]:
    """``items`` if it is a list of records that all carry ``keys``; else ccxt.BadResponse (retried).

    A body cut short in transit can still reach the parser and come out as records of nothing."""
    if not isinstance(items, list) or any(not isinstance(i, dict) or any(i.get(k) in (None, "") for k in keys)
                                          for i in items):
        raise ccxt.BadResponse("incomplete response: records without " + ", ".join(keys))
    return items
