"""From universal to per-wallet basis: the US switch of 1 January 2025.

From 2025 basis must be tracked per wallet or account (Reg. 1.1012-1(j)). Rev. Proc. 2024-28 lets the unused
basis held on 31 December 2024 be allocated to the units then in each wallet by a rule the taxpayer fixes
before the first 2025 sale. taxsync's documented default ("global allocation", Rev. Proc. 2024-28 s.5.02):
for each asset, the remaining lots are taken oldest first and given to the wallets in name order, each wallet
receiving exactly the units it held at the end of 2024 (lots are split where a wallet's balance ends inside one).
Units the lots cannot cover, or lots no wallet holds, are reported as problems.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from decimal import Decimal

from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.tax.pools import Pool, part_of
from taxsync.types import decimal_text

ZERO = Decimal(0)


def allocate(pools: Mapping[tuple[str, str], Pool], balances: Mapping[tuple[str, str], Decimal],
             new_pool: Callable[[], Pool]) -> tuple[dict[tuple[str, str], Pool], list[Problem]]:
    """Per-wallet pools made from universal ``pools`` (keyed by (asset, "all")) and per-wallet ``balances``."""
    per_wallet: dict[tuple[str, str], Pool] = {}
    problems: list[Problem] = []
    wanted: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
    for (asset, account), units in sorted(balances.items()):
        if units > 0:
            wanted[asset].append((account, units))
    for (asset, _), pool in sorted(pools.items()):
        lots = sorted(pool.lots(), key=lambda lot: lot.acquired)[::-1]  # oldest last: taken with pop()
        for account, units in wanted.pop(asset, []):
            target = per_wallet.setdefault((asset, account), new_pool())
            while units > 0 and lots:
                lot = lots[-1]
                if lot.amount <= units:
                    target.add(lot._replace(account=account))
                    units -= lot.amount
                    lots.pop()
                else:  # split as a disposal would take part of it
                    taken, lots[-1] = part_of(lot, units)
                    target.add(lot._replace(amount=taken.amount, cost=taken.cost, account=account,
                                            unknown=taken.unknown, loss_cost=taken.loss_cost))
                    units = ZERO
            if units > 0:
                problems.append(Problem(ProblemKind.MISSING_COST_BASIS, Severity.WARNING,
                                        f"{account} held {decimal_text(units)} {asset} more at the end of 2024 than "
                                        "the known lots cover: those units get no basis in the per-wallet "
                                        "allocation (Rev. Proc. 2024-28)", f"{account}/{asset}"))
        if lots:
            left = sum((lot.amount for lot in lots), ZERO)
            problems.append(Problem(ProblemKind.NEGATIVE_BALANCE, Severity.WARNING,
                                    f"{decimal_text(left)} {asset} of basis lots are held by no wallet at the end "
                                    "of 2024 and were not allocated: some withdrawals may be missing", asset))
    return per_wallet, problems
