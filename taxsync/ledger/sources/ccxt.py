"""ccxt's unified trades, deposits/withdrawals and ledger entries into ledger transactions.

A payload is one ccxt unified structure, stored verbatim: a Trade, a Transaction or a LedgerEntry (with ``info``,
the exchange's raw row) made with ``exchange.number = str``, plus ``exchange`` (the ccxt id) and ``kind``. Every
amount is therefore the exchange's own decimal text. A float is refused (``FieldError``): it has been through
binary and may no longer be the exchange's amount. An int is taken as it is (ccxt writes some zeros as ``0``).

Trades (``ccxt-trade``): only spot. ``BASE/QUOTE`` buy: IN base ``amount``, OUT quote ``cost``. Sell: OUT base,
IN quote. Without ``cost``, cost = amount * price, exact. Derivatives (a settle currency after ``:`` in the
symbol, a bybit execution other than ``Trade`` such as ``Funding``) are not imported yet: no transaction, a
warning. Fees come from ``fees`` if it has entries, else from ``fee``. Each positive cost is a FEE leg in its
currency, paid on top of ``amount`` and ``cost``: ccxt's trade amount and cost exclude the fee. A negative cost
is a rebate. It is netted into the trade's leg of the same asset, which keeps the balance exact and the
valuation sound. A rebate in a third asset is left out, with a warning: one trade cannot value it.

Deposits and withdrawals (``ccxt-transaction``): ``ok`` is booked. ``failed`` and ``canceled`` moved nothing
and give nothing. ``pending``, or no status, gives nothing yet, with an info problem: the importer fetches the
record again and stores it once final. A deposit is an IN leg of ``amount``. A withdrawal is an OUT leg of what
was sent plus a FEE leg. The OUT leg is what went out, so it can be matched with the deposit on the other side.
Internal transfers (``internal``) are deposits and withdrawals too. ``txid`` is the hash. Network, address and
tag go into the description. ccxt's manual says a transaction's ``amount`` "does not include the fee", so the
balance falls by amount + fee. Where an exchange's amount already includes the fee,
``WITHDRAWAL_AMOUNT_INCLUDES_FEE`` says so, with a citation, and the OUT leg becomes amount - fee.

Ledger entries (``ccxt-ledger``): by the unified ``type``, lower-cased. ``trade``, ``transaction``,
``transfer``, ``deposit`` and ``withdrawal`` give nothing: the trade and transaction streams book them, and booking
them here too would count them twice. Income types (``INCOME_TYPES``) credited ("in") are INCOME. Debited ("out")
they are a warning and nothing else. A debited ``fee`` is a SPEND of a FEE leg. A credited one is a rebate,
booked as reward income with a note. Any other type gives nothing and an UNKNOWN_LABEL warning that names it.
An entry's fee is a FEE leg, paid on top of ``amount`` unless ``LEDGER_AMOUNT_INCLUDES_FEE`` says otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from taxsync.ledger.records import Leg, Transaction, TxKind
from taxsync.ledger.sources.base import FieldError, Normalized
from taxsync.parsing import parse_decimal
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.types import Asset, Role, TimestampMs

Payload = Mapping[str, Any]
ZERO = Decimal(0)


def _never(payload: Payload) -> bool:
    return False


def _coinbase_send_is_gross(payload: Payload) -> bool:
    """Coinbase v2 ``send``: ccxt uses ``network.transaction_amount`` (what was sent) when the row has it, else the
    account's ``amount``, which includes the network fee. The sample in ccxt/coinbase.py ``parse_transaction`` has
    amount -14.008308 = transaction_amount 10 + transaction_fee 4.008308."""
    info = payload.get("info")
    if not isinstance(info, Mapping) or info.get("type") != "send":
        return False
    network = info.get("network")
    return not (isinstance(network, Mapping) and network.get("transaction_amount"))


# Does ccxt's withdrawal ``amount`` already include ``fee``? The ccxt manual's Transaction structure says no:
# "amount ... (does not include the fee)". Checked per exchange (ccxt 4.5.90 sources and the exchanges' docs):
WITHDRAWAL_AMOUNT_INCLUDES_FEE: dict[str, Callable[[Payload], bool]] = {
    # GET /sapi/v1/capital/withdraw/history: `amount` and `transactionFee` are separate fields. The fiat sample
    # in ccxt/binance.py parse_transaction has indicatedAmount 29.99 = amount 28.49 + totalFee 1.50.
    "binance": _never,
    # WithdrawStatus `amount` and `fee`, booked like Kraken's ledger (balance = before + amount - fee). The
    # sample in ccxt/kraken.py parse_transaction has amount 9.995 and fee 0.005.
    "kraken": _never,
    # POST /api/v5/asset/withdrawal: "Withdrawal fee is not included in withdrawal amount". History has `amt`, `fee`.
    "okx": _never,
    # /v5/asset/withdraw/query-record: `amount` and `withdrawFee` are separate fields.
    "bybit": _never,
    "coinbase": _coinbase_send_is_gross,
}
# Does a ledger entry's ``amount`` already include its ``fee``? Kraken: no (Ledgers: balance = before + amount -
# fee). OKX bills `balChg` and bybit transaction-log `change` are the whole balance change, so yes. Coinbase v2
# transactions: `amount` is the wallet's balance change ("positive (credit) or negative (debit)"); a send's amount
# is network.transaction_amount + network.transaction_fee (ccxt/coinbase.py sample: -14.008308 = 10 + 4.008308).
LEDGER_AMOUNT_INCLUDES_FEE: frozenset[str] = frozenset({"okx", "bybit", "coinbase"})

COVERED_TYPES = frozenset({"trade", "transaction", "transfer", "deposit", "withdrawal"})
# Unified ledger type -> income subkind. Kraken's parse_ledger_entry_type passes its own types through unchanged,
# so ``staking``, ``earn`` and ``dividend`` arrive as they are. Kraken ``earn`` is income only for subtype reward.
INCOME_TYPES: dict[str, str] = {
    "staking": "staking", "earn": "staking", "interest": "interest", "dividend": "interest",
    "reward": "reward", "rebate": "reward", "cashback": "reward", "referral": "reward", "prize": "reward",
    "bonus": "reward", "airdrop": "airdrop",
}
KRAKEN_EARN_MOVES = frozenset({"allocation", "deallocation", "autoallocation", "migration"})  # own wallets
DERIVATIVE_TYPES = frozenset({"margin", "settlement", "rollover"})
# Exchanges whose ledger is the import's source of deposits and withdrawals (importer/adapters/kraken.py): there
# the ledger's movements are booked, not skipped.
LEDGER_BOOKS_MOVEMENTS = frozenset({"kraken"})
MOVEMENT_TYPES = frozenset({"transaction", "deposit", "withdrawal"})
# Bybit transaction-log types (v5 "Get Transaction Log", enum "type" for UTA) by the raw ``info.type``: ccxt's
# parse_ledger_entry_type maps them loosely. INTEREST (interest paid on a borrowed coin) becomes 'transaction' and
# would be skipped as a movement; AIRDRP passes through unknown; SETTLEMENT, DELIVERY, LIQUIDATION and
# CURRENCY_BUY/SELL (Convert swaps, which the execution list lacks) become 'trade' and would be skipped silently.
# The bybit adapter (importer/adapters/bybit.py) books spot fills from the execution list and keeps no spot TRADE rows.
_BYBIT_CONVERT = ("unsupported", "a Bybit Convert (or loan repayment) swap, which the trade history lacks, is not "
                                 "booked yet; import Bybit's convert history for it")
BYBIT_LOG_TYPES: dict[str, tuple[str, str]] = {
    "TRADE": ("skip", ""), "TRANSFER_IN": ("skip", ""), "TRANSFER_OUT": ("skip", ""),  # spot fills; own wallets
    "BONUS": ("income", "reward"), "FEE_REFUND": ("income", "reward"), "AIRDRP": ("income", "airdrop"),
    "INTEREST": ("fee", ""),
    "SETTLEMENT": ("unsupported", "a perpetual funding settlement (derivatives) is not supported yet"),
    "DELIVERY": ("unsupported", "a futures or options delivery (derivatives) is not supported yet"),
    "LIQUIDATION": ("unsupported", "a liquidation (derivatives or margin) is not supported yet"),
    "ADL": ("unsupported", "an auto-deleveraging (derivatives) is not supported yet"),
    "BONUS_RECOLLECT": ("unsupported", "an expired bonus taken back: reverse the bonus by hand if it was booked"),
    "CURRENCY_BUY": _BYBIT_CONVERT, "CURRENCY_SELL": _BYBIT_CONVERT,
}
# OKX trading-account bills ("Get bills details (last 3 months)"): ccxt names bill types 1-11 and passes the rest
# through as their number, so OKX income is told by the bill's subType: 381 "Auto lend interest transfer in".
OKX_INCOME_SUBTYPES: dict[str, str] = {"381": "interest"}
# Coinbase v2 transaction types (Coinbase App docs, Track APIs, "Transactions") by the raw ``info.type``: ccxt's
# parse_ledger_entry_type maps buy/sell to 'trade', send/fiat_*/exchange_*/pro_* to 'transaction' and passes the
# rest through. The coinbase adapter (importer/adapters/coinbase.py) imports trades from Advanced Trade fills and
# everything else from these per-wallet ledgers, so here movements are booked and fill rows skipped.
_CB_MOVE = ("movement", "")
_CB_NOT_A_TRADE = ("unsupported", "a Coinbase simple buy, sell or conversion is not in the Advanced Trade fills "
                                  "and each side is a separate wallet's entry, so it is not booked as a trade yet; "
                                  "import Coinbase's transaction-history report for it")
COINBASE_TYPES: dict[str, tuple[str, str]] = {
    "advanced_trade_fill": ("skip", ""),  # the fills (List Fills) book the trade, with its commission
    "send": _CB_MOVE, "receive": _CB_MOVE, "fiat_deposit": _CB_MOVE, "fiat_withdrawal": _CB_MOVE,
    "exchange_deposit": _CB_MOVE, "exchange_withdrawal": _CB_MOVE, "pro_deposit": _CB_MOVE,
    "pro_withdrawal": _CB_MOVE, "intx_deposit": _CB_MOVE, "intx_withdrawal": _CB_MOVE, "transfer": _CB_MOVE,
    "staking_reward": ("income", "staking"), "inflation_reward": ("income", "staking"),
    "interest": ("income", "interest"), "earn_payout": ("income", "reward"),
    "incentives_rewards_payout": ("income", "reward"), "subscription_rebate": ("income", "reward"),
    "staking_transfer": ("skip", ""), "unstaking_transfer": ("skip", ""),  # between the user's own wallets
    "buy": _CB_NOT_A_TRADE, "sell": _CB_NOT_A_TRADE, "trade": _CB_NOT_A_TRADE, "retail_simple_dust": _CB_NOT_A_TRADE,
    "derivatives_settlement": ("unsupported", "US futures settlements are derivatives, not supported yet"),
}


# -- strict readers ---------------------------------------------------------------------------------------------
def _decimal(value: Any, column: str) -> Decimal | None:
    """An exact decimal from ccxt's decimal text (or an int); a float or anything else is an unreadable field."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise FieldError(column, f"{value!r} is not a number")
    if isinstance(value, int):
        return Decimal(str(value))
    if isinstance(value, float):
        raise FieldError(column, f"{value!r} is a binary float, not the exchange's decimal text: the record was "
                                 "fetched without exchange.number = str; fetch it again")
    if isinstance(value, str):
        try:
            return parse_decimal(value)
        except ValueError as error:
            raise FieldError(column, str(error)) from None
    raise FieldError(column, f"{value!r} is not a number")


