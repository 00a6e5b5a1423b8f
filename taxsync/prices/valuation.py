"""Value ledger transactions in the tax currency and turn them into tax-engine events.

Sources, in order: a leg in the tax currency is its own value; the other side of a trade in the tax currency
values the whole trade; a value the source states for the transaction (Koinly's Net Worth); then, through the
``Oracle`` (taxsync.prices.oracle): a side in another fiat currency at the ECB rate of the day, a stated value in
another fiat currency, a stablecoin side at its market price or at par, and a crypto side at its cached market
price (the user's prices, exchange candles of the asset in the tax currency or against USDT/USDC). Both legs of a
trade get the same value (proceeds of one = cost of the other). A fee in one of the transaction's assets takes
that asset's unit value, else its market price. Anything else has no value: a MISSING_PRICE problem says what
was tried and what to do, never a silent zero. Every valued leg records its source; the prices used are
returned for the report's appendix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from taxsync.ledger.records import GivenCost, Leg, Transaction, Transfer, TxKind
from taxsync.perf import collector_paused
from taxsync.prices.oracle import STABLECOINS, Oracle
from taxsync.prices.records import PricePoint
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.tax.records import Event, EventKind, ValuedLeg
from taxsync.types import Asset, Role, TimestampMs, to_datetime

# Enum members cost a class-attribute lookup each time: the per-leg loops use these names.
_IN, _OUT, _FEE = Role.IN, Role.OUT, Role.FEE
KINDS: dict[TxKind, EventKind] = {
    TxKind.TRADE: EventKind.TRADE,
    TxKind.DEPOSIT: EventKind.DEPOSIT,
    TxKind.WITHDRAWAL: EventKind.WITHDRAWAL,
    TxKind.INCOME: EventKind.INCOME,
    TxKind.SPEND: EventKind.SPEND,
    TxKind.GIFT_IN: EventKind.GIFT_IN,
    TxKind.GIFT_OUT: EventKind.GIFT_OUT,
    TxKind.LOSS: EventKind.LOSS,
    TxKind.INTERNAL: EventKind.INTERNAL,
}
# Kinds whose main legs need a value: a disposal's proceeds, an acquisition's cost, income.
NEEDS_VALUE = frozenset({TxKind.TRADE, TxKind.INCOME, TxKind.SPEND})
# Where a gift received is acquired at its market value (UK, CA, AU: jurisdictions.GIFTS_RECEIVED) it needs one too.
WITH_GIFTS = NEEDS_VALUE | {TxKind.GIFT_IN}


def _stated_value(tx: Transaction, currency: Asset) -> Decimal | None:
    """The transaction's value from its own tax-currency side (what was given, else what was received), else
    from the value its source states."""
    given = received = None
    for leg in tx.legs:
        if leg.asset == currency and leg.role is not _FEE:
            if leg.role is _OUT:
                given = (given or Decimal(0)) + abs(leg.amount)
            else:
                received = (received or Decimal(0)) + abs(leg.amount)
    if given is not None or received is not None:
        return given if given is not None else received
    if tx.quote is not None and tx.quote.currency == currency:
        return tx.quote.amount
    return None


@dataclass(frozen=True, slots=True)
class _Whole:
    value: Decimal
    source: str
    points: tuple[PricePoint, ...] = ()


def _market_order(tx: Transaction, fiat: frozenset[str]) -> list[Leg]:
    """The legs that may value a trade at market, most reliable first: fiat, stablecoins, then crypto
    (what was given before what was received)."""
    ranked: tuple[list[Leg], list[Leg], list[Leg]] = ([], [], [])
    for role in (_OUT, _IN):
        for leg in tx.legs:
            if leg.role is role and leg.amount:
                ranked[0 if leg.asset in fiat else 1 if leg.asset in STABLECOINS else 2].append(leg)
    return [*ranked[0], *ranked[1], *ranked[2]]


def _whole_value(tx: Transaction, currency: Asset, fiat: frozenset[str], oracle: Oracle | None,
                 needs: frozenset[TxKind] = NEEDS_VALUE) -> _Whole | None:
    """The value of the whole transaction and where it came from."""
    own = _stated_value(tx, currency)
    if own is not None:
        stated = tx.quote is not None and tx.quote.currency == currency and not any(
            leg.asset == currency for leg in tx.legs if leg.role is not _FEE)
        return _Whole(own, "stated value" if stated else "own side")
    if oracle is None or tx.kind not in needs:
        return None
    quote = tx.quote
    legs = _market_order(tx, fiat)
    fiat_side = bool(legs) and legs[0].asset in fiat
    if not fiat_side and quote is not None and quote.currency in fiat and (
            rate := oracle.value(quote.currency, tx.timestamp)) is not None:
        return _Whole(quote.amount * rate.price, f"stated value in {quote.currency} x {rate.source}", rate.points)
    for leg in legs:
        unit = oracle.value(leg.asset, tx.timestamp)
        if unit is not None:
            return _Whole(abs(leg.amount) * unit.price, f"{leg.asset} side: {unit.source}", unit.points)
    return None


def _value_legs(tx: Transaction, currency: Asset, fiat: frozenset[str], oracle: Oracle | None = None,
                used: set[PricePoint] | None = None, needs: frozenset[TxKind] = NEEDS_VALUE,
                wants: frozenset[TxKind] | None = None) -> tuple[list[ValuedLeg], list[str]]:
    """Valued legs of ``tx`` and the assets whose value is missing where one is needed; kinds in ``wants`` (by
    default ``needs``) are valued where a value can be found, without a problem where none can."""
    whole = _whole_value(tx, currency, fiat, oracle, needs if wants is None else wants)
    if whole is not None and used is not None:
        used.update(whole.points)
    valued: list[ValuedLeg] = []
    missing: list[str] = []
    fees = False
    for leg in tx.legs:
        if leg.role is _FEE:
            fees = True
            continue
        if leg.asset == currency:
            value, source = abs(leg.amount), "tax currency"
        elif whole is not None:
            value, source = whole.value, whole.source
        else:
            value, source = None, ""
        if value is None and tx.kind in needs and (leg.asset not in fiat or tx.kind is TxKind.INCOME):
            missing.append(leg.asset)
        valued.append(ValuedLeg(leg.asset, leg.amount, leg.role, value, source))
    if fees:  # a fee in one of the transaction's assets takes that asset's unit value
        unit: dict[str, tuple[Decimal, str]] = {}
        for leg in valued:
            if leg.value is not None and leg.amount:
                unit.setdefault(leg.asset, (leg.value / abs(leg.amount), leg.source))
        valued += [_fee_leg(tx, leg, currency, unit, oracle, used, missing) for leg in tx.legs if leg.role is _FEE]
    return valued, missing


def _fee_leg(tx: Transaction, leg: Leg, currency: Asset, unit: Mapping[str, tuple[Decimal, str]],
             oracle: Oracle | None, used: set[PricePoint] | None, missing: list[str]) -> ValuedLeg:
    """A fee: in the tax currency, at the unit value of the same asset in the transaction, else at market."""
    if leg.asset == currency:
        return ValuedLeg(leg.asset, leg.amount, leg.role, abs(leg.amount), "tax currency")
    if leg.asset in unit:
        price, source = unit[leg.asset]
        return ValuedLeg(leg.asset, leg.amount, leg.role, abs(leg.amount) * price, source)
    market = oracle.value(leg.asset, tx.timestamp) if oracle is not None else None
    if market is None:
        missing.append(leg.asset)
        return ValuedLeg(leg.asset, leg.amount, leg.role, None)
    if used is not None:
        used.update(market.points)
    return ValuedLeg(leg.asset, leg.amount, leg.role, abs(leg.amount) * market.price, market.source)


def _missing_problem(tx: Transaction, assets: list[str], currency: Asset, oracle: Oracle | None) -> Problem:
    when = to_datetime(tx.timestamp).strftime("%Y-%m-%d %H:%M:%S UTC")
    names = sorted(set(assets))
    tried = f"the trade's own {currency} side, the row's stated value"
    if oracle is not None:
        tried += "".join(f"; {oracle.tried(asset)}" for asset in names)
        tried += "".join(f"; {attempt.advice()}" for asset in names
                         if (attempt := oracle.attempts.get((asset, tx.timestamp))) is not None)
    return Problem(
        ProblemKind.MISSING_PRICE,
        Severity.ERROR,
        f"no {currency} value for {', '.join(names)} on {when} ({tx.kind.value} in {tx.account}): tried {tried}. "
        f"Run `taxsync prices sync` to fetch exchange prices, import your own with `taxsync prices import`, or "
        f"add a Net Worth in {currency} to the source row; counted as zero until then",
        tx.ref,
    )


def _transfer_events(transfer: Transfer, currency: Asset, fiat: frozenset[str], oracle: Oracle | None = None,
                     used: set[PricePoint] | None = None) -> tuple[list[Event], list[str]]:
    """The move itself, with the sender's fees (and units lost on the way), and, when the receiving account was
    charged a fee too, a fee-only transfer event on that account at the deposit's time: per wallet, each
    account pays its own fees."""
    withdrawal, deposit = transfer.withdrawal, transfer.deposit
    out_legs, missing = _value_legs(withdrawal, currency, fiat, oracle, used)
    sent, received = withdrawal.main_leg(), deposit.main_leg()
    assert sent is not None and received is not None  # the matcher only pairs single-leg movements
    gap = abs(sent.amount) - abs(received.amount)
    legs = [*out_legs, ValuedLeg(received.asset, received.amount, _IN, None)]
    deposit_legs, deposit_missing = _value_legs(deposit, currency, fiat, oracle, used)
    deposit_fees = [leg for leg in deposit_legs if leg.role is _FEE]
    missing += deposit_missing
    if gap > 0:  # units lost on the way beyond the recorded fee: an implicit network fee
        fee = _fee_leg(withdrawal, Leg(sent.asset, -gap, _FEE), currency, _units(withdrawal, currency), oracle,
                       used, missing)
        legs.append(fee)
    event = Event(
        ref=withdrawal.ref,
        account=withdrawal.account,
        timestamp=withdrawal.timestamp,
        kind=EventKind.TRANSFER,
        legs=tuple(legs),
        subkind=transfer.matched_by,
        to_account=deposit.account,
    )
    if not deposit_fees:
        return [event], missing
    fees = Event(ref=deposit.ref, account=deposit.account, timestamp=max(deposit.timestamp, withdrawal.timestamp),
                 kind=EventKind.TRANSFER, legs=tuple(deposit_fees), subkind=transfer.matched_by,
                 to_account=deposit.account)
    return [event, fees], missing


def _deposit_basis(
    tx: Transaction, costs: Mapping[str, GivenCost], currency: Asset
) -> tuple[Decimal | None, TimestampMs | None, Problem | None]:
    """The cost the user gave for a deposit or a gift received (``costs`` by ref), if any and if it is in the tax
    currency, and when they say its units were acquired."""
    given = costs.get(tx.ref) if tx.kind in (TxKind.DEPOSIT, TxKind.GIFT_IN) else None
    if given is None:
        return None, None, None
    if given.cost.currency == currency:
        return given.cost.amount, given.acquired, None
    return None, None, Problem(
        ProblemKind.MISSING_PRICE, Severity.WARNING,
        f"the cost given for this deposit is {given.cost.amount} {given.cost.currency}, not {currency}: it is not "
        f"used (currencies are not converted yet); set it again in {currency} with `taxsync transfers cost`",
        tx.ref,
    )


def _units(tx: Transaction, currency: Asset) -> dict[str, tuple[Decimal, str]]:
    """Unit values of the transaction's assets from its own stated value (for a transfer's implicit fee)."""
    whole = _stated_value(tx, currency)
    main = tx.main_leg()
    if whole is None or main is None or not main.amount:
        return {}
    return {main.asset: (whole / abs(main.amount), "stated value")}


@dataclass(frozen=True, slots=True)
class Valuation:
    """Events for the engine, the valuation problems, and every market price or rate used (for the appendix)."""

    events: list[Event]
    problems: list[Problem]
    prices: list[PricePoint]


def _moments(transactions: Iterable[Transaction], transfers: Iterable[Transfer],
             needs: frozenset[TxKind] = NEEDS_VALUE) -> list[tuple[str, int]]:
    """Every (asset, moment) valuation may ask the oracle about, so it can look them up in one go."""
    moments = [(leg.asset, tx.timestamp) for tx in transactions for leg in tx.legs
               if tx.kind in needs or leg.role is _FEE]
    moments += [(leg.asset, side.timestamp) for transfer in transfers
                for side in (transfer.withdrawal, transfer.deposit) for leg in side.legs]
    return moments


def valuation(
    transactions: Iterable[Transaction],
    transfers: Iterable[Transfer],
    currency: Asset,
    fiat: frozenset[str],
    costs: Mapping[str, GivenCost] | None = None,
    oracle: Oracle | None = None,
    *,
    value_gifts: bool = False,
    gift_values: bool = False,
) -> Valuation:
    """Value every transaction and transfer; ``oracle`` gives market values where a transaction does not
    value itself (None: only the transactions' own values are used).

    ``costs`` are what the user says deposits and gifts received (by ref) cost in total, and when they were
    acquired; such an event carries them as ``basis`` and ``acquired``. A deposit that is part of a transfer
    keeps the basis of the lots that moved instead.
    ``value_gifts``: gifts received need their market value (where that is their cost: UK, CA, AU);
    ``gift_values``: gifts received get their market value where it can be found, without a problem where not
    (the US basis for a loss on a gift, Treas. Reg. 1.1015-1(a))."""
    with collector_paused():
        needs = WITH_GIFTS if value_gifts else NEEDS_VALUE
        return _valuation(list(transactions), list(transfers), currency, fiat, costs or {}, oracle, needs,
                          WITH_GIFTS if gift_values else needs)


def _valuation(transactions: list[Transaction], transfers: list[Transfer], currency: Asset, fiat: frozenset[str],
               costs: Mapping[str, GivenCost], oracle: Oracle | None, needs: frozenset[TxKind],
               wants: frozenset[TxKind]) -> Valuation:
    if oracle is not None:
        oracle.prepare(_moments(transactions, transfers, wants))
    used: set[PricePoint] = set()
    events: list[Event] = []
    problems: list[Problem] = []
    for tx in transactions:
        legs, missing = _value_legs(tx, currency, fiat, oracle, used, needs, wants)
        basis, acquired, problem = _deposit_basis(tx, costs, currency)
        events.append(Event(tx.ref, tx.account, tx.timestamp, KINDS[tx.kind], tuple(legs), tx.subkind,
                            basis=basis, acquired=acquired))
        if problem:
            problems.append(problem)
        if missing:
            problems.append(_missing_problem(tx, missing, currency, oracle))
    for transfer in transfers:
        moved, missing = _transfer_events(transfer, currency, fiat, oracle, used)
        events += moved
        if missing:
            problems.append(_missing_problem(transfer.withdrawal, missing, currency, oracle))
    events.sort(key=lambda event: event.timestamp)  # stable: same-moment events keep the ledger's order
    return Valuation(events, problems, sorted(used, key=price_order))


def price_order(point: PricePoint) -> tuple[str, str, int, str, str]:
    """The order of the prices a valuation used: by pair, then time."""
    return point.base, point.quote, point.timestamp, point.resolution, point.source


def value_ledger(
    transactions: Iterable[Transaction],
    transfers: Iterable[Transfer],
    currency: Asset,
    fiat: frozenset[str],
    costs: Mapping[str, GivenCost] | None = None,
    oracle: Oracle | None = None,
) -> tuple[list[Event], list[Problem]]:
    """Events for the engine, sorted by time, and the valuation problems met on the way (see ``valuation``)."""
    valued = valuation(transactions, transfers, currency, fiat, costs, oracle)
    return valued.events, valued.problems
