"""The price cache in memory: which stored price stands for an asset at a moment, for a million moments at once.

Valuation asks for the price of ``base`` in ``quote`` at many moments. A stored price stands for a period: a
``1m`` candle opened at ``o`` covers ``o <= t < o + 60 s``, a ``1h`` candle an hour, a ``1d`` price (a daily
candle, a user's price for a date) the UTC day, and an ``exact`` price only its own millisecond. The price for a
moment is taken from the first of these ranks whose price covers it:

    1. exact, given by the user        2. exact, any other source
    3. 1m, given by the user           4. 1m candle
    5. 1h, given by the user           6. 1h candle
    7. 1d, given by the user           8. 1d candle

So the finest resolution wins, and at each resolution a price the user gave (a ``source`` starting with
``user``) wins over everything of that resolution and coarser: a user's price for a day replaces the exchange's
daily candle, but a minute candle of the moment is still finer than it. Among prices of one rank for the same
period, the one stored last wins (a corrected user file, a candle fetched again).

How it stays fast: the book holds one sorted ``int64`` array of period starts per (pair, rank), and a lookup is
one ``numpy.searchsorted`` per rank over all the moments asked (as-of: the last start at or before the moment,
kept when its period still covers the moment). Prices are kept as the exact text or ``Decimal`` they were stored
as; a ``PricePoint`` is built once per stored price that a lookup returns, and shared after that.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

import numpy as np
import numpy.typing as npt
import pandas as pd

from taxsync.prices.records import RESOLUTION_MS, RESOLUTIONS, PricePoint

USER_PREFIX = "user"
# Ranks, best first: (resolution, given by the user?) as in the module docstring.
RANKS: tuple[tuple[str, bool], ...] = tuple((res, user) for res in RESOLUTIONS for user in (True, False))
_WIDTH = np.array([RESOLUTION_MS[res] for res, _ in RANKS], dtype=np.int64)

IntArray = npt.NDArray[np.int64]


def is_user_source(source: str) -> bool:
    """A price the user gave (a price file, a manual entry) rather than one fetched or derived."""
    return source.startswith(USER_PREFIX)


def _segments(pair: IntArray, rank: npt.NDArray[np.int8]) -> tuple[IntArray, dict[int, list[tuple[int, int, int]]]]:
    """The distinct pair codes, and for the n-th of them its [(rank, start, end)] row ranges, best rank first,
    of rows sorted by pair, rank and time."""
    pair_codes = np.unique(pair)
    segments: dict[int, list[tuple[int, int, int]]] = {}
    if not len(pair):
        return pair_codes, segments
    firsts = np.flatnonzero(np.r_[True, (pair[1:] != pair[:-1]) | (rank[1:] != rank[:-1])])
    ends = np.r_[firsts[1:], len(pair)]
    for index, first, end in zip(np.searchsorted(pair_codes, pair[firsts]).tolist(), firsts.tolist(),
                                 ends.tolist(), strict=True):
        segments.setdefault(index, []).append((int(rank[first]), first, end))
    return pair_codes, segments


class PriceBook:
    """Stored prices, ready for vectorized as-of lookups; build it with ``from_columns`` or ``from_points``
    (or ``taxsync.prices.store.load_book``)."""

    __slots__ = ("_built", "_pair_code", "_pairs", "_points", "_price", "_rank", "_segments", "_source", "_sources",
                 "_ts")

    def __init__(self, pairs: list[tuple[str, str]], segments: dict[int, list[tuple[int, int, int]]],
                 ts: IntArray, rank: npt.NDArray[np.int8], price: npt.NDArray[np.object_],
                 source: npt.NDArray[np.int32], sources: list[str]) -> None:
        """Use the ``from_*`` constructors: the arrays must be sorted and grouped as they leave them."""
        self._pairs = pairs
        self._pair_code = {pair: code for code, pair in enumerate(pairs)}
        self._segments = segments  # pair code -> [(rank, start, end)] best rank first; rows start:end by time
        self._ts, self._rank, self._price, self._source, self._sources = ts, rank, price, source, sources
        self._points = np.full(len(ts) + 1, None, dtype=object)  # built on first use; the last slot stays None
        self._built = np.zeros(len(ts), dtype=bool)

    # -- construction -------------------------------------------------------------------------------------

    @classmethod
    def from_columns(cls, base: Sequence[str], quote: Sequence[str], timestamp: Sequence[int] | IntArray,
                     resolution: Sequence[str], price: Sequence[str | Decimal], source: Sequence[str],
                     order: Sequence[int] | IntArray | None = None) -> PriceBook:
        """A book from equally long columns, one stored price per position. ``price`` holds exact decimal
        text or ``Decimal``s; ``order`` says which was stored later (default: the position)."""
        n = len(timestamp)
        if not all(len(column) == n for column in (base, quote, resolution, price, source)):
            raise ValueError("the columns of a price book must have the same length")
        base_code, bases = pd.factorize(np.asarray(base, dtype=object), sort=True)
        quote_code, quotes = pd.factorize(np.asarray(quote, dtype=object), sort=True)
        res_code, res_names = pd.factorize(np.asarray(resolution, dtype=object))
        source_code, source_names = pd.factorize(np.asarray(source, dtype=object))
        unknown = set(res_names) - set(RESOLUTIONS)
        if unknown:
            raise ValueError(f"unknown price resolution(s) {sorted(unknown)}: use one of {RESOLUTIONS}")
        res_rank = np.array([RESOLUTIONS.index(name) for name in res_names], dtype=np.int8)
        source_user = np.array([is_user_source(name) for name in source_names], dtype=bool)
        rank = (2 * res_rank[res_code] + np.where(source_user[source_code], 0, 1)).astype(np.int8)
        pair = base_code.astype(np.int64) * max(len(quotes), 1) + quote_code
        ts = np.asarray(timestamp, dtype=np.int64)
        stored = np.arange(n, dtype=np.int64) if order is None else np.asarray(order, dtype=np.int64)

        by = np.lexsort((stored, ts, rank, pair))  # pair, then rank, then time, the last stored last
        pair, rank, ts = pair[by], rank[by], ts[by]
        keep = np.ones(n, dtype=bool)  # of several prices for one period of a rank, the last stored
        if n:
            keep[:-1] = (pair[1:] != pair[:-1]) | (rank[1:] != rank[:-1]) | (ts[1:] != ts[:-1])
        by, pair, rank, ts = by[keep], pair[keep], rank[keep], ts[keep]

        width = max(len(quotes), 1)
        pair_codes, segments = _segments(pair, rank)
        pairs = [(str(bases[code // width]), str(quotes[code % width])) for code in pair_codes.tolist()]
        prices = np.asarray(price, dtype=object)[by] if n else np.empty(0, dtype=object)
        return cls(pairs, segments, ts, rank, prices, source_code.astype(np.int32)[by],
                   [str(name) for name in source_names])

    @classmethod
    def from_points(cls, points: Iterable[PricePoint]) -> PriceBook:
        """A book of the given points; of two for the same period and rank, the later one in ``points`` wins."""
        rows = list(points)
        return cls.from_columns([p.base for p in rows], [p.quote for p in rows], [p.timestamp for p in rows],
                                [p.resolution for p in rows], [p.price for p in rows], [p.source for p in rows])

    # -- lookups ------------------------------------------------------------------------------------------

    def lookup_many(self, base: str, quote: str, timestamps: Sequence[int] | IntArray) -> list[PricePoint | None]:
        """For each moment (ms UTC), the price of ``base`` in ``quote`` that stands for it (see the module
        docstring for which one), or None where no stored price covers the moment."""
        moments = np.asarray(timestamps, dtype=np.int64)
        rows = self._rows(base, quote, moments)
        found = np.unique(rows[rows >= 0])
        if found.size:
            new = found[~self._built[found]]
            for row in new.tolist():
                self._points[row] = self._point(base, quote, row)
            self._built[new] = True
        return list(self._points[rows])  # row -1 is the last slot: None

    def lookup(self, base: str, quote: str, t: int) -> PricePoint | None:
        """The price of ``base`` in ``quote`` that stands for the moment ``t`` (ms UTC), or None."""
        return self.lookup_many(base, quote, [t])[0]

    def pairs(self) -> list[tuple[str, str]]:
        """The (base, quote) pairs with at least one price, sorted."""
        return list(self._pairs)

    def __len__(self) -> int:
        """How many prices the book holds (a price shadowed by a later one for the same period and rank is
        not held)."""
        return len(self._ts)

    def __repr__(self) -> str:
        return f"PriceBook({len(self)} prices, {len(self._pairs)} pairs)"

    def _rows(self, base: str, quote: str, moments: IntArray) -> IntArray:
        """The row standing for each moment, -1 where none does: one as-of search per rank, best rank first."""
        rows = np.full(len(moments), -1, dtype=np.int64)
        code = self._pair_code.get((base, quote))
        if code is None or not len(moments):
            return rows
        todo = np.arange(len(moments))
        for rank, start, end in self._segments[code]:
            starts = self._ts[start:end]
            asked = moments[todo]
            at = np.searchsorted(starts, asked, side="right") - 1
            covered = at >= 0
            covered[covered] = asked[covered] < starts[at[covered]] + _WIDTH[rank]
            rows[todo[covered]] = start + at[covered]
            todo = todo[~covered]
            if not todo.size:
                break
        return rows

    def _point(self, base: str, quote: str, row: int) -> PricePoint:
        price = self._price[row]
        return PricePoint(base, quote, int(self._ts[row]), RANKS[self._rank[row]][0],
                          price if isinstance(price, Decimal) else Decimal(price), self._sources[self._source[row]])
