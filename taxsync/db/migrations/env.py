"""Alembic environment: runs migrations on the engine that ``taxsync.db.session`` hands over."""

from alembic import context

from taxsync.db.models import Base

target_metadata = Base.metadata
engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
