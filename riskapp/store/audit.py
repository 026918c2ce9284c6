"""The audit trail: read-only (the store appends entries inside each change; the database
refuses updates and deletes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from riskapp.store import schema as t
from riskapp.store.core import StoreCore, audit_from_row
from riskapp.store.records import AuditEntry, to_db_time


class AuditTrail:
    """Reads the audit trail; there is no way to change or remove an entry."""

    def __init__(self, core: StoreCore) -> None:
        self.core = core

    def audit(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        actor: str | None = None,
        entity: str | None = None,
        entity_id: str | None = None,
        action: str | None = None,
        limit: int | None = None,
    ) -> list[AuditEntry]:
        """Audit entries, newest first, filtered. Read-only: the store offers no way to change
        or remove an entry, and the database refuses it too."""
        a = t.audit_log.c
        query = select(t.audit_log).order_by(a.seq.desc())
        if since is not None:
            query = query.where(a.at >= to_db_time(since))
        if until is not None:
            query = query.where(a.at < to_db_time(until))
        if actor:
            query = query.where(a.actor == actor)
        if entity:
            query = query.where(a.entity == entity)
        if entity_id:
            query = query.where(a.entity_id == entity_id)
        if action:
            query = query.where(a.action == action)
        if limit:
            query = query.limit(limit)
        with self.core.read() as conn:
            return [audit_from_row(r) for r in conn.execute(query)]

    def revision(self) -> int:
        """A number that grows with every change (the newest audit entry): a cache key."""
        with self.core.read() as conn:
            return int(conn.execute(select(func.max(t.audit_log.c.seq))).scalar() or 0)

    def audit_actors(self) -> list[str]:
        with self.core.read() as conn:
            return sorted(conn.execute(select(t.audit_log.c.actor).distinct()).scalars().all())
