"""The simulated OKX REST endpoints, answered from an ``OkxHistory`` at the simulator's present time.

Each function returns the ``data`` list of OKX's envelope (or raises ``OkxError``). Retention is enforced the
way OKX documents it (``okx_history.RETENTION_MS``): ``trade/fills`` serves the last 3 days and
``trade/fills-history`` the last 3 months ("Get transaction details (last 3 days)" / "(last 3 months)");
``account/bills`` 7 days and ``account/bills-archive`` 3 months ("Get bills details (last 7 days)" / "(last 3
months)"); deposit and withdrawal history have no documented limit. ``fills-history`` requires ``instType``
(its docs: "Required: Yes"); only SPOT instruments exist here, so other types answer an empty list.
Candles ("Get candlesticks" / "Get candlesticks history") come from the same price path as the fills:
``candles`` holds the latest 1440 bars, ``history-candles`` everything since listing; daily and longer bars
without the ``utc`` suffix open at Hong Kong midnight (UTC+8).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from importer.simulator.okx_api import OkxError, Query, newest_first, param_error
from importer.simulator.okx_generator import CHAINS
from importer.simulator.okx_history import OkxBill, OkxHistory, OkxInstrument, plain
from importer.simulator.prices import _OCTAVES, market_rules, pair_price
from importer.simulator.server import SimKey

HOUR_MS, DAY_MS = 3_600_000, 86_400_000
BARS: dict[str, int] = {"1m": 60_000, "3m": 180_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000,
                        "1H": HOUR_MS, "2H": 2 * HOUR_MS, "4H": 4 * HOUR_MS, "6H": 6 * HOUR_MS, "12H": 12 * HOUR_MS,
                        "1D": DAY_MS, "1W": 7 * DAY_MS}
BARS.update({f"{bar}utc": BARS[bar] for bar in ("6H", "12H", "1D", "1W")})
RECENT_BARS = 1440
KINK_MS = min(scale for scale, _ in _OCTAVES)  # prices: anchors of the finest octave


def unknown_instrument() -> OkxError:
    return OkxError(400, "51001", "Instrument ID does not exist")


# -- public ------------------------------------------------------------------------------------------------
def instruments(history: OkxHistory, q: Query) -> list[dict[str, Any]]:
    inst_type = q.inst_type(required=True)
    wanted = q.text("instId")
    if inst_type != "SPOT":
        return []
    return [i.row() for i in history.instruments if wanted in (None, i.inst_id)]


def _bar_open(t: int, bar: str) -> int:
    size = BARS[bar]
    offset = 4 * DAY_MS if bar.startswith("1W") else 0  # weeks open on Monday; 1970-01-01 was a Thursday
    if size >= 6 * HOUR_MS and not bar.endswith("utc"):
        offset -= 8 * HOUR_MS  # Hong Kong time
    return t - (t - offset) % size


def _price(history: OkxHistory, inst: OkxInstrument, t: int) -> Decimal:
    raw = pair_price(inst.base, inst.quote, t + history.price_shift_ms, history.seed)
    return market_rules(inst.base, inst.quote).price(raw)


def _candle(history: OkxHistory, inst: OkxInstrument, start: int, size: int, now: int) -> list[str]:
    """One bar; the price path is linear between anchors ``KINK_MS`` apart, so its extremes are at the bar's ends
    or at an anchor inside it, and every fill of the bar lies within its low and high."""
    close_at = min(start + size, now)
    shift = history.price_shift_ms
    first_kink = (start + shift) // KINK_MS * KINK_MS + KINK_MS - shift
    kinks = range(first_kink, close_at, KINK_MS)[:600]
    times = [start, *kinks, close_at]
    points = [_price(history, inst, t) for t in times]
    points = [points[0], max(points), min(points), points[-1]]
    digest = hashlib.blake2b(f"{history.seed}:{inst.inst_id}:{start}:{size}".encode(), digest_size=4).digest()
    volume = Decimal(int.from_bytes(digest, "big") % 5000 + 1) * Decimal(inst.lot_sz) * 100
    return [str(start), plain(points[0]), plain(points[1]), plain(points[2]), plain(points[3]), plain(volume),
            plain(volume), plain(volume * points[-1]), "1" if start + size <= now else "0"]


def candles(history: OkxHistory, q: Query, now: int, *, recent: bool) -> list[list[str]]:
    inst = history.instrument_by_id.get(q.required("instId"))
    if inst is None:
        raise unknown_instrument()
    bar = q.text("bar") or "1m"
    if bar not in BARS:
        raise param_error("bar")
    size, limit = BARS[bar], q.limit(maximum=300, default=100)
    after, before = q.integer("after"), q.integer("before")
    newest = _bar_open(now, bar)
    oldest = max(_bar_open(inst.list_time, bar), newest - (RECENT_BARS - 1) * size if recent else 0)
    top = min(newest, _bar_open(after - 1, bar)) if after is not None else newest
    bottom = max(oldest, _bar_open(before, bar) + size if before is not None else oldest)
    opens = range(top, bottom - 1, -size)
    if before is not None and after is None:  # adjacent to the cursor, newest first
        opens = range(min(top, bottom + (limit - 1) * size), bottom - 1, -size)
    return [_candle(history, inst, t, size, now) for t in list(opens)[:limit]]


def currencies(history: OkxHistory, q: Query) -> list[dict[str, Any]]:
    wanted = q.choices("ccy")
    rows = []
    for ccy in history.currencies():
        if wanted is not None and ccy not in wanted:
            continue
        chain, fee = CHAINS.get(ccy, (f"{ccy}-{ccy}", "0.01"))
        rows.append({"canDep": True, "canInternal": True, "canWd": True, "ccy": ccy, "chain": chain,
                     "depQuotaFixed": "", "logoLink": "", "mainNet": True, "maxFee": plain(Decimal(fee) * 2),
                     "maxWd": "10000000", "minDep": "0.00000001", "minDepArrivalConfirm": "12", "minFee": fee,
                     "minWd": plain(Decimal(fee) * 2), "minWdUnlockConfirm": "12", "name": ccy, "needTag": False,
                     "usedWdQuota": "0", "wdQuota": "10000000", "wdTickSz": "8"})
    return rows


# -- private -----------------------------------------------------------------------------------------------
def perm(key: SimKey) -> str:
    """OKX's ``perm``: ``read_only`` always (every key can read), then ``withdraw`` and ``trade`` if granted."""
    return ",".join(["read_only"] + ["withdraw"] * key.can_withdraw + ["trade"] * key.can_trade)


