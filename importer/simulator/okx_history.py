"""A user's (synthetic) OKX history: spot instruments, fills, trading-account bills, deposits and withdrawals.

OKX keeps two accounts per user (OKX API v5 docs, "Overview > Account mode" and "Funding account"): deposits land
in the *funding* account and withdrawals leave from it; spot trading happens in the *trading* account. A
transfer between them is a bill of type ``1`` in the trading account ("Get bills details": ``from``/``to`` ``6``
funding, ``18`` trading). Each fill books two trading-account bills (type ``2``, subType ``1`` buy / ``2``
sell): one per currency. The fee is charged in the currency received and is *inside* that bill's ``balChg``
(the docs' example: ``sz`` 0.021955779, ``fee`` -0.000021955779, ``balChg`` 0.021933823221); a negative
``fee`` is a charge, a positive one a rebate. Auto-lend interest is a bill of subType ``381`` ("Auto lend
interest transfer in"), type ``381`` (the docs' ``earnAmt`` "only applicable when type is 381").

Records keep OKX's shapes: ids and amounts are decimal strings (never floats), times are int ms. ``row()``
gives exactly what the REST endpoint returns. The retention rules the simulator applies (what the API still
serves, relative to now) are in ``RETENTION_MS``; ``expected_totals`` says what a complete import through the
API must add up to, per ccxt unified currency code.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property
from typing import Any

DAY_MS = 86_400_000
# What each history endpoint still serves, counted back from now (None = no limit documented):
# "Get transaction details (last 3 days)" / "(last 3 months)", "Get bills details (last 7 days)" /
# "(last 3 months)"; "Get deposit history" / "Get withdrawal history" document no retention. Three months is
# taken as 90 days.
RETENTION_MS: dict[str, int | None] = {
    "fills": 3 * DAY_MS, "fills-history": 90 * DAY_MS, "bills": 7 * DAY_MS, "bills-archive": 90 * DAY_MS,
    "deposit-history": None, "withdrawal-history": None,
}
FUNDING, TRADING = "6", "18"
CREDITED_DEPOSIT = frozenset({"2"})  # "Deposit successful" (1 "credited" is not yet withdrawable; ccxt: pending)
DEBITED_WITHDRAWAL = frozenset({"2"})  # "Success"; -2 canceled / -1 failed never left
COMMON_CURRENCIES = {"AE": "AET"}  # ccxt.okx commonCurrencies: OKX id -> ccxt unified code


def ccxt_code(ccy: str) -> str:
    """The ccxt unified code of an OKX currency id."""
    return COMMON_CURRENCIES.get(ccy, ccy)


def plain(value: Decimal) -> str:
    """OKX's number text: no exponent, no trailing zeros ("0.1", "67.84", "-0.0001", "100")."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


@dataclass(frozen=True, slots=True)
class OkxInstrument:
    """One SPOT instrument of GET /api/v5/public/instruments."""

    inst_id: str  # "BTC-USDT"
    base: str
    quote: str
    tick_sz: str
    lot_sz: str
    min_sz: str
    list_time: int
    state: str = "live"

    def row(self) -> dict[str, Any]:
        return {"alias": "", "auctionEndTime": "", "baseCcy": self.base, "category": "1", "ctMult": "",
                "ctType": "", "ctVal": "", "ctValCcy": "", "expTime": "", "instFamily": "", "instId": self.inst_id,
                "instType": "SPOT", "lever": "", "listTime": str(self.list_time), "lotSz": self.lot_sz,
                "maxIcebergSz": "9999999999", "maxLmtAmt": "20000000", "maxLmtSz": "9999999999",
                "maxMktAmt": "1000000", "maxMktSz": "", "maxStopSz": "", "maxTriggerSz": "9999999999",
                "maxTwapSz": "9999999999", "minSz": self.min_sz, "optType": "", "quoteCcy": self.quote,
                "ruleType": "normal", "settleCcy": "", "state": self.state, "stk": "", "tickSz": self.tick_sz,
                "uly": ""}


