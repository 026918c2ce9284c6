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

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, delete, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

from riskapp.io.errors import InputError, Problem, pydantic_message
from riskapp.store import schema as t
from riskapp.store.auth import USERNAME_RE, Actor, Permission, Role
from riskapp.store.chain import GENESIS, check_chain, entry_hash
from riskapp.store.core import CHUNK, StoreCore
from riskapp.store.errors import DEFAULT_WORKSPACE
from riskapp.store.records import asset_from_row, plan_from_row

BACKUP_FORMAT = "riskapp-workspace-backup"
BACKUP_VERSION = 8  # 2: every table present, checksummed; 3: audit entries hash-chained;
# 4: indicators and observations; 5: alerts; 6: their deliveries; 7: subscriptions; 8: the
# roles people hold in the workspace
READABLE_VERSIONS = (2, 3, 4, 5, 6, 7, 8)
SINCE_VERSION = {
    "indicators": 4,
    "observations": 4,
    "alerts": 5,
    "alert_deliveries": 6,
    "workspace_grants": 8,
}  # not in older backups
GRANTS = "workspace_grants"  # kept in the main database: read and restored for this workspace
CHAIN_COLUMNS = ("prev_hash", "hash")
_BACKUP_TABLES = {
    "assets": t.assets,
    "plans": t.plans,
    "assessments": t.assessments,
    "users": t.users,
    "audit_log": t.audit_log,
    "indicators": t.indicators,
    "observations": t.observations,
    "alerts": t.alerts,
    "alert_deliveries": t.alert_deliveries,
    "alert_subscriptions": t.alert_subscriptions,
    GRANTS: t.workspace_grants,
}
_OWN_TABLES = {n: tb for n, tb in _BACKUP_TABLES.items() if n != GRANTS}


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
                for name, table in _OWN_TABLES.items()
            }
        g = t.workspace_grants.c
        with self.core.accounts_read() as acc:
            tables[GRANTS] = [
                _json_row(dict(r._mapping))
                for r in acc.execute(
                    select(t.workspace_grants)
                    .where(g.workspace_id == self.core.workspace_id)
                    .order_by(g.username)
                )
            ]
        audit = tables["audit_log"]
        return {
            "format": BACKUP_FORMAT,
            "version": BACKUP_VERSION,
            "exported_at": self.core.clock().isoformat(),
            "exported_by": actor.label,
            "audit_head": audit[-1]["hash"] if audit else GENESIS,
            "checksum": checksum(tables),
            "tables": tables,
        }

    def _restore_grants(self, conn: Connection, tables: Mapping[str, Any], actor: Actor) -> int:
        """The roles people hold in this workspace, as the backup gives them (for accounts
        this server has); a backup older than version 8 of the default workspace: each
        restored account's role (`users.role`). Returns how many were restored."""
        now = self.core.now()
        if GRANTS not in tables:
            if not self.core.is_default:
                return 0
            _default_grants_from_users(conn, actor, now)
            return self.core.count(conn, t.users)
        rows = [_row_from_json(t.workspace_grants, r) for r in tables[GRANTS]]
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
        problems = check_backup(backup)
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
                    rows = [_row_from_json(table, r) for r in tables.get(name, [])]
                    if name == "audit_log" and backup["version"] == 2:
                        rows = chained(rows)  # a version 2 backup carries no chain
                    for start in range(0, len(rows), CHUNK):
                        conn.execute(insert(table), rows[start : start + CHUNK])
                    counts[name] = len(rows)
                counts[GRANTS] = self._restore_grants(conn, tables, actor)
                if self.core.dialect == "postgresql":
                    for name, column in (("audit_log", "seq"), ("assessments", "id")):
                        conn.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('{name}', '{column}'), "
                                f"COALESCE((SELECT MAX({column}) FROM {name}), 0) + 1, false)"
                            )
                        )
            except SQLAlchemyError as exc:  # rolled back with the transaction
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


def audit_head(backup: Mapping[str, Any]) -> str:
    """The hash of the backup's newest audit entry (a version 2 backup: of its entries as a
    restore chains them)."""
    audit = backup["tables"]["audit_log"]
    if not audit:
        return GENESIS
    if backup["version"] == 2:
        rows = chained([_row_from_json(t.audit_log, r) for r in audit])
        return str(rows[-1]["hash"])
    return str(audit[-1]["hash"])


