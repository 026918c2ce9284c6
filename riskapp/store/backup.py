"""Backup and restore of everything the database holds, audit trail and users included."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, insert, select, text

from riskapp.io.errors import InputError, Problem
from riskapp.store import schema as t
from riskapp.store.auth import Actor, Permission
from riskapp.store.core import CHUNK, StoreCore

BACKUP_FORMAT = "riskapp-workspace-backup"
BACKUP_VERSION = 1
_BACKUP_TABLES = {
    "assets": t.assets,
    "plans": t.plans,
    "assessments": t.assessments,
    "users": t.users,
    "audit_log": t.audit_log,
}


class Backup:
    """Exports and restores the whole workspace database."""

    def __init__(self, core: StoreCore) -> None:
        self.core = core

    def export_workspace(self, actor: Actor) -> dict[str, Any]:
        """Everything the database holds, audit trail and users (password hashes) included."""
        with self.core.read() as conn:
            self.core.authorize(conn, actor, Permission.RESTORE)
            tables = {
                name: [
                    _json_row(dict(r._mapping))
                    for r in conn.execute(select(table).order_by(*table.primary_key.columns))
                ]
                for name, table in _BACKUP_TABLES.items()
            }
        return {
            "format": BACKUP_FORMAT,
            "version": BACKUP_VERSION,
            "exported_at": self.core.clock().isoformat(),
            "exported_by": actor.label,
            "tables": tables,
        }

    def import_workspace(
        self, backup: Mapping[str, Any], actor: Actor, replace: bool = False
    ) -> dict[str, int]:
        """Restore a backup, all or nothing. An empty database takes it as is; one that holds
        anything is replaced only with `replace=True` (its audit trail too, so the restore is
        recorded as the newest audit entry)."""
        if backup.get("format") != BACKUP_FORMAT or backup.get("version") != BACKUP_VERSION:
            raise InputError(
                [
                    Problem(
                        "backup",
                        None,
                        "format",
                        f"not a riskapp workspace backup (version {BACKUP_VERSION})",
                    )
                ]
            )
        tables = backup.get("tables", {})
        with self.core.write() as conn:
            self.core.authorize(conn, actor, Permission.RESTORE)
            held = {n: self.core.count(conn, tb) for n, tb in _BACKUP_TABLES.items()}
            if any(held.values()) and not replace:
                raise InputError(
                    [
                        Problem(
                            "database",
                            None,
                            "",
                            "the database is not empty ("
                            + ", ".join(f"{n}: {c}" for n, c in held.items() if c)
                            + "); restore with replace to overwrite it",
                        )
                    ]
                )
            from riskapp.store.guard import audit_guard_off

            with audit_guard_off(conn):
                for table in reversed(list(_BACKUP_TABLES.values())):
                    conn.execute(delete(table))
            counts = {}
            for name, table in _BACKUP_TABLES.items():
                rows = [_row_from_json(table, r) for r in tables.get(name, [])]
                for start in range(0, len(rows), CHUNK):
                    conn.execute(insert(table), rows[start : start + CHUNK])
                counts[name] = len(rows)
            if self.core.dialect == "postgresql":
                for name, column in (("audit_log", "seq"), ("assessments", "id")):
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', '{column}'), "
                            f"COALESCE((SELECT MAX({column}) FROM {name}), 0) + 1, false)"
                        )
                    )
            self.core.append_audit(
                conn,
                [
                    self.core.audit_entry(
                        actor,
                        "restore",
                        "workspace",
                        "backup",
                        old={n: c for n, c in held.items() if c} or None,
                        new=counts,
                        note=f"backup of {backup.get('exported_at', '?')} by "
                        f"{backup.get('exported_by', '?')}",
                    )
                ],
            )
        return counts


def _json_row(mapping: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in mapping.items():
        if isinstance(v, datetime):
            out[k] = {"$datetime": v.isoformat()}
        elif isinstance(v, date):
            out[k] = {"$date": v.isoformat()}
        else:
            out[k] = v
    return out


def _row_from_json(table: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    known = {c.name for c in table.c}
    unknown = set(data) - known
    if unknown:
        raise InputError(
            [Problem("backup", None, f"{table.name}.{sorted(unknown)[0]}", "unknown column")]
        )
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, dict) and "$datetime" in v:
            out[k] = datetime.fromisoformat(v["$datetime"])
        elif isinstance(v, dict) and "$date" in v:
            out[k] = date.fromisoformat(v["$date"])
        else:
            out[k] = v
    return out