@dataclass(frozen=True, slots=True)
class OkxFill:
    """One row of GET /api/v5/trade/fills(-history); ``bill_id`` is the paging cursor, unique per account."""

    inst_id: str
    trade_id: str  # unique per instrument only
    ord_id: str
    bill_id: int
    side: str  # buy | sell
    fill_px: str
    fill_sz: str
    fee: str  # negative = charged, in fee_ccy (the currency received)
    fee_ccy: str
    exec_type: str  # T taker | M maker
    ts: int

    def row(self) -> dict[str, Any]:
        return {"side": self.side, "fillSz": self.fill_sz, "fillPx": self.fill_px, "fillPxVol": "", "fillFwdPx": "",
                "fee": self.fee, "fillPnl": "0", "ordId": self.ord_id,
                "feeRate": "-0.001" if self.exec_type == "T" else "-0.0008", "instType": "SPOT", "fillPxUsd": "",
                "instId": self.inst_id, "clOrdId": "", "posSide": "net", "billId": str(self.bill_id),
                "subType": "1" if self.side == "buy" else "2", "fillMarkVol": "", "tag": "",
                "fillTime": str(self.ts - 1), "execType": self.exec_type, "fillIdxPx": "", "tradeId": self.trade_id,
                "fillMarkPx": "", "feeCcy": self.fee_ccy, "ts": str(self.ts)}


@dataclass(frozen=True, slots=True)
class OkxBill:
    """One row of GET /api/v5/account/bills(-archive): a change of one currency in the trading account."""

    bill_id: int
    ts: int
    ccy: str
    bal_chg: str  # the whole change, fee included
    bal: str  # the currency's trading-account balance after this bill
    type: str
    sub_type: str
    inst_id: str = ""
    ord_id: str = ""
    trade_id: str = ""
    fee: str = "0"
    sz: str = ""
    px: str = ""
    exec_type: str = ""
    from_account: str = ""
    to_account: str = ""
    earn_apr: str = ""

    def row(self) -> dict[str, Any]:
        trade = self.type == "2"
        return {"bal": self.bal, "balChg": self.bal_chg, "billId": str(self.bill_id), "ccy": self.ccy,
                "clOrdId": "", "earnAmt": self.bal_chg if self.type == "381" else "", "earnApr": self.earn_apr,
                "execType": self.exec_type, "fee": self.fee, "fillFwdPx": "", "fillIdxPx": "", "fillMarkPx": "",
                "fillMarkVol": "", "fillPxUsd": "", "fillPxVol": "", "fillTime": str(self.ts - 1) if trade else "",
                "from": self.from_account, "instId": self.inst_id, "instType": "SPOT" if trade else "",
                "interest": "0", "mgnMode": "cash" if trade else "", "notes": "", "ordId": self.ord_id,
                "pnl": "0", "posBal": "0", "posBalChg": "0", "px": self.px, "subType": self.sub_type,
                "sz": self.sz or self.bal_chg.lstrip("-"), "tag": "", "to": self.to_account,
                "tradeId": self.trade_id, "ts": str(self.ts), "type": self.type}


@dataclass(frozen=True, slots=True)
class OkxDeposit:
    """One row of GET /api/v5/asset/deposit-history."""

    dep_id: str
    ccy: str
    chain: str  # "USDT-TRC20"
    amt: str
    to: str  # the on-chain deposit address
    tx_id: str
    ts: int
    state: str

    def row(self) -> dict[str, Any]:
        return {"actualDepBlkConfirm": "17" if self.state != "0" else "1", "amt": self.amt, "areaCodeFrom": "",
                "ccy": self.ccy, "chain": self.chain, "depId": self.dep_id, "from": "", "fromWdId": "",
                "state": self.state, "to": self.to, "ts": str(self.ts), "txId": self.tx_id}


@dataclass(frozen=True, slots=True)
class OkxWithdrawal:
    """One row of GET /api/v5/asset/withdrawal-history; ``fee`` is charged on top of ``amt``."""

    wd_id: str
    ccy: str
    chain: str
    amt: str
    fee: str
    to: str
    tx_id: str
    ts: int
    state: str

    def row(self) -> dict[str, Any]:
        return {"chain": self.chain, "areaCodeFrom": "", "clientId": "", "fee": self.fee, "amt": self.amt,
                "txId": self.tx_id, "areaCodeTo": "", "ccy": self.ccy, "from": "", "to": self.to,
                "state": self.state, "nonTradableAsset": False, "ts": str(self.ts), "wdId": self.wd_id,
                "feeCcy": self.ccy, "toAddrType": "1", "note": "", "tag": "", "pmtId": "", "memo": ""}