def account_config(history: OkxHistory, key: SimKey) -> list[dict[str, Any]]:
    return [{"acctLv": "1", "acctStpMode": "cancel_maker", "autoLoan": False, "ctIsoMode": "automatic",
             "enableSpotBorrow": False, "greeksType": "PA", "feeType": "0", "ip": ",".join(key.ip_allowlist),
             "type": "0", "kycLv": "2", "label": key.name or "taxsync read-only", "level": "Lv1", "levelTmp": "",
             "liquidationGear": "-1", "mainUid": history.uid, "mgnIsoMode": "automatic", "opAuth": "0",
             "perm": perm(key), "posMode": "net_mode", "roleType": "0", "spotBorrowAutoRepay": False,
             "spotOffsetType": "", "spotRoleType": "0", "spotTraderInsts": [], "traderInsts": [], "uid": history.uid,
             "settleCcy": "USDT", "settleCcyList": ["USD", "USDC", "USDG"]}]


def account_balance(history: OkxHistory, q: Query, now: int) -> list[dict[str, Any]]:
    wanted = q.choices("ccy")
    details = [{"accAvgPx": "", "availBal": plain(bal), "availEq": plain(bal), "borrowFroz": "", "cashBal": plain(bal),
                "ccy": ccy, "crossLiab": "", "disEq": "", "eq": plain(bal), "eqUsd": "", "fixedBal": "0",
                "frozenBal": "0", "imr": "", "interest": "", "isoEq": "", "isoLiab": "", "liab": "", "maxLoan": "",
                "mgnRatio": "", "mmr": "", "notionalLever": "", "ordFrozen": "0", "spotBal": plain(bal),
                "spotInUseAmt": "", "stgyEq": "0", "twap": "0", "uTime": str(now), "upl": "", "uplLiab": ""}
               for ccy, bal in sorted(history.trading_balances().items())
               if bal and (wanted is None or ccy in wanted)]
    return [{"adjEq": "", "borrowFroz": "", "details": details, "imr": "", "isoEq": "0", "mgnRatio": "", "mmr": "",
             "notionalUsd": "", "ordFroz": "", "totalEq": "", "uTime": str(now), "upl": ""}]


