"""Conflicts of optimistic locking: what changed (or who deleted a record) since a writer read it,
from the audit trail."""

from __future__ import annotations

from sqlalchemy import Connection, select

from riskapp.store import schema as t
from riskapp.store.core import audit_from_row
from riskapp.store.errors import Conflict
from riskapp.store.records import AuditEntry, FieldChange


def history(conn: Connection, entity: str, entity_id: str, after_version: int) -> list[AuditEntry]:
    rows = conn.execute(
        select(t.audit_log)
        .where(
            t.audit_log.c.entity == entity,
            t.audit_log.c.entity_id == entity_id,
            t.audit_log.c.version > after_version,
        )
        .order_by(t.audit_log.c.seq)
    )
    return [audit_from_row(r) for r in rows]


def changed_conflict(
    conn: Connection, entity: str, entity_id: str, expected: int, current: int
) -> Conflict:
    entries = [e for e in history(conn, entity, entity_id, expected) if e.field]
    first: dict[str, AuditEntry] = {}
    last: dict[str, AuditEntry] = {}
    for e in entries:
        first.setdefault(e.field, e)
        last[e.field] = e
    changes = [
        FieldChange(f, first[f].old, last[f].new, last[f].actor, last[f].at)
        for f in first
        if first[f].old != last[f].new
    ]
    latest = entries[-1] if entries else None
    return Conflict(
        entity,
        entity_id,
        "changed",
        expected,
        current,
        changes,
        by=latest.actor if latest else "someone",
        at=latest.at if latest else None,
    )


def deleted_conflict(conn: Connection, entity: str, entity_id: str, expected: int) -> Conflict:
    entries = history(conn, entity, entity_id, expected)
    gone = next((e for e in reversed(entries) if not e.field and e.new is None), None)
    return Conflict(
        entity,
        entity_id,
        "deleted",
        expected,
        None,
        by=gone.actor if gone else "someone",
        at=gone.at if gone else None,
    )