def _required(payload: Payload, key: str) -> Decimal:
    value = _decimal(payload.get(key), key)
    if value is None:
        raise FieldError(key, f"'{key}' is missing")
    return value


def _asset(value: Any, column: str) -> Asset:
    if not isinstance(value, str) or not value.strip():
        raise FieldError(column, f"{value!r} is not an asset code")
    return Asset(value.strip().upper())


# Kraken books staked and earning balances under their own codes (DOT.S staked, ETH2.S / ETH2 staked ether,
# .M opt-in rewards, .P parachain, .F flexible, .B bonded): the same token, so the same asset for tax.
KRAKEN_EARN_SUFFIX = re.compile(r"\.(S|M|P|F|B)$")
KRAKEN_ALIASES = {"ETH2": "ETH"}


def _kraken_asset(code: Asset) -> Asset:
    plain = KRAKEN_EARN_SUFFIX.sub("", code)
    return Asset(KRAKEN_ALIASES.get(plain, plain))


def _timestamp(payload: Payload) -> TimestampMs:
    value = payload.get("timestamp")
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError("timestamp", f"{value!r} is not a millisecond timestamp")
    return TimestampMs(value)


def _text(payload: Payload, key: str) -> str:
    value = payload.get(key)
    return "" if value is None else str(value)


