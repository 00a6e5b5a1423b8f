"""Bybit spot trade history exports (one row per fill).

Unified trading account, ``Orders > Spot Orders > Order History`` export: ``Spot Pairs, Order Type, Direction,
Filled Value, Filled Price, Filled Quantity, Fees, Transaction ID, Order No., Timestamp (UTC)`` with times such as
``14:35 2024-11-16``; the statement variant adds ``Uid`` first and names the time ``Timestamp (UTC+0)``
(``2024-12-09 19:48:23``). The pre-UTA spot export adds ``Filled Time (Local Time)`` first and writes each amount
with its asset (``99.687126 USDT``) and pairs as ``NEIRO/USDT``.
"""

from importer.files.base import FileFormat

BYBIT = FileFormat(
    name="bybit",
    title="Bybit spot trade history",
    exchange="bybit",
    required=("Spot Pairs", "Direction", "Filled Value", "Filled Quantity", "Fees", "Transaction ID",
              "Timestamp (UTC)"),
    optional=("Uid", "Filled Time (Local Time)", "Order Type", "Filled Price", "Order No."),
    aliases=(("Timestamp (UTC+0)", "Timestamp (UTC)"), ("UID", "Uid")),
    variants=(  # the layouts of the golden samples (tests/fixtures/exports/bybit)
        ('Filled Time (Local Time),Spot Pairs,Order Type,Direction,Filled Value,Filled Price,Filled Quantity,'
         'Fees,Transaction ID,Order No.,Timestamp (UTC)'),
        ('Spot Pairs,Order Type,Direction,Filled Value,Filled Price,Filled Quantity,Fees,Transaction ID,'
         'Order No.,Timestamp (UTC)'),
        ('Uid,Spot Pairs,Order Type,Direction,Filled Value,Filled Price,Filled Quantity,Fees,Transaction ID,'
         'Order No.,Timestamp (UTC+0)'),
    ),
)
