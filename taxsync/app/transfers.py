"""Review the transfers between your own accounts: list them, link or unlink pairs by hand, and give a cost for
a deposit that no transfer explains (the API behind ``taxsync transfers ...``).

The matching rules (``taxsync.ledger.transfers``) get most moves right; the user settles the rest. Their
decisions must outlive re-imports, yet the ledger is rebuilt on every import, so transaction ids change. A
ref (``account/file.csv:LINE``) stays with its raw record, which is never edited, but it is not unique: a
newer export of the same file name puts new rows on lines the old ones had. So decisions are stored under a
*key* that is both stable and unique, the raw record's natural key (account name, stream, external id: the
exchange's id, or the content hash of a file row), and turned back into today's refs when the ledger is read.
A decision whose record is gone becomes a problem, never a crash.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from taxsync.app.workspace import Workspace
from taxsync.assets import FIAT
from taxsync.db import Account, RawRecord
from taxsync.db import Transaction as TransactionRow
from taxsync.db.models import DepositCost, TransferLink
from taxsync.errors import UsageError
from taxsync.ledger.records import GivenCost, Quote, Transaction, Transfer, TxKind
from taxsync.ledger.store import load_ledger
from taxsync.ledger.transfers import Pair, match_transfers, why_not_linkable
from taxsync.parsing import parse_decimal
from taxsync.problems import Problem, ProblemKind, Severity
from taxsync.tax.jurisdictions import JURISDICTIONS
from taxsync.tax.period import TaxPeriod
from taxsync.types import Asset, TimestampMs, day_start, now_ms, to_datetime


@dataclass(frozen=True, slots=True)
class Decisions:
    """The user's decisions in terms of today's refs, ready for the matcher and valuation."""

    links: tuple[Pair, ...] = ()
    unlinks: frozenset[Pair] = frozenset()
    costs: Mapping[str, GivenCost] = field(default_factory=dict)  # deposit ref -> total cost (and when acquired)
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a transfer row: the withdrawal or the deposit."""

    ref: str
    account: str
    timestamp: TimestampMs
    amount: Decimal  # positive: units sent, or units received


@dataclass(frozen=True, slots=True)
class TransferRow:
    """A matched transfer (both sides), or a withdrawal or deposit that nothing matched (one side)."""

    asset: Asset
    withdrawal: Side | None
    deposit: Side | None
    matched_by: str  # "txhash", "amount and time", "manual"; "" when unmatched
    cost: GivenCost | None = None  # the cost the user gave for an unmatched deposit

    @property
    def status(self) -> str:
        return "matched" if self.withdrawal and self.deposit else "unmatched"

    @property
    def timestamp(self) -> TimestampMs:
        first = self.withdrawal or self.deposit
        assert first is not None
        return first.timestamp


@dataclass(frozen=True, slots=True)
class _Ledger:
    """The ledger as the matcher sees it, with each ref's stable keys."""

    transactions: list[Transaction]
    keys: dict[str, list[str]]  # ref -> keys of the transactions carrying it (more than one: ambiguous)

    def ref_of(self) -> dict[str, str]:
        return {key: ref for ref, keys in self.keys.items() for key in keys}


def _read_ledger(session: Session) -> _Ledger:
    transactions, _ = load_ledger(session)
    return _Ledger(transactions, _keys(session))


def _keys(session: Session) -> dict[str, list[str]]:
    keys: dict[str, list[str]] = defaultdict(list)
    rows = session.execute(
        select(TransactionRow.ref, Account.name, RawRecord.stream, RawRecord.external_id)
        .join(Account, Account.id == TransactionRow.account_id)
        .outerjoin(RawRecord, RawRecord.id == TransactionRow.raw_record_id)
    )
    for ref, account, stream, external_id in rows:
        keys[ref].append(f"{account}|{stream}|{external_id}" if stream is not None else f"{account}|ref|{ref}")
    return keys