def _exchange(payload: Payload, kind: str) -> str:
    if payload.get("kind", kind) != kind:
        raise FieldError("kind", f"'{payload.get('kind')}' is not a {kind} record")
    exchange = payload.get("exchange")
    if not isinstance(exchange, str) or not exchange:
        raise FieldError("exchange", "the ccxt exchange id is missing")
    return exchange


def _fees(payload: Payload, default_currency: Asset | None = None) -> list[tuple[Asset, Decimal]]:
    """(currency, cost) of every fee with a non-zero cost: ``fees`` when it has entries, else ``fee``."""
    listed = payload.get("fees")
    if isinstance(listed, list) and listed:
        entries = [(f"fees[{i}]", fee) for i, fee in enumerate(listed)]
    else:
        entries = [("fee", payload.get("fee"))]
    result = []
    for column, fee in entries:
        if fee is None:
            continue
        if not isinstance(fee, Mapping):
            raise FieldError(column, f"{fee!r} is not a fee structure")
        cost = _decimal(fee.get("cost"), f"{column}.cost")
        if not cost:
            continue
        currency = fee.get("currency")
        if currency is None and default_currency is not None:
            result.append((default_currency, cost))
        else:
            result.append((_asset(currency, f"{column}.currency"), cost))
    return result


def _problem(kind: ProblemKind, severity: Severity, message: str, ref: str) -> Normalized:
    return Normalized(None, (Problem(kind, severity, message, ref),))


