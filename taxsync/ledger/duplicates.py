"""One trade, one count: the same event imported from an exchange's API and from its export is kept once.

A user may sync an exchange over its API and also import that exchange's CSV export (for the years the API no
longer serves, say), into the same account or into another. Both then hold the same trades. This module finds
the copies, deterministically, from the ledger alone, every time the ledger is loaded (nothing is deleted: the
raw records stay, and a better rule re-decides on the next load):

1. **By exchange id.** Two transactions of the same exchange and kind with the same ``exchange_id`` (ccxt's id
   of the trade or movement, which Kraken's and Coinbase's exports also carry) from two different sources are
   one event when they move the same amounts.
2. **By time and amounts.** An export without ids (Binance's) is matched to the transactions of another source
   of the same exchange and kind less than a second apart (exports round to the second) whose net change per
   asset is the same: one transaction, or all fills of that second in the export row's assets together (Binance
   writes the fills of one second as one trade).

Of two copies the one from the API is kept (it has ids and milliseconds), else the one from the source first
by name; the dropped copy is reported as an info problem that names the one kept. Sources are an account's API
records, or one file of an account; rows of one source are never copies of each other (two identical fills are
two trades). What looks alike but is not certain (the same asset and amount within a minute, or the same id
with other amounts) is never merged: it is a warning, for the user to decide.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from taxsync.ledger.records import Transaction
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.types import Role, to_datetime

SAME_SECOND_MS = 1000
SUSPECT_WINDOW_MS = 60_000


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a transaction comes from: its exchange ("" when unknown), API or file, and its source."""

    exchange: str
    api: bool
    source: str  # "account" for API records, "account/path" for a file


def _net(tx: Transaction) -> dict[str, Decimal]:
    net: dict[str, Decimal] = defaultdict(Decimal)
    for leg in tx.legs:
        net[leg.asset] += leg.amount
    return {asset: amount for asset, amount in net.items() if amount}


def _add(total: dict[str, Decimal], more: dict[str, Decimal]) -> dict[str, Decimal]:
    summed = dict(total)
    for asset, amount in more.items():
        summed[asset] = summed.get(asset, Decimal(0)) + amount
    return {asset: amount for asset, amount in summed.items() if amount}


def _when(tx: Transaction) -> str:
    return to_datetime(tx.timestamp).strftime("%Y-%m-%d %H:%M:%S UTC")


