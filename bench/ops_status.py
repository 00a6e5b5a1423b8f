"""Unattended-operation commands on a big workspace: status, the balance audit, doctor (offline) and a backup.

    python bench/ops_status.py [--transactions 500000] [--accounts 4]

Builds a workspace in a temporary folder with ``--accounts`` exchange accounts sharing ``--transactions``
trades (two legs each, so 1,000,000 legs by default), raw records, per-market sync state, a stored balance
snapshot per account and a year of nightly runs; then times ``taxsync status`` (its Python API, which runs the
balance audit from the database), the balance audit alone, ``doctor --offline`` and ``taxsync backup``, and
prints the figures. Issue 8 sets no speed target: these commands must simply stay usable at this size
(a few seconds), since status and doctor are what a user runs when something looks wrong.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import Session

from taxsync.app.workspace import init_workspace, open_workspace
from taxsync.db.backup import backup_database
from taxsync.ledger.balances import audit_balances
from taxsync.ops.doctor import DoctorContext, run_doctor
from taxsync.ops.status import workspace_status

START = 1_600_000_000_000
ASSETS = ("BTC", "ETH", "SOL", "ADA", "DOT", "XRP")


def fill(home: Path, transactions: int, accounts: int) -> None:
    ws = init_workspace(home)
    raw, txs, legs, states, runs = [], [], [], [], []
    per_account = transactions // accounts
    for a in range(1, accounts + 1):
        for i in range(per_account):
            n = (a - 1) * per_account + i + 1
            asset = ASSETS[n % len(ASSETS)]
            raw.append((n, a, "ccxt-trade", "trades", f"fetch_my_trades {asset}/USDT", str(n), str(n),
                        json.dumps({"id": n, "symbol": f"{asset}/USDT"}), START))
            txs.append((n, a, n, f"acc{a}/{n}", START + n * 60_000, "trade", "", "", "", "", None, None))
            legs.append((2 * n - 1, n, 0, asset, "0.0012345678", "in"))
            legs.append((2 * n, n, 1, "USDT", "-12.345678", "out"))
        for asset in ASSETS:
            states.append((a, "trades", f"{asset}/USDT", str(per_account), None, START + per_account * 60_000,
                           START + per_account * 60_000))
        states.append((a, "balances", "", json.dumps({"BTC": "1.5", "USDT": "-1"}), None, START * 2, START * 2))
        for day in range(365):
            runs.append(("import", a, 1, START + day * 86_400_000, START + day * 86_400_000 + 1000, "ok", 0, "ok"))
    with ws.engine.begin() as connection:
        for a in range(1, accounts + 1):
            connection.exec_driver_sql("insert into accounts values (?, ?, 'exchange', 'binance', ?, 0)",
                                       (a, f"binance-{a}", json.dumps({"since": "2020-09-13"})))
        connection.exec_driver_sql("insert into raw_records values (?, ?, ?, ?, ?, ?, ?, ?, ?)", raw)
        connection.exec_driver_sql("insert into transactions values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", txs)
        connection.exec_driver_sql("insert into legs values (?, ?, ?, ?, ?, ?)", legs)
        connection.exec_driver_sql("insert into sync_state (account_id, stream, symbol, cursor, covered_from, "
                                   "covered_until, updated_at) values (?, ?, ?, ?, ?, ?, ?)", states)
        connection.exec_driver_sql("insert into runs (command, account_id, pid, started_at, finished_at, outcome, "
                                   "exit_code, summary) values (?, ?, ?, ?, ?, ?, ?, ?)", runs)
    ws.engine.dispose()


def timed(label: str, action: object) -> object:
    started = time.perf_counter()
    result = action()  # type: ignore[operator]
    print(f"{label:32} {time.perf_counter() - started:7.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=500_000)
    parser.add_argument("--accounts", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "ws"
        timed(f"build ({args.transactions:,} trades)", lambda: fill(home, args.transactions, args.accounts))
        ws = open_workspace(home)
        status = timed("taxsync status", lambda: workspace_status(ws))
        print(f"  {len(status.accounts)} accounts, {sum(a.records for a in status.accounts):,} records")  # type: ignore[attr-defined]

        def audit() -> int:
            with Session(ws.engine) as session:
                return sum(len(a.differences) for a in audit_balances(session))

        differences = timed("balance audit (from the database)", audit)
        print(f"  {differences} differences")
        timed("taxsync doctor --offline", lambda: run_doctor(DoctorContext(home, ws, online=False)))
        path = timed("taxsync backup", lambda: backup_database(ws.engine))
        print(f"  {path.stat().st_size / 1e6:.0f} MB")  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