def chained(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Audit rows of a version 2 backup hash-chained in seq order, their seq kept."""
    prev = GENESIS
    out = []
    for row in sorted(rows, key=lambda r: int(r["seq"])):
        linked = {**row, "prev_hash": prev}
        linked["hash"] = prev = entry_hash(prev, linked)
        out.append(linked)
    return out


def checksum(tables: Mapping[str, Any]) -> str:
    """SHA-256 of the tables' canonical JSON (sorted keys, no spaces)."""
    canonical = json.dumps(tables, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


MAX_LISTED = 20


def check_backup(backup: Any) -> list[Problem]:
    """Every problem of a backup, before anything is written: format and version, every table
    present, the checksum, and each row as the store would write it."""
    if not isinstance(backup, Mapping) or backup.get("format") != BACKUP_FORMAT:
        return [Problem("backup", None, "format", "not a riskapp workspace backup")]
    version = backup.get("version")
    if version not in READABLE_VERSIONS:
        return [
            Problem(
                "backup",
                None,
                "version",
                f"a version {version!r} backup; this riskapp restores versions "
                f"{', '.join(map(str, READABLE_VERSIONS))} (complete and checksummed): export it "
                "again with this version",
            )
        ]
    tables = backup.get("tables")
    if not isinstance(tables, Mapping):
        return [Problem("backup", None, "tables", "the backup holds no tables")]
    problems = [
        Problem(
            "backup",
            None,
            f"tables.{name}",
            f"the {name} table is missing (an empty table is an empty list): a restore "
            "never changes the database by leaving something out",
        )
        for name in _BACKUP_TABLES
        if not isinstance(tables.get(name), list) and version >= SINCE_VERSION.get(name, 0)
    ]
    problems += [
        Problem("backup", None, f"tables.{name}", "unknown table")
        for name in tables
        if name not in _BACKUP_TABLES
    ]
    if problems:
        return problems
    if backup.get("checksum") != checksum(tables):
        return [
            Problem(
                "backup",
                None,
                "checksum",
                "the tables do not match the backup's checksum: the file was changed or "
                "damaged after it was exported",
            )
        ]
    for name, table in _BACKUP_TABLES.items():
        for i, row in enumerate(tables.get(name, [])):
            for field, message in row_problems(name, table, row, version):
                problems.append(Problem("backup", None, f"tables.{name}[{i}].{field}", message))
                if len(problems) >= MAX_LISTED:
                    return problems
    if problems or version == 2:
        return problems
    return chain_problems(backup)


def chain_problems(backup: Mapping[str, Any]) -> list[Problem]:
    """The backup's audit entries must form an intact hash chain ending at its `audit_head`:
    an edited, removed or inserted entry is refused even when the checksum was recomputed."""
    rows = backup["tables"]["audit_log"]
    check = check_chain(_row_from_json(t.audit_log, r) for r in rows)
    index = {r.get("seq"): i for i, r in enumerate(rows)}
    problems = [
        Problem(
            "backup",
            None,
            f"tables.audit_log[{index.get(b.seq, '?')}]",
            f"the audit trail's hash chain is broken at {b}: the backup's history was edited",
        )
        for b in check.breaks
    ]
    if not problems and "audit_head" not in backup:
        problems.append(
            Problem("backup", None, "audit_head", "missing: a version 3 backup names its head")
        )
    elif not problems and backup.get("audit_head") != check.head_hash:
        problems.append(
            Problem(
                "backup",
                None,
                "audit_head",
                f"the backup's audit trail ends at {check.head_hash}, not at the recorded head "
                f"{backup.get('audit_head')!r}: entries were removed from its end",
            )
        )
    return problems


def row_problems(
    name: str, table: Any, row: Any, version: int = BACKUP_VERSION
) -> list[tuple[str, str]]:
    """What is wrong with one row of a backup table, as (field, message)."""
    if not isinstance(row, Mapping):
        return [("", "expected an object of column values")]
    known = {
        c.name: c
        for c in table.c
        if not (version == 2 and name == "audit_log" and c.name in CHAIN_COLUMNS)
    }
    out = [(k, "unknown column") for k in row if k not in known]
    out += [
        (c.name, "required column is missing")
        for c in known.values()
        if not c.nullable and c.name not in row and c.autoincrement is not True
    ]
    if name == "audit_log" and (type(row.get("seq")) is not int or row["seq"] < 1):
        out.append(("seq", "expected the entry's number (a whole number from 1)"))
    if out:
        return out
    try:
        values = _row_from_json(table, row)
    except (ValueError, TypeError) as exc:
        return [("", f"not a valid value: {exc}")]
    try:
        if name == "assets":
            asset_from_row(SimpleNamespace(_mapping=values))
        elif name == "plans":
            plan_from_row(SimpleNamespace(_mapping=values))
        elif name == GRANTS:
            if values["role"] not in {r.value for r in Role}:
                out.append(("role", f"expected one of {', '.join(r.value for r in Role)}"))
        elif name == "users":
            if not USERNAME_RE.match(str(values["username"])):
                out.append(("username", "not a valid username"))
            if values["role"] not in {r.value for r in Role}:
                out.append(("role", f"expected one of {', '.join(r.value for r in Role)}"))
            if not str(values["password_hash"]):
                out.append(("password_hash", "empty: every account needs a hash or 'oidc'"))
    except ValidationError as exc:
        out += [(".".join(map(str, e["loc"])), pydantic_message(e)) for e in exc.errors()[:3]]
    except (KeyError, TypeError, AttributeError) as exc:
        out.append(("", f"not a valid {name} row: {exc}"))
    for column, value in values.items():
        if isinstance(value, str) and "\x00" in value:
            out.append((column, "contains a NUL character"))
    return out


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
