"""A Binance transaction-history export of a simulator history: what the user downloads for the same account."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from importer.simulator.history import CREDITED_DEPOSIT, DEBITED_WITHDRAWAL, SimHistory
from taxsync.types import TimestampMs, to_datetime

HEADER = "User_ID,UTC_Time,Account,Operation,Coin,Change,Remark"


def _second(ms: int) -> str:
    return to_datetime(TimestampMs(ms)).strftime("%Y-%m-%d %H:%M:%S")  # exports drop the milliseconds


def binance_export(history: SimHistory, path: Path, *, skip_trades: int = 0) -> Path:
    """Every credited deposit, debited withdrawal and trade fill as Binance writes them, in time order."""
    rows: list[tuple[int, str]] = []
    for d in history.deposits:
        if d.status in CREDITED_DEPOSIT:
            rows.append((d.time, f"1,{_second(d.time)},Spot,Deposit,{d.coin},{d.amount},"))
    for w in history.withdrawals:
        if w.status in DEBITED_WITHDRAWAL:
            total = Decimal(w.amount) + Decimal(w.fee)
            rows.append((w.time, f"1,{_second(w.time)},Spot,Withdraw,{w.coin},-{total},Withdraw fee is included"))
    for n, t in enumerate(sorted(history.trades, key=lambda t: (t.time, t.symbol, t.id))):
        if n < skip_trades:
            continue
        market = history.market(t.symbol)
        assert market is not None
        when = _second(t.time)
        got, gave = (market.base, market.quote) if t.is_buyer else (market.quote, market.base)
        got_qty, gave_qty = (t.qty, t.quote_qty) if t.is_buyer else (t.quote_qty, t.qty)
        ops = ("Transaction Buy", "Transaction Spend") if t.is_buyer else ("Transaction Revenue", "Transaction Sold")
        rows.append((t.time, f"1,{when},Spot,{ops[1]},{gave},-{gave_qty},"))
        rows.append((t.time, f"1,{when},Spot,{ops[0]},{got},{got_qty},"))
        if Decimal(t.commission):
            rows.append((t.time, f"1,{when},Spot,Transaction Fee,{t.commission_asset},-{t.commission},"))
    rows.sort(key=lambda row: row[0])
    path.write_text("\n".join([HEADER, *(text for _, text in rows)]) + "\n", encoding="utf-8")
    return path


def binance_trade_export(history: SimHistory, path: Path) -> Path:
    """Every fill as a row of the spot trade history export (assets after the amounts), in time order."""
    rows = ["Date(UTC),Pair,Side,Price,Executed,Amount,Fee"]
    for t in sorted(history.trades, key=lambda t: (t.time, t.symbol, t.id)):
        market = history.market(t.symbol)
        assert market is not None
        side = "BUY" if t.is_buyer else "SELL"
        rows.append(f"{_second(t.time)},{market.base}{market.quote},{side},{t.price},{t.qty}{market.base},"
                    f"{t.quote_qty}{market.quote},{t.commission}{t.commission_asset}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path
