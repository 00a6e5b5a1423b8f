"""KuCoin spot exports: the filled-orders export of today's site and the older trade-history export.

Today's ``Spot Orders > Filled Orders`` export has one row per order: ``UID, Account Type, Order ID,
Order Time(UTC), Symbol, Side, Order Type, Order Price, Order Amount, Avg. Filled Price, Filled Amount,
Filled Volume, Filled Volume (USDT), Filled Time(UTC), Fee, Fee Currency, Tax, Status``. The time columns carry
the zone the user chose for the export in their name (``Filled Time(UTC+08:00)``). The older export has one row
per fill: ``tradeCreatedAt, orderId, symbol, side, price, size, funds, fee, liquidity, feeCurrency, orderType``;
its columns are read under today's names (``aliases``).
"""

from importer.files.base import FileFormat

KUCOIN = FileFormat(
    name="kucoin",
    title="KuCoin spot orders or trade history",
    exchange="kucoin",
    required=("Order ID", "Symbol", "Side", "Filled Amount", "Filled Volume", "Fee", "Fee Currency"),
    optional=("UID", "Account Type", "Order Time(UTC)", "Order Type", "Order Price", "Order Amount",
              "Avg. Filled Price", "Filled Volume (USDT)", "Filled Time(UTC)", "Tax", "Status", "Trade ID",
              "Maker/Taker"),
    aliases=(
        ("tradeCreatedAt", "Filled Time(UTC)"), ("orderId", "Order ID"), ("symbol", "Symbol"), ("side", "Side"),
        ("price", "Avg. Filled Price"), ("size", "Filled Amount"), ("funds", "Filled Volume"), ("fee", "Fee"),
        ("feeCurrency", "Fee Currency"), ("orderType", "Order Type"), ("liquidity", "Maker/Taker"),
        ("tradeId", "Trade ID"), ("Filled Price", "Avg. Filled Price"),
    ),
    variants=(  # the layouts of the golden samples (tests/fixtures/exports/kucoin)
        ('UID,Account Type,Order ID,Symbol,Side,Order Type,Avg. Filled Price,Filled Amount,Filled Volume,'
         'Filled Volume (USDT),Filled Time(UTC),Fee,Tax,Maker/Taker,Fee Currency'),
        ('UID,Account Type,Order ID,Order Time(UTC+08:00),Symbol,Side,Order Type,Order Price,Order Amount,'
         'Avg. Filled Price,Filled Amount,Filled Volume,Filled Volume (USDT),Filled Time(UTC+08:00),Fee,'
         'Fee Currency,Tax,Status'),
        ('UID,Account Type,Order ID,Order Time(UTC),Symbol,Side,Order Type,Order Price,Order Amount,'
         'Avg. Filled Price,Filled Amount,Filled Volume,Filled Volume (USDT),Filled Time(UTC),Fee,'
         'Fee Currency,Tax,Status'),
        'tradeCreatedAt,orderId,symbol,side,price,size,funds,fee,liquidity,feeCurrency,orderType',
    ),
)

# Deposit and withdrawal history: ``UID, Account Type, Time(UTC), Coin, Amount, Fee, Hash, Deposit Address (or
# Withdrawal Address/Account), Transfer Network, Status, Remarks``.
_MOVEMENT = ("UID", "Account Type", "Hash", "Transfer Network", "Status", "Remarks")
KUCOIN_DEPOSITS = FileFormat(
    name="kucoin-deposits",
    title="KuCoin deposit history",
    exchange="kucoin",
    required=("Time(UTC)", "Coin", "Amount", "Fee", "Status", "Deposit Address"),
    optional=_MOVEMENT,
    variants=(  # the layouts of the golden samples (tests/fixtures/exports/kucoin)
        'UID,Account Type,Time(UTC),Coin,Amount,Fee,Hash,Deposit Address,Transfer Network,Status,Remarks',
    ),
)
KUCOIN_WITHDRAWALS = FileFormat(
    name="kucoin-withdrawals",
    title="KuCoin withdrawal history",
    exchange="kucoin",
    required=("Time(UTC)", "Coin", "Amount", "Fee", "Status", "Withdrawal Address/Account"),
    optional=_MOVEMENT,
    variants=(  # the layouts of the golden samples (tests/fixtures/exports/kucoin)
        'UID,Account Type,Time(UTC),Coin,Amount,Fee,Hash,Withdrawal Address/Account,Transfer Network,Status,Remarks',
    ),
)