# -- trades -----------------------------------------------------------------------------------------------------
def _derivative(exchange: str, payload: Payload, symbol: str) -> str:
    """Why this trade is a derivatives trade ("" when it is spot)."""
    info = payload.get("info") if isinstance(payload.get("info"), Mapping) else {}
    exec_type = info.get("execType")
    if exchange == "bybit" and exec_type not in (None, "", "Trade"):
        return f"its bybit execution type is '{exec_type}' (a derivatives settlement, not a spot trade)"
    if ":" in symbol:
        return f"'{symbol}' is a derivatives market (perpetual, future or option: its settle currency follows ':')"
    return ""


def normalize_ccxt_trade(payload: Payload, account: str, ref: str) -> Normalized:
    exchange = _exchange(payload, "trade")
    symbol, trade_id = _text(payload, "symbol"), _text(payload, "id")
    if reason := _derivative(exchange, payload, symbol):
        return _problem(ProblemKind.UNSUPPORTED, Severity.WARNING,
                        f"{exchange} trade {trade_id} not imported: {reason}. Derivatives are not supported yet, "
                        "so its profit or loss and funding are missing from the report", ref)
    parts = symbol.split("/")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise FieldError("symbol", f"'{symbol}' is not a spot symbol BASE/QUOTE")
    base, quote = _asset(parts[0], "symbol"), _asset(parts[1], "symbol")
    side = payload.get("side")
    if side not in ("buy", "sell"):
        raise FieldError("side", f"{side!r} is neither 'buy' nor 'sell'")
    timestamp = _timestamp(payload)
    amount = _required(payload, "amount")
    cost = _decimal(payload.get("cost"), "cost")
    if cost is None:
        cost = amount * _required(payload, "price")
    for column, value in (("amount", amount), ("cost", cost)):
        if value < 0:
            raise FieldError(column, f"'{payload.get(column)}' is negative: ccxt trade amounts are positive")

    sign = 1 if side == "buy" else -1
    moved = {base: sign * amount, quote: -sign * cost}
    fee_legs: list[Leg] = []
    notes: list[str] = []
    problems: list[Problem] = []
    for currency, fee in _fees(payload):
        if fee > 0:
            fee_legs.append(Leg(currency, -fee, Role.FEE))
        elif currency in moved:
            moved[currency] -= fee  # a rebate: more received or less paid
            notes.append(f"rebate {-fee} {currency} netted")
        else:
            problems.append(Problem(
                ProblemKind.UNSUPPORTED, Severity.WARNING,
                f"{exchange} trade {trade_id}: a fee rebate of {-fee} {currency} is not booked (a rebate in an asset "
                "the trade does not move cannot be valued with it); add it as income if it matters", ref))
    legs = [Leg(a, moved[a], Role.OUT) for a in moved if moved[a] < 0]
    legs += [Leg(a, moved[a], Role.IN) for a in moved if moved[a] > 0]
    order = _text(payload, "order")
    description = f"{exchange} trade {trade_id}" + (f" (order {order})" if order else "")
    if notes:
        description += "; " + "; ".join(notes)
    transaction = Transaction(ref=ref, account=account, timestamp=timestamp, kind=TxKind.TRADE,
                              legs=tuple(legs + fee_legs), description=description, exchange_id=trade_id)
    return Normalized(transaction, tuple(problems))


