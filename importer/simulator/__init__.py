"""Local exchange REST simulators (Binance, Kraken): unmodified ccxt imports a synthetic, exactly known history.

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

Kraken the same way (secrets are base64; ``tier=None`` turns Kraken's call counter off for a fast client)::

    history = generate_kraken_history(seed=1, trades=600, pairs=6, staking_rewards=40)
    key = SimKey(api_key="...", secret=base64.b64encode(os.urandom(64)).decode())
    with KrakenSimulator(history, [key], tier=None) as sim:
        ex = ccxt.kraken({"apiKey": key.api_key, "secret": key.secret})
        point_ccxt_at(ex, sim.url)
        ex.number = str
        ex.load_markets()          # GET /0/public/Assets, then /0/public/AssetPairs
        ex.fetch_my_trades(None, None, None, {"ofs": 0})   # newest first, 50 a page
        ex.fetch_balance()         # POST /0/private/BalanceEx; totals == history.expected_totals()

Modules: ``history`` (records, ``generate_history``), ``generator`` (the simulation behind it), ``prices``
(deterministic price path, tick/step rules), ``server`` (``HttpSimulator``, ``Simulator``, ``SimKey``,
``Faults``), ``binance_public`` / ``binance_private`` (endpoints), ``traffic`` (weights, faults),
``kraken_universe`` (Kraken asset/pair names, precisions, prices), ``kraken_history`` / ``kraken_generator``
(``KrakenHistory``, ``generate_kraken_history``, ``generate_kraken_activity``), ``kraken_api`` /
``kraken_public`` / ``kraken_private`` (endpoints), ``kraken_server`` (``KrakenSimulator``, tiers),
``importer.ccxt_url`` (``point_ccxt_at``, ``market_for``, ``add_market``, ``reject_non_json``), ``__main__``
(CLI, ``--exchange binance|kraken``).
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
from importer.simulator.kraken_history import (
    KrakenActivity,
    KrakenHistory,
    KrakenLedgerEntry,
    KrakenTrade,
    KrakenTransfer,
    generate_kraken_activity,
    generate_kraken_history,
)
from importer.simulator.kraken_server import INTERMEDIATE, PRO, STARTER, KrakenSimulator, KrakenTier
from importer.simulator.server import Faults, HttpSimulator, SimKey, Simulator

__all__ = [
    "BINANCE_SPOT_OPTIONS", "INTERMEDIATE", "PRO", "STARTER", "Faults", "HttpSimulator", "KrakenActivity",
    "KrakenHistory", "KrakenLedgerEntry", "KrakenSimulator", "KrakenTier", "KrakenTrade", "KrakenTransfer",
    "SimHistory", "SimKey", "SimMarket", "SimTrade", "SimTransfer", "Simulator", "add_market", "generate_activity",
    "generate_history", "generate_kraken_activity", "generate_kraken_history", "market_for", "point_ccxt_at",
    "reject_non_json",
]