@dataclass(frozen=True, slots=True)
class OkxActivity:
    """New records for a running simulator (``OkxSimulator.add_activity``); a deposit or withdrawal with the id
    of an existing one replaces it (a pending movement becoming final)."""

    fills: tuple[OkxFill, ...] = ()
    bills: tuple[OkxBill, ...] = ()
    deposits: tuple[OkxDeposit, ...] = ()
    withdrawals: tuple[OkxWithdrawal, ...] = ()


@dataclass(frozen=True)
class OkxHistory:
    instruments: tuple[OkxInstrument, ...]
    fills: tuple[OkxFill, ...]  # ascending bill_id (= time order)
    bills: tuple[OkxBill, ...]  # ascending bill_id
    deposits: tuple[OkxDeposit, ...]  # ascending ts
    withdrawals: tuple[OkxWithdrawal, ...]  # ascending ts
    start_ms: int
    end_ms: int
    seed: int = 1
    uid: str = "448721093451987002"
    chains: dict[str, str] = field(default_factory=dict)  # ccy -> chain id ("USDT-TRC20")
    price_shift_ms: int = 0  # prices.pair_price(base, quote, t + price_shift_ms, seed) is the market at t

    @cached_property
    def instrument_by_id(self) -> dict[str, OkxInstrument]:
        return {i.inst_id: i for i in self.instruments}

    def currencies(self) -> list[str]:
        names = {c for i in self.instruments for c in (i.base, i.quote)}
        names.update(d.ccy for d in self.deposits)
        names.update(w.ccy for w in self.withdrawals)
        names.update(b.ccy for b in self.bills)
        return sorted(names)

    def trading_balances(self) -> dict[str, Decimal]:
        """Exact trading-account balance per currency: the sum of every bill (what GET account/balance shows)."""
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for bill in self.bills:
            totals[bill.ccy] += Decimal(bill.bal_chg)
        return dict(totals)

    def funding_balances(self) -> dict[str, Decimal]:
        """Funding account: credited deposits, minus transfers to trading, plus transfers back, minus withdrawals."""
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for d in self.deposits:
            if d.state in CREDITED_DEPOSIT:
                totals[d.ccy] += Decimal(d.amt)
        for w in self.withdrawals:
            if w.state in DEBITED_WITHDRAWAL:
                totals[w.ccy] -= Decimal(w.amt) + Decimal(w.fee)
        for bill in self.bills:
            if bill.type == "1":
                totals[bill.ccy] -= Decimal(bill.bal_chg)
        return dict(totals)

    def visible(self, stream: str, now_ms: int) -> int:
        """The oldest ``ts`` an endpoint still serves at ``now_ms`` (0 = everything)."""
        keep = RETENTION_MS[stream]
        return 0 if keep is None else now_ms - keep

    def expected_totals(self, now_ms: int, *, income: bool = True) -> dict[str, Decimal]:
        """Per ccxt code, what a complete API import adds up to at ``now_ms``: successful deposits, successful
        withdrawals with their fees, fills still served by fills-history, and (``income``) auto-lend interest
        still served by bills-archive. Zero totals are left out."""
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for d in self.deposits:
            if d.state in CREDITED_DEPOSIT:
                totals[ccxt_code(d.ccy)] += Decimal(d.amt)
        for w in self.withdrawals:
            if w.state in DEBITED_WITHDRAWAL:
                totals[ccxt_code(w.ccy)] -= Decimal(w.amt) + Decimal(w.fee)
        oldest_fill = self.visible("fills-history", now_ms)
        for f in self.fills:
            if f.ts >= oldest_fill:
                for ccy, delta in fill_effects(f, self.instrument_by_id[f.inst_id]):
                    totals[ccxt_code(ccy)] += delta
        if income:
            oldest_bill = self.visible("bills-archive", now_ms)
            for bill in self.income_bills():
                if bill.ts >= oldest_bill:
                    totals[ccxt_code(bill.ccy)] += Decimal(bill.bal_chg)
        return {code: value for code, value in totals.items() if value}

    def income_bills(self) -> list[OkxBill]:
        return [b for b in self.bills if b.sub_type == "381"]

    def with_added(self, activity: OkxActivity) -> OkxHistory:
        """A new history with ``activity`` merged in (same-id deposits/withdrawals replaced); ``end_ms`` grows."""
        known = {b.bill_id for b in self.bills} | {f.bill_id for f in self.fills}
        clash = [b.bill_id for b in activity.bills if b.bill_id in known]
        if clash:
            raise ValueError(f"bill ids already used: {clash[:5]}")
        deposits = {d.dep_id: d for d in (*self.deposits, *activity.deposits)}
        withdrawals = {w.wd_id: w for w in (*self.withdrawals, *activity.withdrawals)}
        times = [*(f.ts for f in activity.fills), *(b.ts for b in activity.bills),
                 *(d.ts for d in activity.deposits), *(w.ts for w in activity.withdrawals)]
        return replace(
            self,
            fills=tuple(sorted((*self.fills, *activity.fills), key=lambda f: f.bill_id)),
            bills=tuple(sorted((*self.bills, *activity.bills), key=lambda b: b.bill_id)),
            deposits=tuple(sorted(deposits.values(), key=lambda d: (d.ts, int(d.dep_id)))),
            withdrawals=tuple(sorted(withdrawals.values(), key=lambda w: (w.ts, int(w.wd_id)))),
            end_ms=max([self.end_ms, *times]),
        )


