"""The audit trail: read-only (the store appends entries inside each change; the database
refuses updates and deletes) and hash-chained (`verify_audit` recomputes the chain)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, func, select, text

from riskapp.store import schema as t
from riskapp.store.chain import (
    POSTGRES_GUARD_SOURCE,
    POSTGRES_GUARDS,
    SQLITE_GUARDS,
    AuditVerification,
    ChainCheck,
)
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

    def verify_audit(
        self, *, expect_head: str | None = None, expect_count: int | None = None
    ) -> AuditVerification:
        """Recompute the whole chain in seq order, check the append-only guards are in place
        and, when given, that an entry with the head hash recorded earlier (`expect_head`) is
        still in the chain and that it holds at least `expect_count` entries (both catch
        entries removed at the end, which the chain alone cannot)."""
        expected = (expect_head or "").strip().lower()
        check = ChainCheck(watch=frozenset({expected}) if expected else frozenset())
        with self.core.read() as conn:
            rows = conn.execution_options(stream_results=True, yield_per=2000).execute(
                select(t.audit_log).order_by(t.audit_log.c.seq)
            )
            for row in rows:
                check.add(cast("Mapping[str, Any]", row._mapping))  # read by name, no dict
            missing = missing_guards(conn)
        wrong = []
        if expected and expected not in check.hashes_seen:
            wrong.append(
                f"the recorded head {expected} is not in the chain: entries were removed from "
                f"the end (or the trail was rebuilt); the chain now ends at seq {check.head_seq}"
            )
        if expect_count is not None and check.count < expect_count:
            wrong.append(
                f"{check.count} entries where {expect_count} were recorded: "
                f"{expect_count - check.count} removed from the end"
            )
        return AuditVerification(
            count=check.count,
            head_seq=check.head_seq,
            head_hash=check.head_hash,
            breaks=check.breaks,
            missing_guards=missing,
            expectation_problems=wrong,
        )


def missing_guards(conn: Connection) -> list[str]:
    """The append-only guard triggers that are gone, disabled or no longer refuse anything."""
    if conn.dialect.name == "postgresql":
        found = {
            r.tgname: r
            for r in conn.execute(
                text(
                    "SELECT t.tgname, t.tgenabled, p.prosrc FROM pg_trigger t "
                    "JOIN pg_proc p ON p.oid = t.tgfoid "
                    "WHERE t.tgrelid = to_regclass('audit_log') AND NOT t.tgisinternal"
                )
            )
        }
        out = []
        for name in POSTGRES_GUARDS:
            row = found.get(name)
            if row is None:
                out.append(f"{name} is missing (dropped)")
            elif str(row.tgenabled) not in {"O", "A"}:
                out.append(f"{name} is disabled (ALTER TABLE audit_log DISABLE TRIGGER)")
            elif POSTGRES_GUARD_SOURCE not in str(row.prosrc):
                out.append(f"{name} no longer refuses changes (its function was replaced)")
        return out
    sql = {
        str(r[0]): str(r[1])
        for r in conn.execute(
            text(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'trigger' AND tbl_name = 'audit_log'"
            )
        )
    }
    out = []
    for name in SQLITE_GUARDS:
        if name not in sql:
            out.append(f"{name} is missing (dropped)")
        elif "append-only" not in str(sql[name]) or "RAISE" not in str(sql[name]).upper():
            out.append(f"{name} no longer refuses changes (it was replaced)")
    return out
