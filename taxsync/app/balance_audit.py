"""The balance audit's asking half: each exchange account's balances fetched now and stored (``taxsync
doctor`` and the nightly job), for ``taxsync.ledger.balances`` to compare with the ledger offline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

import ccxt
from sqlalchemy import select
from sqlalchemy.orm import Session

from importer import credentials
from importer.adapters.common import balances_batch, held_totals
from importer.sync import SyncContext
from taxsync.app.accounts import connect
from taxsync.app.workspace import Workspace
from taxsync.db import Account
from taxsync.errors import TaxsyncError

BalanceReader = Callable[[SyncContext], dict[str, Decimal]]


def _fetch_balance(ctx: SyncContext) -> dict[str, Decimal]:
    return held_totals(ctx.call(ctx.exchange.fetch_balance))


def _coinbase(ctx: SyncContext) -> dict[str, Decimal]:
    from importer.adapters.coinbase import CoinbaseAdapter  # wallets (available + hold), as its import reads them

    adapter = CoinbaseAdapter()
    return adapter._held(adapter._accounts(ctx))


def _okx(ctx: SyncContext) -> dict[str, Decimal]:  # the trading and the funding account, as its import reads them
    return held_totals(*(ctx.call(ctx.exchange.fetch_balance, {"type": kind}) for kind in ("trading", "funding")))


BALANCE_READERS: dict[str, BalanceReader] = {"coinbase": _coinbase, "okx": _okx}  # others: ccxt's fetch_balance


def refresh_balances(ws: Workspace, names: Sequence[str] = (), *, retry_delay: float = 1.0
                     ) -> dict[str, str | None]:
    """Ask each exchange account (the named ones, or all) for its balances now and store them; returns, per
    account, None or the (redacted) reason it could not be asked."""
    with Session(ws.engine) as session:
        query = select(Account).where(Account.kind == "exchange").order_by(Account.name)
        accounts = [a for a in session.scalars(query) if not names or a.name in names]
    outcome: dict[str, str | None] = {}
    for account in accounts:
        secrets: tuple[str, ...] = ()
        try:
            exchange, creds = connect(ws, account)
            secrets = creds.values()
            ctx = SyncContext(ws.engine, account.name, account.id, account.exchange or "", exchange, 0,
                              retry_delay=retry_delay, max_attempts=3)
            held = BALANCE_READERS.get(account.exchange or "", _fetch_balance)(ctx)
            ctx.commit(balances_batch(held, "doctor"))
            outcome[account.name] = None
        except (TaxsyncError, ccxt.BaseError) as error:
            text = (f"{type(error).__name__}: {error}" if isinstance(error, ccxt.BaseError) else str(error))
            outcome[account.name] = credentials.redact(text, secrets)[:300]
    return outcome
