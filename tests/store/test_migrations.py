"""The Alembic migrations build exactly the tables the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from riskapp.store import Store
from riskapp.store.engine import alembic_config, current_revision, head_revision
from riskapp.store.schema import Base


def test_migrated_schema_matches_the_models(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_downgrade_and_upgrade_again(store: Store) -> None:
    from alembic import command

    with store.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert current_revision(store.engine) is None
    from riskapp.store.engine import migrate

    migrate(store.engine)
    assert current_revision(store.engine) == head_revision()
