"""Resuming the pipeline at a tax year's start when nothing before it changed.

A nightly import adds a day's rows to years of history; valuing and booking those years again would give the
same state at the start of this year as last night. So the pipeline values the history one tax year at a time
(``segments``) and, where the rules allow it (``taxsync.tax.engine.resumable``), keeps at each tax year's start
a ``Cut``: the engine's checkpoint there, the valuation problems and prices of everything before it, and a
digest of everything before it (the transactions not matched as moves, and the moves, by when they left).
The next run digests its own history at the same moments and resumes from the latest cut whose digest still
fits and that lies before what the caller reads: it values and books only from there on. A cut whose digest
no longer fits (a file of an older year imported, a move matched otherwise) is simply not used.

What else values the history is part of the key of the whole set: the code and settings (the file's name),
and the stored prices, price attempts and the costs the user gave (``context``): a price sync or a new cost
starts from the beginning.

A move between own accounts belongs to the year its withdrawal is in; its events after a cut (the receiving
account's fee, at the deposit's time) are valued again when resuming there (``straddling``).
"""

from __future__ import annotations

import hashlib
import sys
import zlib
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxsync.app.results import FOLDER, code_fingerprint, keeping, read_kept, settings_key, write_kept
from taxsync.app.workspace import Settings, Workspace
from taxsync.db.models import PriceAttempt
from taxsync.ledger.records import GivenCost, Transaction, Transfer
from taxsync.prices.records import PricePoint
from taxsync.prices.store import book_digest
from taxsync.problems import Problem
from taxsync.tax.engine import Checkpoint
from taxsync.tax.jurisdictions import JURISDICTIONS
from taxsync.tax.period import TaxPeriod
from taxsync.types import Role, TimestampMs, local_date

CHECKPOINTS = "checkpoints"  # the folder under the kept results'


@dataclass(frozen=True, slots=True)
class Cut:
    """What is known at a tax year's start: the engine's checkpoint there, the valuation problems and prices of
    what came before it, and the digest of that history (``Segment.digest``)."""

    at: TimestampMs
    digest: str
    engine: Checkpoint
    problems: tuple[Problem, ...]
    prices: frozenset[PricePoint]


@dataclass(frozen=True, slots=True)
class Cuts:
    """The cuts kept for one set of settings, valid while ``context`` (prices, attempts, costs) is the same."""

    context: str
    cuts: tuple[Cut, ...]


@dataclass(frozen=True, slots=True)
class Segment:
    """The transactions (not matched as moves) and moves of one tax year, by when they happened (a move by its
    withdrawal); ``digest`` covers this segment and every one before it."""

    start: TimestampMs | None  # None: everything before the first cut
    transactions: list[Transaction]
    transfers: list[Transfer]
    digest: str


def year_starts(settings: Settings, first: TimestampMs, end: TimestampMs) -> list[TimestampMs]:
    """The starts of the tax years after the one holding ``first``, before ``end``."""
    jurisdiction, zone = JURISDICTIONS[settings.jurisdiction], ZoneInfo(settings.timezone)
    starts: list[TimestampMs] = []
    year = TaxPeriod.tax_year_containing(jurisdiction, zone, local_date(first, zone))
    while year.end_ms < end:
        starts.append(year.end_ms)
        year = TaxPeriod.tax_year_containing(jurisdiction, zone, local_date(year.end_ms, zone))
    return starts


def segments(transactions: Sequence[Transaction], transfers: Sequence[Transfer],
             starts: Sequence[TimestampMs]) -> list[Segment]:
    """The history split at ``starts`` (each part in its given order), each with the digest of everything up
    to its end."""
    parts: list[tuple[list[Transaction], list[Transfer]]] = [([], []) for _ in range(len(starts) + 1)]
    for tx in transactions:
        parts[bisect_right(starts, tx.timestamp)][0].append(tx)
    for transfer in transfers:
        parts[bisect_right(starts, transfer.withdrawal.timestamp)][1].append(transfer)
    digest = hashlib.blake2b(digest_size=20)
    found = []
    for start, (txs, moves) in zip([None, *starts], parts, strict=True):
        digest.update(_content(txs, moves))
        found.append(Segment(start, txs, moves, digest.hexdigest()))
    return found


