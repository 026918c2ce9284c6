"""What a restore checks before it writes anything: the backup's format and version, every
table present, the checksum over the tables' canonical JSON, each row as the store would write
it (its columns, its values, an asset or plan as the models read it, no NUL character) and the
audit entries' hash chain. The rows come back converted once (dates and times as Python
values), for the restore to write (`riskapp.store.backup`)."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Date, DateTime

from riskapp.io.errors import InputError, Problem, pydantic_message
from riskapp.store import schema as t
from riskapp.store.auth import USERNAME_RE, Role
from riskapp.store.chain import FIELDS, GENESIS, check_chain, entry_hash
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
BACKUP_TABLES = {
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


def audit_head(backup: Mapping[str, Any]) -> str:
    """The hash of the backup's newest audit entry (a version 2 backup: of its entries as a
    restore chains them)."""
    audit = backup["tables"]["audit_log"]
    if not audit:
        return GENESIS
    if backup["version"] == 2:
        rows = chained([row_from_json(t.audit_log, r) for r in audit])
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
    return digest(canonical_text(tables))


def canonical_text(tables: Mapping[str, Any]) -> str:
    return json.dumps(tables, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


MAX_LISTED = 20
NUL_IN_JSON = "\\u0000"


def check_backup(backup: Any) -> list[Problem]:
    """Every problem of a backup, before anything is written: format and version, every table
    present, the checksum, and each row as the store would write it."""
    return checked(backup)[0]


Rows = list[dict[str, Any]]


def checked(backup: Any) -> tuple[list[Problem], dict[str, Rows]]:
    """`check_backup`'s problems, and (when there are none) each table's rows with their
    values as the database takes them (`row_from_json`), converted once for the checks, the
    hash chain and the restore."""
    if not isinstance(backup, Mapping) or backup.get("format") != BACKUP_FORMAT:
        return [Problem("backup", None, "format", "not a riskapp workspace backup")], {}
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
        ], {}
    tables = backup.get("tables")
    if not isinstance(tables, Mapping):
        return [Problem("backup", None, "tables", "the backup holds no tables")], {}
    problems = [
        Problem(
            "backup",
            None,
            f"tables.{name}",
            f"the {name} table is missing (an empty table is an empty list): a restore "
            "never changes the database by leaving something out",
        )
        for name in BACKUP_TABLES
        if not isinstance(tables.get(name), list) and version >= SINCE_VERSION.get(name, 0)
    ]
    problems += [
        Problem("backup", None, f"tables.{name}", "unknown table")
        for name in tables
        if name not in BACKUP_TABLES
    ]
    if problems:
        return problems, {}
    canonical = canonical_text(tables)
    if backup.get("checksum") != digest(canonical):
        return [
            Problem(
                "backup",
                None,
                "checksum",
                "the tables do not match the backup's checksum: the file was changed or "
                "damaged after it was exported",
            )
        ], {}
    nul = NUL_IN_JSON in canonical  # JSON writes a NUL character as this escape
    rows_of: dict[str, Rows] = {}
    for name, table in BACKUP_TABLES.items():
        rows: list[dict[str, Any] | None] = []  # None: a row that cannot be read
        for i, row in enumerate(tables.get(name, [])):
            values, found = _checked_row(name, table, row, version)
            rows.append(values)
            for field, message in found:
                problems.append(Problem("backup", None, f"tables.{name}[{i}].{field}", message))
                if len(problems) >= MAX_LISTED:
                    return problems, {}
        if nul:
            for i, column in _nul_characters(rows):
                problems.append(
                    Problem(
                        "backup", None, f"tables.{name}[{i}].{column}", "contains a NUL character"
                    )
                )
                if len(problems) >= MAX_LISTED:
                    return problems, {}
        if not problems:
            rows_of[name] = [r for r in rows if r is not None]
    if problems:
        return problems, {}
    if version == 2:
        return [], rows_of
    return chain_problems(backup, rows_of["audit_log"]), rows_of


def chain_problems(backup: Mapping[str, Any], converted: Rows | None = None) -> list[Problem]:
    """The backup's audit entries must form an intact hash chain ending at its `audit_head`:
    an edited, removed or inserted entry is refused even when the checksum was recomputed.
    `converted`: the entries as `row_from_json` gives them, when at hand."""
    rows = backup["tables"]["audit_log"]
    if converted is None:
        converted = [row_from_json(t.audit_log, r) for r in rows]
    check = check_chain(converted)
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
    values, out = _checked_row(name, table, row, version)
    if values is not None:
        out += [(column, "contains a NUL character") for _, column in _nul_characters([values])]
    return out


@functools.cache
def _row_columns(table: Any, version: int) -> tuple[frozenset[str], tuple[str, ...]]:
    """The columns a row of `table` may hold in a backup of `version`, and those it must: the
    columns that cannot be empty, and every field an audit entry's hash covers (an entry
    without one cannot be checked against its hash)."""
    audit = table.name == "audit_log"
    known = [c for c in table.c if not (version == 2 and audit and c.name in CHAIN_COLUMNS)]
    required = tuple(
        c.name
        for c in known
        if (not c.nullable and c.autoincrement is not True) or (audit and c.name in FIELDS)
    )
    return frozenset(c.name for c in known), required


@functools.lru_cache(maxsize=64)
def _shape_problems(table: Any, version: int, keys: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """What is wrong with the columns of a row holding `keys` (the rows of a table mostly
    hold the same ones: checked once for them all)."""
    known, required = _row_columns(table, version)
    return (
        *((k, "unknown column") for k in keys if k not in known),
        *((c, "required column is missing") for c in required if c not in keys),
    )


def _checked_row(
    name: str, table: Any, row: Any, version: int
) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """One row of a backup table: its values as the database takes them (None if they cannot
    be read) and what is wrong with it, as (field, message); NUL characters in text are
    looked for by the caller (`_nul_characters`, a column at a time)."""
    if type(row) is not dict and not isinstance(row, Mapping):
        return None, [("", "expected an object of column values")]
    out = list(_shape_problems(table, version, tuple(row)))
    if name == "audit_log" and (type(row.get("seq")) is not int or row["seq"] < 1):
        out.append(("seq", "expected the entry's number (a whole number from 1)"))
    if out:
        return None, out
    try:
        values = _converted(table, row)
    except (ValueError, TypeError) as exc:
        return None, [("", f"not a valid value: {exc}")]
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
    return values, out


def _nul_characters(rows: Sequence[dict[str, Any] | None]) -> list[tuple[int, str]]:
    """(row, column) of each text value holding a NUL character (a column's texts are
    searched together; its rows only where they hold one); None rows are skipped."""
    found = []
    for column in sorted(set().union(*(row.keys() for row in rows if row is not None))):
        texts = [None if row is None else row.get(column) for row in rows]
        if "\x00" in "".join(v for v in texts if type(v) is str):
            found += [
                (i, column) for i, v in enumerate(texts) if isinstance(v, str) and "\x00" in v
            ]
    return sorted(found)


def row_from_json(table: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """A backup's row with its dates and times as Python values ({"$date": ...} and
    {"$datetime": ...} in a date or time column)."""
    known, _ = _row_columns(table, BACKUP_VERSION)
    unknown = data.keys() - known
    if unknown:
        raise InputError(
            [Problem("backup", None, f"{table.name}.{sorted(unknown)[0]}", "unknown column")]
        )
    return _converted(table, data)


def _converted(table: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """`row_from_json` of a row whose columns are known to be the table's."""
    out = dict(data)
    for name in _dated_columns(table):
        v = out.get(name)
        if v is None:
            continue
        if isinstance(v, dict) and isinstance(v.get("$datetime"), str):
            out[name] = datetime.fromisoformat(v["$datetime"])
        elif isinstance(v, dict) and isinstance(v.get("$date"), str):
            out[name] = date.fromisoformat(v["$date"])
        else:
            raise ValueError(
                f'{name}: expected {{"$datetime": ISO text}} or {{"$date": ISO text}}, '
                f"not {type(v).__name__}"
            )
    return out


@functools.cache
def _dated_columns(table: Any) -> tuple[str, ...]:
    """The date and time columns of `table` (a backup writes their values as objects)."""
    return tuple(c.name for c in table.c if isinstance(c.type, (Date, DateTime)))
