"""Storage: SQLAlchemy 2.0 models, exact-decimal columns and Alembic migrations applied on open."""

from taxsync.db.models import Account, Base, LedgerProblem, Leg, Price, RawRecord, SyncState, Transaction
from taxsync.db.session import open_database

__all__ = ["Account", "Base", "LedgerProblem", "Leg", "Price", "RawRecord", "SyncState", "Transaction", "open_database"]