# -- deposits and withdrawals -----------------------------------------------------------------------------------
def _status(status: Any, what: str, ref: str) -> Normalized | None:
    """The result for a record that is not final (None when it is ``ok`` and should be booked)."""
    if status == "ok":
        return None
    if status in ("failed", "canceled", "expired"):
        return Normalized(None)
    if status in (None, "pending"):
        return _problem(ProblemKind.UNSUPPORTED, Severity.INFO,
                        f"{what} is pending, will be imported when complete", ref)
    return _problem(ProblemKind.UNKNOWN_LABEL, Severity.WARNING,
                    f"{what} has the status {status!r}, which is not one of ok, pending, failed, canceled: "
                    "not imported", ref)


def normalize_ccxt_transaction(payload: Payload, account: str, ref: str) -> Normalized:
    exchange = _exchange(payload, "transaction")
    kind = payload.get("type")
    if kind not in ("deposit", "withdrawal"):
        raise FieldError("type", f"{kind!r} is neither 'deposit' nor 'withdrawal'")
    record_id = _text(payload, "id")
    what = f"{exchange} {kind} {record_id}"
    if (not_final := _status(payload.get("status"), what, ref)) is not None:
        return not_final
    timestamp = _timestamp(payload)
    currency = _asset(payload.get("currency"), "currency")
    amount = _required(payload, "amount")
    if amount < 0:
        raise FieldError("amount", f"'{payload.get('amount')}' is negative: ccxt transaction amounts are positive")
    fees = [(asset, cost) for asset, cost in _fees(payload, currency) if cost > 0]
    fee_legs = [Leg(asset, -cost, Role.FEE) for asset, cost in fees]
    if kind == "deposit":
        main = Leg(currency, amount, Role.IN)
    else:
        sent = amount
        if WITHDRAWAL_AMOUNT_INCLUDES_FEE.get(exchange, _never)(payload):
            sent -= sum((cost for asset, cost in fees if asset == currency), ZERO)
            if sent < 0:
                raise FieldError("fee.cost", f"the fee is larger than the amount {amount} that includes it")
        main = Leg(currency, -sent, Role.OUT)
    txid = _text(payload, "txid")
    details = [f"network {payload['network']}" if payload.get("network") else "",
               f"address {payload['address']}" if payload.get("address") else "",
               f"tag {payload['tag']}" if payload.get("tag") else "",
               "internal transfer" if payload.get("internal") is True else ""]
    description = ", ".join([what, *filter(None, details)])
    transaction = Transaction(
        ref=ref, account=account, timestamp=timestamp,
        kind=TxKind.DEPOSIT if kind == "deposit" else TxKind.WITHDRAWAL,
        legs=tuple([main] if main.amount else []) + tuple(fee_legs),
        description=description, txhash="" if txid == record_id else txid, exchange_id=record_id,
    )
    return Normalized(transaction)


# -- ledger entries ---------------------------------------------------------------------------------------------
def _ledger_rule(exchange: str, kind: str, info: Mapping[str, Any]) -> tuple[str, str]:
    """(action, detail): ("skip", ""), ("income", subkind), ("fee", ""), ("unsupported" | "unknown", why)."""
    if exchange == "binance":
        return "unsupported", ("ccxt's binance ledger is the derivatives income history (futures, options, "
                               "portfolio margin); derivatives are not supported yet")
    if exchange == "coinbase":
        raw = str(info.get("type") or "")
        return COINBASE_TYPES.get(raw, ("unknown", f"Coinbase transaction type '{raw}' is not known"))
    if exchange == "bybit" and str(info.get("type") or "") in BYBIT_LOG_TYPES:
        if info.get("type") == "TRADE" and info.get("category") not in ("spot", "", None):
            return "unsupported", "the fee and PnL of a derivatives trade are not supported yet"
        return BYBIT_LOG_TYPES[str(info.get("type"))]
    if exchange == "okx" and str(info.get("type")) == "4":
        return "unsupported", ("OKX bill type 4 is an auto token conversion, which ccxt labels 'rebate': a "
                               "conversion, not income; import it as a trade")
    if exchange == "okx" and str(info.get("subType")) in OKX_INCOME_SUBTYPES:
        return "income", OKX_INCOME_SUBTYPES[str(info.get("subType"))]
    if exchange == "kraken" and kind == "earn":
        subtype = str(info.get("subtype") or "")
        if subtype in KRAKEN_EARN_MOVES:
            return "skip", ""
        if subtype != "reward":
            return "unknown", f"Kraken earn subtype '{subtype}' is not known"
    if exchange in LEDGER_BOOKS_MOVEMENTS and kind in MOVEMENT_TYPES:
        return "movement", ""
    if kind in COVERED_TYPES:
        return "skip", ""
    if kind in INCOME_TYPES:
        return "income", INCOME_TYPES[kind]
    if kind == "fee":
        return "fee", ""
    if kind in DERIVATIVE_TYPES:
        return "unsupported", f"'{kind}' entries belong to margin or derivatives trading, not supported yet"
    return "unknown", (f"ledger type '{kind}' is not known (known: {', '.join(sorted(INCOME_TYPES))}, fee; "
                       f"skipped as covered elsewhere: {', '.join(sorted(COVERED_TYPES))})")


