"""The Alembic migrations build exactly the tables the models describe, on both databases."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from riskapp.store import Store
from riskapp.store.engine import alembic_config, current_revision, head_revision
from riskapp.store.schema import metadata


def test_migrated_schema_matches_the_models(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_downgrade_and_upgrade_again(store: Store) -> None:
    from alembic import command

    with store.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert current_revision(store.engine) is None
    from riskapp.store.engine import migrate

    migrate(store.engine)
    assert current_revision(store.engine) == head_revision()


def test_head_revision_constant_is_alembics_head() -> None:
    """riskapp.store.engine.HEAD_REVISION, what a start compares the database with without
    reading the migration scripts, is the head Alembic reads from them."""
    from riskapp.store.engine import HEAD_REVISION

    assert head_revision() == HEAD_REVISION


def test_schema_is_current_reads_the_version_table(store: Store, tmp_path: Path) -> None:
    """Current only at the head: not an older revision, not no schema, not two revisions
    (where Alembic decides and words the problem)."""
    from alembic import command
    from sqlalchemy import text

    from riskapp.store.engine import make_engine, migrate, schema_is_current

    assert schema_is_current(store.engine)
    with store.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    assert not schema_is_current(store.engine)
    assert current_revision(store.engine) == "0001"
    migrate(store.engine)
    assert schema_is_current(store.engine)
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0001')"))
    assert not schema_is_current(store.engine)
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        assert not schema_is_current(empty)  # no alembic_version table at all
    finally:
        empty.dispose()


def test_upgrading_to_0003_keeps_the_register_and_names_no_subdivision(store: Store) -> None:
    """A database of revision 0002 (before the subdivision column) with its assets: upgraded,
    every asset is still there, with no subdivision, and can be given one."""
    from alembic import command

    from riskapp.store.engine import migrate
    from tests.store.conftest import SYSTEM

    before = [(s.id, s.version) for s in store.assets()]
    assert before
    with store.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0002")
    assert current_revision(store.engine) == "0002"
    migrate(store.engine)
    after = store.assets()
    assert [(s.id, s.version) for s in after] == before
    assert {s.asset.subdivision for s in after} == {""}
    p1 = next(s for s in after if s.id == "P1")
    assert store.update_asset(
        "P1", {"subdivision": "NO-54"}, p1.version, SYSTEM
    ).asset.subdivision == ("NO-54")
