"""Database engines and migrations.

SQLite: WAL journal (readers never block the writer), foreign keys on, a busy timeout
(`Settings.database_busy_timeout`), and real transactions: pysqlite's own transaction handling is
switched off and every transaction starts with an explicit BEGIN (BEGIN IMMEDIATE for writes, so
a writer waits for the lock at its start instead of failing half-way on an upgrade).
PostgreSQL: psycopg 3; a write sets the same timeout as its lock_timeout; migrations on first
start hold an advisory lock so several dashboard servers starting at once migrate the database
once. A lock not granted within the timeout is `StoreBusyError` (see `is_busy`). A connection
that does not own the tables (the application role of `roles.create_app_role`) never migrates:
it checks the schema is current and says how to migrate it when it is not (`SchemaNotCurrent`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# the newest migration's revision (riskapp/store/migrations/versions): a database whose
# alembic_version table holds it is current, which `schema_is_current` reads with one query,
# without importing Alembic or reading the migration scripts (a dashboard's or a command's
# start); tests/store/test_migrations.py holds it equal to Alembic's head
HEAD_REVISION = "0008"
BUSY_TIMEOUT = 10.0  # seconds; Settings.database_busy_timeout overrides it
MIGRATION_LOCK = 7_245_318_001  # arbitrary constant: pg_advisory_lock key of riskapp migrations

WRITE = {"riskapp_write": True}
"""Execution options of a connection that will write (BEGIN IMMEDIATE on SQLite)."""


def make_engine(url: str, echo: bool = False, busy_timeout: float = BUSY_TIMEOUT) -> Engine:
    """An engine for `url`, with the SQLite settings above; creates the SQLite file's folder.
    `busy_timeout`: seconds a write waits for another writer's lock before giving up."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"timeout": busy_timeout, "isolation_level": None},
        )
        millis = max(1, round(busy_timeout * 1000))

        def connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={millis}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        event.listen(engine, "connect", connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    engine = create_engine(url, echo=echo, pool_pre_ping=True)
    engine.update_execution_options(riskapp_busy_timeout=busy_timeout)
    return engine


WRITE_CACHE_KIB = 65_536
"""SQLite's page cache during a write transaction (KiB; the connection's own size, 2 MiB by
default, is put back after it): the pages a bulk import fills (the register, the audit trail and
their indexes) stay in memory until the commit instead of being spilled to the WAL mid-way and
written again (about 0.4 s less CPU for 100,000 imported assets). Memory is taken only as pages
are used, so a small change costs nothing."""


@contextmanager
def roomy_cache(conn: Connection) -> Iterator[None]:
    """SQLite: a larger page cache (`WRITE_CACHE_KIB`) on this connection until the block ends
    (open it around the transaction: the old size is put back after the commit)."""
    if conn.dialect.name != "sqlite":
        yield
        return
    raw: Any = conn.connection.dbapi_connection
    before = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute(f"PRAGMA cache_size=-{WRITE_CACHE_KIB}")
    try:
        yield
    finally:
        with suppress(sqlite3.Error):  # a connection that died with its transaction
            raw.execute(f"PRAGMA cache_size={int(before)}")


def _sqlite_begin(conn: Connection) -> None:
    write = conn.get_execution_options().get("riskapp_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def lock_timeout(conn: Connection) -> None:
    """PostgreSQL: wait at most the busy timeout for locks in this transaction (SQLite waits by
    its busy timeout already)."""
    if conn.dialect.name == "postgresql":
        seconds = conn.get_execution_options().get("riskapp_busy_timeout", BUSY_TIMEOUT)
        millis = max(1, round(float(seconds) * 1000))
        conn.execute(text(f"SET LOCAL lock_timeout = {millis}"))


SQLITE_BUSY, SQLITE_LOCKED = 5, 6
PG_LOCK_NOT_AVAILABLE = "55P03"


def is_busy(exc: BaseException) -> bool:
    """Whether a database error means another connection held a lock past the busy timeout
    (SQLite: SQLITE_BUSY/SQLITE_LOCKED, 'database is locked'; PostgreSQL: lock_not_available)."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)
    return getattr(orig, "sqlstate", None) == PG_LOCK_NOT_AVAILABLE


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic configured in code: the migrations shipped in the package."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    """The newest revision of the migration scripts, as Alembic reads them."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision, as Alembic reads it (None: no schema yet)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def schema_is_current(engine: Engine) -> bool:
    """Whether the database's one schema revision is `HEAD_REVISION`, read with one query;
    False when it is not, when there is no schema yet, or when the query fails (then Alembic
    reads the revision and words what is wrong)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:
        return False
    return [tuple(row) for row in rows] == [(HEAD_REVISION,)]


class SchemaNotCurrent(RuntimeError):
    """The schema is not the one this riskapp needs and this connection may not migrate it."""


def owns_schema(engine: Engine) -> bool:
    """Whether this connection may migrate: on PostgreSQL, its role owns riskapp's tables (or
    there are none yet); SQLite has no roles."""
    if engine.dialect.name != "postgresql":
        return True
    with engine.connect() as conn:
        foreign = conn.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename IN ('alembic_version', 'audit_log') "
                "AND NOT pg_has_role(current_user, tableowner, 'USAGE')"
            )
        ).first()
    return foreign is None


def require_current(engine: Engine) -> None:
    """SchemaNotCurrent unless the database is at the newest schema."""
    if schema_is_current(engine):
        return
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaNotCurrent(
            f"the database schema is at revision {current or 'none'} and this riskapp needs "
            f"{head}; this connection does not migrate it (it is not the tables' owner): run "
            "`riskapp db upgrade` with the owner's URL (RISKAPP_DATABASE_ADMIN_URL), then start "
            "again"
        )


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (a no-op when it is there already);
    SchemaNotCurrent when it is not and this connection does not own the tables."""
    if schema_is_current(engine) or current_revision(engine) == head_revision():
        return
    if not owns_schema(engine):
        require_current(engine)
    with engine.connect() as plain:
        conn = plain.execution_options(**WRITE)
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
            conn.commit()
        try:
            from alembic import command

            command.upgrade(alembic_config(conn), "head")
            conn.commit()
        finally:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
                conn.commit()
