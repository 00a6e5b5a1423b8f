"""Kraken's private account endpoints, answered from a ``KrakenHistory`` with Kraken's rules.

``TradesHistory`` and ``Ledgers`` list newest first, 50 rows a page, paged by ``ofs``; ``start`` is
exclusive and ``end`` inclusive, each either a unix timestamp (decimals allowed) or an id of the same
stream (trade txid / ledger id); ``count`` is the number of matching rows. A key limited by
``queryFrom`` / ``queryTo`` sees only rows inside that window. ``Balance`` / ``BalanceEx`` are the ledger's
totals; ``DepositStatus`` / ``WithdrawStatus`` list funding records newest first (no cursor paging);
``GetApiKeyInfo`` describes the calling key. ``Book`` indexes one history snapshot.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

from importer.simulator.kraken_api import INVALID_ARGUMENTS, UNKNOWN_ASSET, Form, KrakenError, seconds_to_t4
from importer.simulator.kraken_history import KrakenHistory, KrakenLedgerEntry, KrakenTrade, KrakenTransfer
from importer.simulator.kraken_universe import fmt_fixed, time_number

if TYPE_CHECKING:
    from importer.simulator.server import SimKey

PAGE = 50
POSTXID = "TKH2SE-M7IF5-CFI7LT"  # what Kraken puts in ``postxid`` for trades that opened no position
TRADE_TYPES = ("all", "any position", "closed position", "closing position", "no position")
LEDGER_TYPES = ("all", "trade", "deposit", "withdrawal", "transfer", "margin", "adjustment", "rollover", "credit",
                "settled", "staking", "dividend", "sale", "nft_rebate")
MAX_QUERY_IDS = 20
Row = TypeVar("Row")


@dataclass(frozen=True, slots=True)
class KeyView:
    """What a key may see: unix-second bounds (0 = open) from its ``query_from_s`` / ``query_to_s``."""

    query_from_s: int = 0
    query_to_s: int = 0

    @classmethod
    def of(cls, key: SimKey | None) -> KeyView:
        return cls(key.query_from_s, key.query_to_s) if key is not None else cls()

    def bounds(self) -> tuple[int, int]:
        lo = self.query_from_s * 10_000 if self.query_from_s else 0
        hi = self.query_to_s * 10_000 + 9_999 if self.query_to_s else 1 << 62
        return lo, hi


class Book:
    """Read-only indexes over one ``KrakenHistory`` snapshot."""

    def __init__(self, history: KrakenHistory) -> None:
        self.history = history
        self.trades = history.trades
        self.trade_times = [t.time for t in self.trades]
        self.trade_pos = {t.txid: i for i, t in enumerate(self.trades)}
        self.ledger = history.ledger
        self.ledger_times = [e.time for e in self.ledger]
        self.ledger_pos = {e.id: i for i, e in enumerate(self.ledger)}
        self.balances = history.balances()
        self.by_name = {a.id: a.id for a in history.assets} | {a.altname: a.id for a in history.assets}

    def asset_ids(self, form: Form) -> set[str] | None:
        names = form.items("asset")
        if names is None:
            return None
        if any(n not in self.by_name for n in names):
            raise KrakenError(UNKNOWN_ASSET)
        return {self.by_name[n] for n in names}


def _bound(value: str | None, times: list[int], positions: dict[str, int], default: int) -> int:
    """Slice index after the row a ``start``/``end`` value names: rows up to it are at or before it."""
    if value is None:
        return default
    t4 = seconds_to_t4(value)
    if t4 is not None:
        return bisect.bisect_right(times, t4)
    if value not in positions:
        raise KrakenError(INVALID_ARGUMENTS)
    return positions[value] + 1


def _window(form: Form, times: list[int], positions: dict[str, int], view: KeyView) -> tuple[int, int]:
    lo = _bound(form.text("start"), times, positions, 0)  # exclusive: rows after the one it names
    hi = _bound(form.text("end"), times, positions, len(times))  # inclusive
    key_lo, key_hi = view.bounds()
    return max(lo, bisect.bisect_left(times, key_lo)), min(hi, bisect.bisect_right(times, key_hi))


def trade_row(t: KrakenTrade, book: Book, with_ledgers: bool = False) -> dict[str, object]:
    pair = book.history.pair(t.pair)
    row: dict[str, object] = {
        "ordertxid": t.ordertxid, "postxid": POSTXID, "pair": t.pair, "time": time_number(t.time), "type": t.type,
        "ordertype": t.ordertype, "price": t.price, "cost": t.cost, "fee": t.fee, "vol": t.vol,
        "margin": fmt_fixed(Decimal(0), pair.cost_decimals), "misc": "", "trade_id": t.trade_id, "maker": t.maker,
    }
    if with_ledgers:
        row["ledgers"] = list(t.ledgers)
    return row


def ledger_row(e: KrakenLedgerEntry) -> dict[str, object]:
    return {"refid": e.refid, "time": time_number(e.time), "type": e.type, "subtype": e.subtype, "aclass": e.aclass,
            "asset": e.asset, "amount": e.amount, "fee": e.fee, "balance": e.balance}


def _page(form: Form, rows: list[Row]) -> list[Row]:
    ofs = form.integer("ofs", 0)
    return rows[ofs:ofs + PAGE]


def trades_history(book: Book, form: Form, view: KeyView) -> dict[str, object]:
    """POST /0/private/TradesHistory."""
    kind = form.text("type", "all")
    if kind not in TRADE_TYPES:
        raise KrakenError(INVALID_ARGUMENTS)
    lo, hi = _window(form, book.trade_times, book.trade_pos, view)
    rows: list[KrakenTrade] = [] if kind not in ("all", "no position") else list(book.trades[lo:hi])
    rows.reverse()  # newest first
    with_ledgers = form.flag("ledgers")
    result: dict[str, object] = {"trades": {t.txid: trade_row(t, book, with_ledgers) for t in _page(form, rows)}}
    if not form.flag("without_count"):
        result["count"] = len(rows)
    return result


def ledgers(book: Book, form: Form, view: KeyView) -> dict[str, object]:
    """POST /0/private/Ledgers (``asset`` by id or altname, comma list; ``type`` one ledger type or all)."""
    kind = form.text("type", "all")
    if kind not in LEDGER_TYPES:
        raise KrakenError(INVALID_ARGUMENTS)
    wanted = book.asset_ids(form)
    lo, hi = _window(form, book.ledger_times, book.ledger_pos, view)
    rows = [e for e in book.ledger[lo:hi] if (wanted is None or e.asset in wanted) and kind in ("all", e.type)]
    if form.text("aclass", "currency") != "currency":
        rows = []
    rows.reverse()
    result: dict[str, object] = {"ledger": {e.id: ledger_row(e) for e in _page(form, rows)}}
    if not form.flag("without_count"):
        result["count"] = len(rows)
    return result


def _ids(form: Form, key: str) -> list[str]:
    ids = form.items(key) or []
    if not ids or len(ids) > MAX_QUERY_IDS:
        raise KrakenError(INVALID_ARGUMENTS)
    return ids


def _visible(view: KeyView, t4: int) -> bool:
    lo, hi = view.bounds()
    return lo <= t4 <= hi


def query_trades(book: Book, form: Form, view: KeyView) -> dict[str, object]:
    """POST /0/private/QueryTrades (``txid``: up to 20 comma-separated trade ids)."""
    ids = _ids(form, "txid")
    if any(i not in book.trade_pos or not _visible(view, book.trades[book.trade_pos[i]].time) for i in ids):
        raise KrakenError(INVALID_ARGUMENTS)
    return {i: trade_row(book.trades[book.trade_pos[i]], book) for i in ids}


def query_ledgers(book: Book, form: Form, view: KeyView) -> dict[str, object]:
    """POST /0/private/QueryLedgers (``id``: up to 20 comma-separated ledger ids)."""
    ids = _ids(form, "id")
    if any(i not in book.ledger_pos or not _visible(view, book.ledger[book.ledger_pos[i]].time) for i in ids):
        raise KrakenError(INVALID_ARGUMENTS)
    return {i: ledger_row(book.ledger[book.ledger_pos[i]]) for i in ids}


def balance(book: Book) -> dict[str, str]:
    """POST /0/private/Balance: every asset the ledger ever touched, zero balances included."""
    return {a: book.history.asset(a).fmt(v) for a, v in book.balances.items()}


def balance_ex(book: Book) -> dict[str, dict[str, str]]:
    """POST /0/private/BalanceEx (what ccxt's fetch_balance asks): nothing held in open orders or on credit."""
    out: dict[str, dict[str, str]] = {}
    for a, v in book.balances.items():
        zero = book.history.asset(a).fmt(Decimal(0))
        out[a] = {"balance": book.history.asset(a).fmt(v), "credit": zero, "credit_used": zero, "hold_trade": zero}
    return out


def _transfers(book: Book, form: Form, view: KeyView, records: tuple[KrakenTransfer, ...]) -> list[dict[str, object]]:
    wanted = book.asset_ids(form)
    method = form.text("method")
    start, end = (seconds_to_t4(form.text(k) or "") for k in ("start", "end"))
    if (form.text("start") and start is None) or (form.text("end") and end is None):
        raise KrakenError(INVALID_ARGUMENTS)
    rows: list[dict[str, object]] = []
    for r in reversed(records):  # newest first
        second = r.time // 10_000
        if ((wanted is not None and r.asset not in wanted) or (method is not None and r.method != method)
                or (start is not None and second * 10_000 < start) or (end is not None and second * 10_000 > end)
                or not _visible(view, r.time)):
            continue
        row: dict[str, object] = {"method": r.method, "aclass": "currency", "asset": r.asset, "refid": r.refid,
                                  "txid": r.txid, "info": r.info, "amount": r.amount, "fee": r.fee, "time": second,
                                  "status": r.status}
        if r.kind == "withdrawal":
            row["key"] = r.key
            if r.network:
                row["network"] = r.network
        rows.append(row)
    return rows


def deposit_status(book: Book, form: Form, view: KeyView) -> list[dict[str, object]]:
    """POST /0/private/DepositStatus (``asset``, ``method``, ``start`` / ``end`` inclusive)."""
    return _transfers(book, form, view, book.history.deposits)


def withdraw_status(book: Book, form: Form, view: KeyView) -> list[dict[str, object]]:
    """POST /0/private/WithdrawStatus (``asset``, ``method``, ``start`` / ``end`` inclusive)."""
    return _transfers(book, form, view, book.history.withdrawals)


def api_key_info(key: SimKey, permissions: list[str], iban: str, nonce: int, now_s: int) -> dict[str, object]:
    """POST /0/private/GetApiKeyInfo for the calling key (``lastUsed`` is this very call, as on Kraken)."""
    created = key.created_ms // 1000
    return {
        "apiKeyName": key.name or f"sim-{key.api_key[:6]}", "apiKey": key.api_key, "nonce": str(nonce),
        "nonceWindow": key.nonce_window, "permissions": permissions, "iban": iban,
        "validUntil": str(key.valid_until_s), "queryFrom": str(key.query_from_s), "queryTo": str(key.query_to_s),
        "createdTime": str(created), "modifiedTime": str(created), "ipAllowlist": list(key.ip_allowlist),
        "lastUsed": str(now_s),
    }