def _content(transactions: Iterable[Transaction], transfers: Iterable[Transfer]) -> bytes:
    """What valuation and the engine read of the transactions and moves, as bytes: their texts (ref, account,
    subkind) joined, and per transaction the hash of its numbers (time, kind, each leg's asset, role and amount,
    the stated value). Python hashes numbers the same in every process, unlike texts: those enter as CRC-32."""
    strings: list[str] = []
    numbers: list[int] = []
    for tx in transactions:
        _add(tx, strings, numbers)
    for transfer in transfers:
        _add(transfer.withdrawal, strings, numbers)
        _add(transfer.deposit, strings, numbers)
        strings.append(transfer.matched_by)
    return "\x1f".join(strings).encode() + b"\x1e" + ",".join(map(str, numbers)).encode()


_CODES: dict[object, int] = {role: index for index, role in enumerate(Role)}


def _code(text: object) -> int:
    """A number for an asset or a kind that is the same in every process."""
    code = _CODES.get(text)
    if code is None:
        code = _CODES[text] = zlib.crc32(str(text).encode())
    return code


def _add(tx: Transaction, strings: list[str], numbers: list[int]) -> None:
    strings += (tx.ref, tx.account, tx.subkind)
    values: list[object] = [tx.timestamp, _code(tx.kind)]
    for leg in tx.legs:
        values += (_code(leg.asset), _CODES[leg.role], leg.amount)
    if tx.quote is not None:
        values += (_code(tx.quote.currency), tx.quote.amount)
    numbers.append(hash(tuple(values)))


def context(session: Session, costs: Mapping[str, GivenCost]) -> str:
    """The digest of what else values the history: the stored prices and price attempts, and the costs the
    user gave."""
    digest = hashlib.blake2b(book_digest(session).encode(), digest_size=20)
    for row in session.execute(select(PriceAttempt.asset, PriceAttempt.timestamp, PriceAttempt.outcome,
                                      PriceAttempt.exchange, PriceAttempt.reason, PriceAttempt.attempted_at)
                               .order_by(PriceAttempt.asset, PriceAttempt.timestamp)):
        digest.update(repr(tuple(row)).encode())
    digest.update(repr(sorted(costs.items())).encode())
    return digest.hexdigest()


def straddling(segments_before: Sequence[Segment], at: TimestampMs) -> list[list[Transfer]]:
    """Per segment before the cut ``at``, its moves whose deposit is at or after it (their receiving fee is
    booked then)."""
    return [[t for t in segment.transfers if t.deposit.timestamp >= at] for segment in segments_before]


def _path(ws: Workspace, settings: Settings) -> Path:
    key = repr((settings_key(settings), code_fingerprint(), sys.version))
    return ws.home / FOLDER / CHECKPOINTS / f"{hashlib.sha256(key.encode()).hexdigest()[:40]}.pickle"


def read_cuts(ws: Workspace, settings: Settings) -> Cuts | None:
    """The cuts kept for ``settings`` (None: none, or nothing is kept)."""
    if not keeping():
        return None
    found = read_kept(_path(ws, settings))
    return found if isinstance(found, Cuts) else None


def write_cuts(ws: Workspace, settings: Settings, cuts: Cuts) -> None:
    if keeping():
        write_kept(_path(ws, settings), cuts)


def usable(kept: Cuts | None, now: str, found: Sequence[Segment], before: TimestampMs) -> Cut | None:
    """The latest kept cut at or before ``before`` whose history digests as the same now (None: start from the
    beginning)."""
    if kept is None or kept.context != now:
        return None
    digests = {segment.start: found[index - 1].digest for index, segment in enumerate(found) if index}
    best = None
    for cut in kept.cuts:
        if cut.at <= before and digests.get(cut.at) == cut.digest and (best is None or cut.at > best.at):
            best = cut
    return best