def _latest_links(session: Session) -> dict[tuple[str, str], TransferLink]:
    """The newest decision for each (withdrawal key, deposit key), oldest decision first."""
    latest: dict[tuple[str, str], TransferLink] = {}
    for row in session.scalars(select(TransferLink).order_by(TransferLink.id)):
        latest.pop((row.withdrawal_key, row.deposit_key), None)
        latest[(row.withdrawal_key, row.deposit_key)] = row
    return latest


def _not_applied(what: str, ref: str, gone: str, end: str) -> Problem:
    return Problem(
        ProblemKind.IGNORED_MANUAL_ENTRY, Severity.ERROR,
        f"{what} is not applied: {gone} is no longer in the ledger (its account was removed, or the row no "
        f"longer reads as a transaction); see `taxsync transfers list --unmatched` and set it again, or end it "
        f"with `{end}`",
        ref,
    )


def load_decisions(session: Session) -> Decisions:
    """The stored links, unlinks and deposit costs in today's refs; those naming a record that is gone (or a
    ref that several transactions share) become problems."""
    latest = _latest_links(session)
    cost_rows = list(session.scalars(select(DepositCost).order_by(DepositCost.id)))
    if not latest and not cost_rows:
        return Decisions()
    keys = _keys(session)
    ref_of = {key: ref for ref, found in keys.items() for key in found}
    links: list[Pair] = []
    unlinks: set[Pair] = set()
    problems: list[Problem] = []
    for row in latest.values():
        w_ref, d_ref = ref_of.get(row.withdrawal_key), ref_of.get(row.deposit_key)
        if w_ref is not None and d_ref is not None and row.action == "link":
            links.append((w_ref, d_ref))
        elif w_ref is not None and d_ref is not None:
            unlinks.add((w_ref, d_ref))
        elif row.action == "link":  # an unlink of a record that is gone has nothing left to keep apart
            gone = row.withdrawal_ref if w_ref is None else row.deposit_ref
            pair = f"{row.withdrawal_ref} {row.deposit_ref}"
            problems.append(_not_applied(f"manual transfer link {row.withdrawal_ref} -> {row.deposit_ref}",
                                         w_ref or row.withdrawal_ref, gone, f"taxsync transfers unlink {pair}"))
    costs: dict[str, GivenCost] = {}
    for cost in cost_rows:
        ref = ref_of.get(cost.deposit_key)
        if ref is None:
            problems.append(_not_applied(f"the cost given for deposit {cost.deposit_ref}", cost.deposit_ref,
                                         cost.deposit_ref, f"taxsync transfers cost {cost.deposit_ref} --clear"))
        elif len(keys[ref]) > 1:
            problems.append(Problem(
                ProblemKind.IGNORED_MANUAL_ENTRY, Severity.ERROR,
                f"the cost given for deposit {ref} is not applied: {len(keys[ref])} transactions share that ref",
                ref))
        else:
            acquired = TimestampMs(cost.acquired_at) if cost.acquired_at is not None else None
            costs[ref] = GivenCost(Quote(cost.cost, Asset(cost.currency)), acquired)
    return Decisions(tuple(links), frozenset(unlinks), costs, tuple(problems))


def _side(tx: Transaction) -> Side:
    leg = tx.main_leg()
    assert leg is not None  # only single-asset moves are matched or listed
    return Side(tx.ref, tx.account, tx.timestamp, abs(leg.amount))


def _asset(tx: Transaction) -> Asset:
    leg = tx.main_leg()
    assert leg is not None
    return leg.asset


def _rows(ledger: _Ledger, decisions: Decisions) -> list[TransferRow]:
    remaining, transfers = match_transfers(ledger.transactions, links=decisions.links, unlinks=decisions.unlinks)
    rows = [TransferRow(_asset(t.withdrawal), _side(t.withdrawal), _side(t.deposit), t.matched_by)
            for t in transfers]
    for tx in remaining:
        leg = tx.main_leg()
        if tx.kind not in (TxKind.WITHDRAWAL, TxKind.DEPOSIT) or leg is None or leg.asset in FIAT:
            continue  # fiat is cash, not lots: its moves need no matching
        withdrawal = tx.kind is TxKind.WITHDRAWAL
        rows.append(TransferRow(leg.asset, _side(tx) if withdrawal else None, None if withdrawal else _side(tx),
                                "", None if withdrawal else decisions.costs.get(tx.ref)))
    rows.sort(key=lambda row: row.timestamp)
    return rows


