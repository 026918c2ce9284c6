"""Backup and restore of everything the database holds, audit trail and users included.

A backup is complete, versioned and checksummed: every table is present (an empty list when it
is empty), and `checksum` is the SHA-256 of the tables' canonical JSON. A restore checks all of
it before it writes anything and lists every problem it finds: a missing table, a changed or
damaged file, a row that is not what the store writes (an asset the register would refuse, a
user with an unknown role). A restore never changes who may log in by leaving something out: a
backup without user accounts is refused by a database that has them. The audit trail is
history: a restore never removes or rewrites an entry. The backup's own audit entries must form
an intact hash chain (an edited audit section is refused even with a recomputed checksum); an
empty database takes them as they are, one that holds data keeps its own trail. Either way the
restore is appended to the live chain as one `restore` entry naming the backup's audit head."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Connection, Date, DateTime, Text, cast, delete, select, text
from sqlalchemy.exc import SQLAlchemyError

from riskapp.io.errors import InputError, Problem
from riskapp.store import schema as t
from riskapp.store.auth import Actor, Permission, Role
from riskapp.store.backup_check import (
    BACKUP_FORMAT,
    BACKUP_TABLES,
    BACKUP_VERSION,
    GRANTS,
    Rows,
    audit_head,
    chained,
    check_backup,
    checked,
    checksum,
)
from riskapp.store.bulk import insert_rows
from riskapp.store.chain import GENESIS
from riskapp.store.core import StoreCore
from riskapp.store.errors import DEFAULT_WORKSPACE
from riskapp.store.frames import no_cyclic_gc

__all__ = [
    "BACKUP_FORMAT",
    "BACKUP_VERSION",
    "GRANTS",
    "Backup",
    "backup_text",
    "check_backup",
    "checksum",
    "write_backup",
]

_OWN_TABLES = {n: tb for n, tb in BACKUP_TABLES.items() if n != GRANTS}


class Backup:
    """Exports and restores the whole workspace database."""

    def __init__(self, core: StoreCore) -> None:
        self.core = core

    def export_workspace(self, actor: Actor) -> dict[str, Any]:
        """Everything the database holds, audit trail and users (password hashes) included."""
        with self.core.read() as conn, no_cyclic_gc():  # rows of plain values: no cycles
            self.core.authorize(conn, actor, Permission.RESTORE)
            tables = {
                name: _json_rows(
                    table,
                    conn.execute(_backup_select(table).order_by(*table.primary_key.columns)),
                )
                for name, table in _OWN_TABLES.items()
            }
        g = t.workspace_grants.c
        with self.core.accounts_read() as acc:
            tables[GRANTS] = _json_rows(
                t.workspace_grants,
                acc.execute(
                    _backup_select(t.workspace_grants)
                    .where(g.workspace_id == self.core.workspace_id)
                    .order_by(g.username)
                ),
            )
        audit = tables["audit_log"]
        with no_cyclic_gc():
            digest = checksum(tables)
        return {
            "format": BACKUP_FORMAT,
            "version": BACKUP_VERSION,
            "exported_at": self.core.clock().isoformat(),
            "exported_by": actor.label,
            "audit_head": audit[-1]["hash"] if audit else GENESIS,
            "checksum": digest,
            "tables": tables,
        }

    def _restore_grants(
        self,
        conn: Connection,
        tables: Mapping[str, Any],
        converted: Mapping[str, Rows],
        actor: Actor,
    ) -> int:
        """The roles people hold in this workspace, as the backup gives them (for accounts
        this server has); a backup older than version 8 of the default workspace: each
        restored account's role (`users.role`). Returns how many were restored."""
        now = self.core.now()
        if GRANTS not in tables:
            if not self.core.is_default:
                return 0
            _default_grants_from_users(conn, actor, now)
            return self.core.count(conn, t.users)
        rows = converted[GRANTS]
        if self.core.is_default:  # accounts the restore removed hold no role anywhere
            names = select(t.users.c.username)
            conn.execute(
                delete(t.workspace_grants).where(t.workspace_grants.c.username.not_in(names))
            )
            return _replace_grants(conn, self.core.workspace_id, rows, actor, now)
        with self.core.accounts_write() as acc:
            return _replace_grants(acc, self.core.workspace_id, rows, actor, now)

    def import_workspace(
        self, backup: Mapping[str, Any], actor: Actor, replace: bool = False
    ) -> dict[str, int]:
        """Restore a backup, all or nothing, after checking all of it (`check_backup`, the
        audit entries' hash chain included). An empty database takes it as is, audit trail
        included; one that holds anything is replaced only with `replace=True`, and then keeps
        its own audit trail. Either way the restore is appended to the live chain."""
        with no_cyclic_gc():
            problems, rows_of = checked(backup)
        if problems:
            raise InputError(problems)
        tables = backup["tables"]
        with self.core.write() as conn:
            self.core.authorize(conn, actor, Permission.RESTORE)
            held = {n: self.core.count(conn, tb) for n, tb in _OWN_TABLES.items()}
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
            if held["users"] and not tables["users"]:
                raise InputError(
                    [
                        Problem(
                            "backup",
                            None,
                            "tables.users",
                            f"the backup holds no user accounts while this database has "
                            f"{held['users']}: restoring it would turn login off. Add the "
                            "accounts to the backup, or remove them here first",
                        )
                    ]
                )
            keep_history = held["audit_log"] > 0
            counts: dict[str, int] = {}
            try:
                for name, table in reversed(list(_OWN_TABLES.items())):
                    if name != "audit_log":
                        conn.execute(delete(table))
                for name, table in _OWN_TABLES.items():
                    if name == "audit_log" and keep_history:
                        counts[name] = 0
                        continue
                    rows = rows_of[name]
                    if name == "audit_log" and backup["version"] == 2:
                        rows = chained(rows)  # a version 2 backup carries no chain
                    if rows:
                        with no_cyclic_gc():
                            insert_rows(conn, table, _columns_of(table, rows))
                    counts[name] = len(rows)
                counts[GRANTS] = self._restore_grants(conn, tables, rows_of, actor)
                if self.core.dialect == "postgresql":
                    for name, column in (("audit_log", "seq"), ("assessments", "id")):
                        conn.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('{name}', '{column}'), "
                                f"COALESCE((SELECT MAX({column}) FROM {name}), 0) + 1, false)"
                            )
                        )
            except (SQLAlchemyError, _driver_error(conn)) as exc:  # rolled back with the
                # transaction; the driver's own errors come from COPY (PostgreSQL)
                reason = str(getattr(exc, "orig", exc)).splitlines()[0]
                raise InputError(
                    [Problem("backup", None, "", f"could not be restored: {reason}")]
                ) from None
            audit = tables["audit_log"]
            head = audit_head(backup)
            note = f"backup of {backup.get('exported_at', '?')} by {backup.get('exported_by', '?')}"
            if keep_history:
                found = conn.execute(
                    select(t.audit_log.c.seq).where(t.audit_log.c.hash == head)
                ).scalar()
                note += (
                    f"; this database's audit trail is kept, the backup's {len(audit)} entries "
                    "stay in the backup file"
                    + (f" (they are this trail up to seq {found})" if found else "")
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
                        new={
                            **counts,
                            "checksum": backup["checksum"][:16],
                            "backup_version": backup["version"],
                            "backup_audit_entries": len(audit),
                            "backup_audit_head": head,
                        },
                        note=note[:500],
                    )
                ],
            )
        return counts