def normalize_ccxt_ledger(payload: Payload, account: str, ref: str) -> Normalized:
    exchange = _exchange(payload, "ledger")
    raw_type = _text(payload, "type")
    kind = raw_type.strip().lower()
    entry_id = _text(payload, "id")
    what = f"{exchange} ledger entry {entry_id} ({raw_type or 'no type'})"
    if (not_final := _status(payload.get("status") or "ok", what, ref)) is not None:  # no status: booked
        return not_final
    info = payload.get("info") if isinstance(payload.get("info"), Mapping) else {}
    action, detail = _ledger_rule(exchange, kind, info)
    if action == "skip":
        return Normalized(None)
    if action in ("unsupported", "unknown"):
        problem_kind = ProblemKind.UNSUPPORTED if action == "unsupported" else ProblemKind.UNKNOWN_LABEL
        return _problem(problem_kind, Severity.WARNING, f"{what} not imported: {detail}", ref)

    timestamp = _timestamp(payload)
    currency = _asset(payload.get("currency"), "currency")
    if exchange == "kraken":
        currency = _kraken_asset(currency)
    amount = _required(payload, "amount")
    direction = payload.get("direction") or ("out" if amount < 0 else "in")
    if direction not in ("in", "out") or (amount < 0 and direction == "in"):
        raise FieldError("direction", f"{payload.get('direction')!r} does not fit the amount {amount}")
    amount = abs(amount)
    if action == "income" and direction == "out":
        return _problem(ProblemKind.UNSUPPORTED, Severity.WARNING,
                        f"{what} takes {amount} {currency} out, but its type is income: not imported; "
                        "check the entry on the exchange and add it by hand if it is a real cost", ref)
    fees = [(_kraken_asset(asset) if exchange == "kraken" else asset, cost)
            for asset, cost in _fees(payload, currency) if cost > 0]
    fee_legs = [Leg(asset, -cost, Role.FEE) for asset, cost in fees]
    if exchange in LEDGER_AMOUNT_INCLUDES_FEE:  # the fee is inside the balance change: split it out
        own_fee = sum((cost for asset, cost in fees if asset == currency), ZERO)
        amount += own_fee if direction == "in" else -own_fee
    problems: tuple[Problem, ...] = ()
    if action == "movement":
        tx_kind, subkind = (TxKind.DEPOSIT, "") if direction == "in" else (TxKind.WITHDRAWAL, "")
        legs = [Leg(currency, amount if direction == "in" else -amount, Role.IN if direction == "in" else Role.OUT)]
    elif action == "fee" and direction == "out":
        tx_kind, subkind, legs = TxKind.SPEND, "fee", [Leg(currency, -amount, Role.FEE)]
    else:
        tx_kind, subkind = TxKind.INCOME, detail or "reward"
        legs = [Leg(currency, amount, Role.IN)]
        if action == "fee":
            problems = (Problem(ProblemKind.UNSUPPORTED, Severity.INFO,
                                f"{what} credits {amount} {currency}: booked as a fee rebate (reward income)", ref),)
    reference = _text(payload, "referenceId")
    transaction = Transaction(
        ref=ref, account=account, timestamp=timestamp, kind=tx_kind, subkind=subkind, label=raw_type,
        legs=tuple(leg for leg in legs if leg.amount) + tuple(fee_legs),
        description=what + (f", reference {reference}" if reference else ""), exchange_id=entry_id,
    )
    return Normalized(transaction, problems)
