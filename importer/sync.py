"""Incremental, crash-safe import of one exchange account over ccxt.

An adapter yields ``Batch``es: raw records plus the new state of the stream they belong to. Each batch is
written in ONE database transaction together with its state, so a crash at any moment leaves records and
cursors consistent and the next run resumes exactly where the last committed batch ended. Exchange calls go
through ``SyncContext.call``, which retries transient failures with exponential backoff (network errors, rate
limits, maintenance, truncated responses) and never retries authentication, permission or request errors.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import ccxt
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from importer.store import store_raw_records
from taxsync.db import RawRecord, SyncState
from taxsync.progress import Progress
from taxsync.types import now_ms

RETRYABLE = (ccxt.NetworkError, ccxt.BadResponse)  # rate limits, DDoS protection, timeouts, 5xx, bad bodies


@dataclass(frozen=True, slots=True)
class StreamKey:
    stream: str
    symbol: str = ""

    @property
    def label(self) -> str:
        return f"{self.stream} {self.symbol}".strip()


@dataclass(frozen=True, slots=True)
class StreamState:
    cursor: str | None = None
    covered_from: int | None = None
    covered_until: int | None = None


@dataclass(frozen=True, slots=True)
class Fetched:
    """One record as the exchange (through ccxt) returned it."""

    source: str  # picks the normalizer: ccxt-trade, ccxt-transaction, ccxt-ledger
    external_id: str  # the exchange's own id, unique within (account, stream)
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Batch:
    key: StreamKey
    records: list[Fetched]
    state: StreamState
    origin: str  # the ccxt method (and symbol) the records came from, for provenance


@dataclass
class SyncContext:
    engine: Engine
    account: str
    account_id: int
    exchange_id: str
    exchange: Any  # ccxt.Exchange
    since_ms: int
    full: bool = False
    progress: Progress | None = None
    retry_delay: float = 1.0
    max_attempts: int = 6
    requests: int = 0
    notes: list[str] = field(default_factory=list)
    _states: dict[StreamKey, StreamState] = field(default_factory=dict)

    def load_states(self) -> None:
        with Session(self.engine) as session:
            rows = session.scalars(select(SyncState).where(SyncState.account_id == self.account_id))
            self._states = {StreamKey(r.stream, r.symbol): StreamState(r.cursor, r.covered_from, r.covered_until)
                            for r in rows}

    def state(self, key: StreamKey) -> StreamState:
        """The stored state of a stream; an empty one with ``--full`` (dedupe keeps the database unchanged)."""
        return StreamState() if self.full else self._states.get(key, StreamState())

    def stored_state(self, key: StreamKey) -> StreamState | None:
        return self._states.get(key)

    def keys(self, stream: str) -> list[StreamKey]:
        return [key for key in self._states if key.stream == stream]

    def call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call the exchange, retrying transient failures with exponential backoff."""
        for attempt in range(1, self.max_attempts + 1):
            self.requests += 1
            try:
                return method(*args, **kwargs)
            except RETRYABLE:
                if attempt == self.max_attempts:
                    raise
                time.sleep(self.retry_delay * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def raw_payloads(self, source: str) -> Iterator[dict[str, Any]]:
        with Session(self.engine) as session:
            rows = session.scalars(select(RawRecord.payload).where(RawRecord.account_id == self.account_id,
                                                                   RawRecord.source == source))
            for payload in rows:
                yield json.loads(payload)

    def commit(self, batch: Batch) -> int:
        """Store a batch and its stream state atomically; returns how many records were new."""
        at = now_ms()
        with Session(self.engine) as session, session.begin():
            new = store_raw_records(session, (
                {"account_id": self.account_id, "source": r.source, "stream": batch.key.stream,
                 "origin": batch.origin, "locator": r.external_id, "external_id": r.external_id,
                 "payload": r.payload, "imported_at": at}
                for r in batch.records
            ))
            _save_state(session, self.account_id, batch.key, batch.state, at)
        self._states[batch.key] = batch.state
        return new


def _save_state(session: Session, account_id: int, key: StreamKey, state: StreamState, at: int) -> None:
    row = session.scalar(select(SyncState).where(SyncState.account_id == account_id,
                                                 SyncState.stream == key.stream, SyncState.symbol == key.symbol))
    if row is None:
        row = SyncState(account_id=account_id, stream=key.stream, symbol=key.symbol)
        session.add(row)
    row.cursor, row.covered_from, row.covered_until, row.updated_at = (
        state.cursor, state.covered_from, state.covered_until, at)


class Adapter(Protocol):
    """How to fetch one exchange's whole history: yields batches in an order that makes resuming safe."""

    def sync(self, ctx: SyncContext) -> Iterator[Batch]: ...


@dataclass
class AccountResult:
    account: str
    new_records: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    transactions: int = 0
    config_error: bool = False  # the failure is the configuration's or the key's, not the exchange's (exit 3)

    @property
    def ok(self) -> bool:
        return self.error is None


def run_adapter(adapter: Adapter, ctx: SyncContext, result: AccountResult) -> None:
    ctx.load_states()
    fetched: Counter[str] = Counter()
    for batch in adapter.sync(ctx):
        result.new_records[batch.key.stream] += ctx.commit(batch)
        fetched[batch.key.label] += len(batch.records)
        if ctx.progress:
            ctx.progress(f"{ctx.account}: {batch.key.label}", fetched[batch.key.label], None)
