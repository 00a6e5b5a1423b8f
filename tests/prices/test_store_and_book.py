"""The price cache: stored once and exactly, loaded in one query, looked up as of each moment.

Which price stands for a moment: the finest resolution whose period covers it (exact, 1m, 1h, 1d), and at each
resolution the user's own price before every other source of that resolution or coarser.
"""

from __future__ import annotations

import random
from decimal import Decimal as D

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from taxsync.app.workspace import Workspace
from taxsync.db import Price
from taxsync.prices.book import PriceBook
from taxsync.prices.records import RESOLUTION_MS, PricePoint
from taxsync.prices.store import load_book, save_prices, summarize_prices
from taxsync.types import decimal_text

DAY = 1_711_929_600_000  # 2024-04-01 00:00:00 UTC
HOUR = DAY + 14 * 3_600_000  # 14:00
MINUTE = HOUR + 25 * 60_000  # 14:25


def p(base: str, quote: str, t: int, resolution: str, price: str, source: str = "") -> PricePoint:
    return PricePoint(base, quote, t, resolution, D(price), source or f"binance {resolution} close")


CANDLES = (
    p("BTC", "USD", DAY, "1d", "69000"),
    p("BTC", "USD", HOUR, "1h", "69500"),
    p("BTC", "USD", MINUTE, "1m", "69512.5"),
    p("BTC", "USD", MINUTE + 60_000, "1m", "69520.25"),
    p("ETH", "USD", DAY, "1d", "3600"),
)


def stored(workspace: Workspace, *points: PricePoint, fetched_at: int = 1) -> int:
    with Session(workspace.engine) as session, session.begin():
        return save_prices(session, points, fetched_at)


def book_of(workspace: Workspace, pairs: list[tuple[str, str]] | None = None) -> PriceBook:
    with Session(workspace.engine) as session:
        return load_book(session, pairs)


# -- the store ------------------------------------------------------------------------------------------------

def test_a_price_is_stored_once(workspace: Workspace) -> None:
    assert stored(workspace, *CANDLES) == 5
    assert stored(workspace, *CANDLES) == 0
    assert stored(workspace, *CANDLES, p("BTC", "USD", DAY, "1d", "69000", "kraken 1d close")) == 1
    with Session(workspace.engine) as session:
        assert session.scalar(select(func.count()).select_from(Price)) == 6
        assert session.scalar(select(Price.fetched_at).where(Price.source == "kraken 1d close")) == 1