def asset_balances(history: OkxHistory, q: Query) -> list[dict[str, Any]]:
    wanted = q.choices("ccy")
    return [{"availBal": plain(bal), "bal": plain(bal), "ccy": ccy, "frozenBal": "0"}
            for ccy, bal in sorted(history.funding_balances().items()) if bal and (wanted is None or ccy in wanted)]


def fills(history: OkxHistory, q: Query, now: int, *, archive: bool) -> list[dict[str, Any]]:
    inst_type = q.inst_type(required=archive)
    inst_id, ord_id = q.text("instId"), q.text("ordId")
    if inst_id is not None and inst_id not in history.instrument_by_id:
        raise unknown_instrument()
    if inst_type not in (None, "SPOT"):
        return []
    rows = [f for f in history.fills if inst_id in (None, f.inst_id) and ord_id in (None, f.ord_id)]
    oldest = history.visible("fills-history" if archive else "fills", now)
    page = newest_first(rows, lambda f: f.bill_id, q, time_of=lambda f: f.ts, oldest=oldest, limit=q.limit())
    return [f.row() for f in page]


def _field_is(attr: str, value: str) -> Callable[[OkxBill], bool]:
    return lambda bill: bool(getattr(bill, attr) == value)


def bills(history: OkxHistory, q: Query, now: int, *, archive: bool) -> list[dict[str, Any]]:
    inst_type = q.inst_type(required=False)
    if inst_type not in (None, "SPOT"):
        return []
    ccys = q.choices("ccy")
    tests: list[Callable[[OkxBill], bool]] = [_field_is("type", "2")] if inst_type == "SPOT" else []
    for name, attr in (("type", "type"), ("subType", "sub_type"), ("instId", "inst_id")):
        if (value := q.text(name)) is not None:
            tests.append(_field_is(attr, value))
    rows = [b for b in history.bills if (ccys is None or b.ccy in ccys) and all(t(b) for t in tests)]
    oldest = history.visible("bills-archive" if archive else "bills", now)
    page = newest_first(rows, lambda b: b.bill_id, q, time_of=lambda b: b.ts, oldest=oldest, limit=q.limit())
    return [b.row() for b in page]


def _movements(rows: list[Any], q: Query, id_field: str) -> list[dict[str, Any]]:
    ccys, wanted_id, tx_id, state = q.choices("ccy"), q.text(id_field), q.text("txId"), q.text("state")
    kind = q.text("type")
    if kind not in (None, "3", "4"):
        raise param_error("type")
    selected = [r for r in rows if (ccys is None or r.ccy in ccys) and tx_id in (None, r.tx_id)
                and state in (None, r.state) and kind != "3"
                and wanted_id in (None, getattr(r, "dep_id" if id_field == "depId" else "wd_id"))]
    page = newest_first(selected, lambda r: r.ts, q, time_of=lambda r: r.ts, limit=q.limit(), time_filter=False)
    return [r.row() for r in page]


def deposit_history(history: OkxHistory, q: Query) -> list[dict[str, Any]]:
    return _movements(list(history.deposits), q, "depId")


def withdrawal_history(history: OkxHistory, q: Query) -> list[dict[str, Any]]:
    return _movements(list(history.withdrawals), q, "wdId")
