"""OKX exports: the funding account's deposit and withdrawal history (``id, Time, Type, Amount, Before Balance,
After Balance, Symbol``, one row per movement) and the trading account's trading history (``id, Order id, Time,
Trade Type, Symbol, Action, Amount, ..., Fee, Fee Unit, ..., Balance Change, Balance, Balance Unit``), which
writes each fill as one row per currency, the rows of an order sharing its id and time; times in UTC
(``2024-02-01 10:00:00``).
"""

from __future__ import annotations

from collections.abc import Sequence

from importer.files.base import FileFormat, Line

OKX_MOVEMENTS = FileFormat(
    name="okx-movements",
    title="OKX deposit and withdrawal history",
    exchange="okx",
    required=("id", "Time", "Type", "Amount", "Before Balance", "After Balance", "Symbol"),
    variants=(  # the layouts of the golden samples (tests/fixtures/exports/okx)
        'id,Time,Type,Amount,Before Balance,After Balance,Symbol',
    ),
)


def group_by_order(lines: Sequence[Line]) -> list[list[Line]]:
    """Rows of one order in one second, in file order: OKX writes each fill as a row per currency (what left and
    what arrived), all with the order's id and time."""
    groups: dict[tuple[str, str], list[Line]] = {}
    for line in lines:
        key = (line[1].get("Order id", "").strip(), line[1].get("Time", "").strip())
        groups.setdefault(key, []).append(line)
    return list(groups.values())


OKX_TRADES = FileFormat(
    name="okx-trades",
    title="OKX trading history",
    exchange="okx",
    required=("id", "Order id", "Time", "Trade Type", "Symbol", "Action", "Amount", "Fee", "Fee Unit",
              "Balance Change", "Balance Unit"),
    optional=("Trading Unit", "Filled Price", "Filled Price Unit", "PnL", "Position Change", "Position Balance",
              "Position Unit", "Balance"),
    numbers=("Amount", "Filled Price", "PnL", "Fee", "Position Change", "Position Balance", "Balance Change",
             "Balance"),
    group=group_by_order,
    layout="a row per currency of each fill: Balance Change and Balance Unit (after the fee), Fee and Fee Unit "
           "(negative); times like 2024-03-01 14:25:00 (UTC)",
    variants=(
        "id,Order id,Time,Trade Type,Symbol,Action,Amount,Trading Unit,Filled Price,PnL,Fee,Fee Unit,"
        "Position Change,Position Balance,Balance Change,Balance,Balance Unit",
        "id,Order id,Time,Trade Type,Symbol,Action,Amount,Trading Unit,Filled Price,Filled Price Unit,PnL,Fee,"
        "Fee Unit,Position Change,Position Balance,Position Unit,Balance Change,Balance,Balance Unit",
    ),
)
