"""OKX funding account deposit and withdrawal history: ``id, Time, Type, Amount, Before Balance, After Balance,
Symbol``, one row per movement, times in UTC (``2024-02-01 10:00:00``).

OKX's trading-history export is not read here: it writes each fill as one row per currency (the asset that left
and the asset that arrived, sharing an order id), so one row is not one transaction; OKX trades come in through
the exchange account's API import.
"""

from importer.files.base import FileFormat

OKX_MOVEMENTS = FileFormat(
    name="okx-movements",
    title="OKX deposit and withdrawal history",
    exchange="okx",
    required=("id", "Time", "Type", "Amount", "Before Balance", "After Balance", "Symbol"),
    variants=(  # the layouts of the golden samples (tests/fixtures/exports/okx)
        'id,Time,Type,Amount,Before Balance,After Balance,Symbol',
    ),
)