def list_transfers(ws: Workspace, *, year: str | None = None, unmatched_only: bool = False) -> list[TransferRow]:
    """Every transfer found (and how), and every crypto withdrawal and deposit left unmatched, in time order;
    with ``year``, those with a side in that tax year."""
    period = TaxPeriod.tax_year_of(JURISDICTIONS[ws.settings.jurisdiction], ws.zone, year) if year else None
    with Session(ws.engine) as session:
        rows = _rows(_read_ledger(session), load_decisions(session))
    if unmatched_only:
        rows = [row for row in rows if row.status == "unmatched"]
    if period is not None:
        rows = [row for row in rows if any(side and period.holds(side.timestamp)
                                           for side in (row.withdrawal, row.deposit))]
    return rows


def _find(ledger: _Ledger, ref: str, kind: TxKind, swap: str = "",
          also: tuple[TxKind, ...] = ()) -> tuple[Transaction, str]:
    """The transaction named ``ref`` and its key, or a UsageError that says what is wrong."""
    found = [tx for tx in ledger.transactions if tx.ref == ref]
    if not found:
        raise UsageError(f"no transaction '{ref}': refs look like 'account/file.csv:LINE' or "
                         "'account/deposits:ID'; see `taxsync transfers list`")
    if len(found) > 1:
        raise UsageError(f"'{ref}' names {len(found)} transactions (files of the same name imported into one "
                         "account): it cannot be linked by ref")
    if found[0].kind is not kind and found[0].kind not in also:
        swapped = found[0].kind in (TxKind.WITHDRAWAL, TxKind.DEPOSIT)
        raise UsageError(f"'{ref}' is a {found[0].kind.value}, not a {kind.value}{swap if swapped else ''}")
    return found[0], ledger.keys[ref][0]


def _pair(ledger: _Ledger, withdrawal_ref: str, deposit_ref: str) -> tuple[Transaction, str, Transaction, str]:
    swap = " (give the withdrawal first, then the deposit)"
    withdrawal, w_key = _find(ledger, withdrawal_ref, TxKind.WITHDRAWAL, swap)
    deposit, d_key = _find(ledger, deposit_ref, TxKind.DEPOSIT, swap)
    return withdrawal, w_key, deposit, d_key


def _current(ledger: _Ledger, session: Session) -> list[Transfer]:
    decisions = load_decisions(session)
    return match_transfers(ledger.transactions, links=decisions.links, unlinks=decisions.unlinks)[1]


def _record(session: Session, w_key: str, d_key: str, withdrawal_ref: str, deposit_ref: str, action: str) -> None:
    latest = _latest_links(session).get((w_key, d_key))
    if latest is None or latest.action != action:  # the same decision twice is stored once
        session.add(TransferLink(withdrawal_key=w_key, deposit_key=d_key, withdrawal_ref=withdrawal_ref,
                                 deposit_ref=deposit_ref, action=action, created_at=now_ms()))


def link(ws: Workspace, withdrawal_ref: str, deposit_ref: str) -> list[Transfer]:
    """Pair a withdrawal and a deposit as one transfer from now on, whatever the matching rules say; returns
    the transfers this undoes (the rules' earlier pairings of either side)."""
    with Session(ws.engine) as session, session.begin():
        ledger = _read_ledger(session)
        withdrawal, w_key, deposit, d_key = _pair(ledger, withdrawal_ref, deposit_ref)
        if reason := why_not_linkable(withdrawal, deposit):
            raise UsageError(f"cannot link {withdrawal_ref} -> {deposit_ref}: {reason}")
        ref_of = ledger.ref_of()
        for (w, d), row in _latest_links(session).items():
            if row.action != "link" or (w, d) == (w_key, d_key) or (w != w_key and d != d_key):
                continue
            if w not in ref_of or d not in ref_of:  # an old link whose other side is gone: this one replaces it
                _record(session, w, d, row.withdrawal_ref, row.deposit_ref, "unlink")
                continue
            raise UsageError(f"{withdrawal_ref if w == w_key else deposit_ref} is already linked by hand "
                             f"({ref_of[w]} -> {ref_of[d]}): run `taxsync transfers unlink {ref_of[w]} {ref_of[d]}` "
                             "first")
        undone = [t for t in _current(ledger, session) if (t.withdrawal is withdrawal or t.deposit is deposit)
                  and not (t.withdrawal is withdrawal and t.deposit is deposit)]
        _record(session, w_key, d_key, withdrawal_ref, deposit_ref, "link")
    return undone


