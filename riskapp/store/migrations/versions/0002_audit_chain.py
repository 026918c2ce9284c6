"""Hash-chain the audit trail: every entry carries prev_hash and hash (SHA-256, hex).

Existing entries are chained in seq order. The append-only guard triggers are dropped around
the backfill and created again; SQLite gains a guard against INSERT OR REPLACE (which deletes
the old row without firing delete triggers).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from riskapp.store.chain import GENESIS, entry_hash

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUARD = "'audit_log is append-only'"
SQLITE_GUARD = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, {GUARD}); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, {GUARD}); END",
]
SQLITE_NO_REPLACE = (
    "CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log "
    "WHEN EXISTS (SELECT 1 FROM audit_log WHERE seq = NEW.seq) "
    f"BEGIN SELECT RAISE(ABORT, {GUARD}); END"
)
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_log_no_update",
    "DROP TRIGGER IF EXISTS audit_log_no_delete",
    "DROP TRIGGER IF EXISTS audit_log_no_replace",
]
POSTGRES_GUARD = [
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log",
    "DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log",
]
COLUMNS: tuple[str, ...] = ("seq", "at", "actor", "action", "entity", "entity_id", "field")
COLUMNS += ("old_value", "new_value", "version", "note")


def _postgres() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def upgrade() -> None:
    for statement in POSTGRES_DROP if _postgres() else SQLITE_DROP:
        op.execute(statement)
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(64), nullable=True))
    conn = op.get_bind()
    types: dict[str, sa.types.TypeEngine[Any]] = {
        "seq": sa.Integer(),
        "at": sa.DateTime(),
        "version": sa.Integer(),
    }
    audit = sa.table(
        "audit_log",
        *(sa.column(c, types.get(c, sa.Text())) for c in COLUMNS),
        sa.column("prev_hash", sa.String(64)),
        sa.column("hash", sa.String(64)),
    )
    rows = conn.execute(sa.select(*(audit.c[c] for c in COLUMNS)).order_by(audit.c.seq))
    prev = GENESIS
    updates = []
    for row in rows:
        entry = dict(row._mapping)
        digest = entry_hash(prev, entry)
        updates.append({"k": entry["seq"], "p": prev, "h": digest})
        prev = digest
    if updates:
        conn.execute(
            audit.update()
            .where(audit.c.seq == sa.bindparam("k"))
            .values(prev_hash=sa.bindparam("p"), hash=sa.bindparam("h")),
            updates,
        )
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("prev_hash", existing_type=sa.String(64), nullable=False)
        batch.alter_column("hash", existing_type=sa.String(64), nullable=False)
    if _postgres():
        for statement in POSTGRES_GUARD:
            op.execute(statement)
    else:
        for statement in [*SQLITE_GUARD, SQLITE_NO_REPLACE]:
            op.execute(statement)


def downgrade() -> None:
    for statement in POSTGRES_DROP if _postgres() else SQLITE_DROP:
        op.execute(statement)
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
    for statement in POSTGRES_GUARD if _postgres() else SQLITE_GUARD:
        op.execute(statement)
    if _postgres():  # entries numbered themselves since 0002: the serial takes over again
        op.execute(
            "SELECT setval(pg_get_serial_sequence('audit_log', 'seq'), "
            "COALESCE((SELECT MAX(seq) FROM audit_log), 0) + 1, false)"
        )