class _Finder:
    def __init__(self, transactions: Sequence[Transaction], origins: Sequence[Origin]):
        self.txs, self.origins = transactions, origins
        self._nets: dict[int, dict[str, Decimal]] = {}  # made when first needed: most are never compared
        self.dropped: dict[int, Problem] = {}
        self.problems: list[Problem] = []

    def net(self, i: int) -> dict[str, Decimal]:
        if (net := self._nets.get(i)) is None:
            net = self._nets[i] = _net(self.txs[i])
        return net

    def rank(self, i: int) -> tuple[int, str, int]:
        return (0 if self.origins[i].api else 1, self.origins[i].source, i)

    def drop(self, i: int, kept: Sequence[int], why: str) -> None:
        tx = self.txs[i]
        self.dropped[i] = Problem(
            ProblemKind.DUPLICATE_SUSPICION, Severity.INFO,
            f"{tx.kind.value} of {_when(tx)} in {tx.account} counted once: it is the same as "
            f"{', '.join(self.txs[k].ref for k in kept)} ({why}); this copy is left out", tx.ref)

    def by_id(self) -> None:
        groups: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        for i, (tx, origin) in enumerate(zip(self.txs, self.origins, strict=True)):
            if tx.exchange_id and origin.exchange:
                groups[origin.exchange, tx.exchange_id, tx.kind.value].append(i)
        for (_, exchange_id, _), members in groups.items():
            if len({self.origins[i].source for i in members}) < 2:
                continue
            keeper, *others = sorted(members, key=self.rank)
            for i in others:
                if self.origins[i].source == self.origins[keeper].source:
                    continue
                if self.net(i) == self.net(keeper):
                    self.drop(i, [keeper], f"exchange id {exchange_id}")
                else:
                    self.problems.append(self._suspect(i, keeper, f"the same exchange id {exchange_id} but other "
                                                                  "amounts"))

    def by_time(self) -> None:
        index: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
        for i, (tx, origin) in enumerate(zip(self.txs, self.origins, strict=True)):
            if origin.exchange and i not in self.dropped:
                index[origin.exchange, tx.kind.value].append((tx.timestamp, i))
        for entries in index.values():
            entries.sort()
        used: set[int] = set()
        for i in sorted(range(len(self.txs)), key=lambda k: self.txs[k].timestamp):
            origin, tx = self.origins[i], self.txs[i]
            if origin.api or not origin.exchange or i in self.dropped or not self.net(i):
                continue
            entries = index[origin.exchange, tx.kind.value]
            low = bisect.bisect_left(entries, (tx.timestamp - SAME_SECOND_MS + 1, -1))
            near = [j for t, j in entries[low:] if t < tx.timestamp + SAME_SECOND_MS][:50]
            candidates = [j for j in near if j not in self.dropped and j not in used
                          and self.origins[j].source != origin.source and self.rank(j) < self.rank(i)]
            match = self._match(i, candidates)
            if match:
                used.update(match)
                self.drop(i, match, "same time to the second and the same amounts")

    def _match(self, i: int, candidates: list[int]) -> list[int]:
        assets = set(self.net(i))
        by_source: dict[str, list[int]] = defaultdict(list)
        for j in sorted(candidates, key=self.rank):
            by_source[self.origins[j].source].append(j)
        for members in by_source.values():  # the preferred source first
            mine = [j for j in members if set(self.net(j)) <= assets]
            for j in mine:
                if self.net(j) == self.net(i):
                    return [j]
            total: dict[str, Decimal] = {}
            for j in mine:
                total = _add(total, self.net(j))
            if len(mine) > 1 and total == self.net(i):
                return mine
        return []

    def suspects(self) -> None:
        """Same kind, asset and amount within a minute, from two sources one of which is a file, not merged."""
        keyed: dict[tuple[str, str, Decimal], list[tuple[int, int]]] = defaultdict(list)
        for i, tx in enumerate(self.txs):
            if i in self.dropped:
                continue
            for leg in tx.legs:
                if leg.role is not Role.FEE and leg.amount:
                    keyed[tx.kind.value, leg.asset, abs(leg.amount)].append((tx.timestamp, i))
        flagged: set[int] = set()
        for entries in keyed.values():
            if len(entries) < 2:
                continue
            entries.sort()
            for n, (t, i) in enumerate(entries):
                for t2, j in entries[n + 1 : n + 51]:
                    if t2 - t >= SUSPECT_WINDOW_MS:
                        break
                    if self._comparable(i, j) and not {i, j} & flagged:
                        later = max(i, j, key=self.rank)
                        flagged.add(later)
                        self.problems.append(self._suspect(later, min(i, j, key=self.rank),
                                                           f"{abs(t2 - t) / 1000:g} s apart, same amount"))

    def _comparable(self, i: int, j: int) -> bool:
        a, b = self.origins[i], self.origins[j]
        return (a.source != b.source and not (a.api and b.api)
                and (not a.exchange or not b.exchange or a.exchange == b.exchange))

    def _suspect(self, i: int, other: int, why: str) -> Problem:
        tx = self.txs[i]
        return Problem(
            ProblemKind.DUPLICATE_SUSPICION, Severity.WARNING,
            f"{tx.kind.value} of {_when(tx)} in {tx.account} may be the same as {self.txs[other].ref} ({why}), "
            "but not certainly, so both are counted. If they are one event, import it from one source only",
            tx.ref)


def drop_copies(transactions: Sequence[Transaction], origins: Sequence[Origin]
                ) -> tuple[list[Transaction], list[Problem]]:
    """The transactions without the copies of another source's, in their order, and the problems: one info per
    copy left out, one warning per pair that looks alike but was kept."""
    sources = {origin.source for origin in origins}
    if len(sources) < 2 or all(origin.api for origin in origins):
        return list(transactions), []  # one source, or API records only: nothing can be a copy
    finder = _Finder(transactions, origins)
    finder.by_id()
    finder.by_time()
    finder.suspects()
    kept = [tx for i, tx in enumerate(transactions) if i not in finder.dropped]
    dropped = [finder.dropped[i] for i in sorted(finder.dropped)]
    return kept, [*dropped, *finder.problems]
