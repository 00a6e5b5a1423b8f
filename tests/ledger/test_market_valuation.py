"""Valuation from market prices: ECB rates for fiat sides, stablecoins, cached candles, bridges, provenance."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from taxsync.assets import FIAT
from taxsync.ledger.records import Leg, Quote, Transaction, TxKind
from taxsync.prices.needs import price_needs
from taxsync.prices.oracle import Oracle
from taxsync.prices.records import PriceNeed, PricePoint
from taxsync.prices.valuation import valuation
from taxsync.problems import ProblemKind
from taxsync.types import Asset, Role, TimestampMs

USD, EUR = Asset("USD"), Asset("EUR")
T = 1_714_557_600_000  # 2024-05-01 10:00:00 UTC
MINUTE = T - T % 60_000


class Book:
    """A price cache holding the given points; a point covers [timestamp, timestamp + resolution)."""

    def __init__(self, *points: PricePoint):
        self.points = points
        self.asked: list[tuple[str, str]] = []

    def lookup(self, base: str, quote: str, t: int) -> PricePoint | None:
        span = {"1m": 60_000, "1h": 3_600_000, "1d": 86_400_000, "exact": 1}
        return next((p for p in self.points if (p.base, p.quote) == (base, quote)
                     and p.timestamp <= t < p.timestamp + span[p.resolution]), None)

    def lookup_many(self, base: str, quote: str, timestamps: list[int]) -> list[PricePoint | None]:
        self.asked.append((base, quote))
        return [self.lookup(base, quote, t) for t in timestamps]


def ecb(base: str, quote: str, day: date) -> PricePoint | None:
    rates = {("EUR", "USD"): D("1.0701"), ("USD", "EUR"): D("0.93449210354172507242313802448369311"),
             ("GBP", "USD"): D("1.2495")}
    rate = rates.get((base, quote))
    return PricePoint(base, quote, 0, "1d", rate, f"ECB reference rate of {day}") if rate else None


def candle(base: str, quote: str, price: str, resolution: str = "1m") -> PricePoint:
    return PricePoint(base, quote, MINUTE, resolution, D(price), f"binance {resolution} close {base}/{quote}")


def tx(kind: TxKind, *legs: tuple[str, str, Role], quote: Quote | None = None) -> Transaction:
    return Transaction("a/1", "a", TimestampMs(T), kind, tuple(Leg(Asset(a), D(n), r) for a, n, r in legs),
                       quote=quote)


def value(t: Transaction, book: Book | None = None, currency: Asset = USD):
    return valuation([t], [], currency, FIAT, oracle=Oracle(currency, FIAT, book, ecb))


def test_a_side_in_another_fiat_currency_is_converted_at_the_ecb_rate() -> None:
    """Buy 0.1 BTC for EUR 5,000 in a USD workspace: 5,000 x 1.0701 = USD 5,350.50 on both legs."""
    v = value(tx(TxKind.TRADE, ("EUR", "-5000", Role.OUT), ("BTC", "0.1", Role.IN)))
    assert [(leg.asset, leg.value) for leg in v.events[0].legs] == [("EUR", D("5350.5000")), ("BTC", D("5350.5000"))]
    assert v.events[0].legs[1].source == "EUR side: ECB reference rate of 2024-05-01"
    assert [p.source for p in v.prices] == ["ECB reference rate of 2024-05-01"] and v.problems == []


def test_crypto_to_crypto_takes_the_cached_price_of_what_was_given() -> None:
    """Swap 2 ETH for 0.1 BTC; the cache has ETH/USD 3,000 for that minute: both legs USD 6,000."""
    v = value(tx(TxKind.TRADE, ("ETH", "-2", Role.OUT), ("BTC", "0.1", Role.IN)), Book(candle("ETH", "USD", "3000")))
    assert [leg.value for leg in v.events[0].legs] == [D("6000"), D("6000")]
    assert v.events[0].legs[0].source == "ETH side: binance 1m close ETH/USD"
    assert v.prices == [candle("ETH", "USD", "3000")]


def test_a_price_against_usdt_is_bridged_through_the_stablecoin() -> None:
    """Swap 10 SOL for ADA; only SOL/USDT 150 is cached and USDT has no price: at par, USD 1,500."""
    v = value(tx(TxKind.TRADE, ("SOL", "-10", Role.OUT), ("ADA", "3000", Role.IN)), Book(candle("SOL", "USDT", "150")))
    assert [leg.value for leg in v.events[0].legs] == [D("1500"), D("1500")]
    assert v.events[0].legs[0].source == "SOL side: binance 1m close SOL/USDT x par (1 USDT = 1 USD)"


def test_a_stablecoin_side_uses_its_market_price_else_par() -> None:
    bought = tx(TxKind.TRADE, ("USDT", "-30000", Role.OUT), ("BTC", "0.5", Role.IN))
    assert [leg.value for leg in value(bought).events[0].legs] == [D("30000"), D("30000")]
    market = value(bought, Book(candle("USDT", "USD", "0.9990")))
    assert [leg.value for leg in market.events[0].legs] == [D("29970.0000"), D("29970.0000")]
    in_euro = value(bought, currency=EUR)  # par with USD, then the ECB rate USD -> EUR
    assert in_euro.events[0].legs[1].value == D("30000") * D("0.93449210354172507242313802448369311")
    assert in_euro.events[0].legs[1].source.startswith("USDT side: par (1 USDT = 1 USD) x ECB reference rate")


def test_a_stated_value_in_another_fiat_currency_is_converted() -> None:
    swap = tx(TxKind.TRADE, ("ETH", "-1", Role.OUT), ("BTC", "0.05", Role.IN), quote=Quote(D("2800"), Asset("GBP")))
    assert [leg.value for leg in value(swap).events[0].legs] == [D("3498.6000"), D("3498.6000")]


def test_a_fee_in_a_third_asset_takes_its_market_price() -> None:
    """A BTC/USDT sale paying 0.01 BNB: the BNB is valued at the cached BNB/USD 600 = USD 6."""
    sale = tx(TxKind.TRADE, ("BTC", "-0.1", Role.OUT), ("USDT", "6000", Role.IN), ("BNB", "-0.01", Role.FEE))
    legs = value(sale, Book(candle("BNB", "USD", "600"))).events[0].legs
    assert [(leg.asset, leg.value) for leg in legs] == [("BTC", D("6000")), ("USDT", D("6000")), ("BNB", D("6.00"))]


def test_income_is_valued_at_market() -> None:
    reward = tx(TxKind.INCOME, ("DOT", "2.5", Role.IN))
    legs = value(reward, Book(candle("DOT", "USD", "7.20", "1h"))).events[0].legs
    assert [(leg.value, leg.source) for leg in legs] == [(D("18.000"), "DOT side: binance 1h close DOT/USD")]


def test_missing_prices_say_what_was_tried_and_what_to_do() -> None:
    v = value(tx(TxKind.TRADE, ("XYZ", "-5", Role.OUT), ("ABC", "7", Role.IN)))
    (problem,) = v.problems
    assert problem.kind is ProblemKind.MISSING_PRICE
    assert "cached prices of ABC/USD, ABC/USDT, ABC/USDC" in problem.message
    assert "taxsync prices sync" in problem.message and "taxsync prices import" in problem.message
    assert [leg.value for leg in v.events[0].legs] == [None, None]


def test_price_needs_are_what_nothing_at_hand_values() -> None:
    """The ETH swap is covered by the cache, the SOL reward and the USDT side are not needed (stablecoin par);
    what is left to fetch: SOL and the BNB fee."""
    swap = tx(TxKind.TRADE, ("ETH", "-2", Role.OUT), ("BTC", "0.1", Role.IN))
    reward = Transaction("a/2", "a", TimestampMs(T + 1000), TxKind.INCOME, (Leg(Asset("SOL"), D("1"), Role.IN),))
    sale = Transaction("a/3", "a", TimestampMs(T + 2000), TxKind.TRADE, (
        Leg(Asset("BTC"), D("-0.1"), Role.OUT), Leg(Asset("USDT"), D("6000"), Role.IN),
        Leg(Asset("BNB"), D("-0.01"), Role.FEE)))
    oracle = Oracle(USD, FIAT, Book(candle("ETH", "USD", "3000")), ecb)
    needs = price_needs([swap, reward, sale], USD, FIAT, oracle=oracle)
    assert needs == [PriceNeed("SOL", T + 1000, "a", "a/2"), PriceNeed("BNB", T + 2000, "a", "a/3")]


def test_two_stablecoins_priced_in_each_other_do_not_loop() -> None:
    book = Book(candle("USDT", "USDC", "1.0002"), candle("USDC", "USDT", "0.9998"))
    legs = value(tx(TxKind.TRADE, ("USDT", "-100", Role.OUT), ("BTC", "0.001", Role.IN)), book).events[0].legs
    assert legs[1].value == D("100.0200")  # 100 USDT x 1.0002 USDC, USDC at par


def test_a_rate_the_user_supplied_comes_before_the_ecb_rate() -> None:
    given = PricePoint("EUR", "USD", MINUTE - MINUTE % 86_400_000, "1d", D("1.08"), "user file rates.csv:2")
    v = value(tx(TxKind.TRADE, ("EUR", "-5000", Role.OUT), ("BTC", "0.1", Role.IN)), Book(given))
    assert [leg.value for leg in v.events[0].legs] == [D("5400.00"), D("5400.00")]
    assert v.prices == [given]


def test_a_missing_price_says_what_the_last_sync_found() -> None:
    """The source failed (try again) is told apart from no price exists (import one)."""
    from taxsync.prices.attempts import FAILED, NOT_FOUND, Attempt

    attempts = {("XYZ", T): Attempt("XYZ", T, NOT_FOUND, "binance", "binance lists no market XYZ/USDT", 0),
                ("ABC", T): Attempt("ABC", T, FAILED, "binance", "binance rate-limited after 3 attempts", 0)}
    swap = tx(TxKind.TRADE, ("XYZ", "-5", Role.OUT), ("ABC", "7", Role.IN))
    (problem,) = valuation([swap], [], USD, FIAT, oracle=Oracle(USD, FIAT, None, ecb, attempts)).problems
    assert "could not reach a price on binance (binance rate-limited after 3 attempts)" in problem.message
    assert "run it again" in problem.message
    assert "found no price on binance (binance lists no market XYZ/USDT)" in problem.message
