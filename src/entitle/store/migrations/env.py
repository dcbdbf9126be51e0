"""Alembic environment, configured in code: `entitle.store.db.migrate()` passes a connection in
`config.attributes["connection"]`; otherwise the URL in the `sqlalchemy.url` option is used."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from entitle.store.db import make_engine
from entitle.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # Two workers upgrading at once: the second waits, then finds nothing to do.
            connection.execute(text("SELECT pg_advisory_xact_lock(4242001)"))
        context.run_migrations()


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
