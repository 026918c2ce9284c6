"""Alembic environment: migrates the connection handed over by `riskapp.store.engine.migrate`,
or, when run as `alembic -c riskapp/store/alembic.ini upgrade head`, the configured database."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from riskapp.store.schema import metadata

config = context.config
target_metadata = metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from riskapp.settings import get_settings
    from riskapp.store.engine import make_engine

    engine = make_engine(get_settings().database)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
run_online()