def unlink(ws: Workspace, withdrawal_ref: str, deposit_ref: str) -> Transfer | None:
    """Never pair this withdrawal and deposit again (a manual link between them ends too); the rules may find
    other partners for each. Returns the transfer they formed until now, if any.

    A manual link whose records are gone can be ended with the refs it was made with."""
    with Session(ws.engine) as session, session.begin():
        ledger = _read_ledger(session)
        try:
            withdrawal, w_key, deposit, d_key = _pair(ledger, withdrawal_ref, deposit_ref)
        except UsageError:
            stale = next((row for row in _latest_links(session).values() if row.action == "link" and (
                row.withdrawal_ref, row.deposit_ref) == (withdrawal_ref, deposit_ref)), None)
            if stale is None:
                raise
            _record(session, stale.withdrawal_key, stale.deposit_key, withdrawal_ref, deposit_ref, "unlink")
            return None
        was = next((t for t in _current(ledger, session) if t.withdrawal is withdrawal and t.deposit is deposit),
                   None)
        _record(session, w_key, d_key, withdrawal_ref, deposit_ref, "unlink")
    return was


def set_deposit_cost(ws: Workspace, deposit_ref: str, cost: Decimal | str, note: str = "",
                     acquired: date | None = None) -> Transfer | None:
    """Say what the units of a deposit cost in total, in the workspace's currency (replacing what was said
    before), and, if known, the day they were acquired (their holding period starts then). Used while no
    transfer explains the deposit; returns the transfer that does now, if any. A gift received takes its
    donor's cost and acquisition day the same way (where they carry over: US, DE)."""
    if isinstance(cost, str):
        try:
            cost = parse_decimal(cost)
        except ValueError as error:
            raise UsageError(f"cost: {error}") from None
    if not cost.is_finite() or cost < 0:
        raise UsageError(f"cost: {cost} is not an amount of money of zero or more")
    with Session(ws.engine) as session, session.begin():
        ledger = _read_ledger(session)
        deposit, key = _find(ledger, deposit_ref, TxKind.DEPOSIT, also=(TxKind.GIFT_IN,))
        # the start of that day where the tax is reckoned: the holding term counts the jurisdiction's days
        acquired_at = day_start(acquired, ZoneInfo(ws.settings.timezone)) if acquired is not None else None
        if acquired_at is not None and acquired_at > deposit.timestamp:
            raise UsageError(f"acquired: {acquired} is after the deposit arrived "
                             f"({to_datetime(deposit.timestamp):%Y-%m-%d %H:%M} UTC)")
        row = session.scalar(select(DepositCost).where(DepositCost.deposit_key == key))
        if row is None:
            row = DepositCost(deposit_key=key)
            session.add(row)
        row.deposit_ref, row.cost, row.currency, row.note, row.created_at, row.acquired_at = (
            deposit_ref, cost, ws.settings.currency, note, now_ms(), acquired_at)
        return next((t for t in _current(ledger, session) if t.deposit is deposit), None)


def clear_deposit_cost(ws: Workspace, deposit_ref: str) -> None:
    """Forget the cost given for a deposit (named by its ref today, or by the ref it was given with)."""
    with Session(ws.engine) as session, session.begin():
        keys = _keys(session).get(deposit_ref)
        rows = list(session.scalars(select(DepositCost).where(
            DepositCost.deposit_key.in_(keys) if keys else DepositCost.deposit_ref == deposit_ref)))
        if not rows:
            raise UsageError(f"no cost was given for '{deposit_ref}'")
        for row in rows:
            session.delete(row)