def fill_effects(fill: OkxFill, instrument: OkxInstrument) -> list[tuple[str, Decimal]]:
    """The fill's balance changes: base and quote legs; the (negative) fee is inside the received leg."""
    size, price, fee = Decimal(fill.fill_sz), Decimal(fill.fill_px), Decimal(fill.fee)
    if fill.side == "buy":
        return [(instrument.base, size + (fee if fill.fee_ccy == instrument.base else 0)),
                (instrument.quote, -size * price + (fee if fill.fee_ccy == instrument.quote else 0))]
    return [(instrument.base, -size + (fee if fill.fee_ccy == instrument.base else 0)),
            (instrument.quote, size * price + (fee if fill.fee_ccy == instrument.quote else 0))]


def generate_okx_history(*, seed: int = 1, trades: int = 600, days: int = 150, deposits: int = 12,
                         withdrawals: int = 4, interest: int = 20, instruments: int = 12, traded: int = 4,
                         end_ms: int | None = None) -> OkxHistory:
    """A deterministic, self-consistent OKX history of ``days`` days ending at ``end_ms`` (default: now, to the
    minute, because what OKX serves depends on the present), its last minute left empty. ``trades`` fills (fewer
    when an order finds nothing to spend), ``interest`` auto-lend interest bills. Amounts depend on ``seed`` only;
    ``end_ms`` shifts the timestamps. No event falls within a few hours of the 3-day, 7-day and 90-day retention
    marks, so a test computing what is visible "now" gets the same answer as the simulator for hours.
    """
    from importer.simulator.okx_generator import build_history

    return build_history(seed=seed, trades=trades, days=days, deposits=deposits, withdrawals=withdrawals,
                         interest=interest, instruments=instruments, traded=traded, end_ms=end_ms)


def generate_okx_activity(history: OkxHistory, *, seed: int = 2, trades: int = 10, deposits: int = 1,
                          withdrawals: int = 0, interest: int = 1, end_ms: int | None = None) -> OkxActivity:
    """New records after the history's last record (up to ``end_ms``, default now) that continue its ids and
    balances; feed them to ``OkxSimulator.add_activity``."""
    from importer.simulator.okx_generator import continue_history

    return continue_history(history, seed=seed, trades=trades, deposits=deposits, withdrawals=withdrawals,
                            interest=interest, end_ms=end_ms)