def test_save_prices_stores_in_batches_without_a_query_per_price(workspace: Workspace) -> None:
    points = [p("BTC", "USD", DAY + i * 60_000, "1m", f"{60000 + i}.5") for i in range(12_000)]
    statements: list[str] = []
    event.listen(workspace.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    assert stored(workspace, *points) == 12_000
    assert sum("INSERT" in s for s in statements) == 3  # batches of 5,000
    assert len(book_of(workspace)) == 12_000


def test_prices_come_back_exact(workspace: Workspace) -> None:
    tiny = "0.000000012345678901234567890123"
    stored(workspace, p("SHIB", "USD", DAY, "1d", tiny), p("BTC", "JPY", DAY, "1d", "10500000"),
           p("ETH", "BTC", DAY, "1d", "0.05200"))
    book = book_of(workspace)
    assert decimal_text(book.lookup("SHIB", "USD", DAY).price) == tiny  # type: ignore[union-attr]
    assert book.lookup("BTC", "JPY", DAY).price == D("10500000")  # type: ignore[union-attr]
    assert book.lookup("ETH", "BTC", DAY).price == D("0.052")  # type: ignore[union-attr]


@pytest.mark.parametrize("bad", [
    PricePoint("BTC", "USD", DAY, "1d", 69000.5, "x"),  # type: ignore[arg-type]  # a binary float
    PricePoint("BTC", "USD", DAY, "1d", D("-1"), "x"),
    PricePoint("BTC", "USD", DAY, "1d", D("NaN"), "x"),
    PricePoint("BTC", "USD", DAY, "5m", D("1"), "x"),
])
def test_a_broken_price_is_a_bug_not_stored(workspace: Workspace, bad: PricePoint) -> None:
    with pytest.raises(ValueError):
        stored(workspace, CANDLES[0], bad)
    assert len(book_of(workspace)) == 0


def test_load_book_is_one_query_and_can_keep_some_pairs(workspace: Workspace) -> None:
    stored(workspace, *CANDLES, p("SOL", "USDT", DAY, "1d", "190"))
    statements: list[str] = []
    event.listen(workspace.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    book = book_of(workspace)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1
    assert book.pairs() == [("BTC", "USD"), ("ETH", "USD"), ("SOL", "USDT")] and len(book) == 6
    some = book_of(workspace, [("ETH", "USD"), ("SOL", "USDT"), ("XRP", "USD")])
    assert some.pairs() == [("ETH", "USD"), ("SOL", "USDT")] and some.lookup("BTC", "USD", DAY) is None
    assert len(book_of(workspace, [])) == 0


def test_summary_counts_a_price_file_as_one_source(workspace: Workspace) -> None:
    stored(workspace, *CANDLES, p("XYZ", "USD", DAY, "1d", "1", "user file mine.csv:2"),
           p("XYZ", "USD", DAY + 86_400_000, "1d", "2", "user file mine.csv:3 (OTC desk)"))
    with Session(workspace.engine) as session:
        rows = summarize_prices(session)
        assert [(r.base, r.quote, r.resolution, r.source, r.count) for r in rows] == [
            ("BTC", "USD", "1m", "binance 1m close", 2), ("BTC", "USD", "1h", "binance 1h close", 1),
            ("BTC", "USD", "1d", "binance 1d close", 1), ("ETH", "USD", "1d", "binance 1d close", 1),
            ("XYZ", "USD", "1d", "user file mine.csv", 2)]
        assert (rows[0].first, rows[0].last) == (MINUTE, MINUTE + 60_000)
        assert [r.base for r in summarize_prices(session, asset="usd")] == ["BTC"] * 3 + ["ETH", "XYZ"]
        assert [r.base for r in summarize_prices(session, asset="ETH")] == ["ETH"]


# -- lookups --------------------------------------------------------------------------------------------------

def resolution_at(book: PriceBook, t: int, base: str = "BTC", quote: str = "USD") -> str | None:
    point = book.lookup(base, quote, t)
    return None if point is None else point.resolution


def test_the_finest_candle_whose_period_holds_the_moment(workspace: Workspace) -> None:
    stored(workspace, *CANDLES)
    book = book_of(workspace)
    assert book.lookup("BTC", "USD", MINUTE) == CANDLES[2]  # exactly at the minute's open
    assert book.lookup("BTC", "USD", MINUTE + 59_999) == CANDLES[2]  # its last millisecond
    assert book.lookup("BTC", "USD", MINUTE + 60_000) == CANDLES[3]  # the next minute's open
    assert resolution_at(book, MINUTE + 120_000) == "1h"  # no candle for 14:27: the hour's
    assert resolution_at(book, MINUTE - 1) == "1h"
    assert resolution_at(book, HOUR) == "1h" and resolution_at(book, HOUR + 3_599_999) == "1h"
    assert resolution_at(book, HOUR + 3_600_000) == "1d"  # 15:00: no hourly candle, the day's
    assert resolution_at(book, HOUR - 1) == "1d" and resolution_at(book, DAY) == "1d"
    assert resolution_at(book, DAY + 86_399_999) == "1d"
    assert book.lookup("BTC", "USD", DAY - 1) is None  # before the first period
    assert book.lookup("BTC", "USD", DAY + 86_400_000) is None  # after the last one: never a stale price
    assert book.lookup("BTC", "EUR", MINUTE) is None and book.lookup("USD", "BTC", MINUTE) is None


def test_an_exact_price_stands_for_its_millisecond_only() -> None:
    exact = p("BTC", "USD", MINUTE + 1234, "exact", "69515", "OTC trade")
    book = PriceBook.from_points([*CANDLES, exact])
    assert book.lookup("BTC", "USD", MINUTE + 1234) == exact
    assert book.lookup("BTC", "USD", MINUTE + 1233) == CANDLES[2]
    assert book.lookup("BTC", "USD", MINUTE + 1235) == CANDLES[2]


def test_the_users_price_wins_at_its_resolution_and_coarser(workspace: Workspace) -> None:
    user_day = p("BTC", "USD", DAY, "1d", "70000", "user file btc.csv:2")
    user_minute = p("BTC", "USD", MINUTE, "1m", "69999", "user file btc.csv:3")
    user_exact = p("BTC", "USD", MINUTE + 30_000, "exact", "69998", "user file btc.csv:4")
    stored(workspace, user_day, user_minute, user_exact, *CANDLES)  # stored before the candles, still first
    book = book_of(workspace)
    assert book.lookup("BTC", "USD", HOUR + 3_600_000) == user_day  # over the exchange's daily candle
    assert book.lookup("BTC", "USD", HOUR) == CANDLES[1]  # a finer hourly candle still wins over the day
    assert book.lookup("BTC", "USD", MINUTE + 1) == user_minute  # over the exchange's minute candle
    assert book.lookup("BTC", "USD", MINUTE + 30_000) == user_exact
    assert book.lookup("BTC", "USD", MINUTE + 60_000) == CANDLES[3]
    assert book.lookup("ETH", "USD", DAY) == CANDLES[4]


def test_of_two_prices_for_one_period_the_one_stored_last_wins(workspace: Workspace) -> None:
    stored(workspace, p("XYZ", "USD", DAY, "1d", "1", "user file a.csv:2"), p("XYZ", "USD", DAY, "1d", "2", "kraken"))
    stored(workspace, p("XYZ", "USD", DAY, "1d", "3", "user file b.csv:2"), p("XYZ", "USD", DAY, "1d", "4", "binance"))
    book = book_of(workspace)
    assert book.lookup("XYZ", "USD", DAY).source == "user file b.csv:2"  # type: ignore[union-attr]
    assert len(book) == 2  # the shadowed ones are not held
    assert PriceBook.from_points([p("XYZ", "USD", DAY, "1d", "2", "kraken"), p("XYZ", "USD", DAY, "1d", "4", "binance")]
                                 ).lookup("XYZ", "USD", DAY).price == 4  # type: ignore[union-attr]


def test_lookup_many_answers_each_moment_in_order_and_shares_points() -> None:
    book = PriceBook.from_points(CANDLES)
    moments = [MINUTE + 60_000, DAY - 1, MINUTE, HOUR, MINUTE + 59_999, DAY]
    found = book.lookup_many("BTC", "USD", moments)
    assert [f and f.price for f in found] == [D("69520.25"), None, D("69512.5"), D("69500"), D("69512.5"),
                                              D("69000")]
    assert found[2] is found[4] is book.lookup("BTC", "USD", MINUTE + 7)
    assert book.lookup_many("BTC", "USD", []) == [] and book.lookup_many("NOPE", "USD", [DAY]) == [None]


def naive(points: list[PricePoint], base: str, quote: str, t: int) -> PricePoint | None:
    """The rule spelled out: best rank first, then the one given last."""
    ranks = {(res, user): i for i, (res, user) in enumerate(
        (r, u) for r in ("exact", "1m", "1h", "1d") for u in (True, False))}
    covering = [(ranks[(q.resolution, q.source.startswith("user"))], -i, q) for i, q in enumerate(points)
                if (q.base, q.quote) == (base, quote) and q.timestamp <= t < q.timestamp + RESOLUTION_MS[q.resolution]]
    return min(covering, key=lambda c: (c[0], c[1]))[2] if covering else None


def test_vectorized_lookups_agree_with_the_rule_spelled_out() -> None:
    rng = random.Random(11)
    points = []
    for _ in range(600):
        resolution = rng.choice(["exact", "1m", "1h", "1d"])
        step = RESOLUTION_MS[resolution] if resolution != "exact" else rng.choice([1, 60_000])
        t = DAY + rng.randrange(0, 3 * 86_400_000 // step) * step  # candles open on their period's boundary
        points.append(p(rng.choice(["BTC", "ETH"]), rng.choice(["USD", "USDT"]), t, resolution,
                        str(rng.randint(1, 10**6)), rng.choice(["user file f.csv:2", "binance", "kraken"])))
    book = PriceBook.from_points(points)
    moments = [q.timestamp + rng.choice([0, 1, 59_999, 60_000, 3_599_999]) for q in points] + [
        DAY + rng.randrange(0, 4 * 86_400_000) for _ in range(400)]
    for base, quote in (("BTC", "USD"), ("ETH", "USDT"), ("BTC", "USDT")):
        assert book.lookup_many(base, quote, moments) == [naive(points, base, quote, t) for t in moments]
