"""What valuation cannot value with what is at hand: the prices ``taxsync prices sync`` should fetch."""

from __future__ import annotations

from collections.abc import Iterable

from taxsync.ledger.records import Transaction, Transfer
from taxsync.prices.oracle import Oracle
from taxsync.prices.records import PriceNeed
from taxsync.prices.valuation import valuation
from taxsync.types import Asset


def price_needs(transactions: Iterable[Transaction], currency: str, fiat: frozenset[str],
                transfers: Iterable[Transfer] = (), oracle: Oracle | None = None, *,
                value_gifts: bool = False) -> list[PriceNeed]:
    """The (asset, moment) pairs that nothing at hand can value, in time order. ``oracle`` holds the price
    cache as it is now (None: an empty cache, ECB rates and stablecoin pegs only); a need it answers is not
    listed. Values the transactions give themselves (a tax-currency side, a stated value) need nothing.
    ``value_gifts``: gifts received need a value too (see ``valuation``)."""
    transactions, transfers = list(transactions), list(transfers)
    oracle = oracle if oracle is not None else Oracle(currency, fiat)
    valuation(transactions, transfers, Asset(currency), fiat, oracle=oracle, value_gifts=value_gifts)
    where = {(leg.asset, tx.timestamp): tx for tx in transactions for leg in tx.legs}
    where.update(((leg.asset, side.timestamp), side) for transfer in transfers
                 for side in (transfer.withdrawal, transfer.deposit) for leg in side.legs)
    needs = []
    for asset, t in sorted(oracle.misses, key=lambda miss: (miss[1], miss[0])):
        tx = where.get((asset, t))
        needs.append(PriceNeed(asset, t, tx.account if tx else "", tx.ref if tx else ""))
    return needs
