"""The tables of a workspace: accounts, verbatim raw records, the normalized ledger, prices and sync state.

Raw records are the source of truth and are never edited; transactions and legs are derived from them and can
be rebuilt at any time. Every schema change is an Alembic migration in ``taxsync/db/migrations``.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from taxsync.db.coltypes import DecimalText


class Base(DeclarativeBase):
    pass


class Account(Base):
    """A named source of history: an exchange account, a wallet or a series of exported files."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # "file" or "exchange"
    exchange: Mapped[str | None] = mapped_column(String(50))
    options: Mapped[str] = mapped_column(Text, default="{}")  # JSON, never secrets
    created_at: Mapped[int] = mapped_column(BigInteger)


class RawRecord(Base):
    """What a source returned, verbatim, with where it came from.

    ``external_id`` is the natural key inside (account, stream): the exchange's id where there is one, else a
    content hash plus the occurrence number of identical rows in the same file.
    """

    __tablename__ = "raw_records"
    __table_args__ = (UniqueConstraint("account_id", "stream", "external_id", name="uq_raw_natural_key"),
                      Index("ix_raw_records_source", "account_id", "stream", "origin"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(50))  # file format or exchange adapter, picks the normalizer
    stream: Mapped[str] = mapped_column(String(50))  # e.g. "file", "trades", "deposits"
    origin: Mapped[str] = mapped_column(Text)  # file path or endpoint
    locator: Mapped[str] = mapped_column(String(100))  # line number or exchange id
    external_id: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)  # JSON of the verbatim row
    imported_at: Mapped[int] = mapped_column(BigInteger)


