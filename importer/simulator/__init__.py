"""A local Binance REST simulator: unmodified ccxt imports a synthetic, exactly known history from it.

Typical use (see tests/simulator/)::

    history = generate_history(seed=1, trades=1000)
    key = SimKey(api_key="...", secret="...")
    with Simulator(history, [key]) as sim:
        ex = ccxt.binance({"apiKey": key.api_key, "secret": key.secret,
                           "options": copy.deepcopy(BINANCE_SPOT_OPTIONS)})
        point_ccxt_at(ex, sim.url)
        ex.number = str            # exact decimal strings instead of floats
        reject_non_json(ex)        # optional: truncated bodies raise ccxt.BadResponse
        ex.load_markets()          # one request: GET /api/v3/exchangeInfo
        ex.fetch_my_trades("BTC/USDT", None, 1000, {"fromId": 0})

Modules: ``history`` (records, ``generate_history``), ``generator`` (the simulation behind it), ``prices``
(deterministic price path, tick/step rules), ``server`` (``Simulator``, ``SimKey``, ``Faults``),
``binance_public`` / ``binance_private`` (endpoints), ``traffic`` (weights, faults), ``importer.ccxt_url``
(``point_ccxt_at``, ``market_for``, ``add_market``, ``reject_non_json``), ``__main__`` (CLI).
"""

from importer.ccxt_url import (
    BINANCE_SPOT_OPTIONS,
    add_market,
    market_for,
    point_ccxt_at,
    reject_non_json,
)
from importer.simulator.history import (
    SimHistory,
    SimMarket,
    SimTrade,
    SimTransfer,
    generate_activity,
    generate_history,
)
from importer.simulator.server import Faults, SimKey, Simulator

__all__ = [
    "BINANCE_SPOT_OPTIONS", "Faults", "SimHistory", "SimKey", "SimMarket", "SimTrade", "SimTransfer", "Simulator",
    "add_market", "generate_activity", "generate_history", "market_for", "point_ccxt_at", "reject_non_json",
]