def backup_text(backup: Mapping[str, Any]) -> Iterator[str]:
    """The backup as the JSON text of its file, in pieces: its header fields and each table
    row on a line of their own (readable, and written by the JSON module's C encoder, where
    an indented dump goes through its Python encoder: 15 s at 100,000 assets, against 1-2
    s). The text reads back (`json.loads`) to the same backup."""
    head = {k: v for k, v in backup.items() if k != "tables"}
    yield "{\n"
    for key, value in head.items():
        yield f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},\n"
    yield ' "tables": {'
    for i, (name, rows) in enumerate(backup.get("tables", {}).items()):
        yield ("," if i else "") + f"\n  {json.dumps(name)}: ["
        for j, row in enumerate(rows):
            yield ("," if j else "") + "\n   " + json.dumps(row, ensure_ascii=False)
        yield "\n  ]" if rows else "]"
    yield "\n }\n}\n"


def write_backup(backup: Mapping[str, Any], path: Path) -> None:
    """Write the backup's file whole or not at all (a temporary file beside it, renamed over
    it once written)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            fh.writelines(backup_text(backup))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _driver_error(conn: Connection) -> type[Exception]:
    """The database driver's base error class (DB-API `Error`)."""
    error = getattr(conn.dialect.loaded_dbapi, "Error", None)
    return error if isinstance(error, type) and issubclass(error, Exception) else SQLAlchemyError


