"""The database-level guard that keeps the audit log append-only, and the one place that lifts
it: restoring a backup over a workspace, inside the restore's own transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

# the same statements as migration 0001 (a test checks the guard holds after a restore)
SQLITE_GUARD = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
]


@contextmanager
def audit_guard_off(conn: Connection) -> Iterator[None]:
    """Lift the guard for the statements inside; it is back before the transaction commits
    (and DDL is transactional on both databases, so a crash leaves it in place)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER USER")
        yield
        conn.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER USER")
        return
    conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
    conn.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
    yield
    for statement in SQLITE_GUARD:
        conn.exec_driver_sql(statement)