class Transaction(Base):
    """One economic event of the ledger, derived from a raw record."""

    __tablename__ = "transactions"
    __table_args__ = (Index("ix_transactions_timestamp", "timestamp"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    raw_record_id: Mapped[int | None] = mapped_column(
        ForeignKey("raw_records.id", ondelete="CASCADE"), index=True
    )
    ref: Mapped[str] = mapped_column(String(300))
    timestamp: Mapped[int] = mapped_column(BigInteger)  # ms since epoch, UTC
    kind: Mapped[str] = mapped_column(String(30))
    subkind: Mapped[str] = mapped_column(String(50), default="")
    label: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    txhash: Mapped[str] = mapped_column(String(200), default="")
    exchange_id: Mapped[str] = mapped_column(String(200), default="")  # the exchange's id of the trade or movement
    quote_amount: Mapped[Decimal | None] = mapped_column(DecimalText)
    quote_currency: Mapped[str | None] = mapped_column(String(20))

    legs: Mapped[list[Leg]] = relationship(
        back_populates="transaction", cascade="all, delete-orphan", order_by="Leg.position"
    )


class Leg(Base):
    """A signed movement of one asset inside a transaction (positive in, negative out or fee)."""

    __tablename__ = "legs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    asset: Mapped[str] = mapped_column(String(50))
    amount: Mapped[Decimal] = mapped_column(DecimalText)
    role: Mapped[str] = mapped_column(String(10))

    transaction: Mapped[Transaction] = relationship(back_populates="legs")


class Price(Base):
    """A price of ``base`` in ``quote`` at ``timestamp`` from ``source``, kept so reports run offline."""

    __tablename__ = "prices"
    __table_args__ = (
        UniqueConstraint("base", "quote", "timestamp", "resolution", "source", name="uq_price_point"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    base: Mapped[str] = mapped_column(String(50))
    quote: Mapped[str] = mapped_column(String(50))
    timestamp: Mapped[int] = mapped_column(BigInteger)
    resolution: Mapped[str] = mapped_column(String(10))  # "1m", "1h", "1d", "exact"
    price: Mapped[Decimal] = mapped_column(DecimalText)
    source: Mapped[str] = mapped_column(String(100))
    fetched_at: Mapped[int] = mapped_column(BigInteger)


class PriceAttempt(Base):
    """The outcome of the last ``prices sync`` for an asset at a moment it could not price: ``not_found`` (no
    market or candle: no price exists there) or ``failed`` (unreachable or rate-limited: try again). A report
    names it in the missing-price problem. Cleared when the moment is priced."""

    __tablename__ = "price_attempts"
    __table_args__ = (UniqueConstraint("asset", "timestamp", name="uq_price_attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset: Mapped[str] = mapped_column(String(50))
    timestamp: Mapped[int] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(20))  # "not_found" or "failed"
    exchange: Mapped[str] = mapped_column(String(50))
    reason: Mapped[str] = mapped_column(Text)
    attempted_at: Mapped[int] = mapped_column(BigInteger)


class SyncState(Base):
    """How far a stream of an account has been imported: a cursor and the covered time range.

    Written in the same database transaction as the records it covers, so a crash never skips or doubles data.
    """

    __tablename__ = "sync_state"
    __table_args__ = (UniqueConstraint("account_id", "stream", "symbol", name="uq_sync_stream"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    stream: Mapped[str] = mapped_column(String(50))
    symbol: Mapped[str] = mapped_column(String(50), default="")
    cursor: Mapped[str | None] = mapped_column(Text)
    covered_from: Mapped[int | None] = mapped_column(BigInteger)
    covered_until: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class LedgerProblem(Base):
    """A problem found while normalizing raw records (an unknown label, say); rebuilt with the ledger."""

    __tablename__ = "ledger_problems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    raw_record_id: Mapped[int | None] = mapped_column(ForeignKey("raw_records.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(50))
    severity: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(300))


class TransferLink(Base):
    """A decision of the user about one withdrawal and one deposit: ``link`` pairs them as a transfer whatever
    the matching rules say, ``unlink`` never pairs them. The newest row for a pair is the one that counts.

    Rows name the transactions by a stable key (account name, raw-record stream and external id), not by
    transaction id: the ledger is rebuilt on every import, these rows never are, so there is no foreign key.
    The refs are what the user typed, kept for messages.
    """

    __tablename__ = "transfer_links"
    __table_args__ = (Index("ix_transfer_links_pair", "withdrawal_key", "deposit_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    withdrawal_key: Mapped[str] = mapped_column(String(400))
    deposit_key: Mapped[str] = mapped_column(String(400))
    withdrawal_ref: Mapped[str] = mapped_column(String(300))
    deposit_ref: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(10))  # "link" or "unlink"
    created_at: Mapped[int] = mapped_column(BigInteger)


class DepositCost(Base):
    """What the user says the units of a deposit cost in total, for a deposit no transfer accounts for.

    Keyed like ``TransferLink`` (no foreign key: it outlives ledger rebuilds); one row per deposit.
    """

    __tablename__ = "deposit_costs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deposit_key: Mapped[str] = mapped_column(String(400), unique=True)
    deposit_ref: Mapped[str] = mapped_column(String(300))
    cost: Mapped[Decimal] = mapped_column(DecimalText)
    currency: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[int] = mapped_column(BigInteger)
    # when the units were acquired, if the user said (UTC ms): their holding period starts then
    acquired_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Run(Base):
    """One import of an account or one nightly job: when it started and ended, how it went, in one line.

    ``finished_at`` stays empty while it runs; a run found unfinished by the next one was interrupted (killed,
    or the machine went down). ``summary`` is the redacted error or the summary line, never a secret."""

    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_command_started", "command", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    command: Mapped[str] = mapped_column(String(30))  # "import" (one account) or "nightly"
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[int] = mapped_column(BigInteger)
    finished_at: Mapped[int | None] = mapped_column(BigInteger)
    outcome: Mapped[str] = mapped_column(String(20))  # running, ok, partial, failed, interrupted
    exit_code: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, default="")


class Revision(Base):
    """One row whose ``n`` goes up with every database transaction that changes what figures are made from
    (``taxsync.db.session.count_revisions``): kept results are keyed by it (``taxsync.app.results``)."""

    __tablename__ = "revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)