def _columns_of(table: Any, rows: Rows) -> dict[str, list[Any]]:
    """Rows given to `insert_rows`: column by column (a column no row holds is left to the
    database's default, one a row leaves out is None there), JSON values as their text."""
    shapes = set(map(tuple, rows))
    if len(shapes) == 1:  # every row holds the same columns in the same order (as exported)
        given = dict(
            zip(shapes.pop(), map(list, zip(*map(dict.values, rows), strict=True)), strict=True)
        )
        columns = {c.name: given[c.name] for c in table.c if c.name in given}
    else:
        names = [c.name for c in table.c if any(c.name in row for row in rows)]
        columns = {name: [row.get(name) for row in rows] for name in names}
    for name, values in columns.items():
        if isinstance(table.c[name].type, JSON):
            columns[name] = [json.dumps(v) for v in values]
    return columns


def _backup_select(table: Any) -> Any:
    """A query of every column of `table`, its JSON columns as their stored text (parsed
    together by `_json_rows`, not one `json.loads` a value)."""
    return select(
        *(cast(c, Text).label(c.name) if isinstance(c.type, JSON) else c for c in table.c)
    )


def _json_rows(table: Any, result: Any) -> list[dict[str, Any]]:
    """The rows of a `_backup_select` of `table` as a backup holds them: one object of column
    values a row, JSON columns parsed, dates and times as {"$date": ISO text} and
    {"$datetime": ISO text}. Converted column by column: a row's mapping, a test of every
    value and a JSON parse a value took most of an export's time at 100,000 assets."""
    names = list(result.keys())
    rows = result.all()
    columns: dict[str, Sequence[Any]] = (
        dict(zip(names, zip(*rows, strict=True), strict=True)) if rows else {}
    )
    for column in table.c:
        values = columns.get(column.name)
        if values is None:
            continue
        if isinstance(column.type, JSON):
            columns[column.name] = _parsed_json(values)
        elif isinstance(column.type, (Date, DateTime)):
            columns[column.name] = [_json_value(v) for v in values]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _parsed_json(texts: Sequence[str | None]) -> list[Any]:
    """Stored JSON texts parsed (None stays None): in one `json.loads` of them all, or one a
    text if they do not read back one value each."""
    present = [v for v in texts if v is not None]
    try:
        parsed = json.loads("[" + ",".join(present) + "]") if present else []
    except ValueError:
        parsed = []
    if len(parsed) != len(present):
        parsed = [json.loads(v) for v in present]
    values = iter(parsed)
    return [None if v is None else next(values) for v in texts]


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    return value


def _replace_grants(
    acc: Connection, workspace_id: str, rows: list[dict[str, Any]], actor: Actor, at: datetime
) -> int:
    """Replace the grants of `workspace_id` by `rows` (a backup's), for existing accounts."""
    from riskapp.store.users import put_grant

    g = t.workspace_grants.c
    acc.execute(delete(t.workspace_grants).where(g.workspace_id == workspace_id))
    accounts = set(acc.execute(select(t.users.c.username)).scalars())
    kept = [r for r in rows if r["username"] in accounts]
    for r in kept:
        put_grant(acc, workspace_id, str(r["username"]), Role(r["role"]), actor, at)
    return len(kept)


def _default_grants_from_users(conn: Connection, actor: Actor, at: datetime) -> None:
    """After restoring the default workspace: each restored account holds the role the backup
    gives it (`users.role`) in the default workspace; grants of other workspaces are kept
    for the accounts that still exist."""
    from riskapp.store.users import put_grant

    g = t.workspace_grants.c
    conn.execute(delete(t.workspace_grants).where(g.workspace_id == DEFAULT_WORKSPACE))
    names = select(t.users.c.username)
    conn.execute(delete(t.workspace_grants).where(g.username.not_in(names)))
    for row in conn.execute(select(t.users.c.username, t.users.c.role)).all():
        put_grant(conn, DEFAULT_WORKSPACE, row.username, Role(row.role), actor, at)
