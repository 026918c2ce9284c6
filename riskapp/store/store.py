"""The team workspace store: one interface over SQLite (default) or PostgreSQL.

Every change runs in one transaction (nothing is half-written when a process dies), checks the
acting user's role, refuses to overwrite a record someone else changed since it was read
(optimistic locking on a version column), and appends who/when/what/old/new to the audit log.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, text, update

from riskapp.domain import Asset, Plan, PlanBook, Scenario, Workspace
from riskapp.io.errors import InputError, Problem, pydantic_message
from riskapp.settings import Settings, get_settings
from riskapp.store import schema as t
from riskapp.store.auth import (
    Actor,
    ActorKind,
    AuthError,
    LoginThrottled,
    Permission,
    Role,
    check_username,
    hash_password,
    locked_for,
    lockout,
    minimum_role,
    needs_rehash,
    verify_password,
)
from riskapp.store.engine import WRITE, make_engine, migrate
from riskapp.store.errors import AccessDenied, Conflict, ConflictError
from riskapp.store.records import (
    ASSET_FIELDS,
    PLAN_FIELDS,
    AuditEntry,
    ChangeSummary,
    FieldChange,
    StoredAsset,
    StoredPlan,
    asset_from_row,
    asset_values,
    dump_value,
    from_db_time,
    load_value,
    plan_fields,
    plan_from_row,
    plan_values,
    to_db_time,
    utcnow,
)
from riskapp.store.validation import (
    PlanTableRow,
    Table,
    parse_assets,
    parse_plan_table,
    register_checks,
)
from riskapp.store.workspace import PLANS, REGISTER, FileInputs, build_workspace, load_files

Mode = Literal["replace", "merge"]
Hook = Callable[[int, int], None]
"""Called as hook(records written, records to write) while an import writes (progress)."""

CHUNK = 500
BACKUP_FORMAT = "riskapp-workspace-backup"
BACKUP_VERSION = 1


@dataclass(frozen=True)
class AssetEdit:
    """One row of an edit: the new asset (None deletes it) and the version it was read at
    (None: a new asset)."""

    asset_id: str
    asset: Asset | None
    expected_version: int | None


@dataclass(frozen=True)
class PlanEdit:
    """Changed fields of one plan (owner, status, review_date, title) and the version read."""

    plan_id: str
    changes: Mapping[str, Any]
    expected_version: int


@dataclass(frozen=True)
class ImportPreview:
    """What an import would do, before anything is written."""

    kind: str
    source: str
    rows: int
    problems: list[Problem]
    summary: ChangeSummary

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class UserInfo:
    username: str
    display_name: str
    role: Role
    created_at: datetime
    local_password: bool


@dataclass(frozen=True)
class AssessmentSummary:
    id: int
    label: str
    as_of: date
    created_at: datetime
    created_by: str
    inputs_hash: str
    key_figures: dict[str, float]


@dataclass(frozen=True)
class SavedAssessment:
    summary: AssessmentSummary
    inputs: dict[str, Any]
    results: dict[str, Any]


def inputs_hash(inputs: Mapping[str, Any]) -> str:
    canonical = json.dumps(inputs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class Store:
    """The asset register, plans, saved assessments, audit trail and users of a team."""

    def __init__(
        self,
        engine: Engine,
        files: Path | None = None,
        settings: Settings | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.files = files
        self.settings = settings or get_settings()
        self.clock = clock

    @classmethod
    def open(
        cls,
        settings: Settings | None = None,
        *,
        url: str | None = None,
        files: Path | None = None,
        seed: bool | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> Store:
        """Connect, migrate to the newest schema and, if the database is empty, seed it with the
        register and plans of the workspace files (the demo by default)."""
        settings = settings or get_settings()
        engine = make_engine(url or settings.database, echo=settings.sql_echo)
        migrate(engine)
        store = cls(engine, files=files or settings.workspace, settings=settings, clock=clock)
        if settings.seed_demo if seed is None else seed:
            store.seed_if_empty()
        return store

    def close(self) -> None:
        self.engine.dispose()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    # -- transactions and checks --------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def _write(self, lock: bool = True) -> Iterator[Connection]:
        """One write transaction; register writers queue behind each other (BEGIN IMMEDIATE on
        SQLite, a table lock on PostgreSQL) so validation sees what the write will replace."""
        with self.engine.connect() as plain:
            conn = plain.execution_options(**WRITE)
            with conn.begin():
                if lock and self.dialect == "postgresql":
                    conn.execute(text("LOCK TABLE assets, plans IN SHARE ROW EXCLUSIVE MODE"))
                yield conn

    def _now(self) -> datetime:
        return to_db_time(self.clock())

    def _authorize(self, conn: Connection, actor: Actor, permission: Permission) -> Role:
        """The role the actor holds now, if it allows `permission`; AccessDenied otherwise."""
        if actor.kind is ActorKind.SYSTEM:
            role = Role.ADMIN
        elif actor.kind is ActorKind.LOCAL:
            if self._count(conn, t.users):
                raise AccessDenied("login required: this workspace has user accounts")
            role = Role.ADMIN
        else:
            value = conn.execute(
                select(t.users.c.role).where(t.users.c.username == actor.username)
            ).scalar()
            if value is None:
                raise AccessDenied(f"user {actor.username!r} no longer exists")
            role = Role(value)
        if permission not in _permissions(role):
            raise AccessDenied(
                f"{actor.username} ({role.value}) may not {permission.value}; that needs the "
                f"{minimum_role(permission).value} role"
            )
        return role

    def check(self, actor: Actor, permission: Permission) -> bool:
        """Whether the actor may do this now (for pages that adapt; the store checks anyway)."""
        try:
            with self._read() as conn:
                self._authorize(conn, actor, permission)
        except AccessDenied:
            return False
        return True

    @staticmethod
    def _count(conn: Connection, table: Any) -> int:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)

    def _audit(self, conn: Connection, entries: list[dict[str, Any]]) -> None:
        for start in range(0, len(entries), CHUNK):
            conn.execute(insert(t.audit_log), entries[start : start + CHUNK])

    def _entry(
        self,
        actor: Actor,
        action: str,
        entity: str,
        entity_id: str,
        field: str = "",
        old: Any = None,
        new: Any = None,
        version: int | None = None,
        note: str = "",
        at: datetime | None = None,
    ) -> dict[str, Any]:
        return {
            "at": at or self._now(),
            "actor": actor.label,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "field": field,
            "old_value": dump_value(old),
            "new_value": dump_value(new),
            "version": version,
            "note": note[:500],
        }

    # -- reading the register ------------------------------------------------------------------

    def assets(self) -> list[StoredAsset]:
        with self._read() as conn:
            return self._assets(conn)

    @staticmethod
    def _assets(conn: Connection) -> list[StoredAsset]:
        rows = conn.execute(select(t.assets).order_by(t.assets.c.position, t.assets.c.id))
        return [asset_from_row(r) for r in rows]

    def asset(self, asset_id: str) -> StoredAsset:
        with self._read() as conn:
            row = conn.execute(select(t.assets).where(t.assets.c.id == asset_id)).first()
        if row is None:
            raise KeyError(f"no asset {asset_id!r} in the register")
        return asset_from_row(row)

    def register(self) -> list[Asset]:
        return [s.asset for s in self.assets()]

    def plans(self) -> list[StoredPlan]:
        with self._read() as conn:
            return self._plans(conn)

    @staticmethod
    def _plans(conn: Connection) -> list[StoredPlan]:
        rows = conn.execute(select(t.plans).order_by(t.plans.c.position, t.plans.c.id))
        return [plan_from_row(r) for r in rows]

    def plan(self, plan_id: str) -> StoredPlan:
        with self._read() as conn:
            row = conn.execute(select(t.plans).where(t.plans.c.id == plan_id)).first()
        if row is None:
            raise KeyError(f"no plan {plan_id!r}")
        return plan_from_row(row)

    def plan_book(self) -> PlanBook:
        return PlanBook(plans=[p.plan for p in self.plans()])

    def file_inputs(self) -> FileInputs | None:
        return load_files(self.files) if self.files is not None else None

    def workspace(self, files: Path | None = None) -> Workspace:
        """The workspace the engine runs on: file inputs plus the stored register and plans."""
        path = files or self.files
        if path is None:
            raise ValueError("the store has no workspace files to combine the register with")
        with self._read() as conn:
            assets = [s.asset for s in self._assets(conn)]
            plans = [p.plan for p in self._plans(conn)]
        return build_workspace(load_files(path), assets, plans)

    # -- changing the register -----------------------------------------------------------------

    def update_asset(
        self, asset_id: str, changes: Mapping[str, Any], expected_version: int, actor: Actor
    ) -> StoredAsset:
        """Change some fields of one asset read at `expected_version`."""
        try:
            current = self.asset(asset_id)
        except KeyError:
            with self._read() as conn:
                gone = self._deleted_conflict(conn, "asset", asset_id, expected_version)
            raise ConflictError([gone]) from None
        unknown = sorted(set(changes) - set(ASSET_FIELDS))
        if unknown:
            raise InputError(
                [
                    Problem(REGISTER, None, f, "not a field an edit can change", "row")
                    for f in unknown
                ]
            )
        data = {**current.asset.model_dump(), **changes}
        try:
            asset = Asset.model_validate(data)
        except ValidationError as exc:
            raise InputError(
                [
                    Problem(
                        REGISTER,
                        None,
                        ".".join(str(p) for p in e["loc"][:1]),
                        f"asset {asset_id!r}: {pydantic_message(e)}",
                        "row",
                    )
                    for e in exc.errors()
                ]
            ) from None
        self.save_assets([AssetEdit(asset_id, asset, expected_version)], actor)
        return self.asset(asset_id)

    def add_asset(self, asset: Asset, actor: Actor) -> StoredAsset:
        self.save_assets([AssetEdit(asset.id, asset, None)], actor)
        return self.asset(asset.id)

    def delete_asset(self, asset_id: str, expected_version: int, actor: Actor) -> None:
        self.save_assets([AssetEdit(asset_id, None, expected_version)], actor)

    def save_assets(
        self, edits: Sequence[AssetEdit], actor: Actor, note: str = ""
    ) -> ChangeSummary:
        """Apply edits all together or not at all: refused with ConflictError if any record
        changed since it was read, with InputError if the resulting register is invalid."""
        with self._write() as conn:
            self._authorize(conn, actor, Permission.EDIT)
            current = {s.id: s for s in self._assets(conn)}
            conflicts = self._asset_conflicts(conn, current, edits)
            if conflicts:
                raise ConflictError(conflicts)
            new = [s.asset for s in current.values()]
            index = {a.id: i for i, a in enumerate(new)}
            removed = set()
            for edit in edits:
                if edit.asset is not None and edit.asset.id != edit.asset_id:
                    raise InputError(
                        [Problem(REGISTER, None, "id", "an asset's id cannot be changed", "row")]
                    )
                if edit.asset is None:
                    removed.add(edit.asset_id)
                elif edit.asset_id in index:
                    new[index[edit.asset_id]] = edit.asset
                else:
                    index[edit.asset_id] = len(new)
                    new.append(edit.asset)
            new = [a for a in new if a.id not in removed]
            self._check_register(conn, new, [None] * len(new), REGISTER)
            return self._write_register(conn, current, new, actor, "edit", note)

    def _asset_conflicts(
        self, conn: Connection, current: dict[str, StoredAsset], edits: Sequence[AssetEdit]
    ) -> list[Conflict]:
        out = []
        for edit in edits:
            now = current.get(edit.asset_id)
            if edit.expected_version is None:
                if now is not None:
                    out.append(
                        Conflict(
                            "asset",
                            edit.asset_id,
                            "added",
                            None,
                            now.version,
                            by=now.updated_by,
                            at=now.updated_at,
                        )
                    )
            elif now is None:
                out.append(
                    self._deleted_conflict(conn, "asset", edit.asset_id, edit.expected_version)
                )
            elif now.version != edit.expected_version:
                out.append(
                    self._changed_conflict(
                        conn, "asset", edit.asset_id, edit.expected_version, now.version
                    )
                )
        return out

    def _history(
        self, conn: Connection, entity: str, entity_id: str, after_version: int
    ) -> list[AuditEntry]:
        rows = conn.execute(
            select(t.audit_log)
            .where(
                t.audit_log.c.entity == entity,
                t.audit_log.c.entity_id == entity_id,
                t.audit_log.c.version > after_version,
            )
            .order_by(t.audit_log.c.seq)
        )
        return [_audit_entry(r) for r in rows]

    def _changed_conflict(
        self, conn: Connection, entity: str, entity_id: str, expected: int, current: int
    ) -> Conflict:
        history = [e for e in self._history(conn, entity, entity_id, expected) if e.field]
        first: dict[str, AuditEntry] = {}
        last: dict[str, AuditEntry] = {}
        for e in history:
            first.setdefault(e.field, e)
            last[e.field] = e
        changes = [
            FieldChange(f, first[f].old, last[f].new, last[f].actor, last[f].at)
            for f in first
            if first[f].old != last[f].new
        ]
        latest = history[-1] if history else None
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

    def _deleted_conflict(
        self, conn: Connection, entity: str, entity_id: str, expected: int
    ) -> Conflict:
        history = self._history(conn, entity, entity_id, expected)
        gone = next((e for e in reversed(history) if not e.field and e.new is None), None)
        return Conflict(
            entity,
            entity_id,
            "deleted",
            expected,
            None,
            by=gone.actor if gone else "someone",
            at=gone.at if gone else None,
        )

    def _check_register(
        self,
        conn: Connection,
        assets: list[Asset],
        lines: Sequence[int | None],
        name: str,
        plans: Sequence[Plan] | None = None,
    ) -> None:
        problems = register_checks(assets, lines, name)
        if not problems:
            files = self.file_inputs()
            if files is not None:
                from riskapp.store.workspace import register_problems

                plan_list = plans if plans is not None else [p.plan for p in self._plans(conn)]
                rows = lines if any(line is not None for line in lines) else None
                problems = register_problems(files, assets, plan_list, rows, name)
        if problems:
            raise InputError(problems)

    def _write_register(
        self,
        conn: Connection,
        current: dict[str, StoredAsset],
        new: list[Asset],
        actor: Actor,
        action: str,
        note: str,
        hook: Hook | None = None,
    ) -> ChangeSummary:
        now = self._now()
        summary = ChangeSummary()
        audit: list[dict[str, Any]] = []
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        moves: list[dict[str, Any]] = []
        keep = {a.id for a in new}
        removed = [s for s in current.values() if s.id not in keep]
        for s in removed:
            summary.removed.append(s.id)
            audit.append(
                self._entry(
                    actor,
                    action,
                    "asset",
                    s.id,
                    old=asset_values(s.asset),
                    version=s.version + 1,
                    note=note,
                    at=now,
                )
            )
        positions = {s.id: i for i, s in enumerate(current.values())}
        for position, asset in enumerate(new):
            values = asset_values(asset)
            old = current.get(asset.id)
            if old is None:
                summary.added.append(asset.id)
                inserts.append(
                    {
                        **values,
                        "position": position,
                        "version": 1,
                        "updated_at": now,
                        "updated_by": actor.label,
                    }
                )
                audit.append(
                    self._entry(
                        actor, action, "asset", asset.id, new=values, version=1, note=note, at=now
                    )
                )
                continue
            before = asset_values(old.asset)
            changed = [f for f in ASSET_FIELDS if before[f] != values[f]]
            if changed:
                summary.changed[asset.id] = changed
                version = old.version + 1
                updates.append(
                    {
                        **values,
                        "b_id": asset.id,
                        "position": position,
                        "version": version,
                        "updated_at": now,
                        "updated_by": actor.label,
                    }
                )
                audit.extend(
                    self._entry(
                        actor,
                        action,
                        "asset",
                        asset.id,
                        f,
                        before[f],
                        values[f],
                        version,
                        note,
                        now,
                    )
                    for f in changed
                )
            elif positions.get(asset.id) != position:
                moves.append({"b_id": asset.id, "position": position})
        total = len(removed) + len(inserts) + len(updates)
        done = 0

        def progress(n: int) -> None:
            nonlocal done
            done += n
            if hook is not None:
                hook(done, total)

        ids = [s.id for s in removed]
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            conn.execute(delete(t.assets).where(t.assets.c.id.in_(chunk)))
            progress(len(chunk))
        columns = [c for c in t.assets.c if c.name != "id"]
        upd = (
            update(t.assets)
            .where(t.assets.c.id == bindparam("b_id"))
            .values({c.name: bindparam(c.name) for c in columns})
        )
        for start in range(0, len(updates), CHUNK):
            conn.execute(upd, updates[start : start + CHUNK])
            progress(len(updates[start : start + CHUNK]))
        if moves:
            conn.execute(
                update(t.assets)
                .where(t.assets.c.id == bindparam("b_id"))
                .values(position=bindparam("position")),
                moves,
            )
        for start in range(0, len(inserts), CHUNK):
            conn.execute(insert(t.assets), inserts[start : start + CHUNK])
            progress(len(inserts[start : start + CHUNK]))
        self._audit(conn, audit)
        return summary

    # -- imports -------------------------------------------------------------------------------

    def _planned_assets(
        self, conn: Connection, table: Table, mode: Mode
    ) -> tuple[dict[str, StoredAsset], list[Asset], ChangeSummary]:
        assets, lines, problems = parse_assets(table)
        if problems:
            raise InputError(problems)
        current = {s.id: s for s in self._assets(conn)}
        if mode == "replace":
            new, new_lines = assets, list[int | None](lines)
        else:
            by_id = {a.id: (a, line) for a, line in zip(assets, lines, strict=True)}
            new, new_lines = [], []
            for s in current.values():
                a, line = by_id.pop(s.id, (s.asset, None))
                new.append(a)
                new_lines.append(line)
            # duplicates inside the file are caught by register_checks on the file rows
            taken = {a.id for a in new}
            for a, line in zip(assets, lines, strict=True):
                if a.id not in taken or (a.id in by_id and by_id[a.id][1] != line):
                    new.append(a)
                    new_lines.append(line)
                taken.add(a.id)
            dupes = register_checks(assets, list[int | None](lines), table.name)
            dupes = [p for p in dupes if p.field == "id"]
            if dupes:
                raise InputError(dupes)
        self._check_register(conn, new, new_lines, table.name)
        summary = ChangeSummary()
        keep = {a.id for a in new}
        summary.removed = [i for i in current if i not in keep]
        for a in new:
            if a.id not in current:
                summary.added.append(a.id)
            else:
                before, after = asset_values(current[a.id].asset), asset_values(a)
                changed = [f for f in ASSET_FIELDS if before[f] != after[f]]
                if changed:
                    summary.changed[a.id] = changed
        return current, new, summary

    def preview_assets(self, table: Table, mode: Mode = "replace") -> ImportPreview:
        """Every problem of an asset import (row, column, reason) and what it would change;
        writes nothing."""
        with self._read() as conn:
            try:
                _, _, summary = self._planned_assets(conn, table, mode)
            except InputError as exc:
                return ImportPreview(
                    "assets", table.name, len(table.rows), exc.problems, ChangeSummary()
                )
        return ImportPreview("assets", table.name, len(table.rows), [], summary)

    def import_assets(
        self,
        table: Table,
        actor: Actor,
        mode: Mode = "replace",
        hook: Hook | None = None,
    ) -> ChangeSummary:
        """Import a register table, all or nothing. `replace`: the register becomes the table
        (assets not in it are removed); `merge`: the table's assets are added or updated, the
        others stay. InputError lists every problem; nothing is written then."""
        with self._write() as conn:
            self._authorize(conn, actor, Permission.IMPORT)
            current, new, _ = self._planned_assets(conn, table, mode)
            note = f"import {table.name} ({mode})"
            return self._write_register(conn, current, new, actor, "import", note, hook)

    # -- plans ---------------------------------------------------------------------------------

    def update_plan(
        self, plan_id: str, changes: Mapping[str, Any], expected_version: int, actor: Actor
    ) -> StoredPlan:
        self.save_plans([PlanEdit(plan_id, changes, expected_version)], actor)
        return self.plan(plan_id)

    def save_plans(self, edits: Sequence[PlanEdit], actor: Actor, note: str = "") -> ChangeSummary:
        """Change owners, statuses, review dates (and titles) of plans, all or nothing."""
        with self._write() as conn:
            self._authorize(conn, actor, Permission.EDIT)
            current = {p.id: p for p in self._plans(conn)}
            conflicts = []
            for edit in edits:
                now = current.get(edit.plan_id)
                if now is None:
                    conflicts.append(
                        self._deleted_conflict(conn, "plan", edit.plan_id, edit.expected_version)
                    )
                elif now.version != edit.expected_version:
                    conflicts.append(
                        self._changed_conflict(
                            conn, "plan", edit.plan_id, edit.expected_version, now.version
                        )
                    )
            if conflicts:
                raise ConflictError(conflicts)
            rows = []
            for e in edits:
                try:
                    rows.append(PlanTableRow.model_validate({"id": e.plan_id, **e.changes}))
                except ValidationError as exc:
                    raise InputError(
                        [
                            Problem(
                                PLANS,
                                None,
                                ".".join(str(p) for p in err["loc"][:1]),
                                f"plan {e.plan_id!r}: {pydantic_message(err)}",
                                "row",
                            )
                            for err in exc.errors()
                        ]
                    ) from None
            return self._apply_plan_rows(conn, current, rows, actor, "edit", note)

    def _apply_plan_rows(
        self,
        conn: Connection,
        current: dict[str, StoredPlan],
        rows: Sequence[PlanTableRow],
        actor: Actor,
        action: str,
        note: str,
        lines: Sequence[int] | None = None,
        name: str = PLANS,
    ) -> ChangeSummary:
        """Apply the fields each row gives (a title or status left empty keeps its value)."""
        updated: dict[str, tuple[Plan, date | None]] = {}
        problems: list[Problem] = []
        for i, row in enumerate(rows):
            stored = current[row.id]
            given = row.model_fields_set - {"id"}
            data = stored.plan.model_dump()
            for f in ("title", "owner", "status"):
                value = getattr(row, f)
                if f in given and value is not None:
                    data[f] = value
            review = row.review_date if "review_date" in given else stored.review_date
            try:
                updated[row.id] = (Plan.model_validate(data), review)
            except ValidationError as exc:
                line = lines[i] if lines is not None else None
                problems.extend(
                    Problem(
                        name,
                        line,
                        ".".join(str(p) for p in e["loc"][:1]),
                        f"plan {row.id!r}: {pydantic_message(e)}",
                        "row",
                    )
                    for e in exc.errors()
                )
        if problems:
            raise InputError(problems)
        return self._write_plans(conn, current, updated, actor, action, note)

    def _write_plans(
        self,
        conn: Connection,
        current: dict[str, StoredPlan],
        updated: Mapping[str, tuple[Plan, date | None]],
        actor: Actor,
        action: str,
        note: str,
        order: Sequence[str] | None = None,
    ) -> ChangeSummary:
        """Write changed, added and (when `order` is given: those not in it) removed plans."""
        now = self._now()
        summary = ChangeSummary()
        audit = []
        if order is not None:
            for pid, stored in current.items():
                if pid not in order:
                    summary.removed.append(pid)
                    conn.execute(delete(t.plans).where(t.plans.c.id == pid))
                    audit.append(
                        self._entry(
                            actor,
                            action,
                            "plan",
                            pid,
                            old=plan_fields(stored.plan, stored.review_date),
                            version=stored.version + 1,
                            note=note,
                            at=now,
                        )
                    )
        positions = {pid: i for i, pid in enumerate(order or [])}
        for pid, (plan, review) in updated.items():
            after = plan_fields(plan, review)
            existing = current.get(pid)
            values = {
                **plan_values(plan),
                "review_date": review,
                "updated_at": now,
                "updated_by": actor.label,
            }
            if existing is None:
                summary.added.append(pid)
                conn.execute(
                    insert(t.plans).values(
                        **values, version=1, position=positions.get(pid, len(current))
                    )
                )
                audit.append(
                    self._entry(actor, action, "plan", pid, new=after, version=1, note=note, at=now)
                )
                continue
            before = plan_fields(existing.plan, existing.review_date)
            changed = [f for f in PLAN_FIELDS if before[f] != after[f]]
            position = positions.get(pid)
            if changed:
                summary.changed[pid] = changed
                version = existing.version + 1
                extra = {"position": position} if position is not None else {}
                conn.execute(
                    update(t.plans)
                    .where(t.plans.c.id == pid)
                    .values(**values, version=version, **extra)
                )
                audit.extend(
                    self._entry(
                        actor, action, "plan", pid, f, before[f], after[f], version, note, now
                    )
                    for f in changed
                )
            elif position is not None:
                conn.execute(update(t.plans).where(t.plans.c.id == pid).values(position=position))
        self._audit(conn, audit)
        if order is not None or summary.added:
            # plans must still fit the register (coverage by asset id) and the files
            self._check_register(
                conn,
                [s.asset for s in self._assets(conn)],
                [None] * self._count(conn, t.assets),
                REGISTER,
                plans=[p.plan for p in self._plans(conn)],
            )
        return summary

    def _planned_plan_rows(
        self, conn: Connection, table: Table
    ) -> tuple[dict[str, StoredPlan], list[PlanTableRow], list[int]]:
        current = {p.id: p for p in self._plans(conn)}
        rows, lines, problems = parse_plan_table(table, list(current))
        if problems:
            raise InputError(problems)
        return current, rows, lines

    def preview_plans(self, table: Table) -> ImportPreview:
        """Problems and changes of a plan table import (owner, status, review date, title)."""
        with self._read() as conn:
            try:
                current, rows, _ = self._planned_plan_rows(conn, table)
                summary = ChangeSummary()
                for row in rows:
                    stored = current[row.id]
                    before = plan_fields(stored.plan, stored.review_date)
                    after = dict(before)
                    for f in row.model_fields_set - {"id"}:
                        value = getattr(row, f)
                        if f == "review_date":
                            after[f] = value.isoformat() if value else None
                        elif value is not None:
                            after[f] = value.value if f == "status" else value
                    changed = [f for f in PLAN_FIELDS if before[f] != after[f]]
                    if changed:
                        summary.changed[row.id] = changed
            except InputError as exc:
                return ImportPreview(
                    "plans", table.name, len(table.rows), exc.problems, ChangeSummary()
                )
        return ImportPreview("plans", table.name, len(table.rows), [], summary)

    def import_plan_table(self, table: Table, actor: Actor) -> ChangeSummary:
        """Owners, statuses, review dates and titles of existing plans from a table, all or
        nothing."""
        with self._write() as conn:
            self._authorize(conn, actor, Permission.IMPORT)
            current, rows, lines = self._planned_plan_rows(conn, table)
            return self._apply_plan_rows(
                conn, current, rows, actor, "import", f"import {table.name}", lines, table.name
            )

    def import_plan_book(
        self, book: PlanBook, actor: Actor, source: str = "plans.yaml", mode: Mode = "replace"
    ) -> ChangeSummary:
        """Plan definitions (plans.yaml). Review dates of plans that stay are kept."""
        with self._write() as conn:
            self._authorize(conn, actor, Permission.IMPORT)
            current = {p.id: p for p in self._plans(conn)}
            updated = {
                p.id: (p, current[p.id].review_date if p.id in current else None)
                for p in book.plans
            }
            order = [p.id for p in book.plans]
            if mode == "merge":
                order = [*[pid for pid in current if pid not in updated], *order]
                order = list(dict.fromkeys(order))
            return self._write_plans(
                conn, current, updated, actor, "import", f"import {source} ({mode})", order
            )

    # -- seeding -------------------------------------------------------------------------------

    def is_empty(self) -> bool:
        with self._read() as conn:
            return not any(self._count(conn, tb) for tb in (t.assets, t.plans, t.audit_log))

    def seed_if_empty(self, files: Path | None = None) -> bool:
        """Fill an empty database with the register and plans of the workspace files."""
        from riskapp.io.tables import load_assets
        from riskapp.io.workspace import WorkspaceManifest, load_model, manifest_path

        path = files or self.files
        if path is None or not self.is_empty():
            return False
        mpath = manifest_path(path)
        manifest, _ = load_model(mpath, WorkspaceManifest)
        assets = load_assets(mpath.parent / manifest.paths.assets)
        plans_file = mpath.parent / manifest.paths.plans
        book = load_model(plans_file, PlanBook)[0] if plans_file.exists() else PlanBook()
        actor = Actor.system("seed")
        with self._write() as conn:
            if any(self._count(conn, tb) for tb in (t.assets, t.plans, t.audit_log)):
                return False  # another server seeded it first
            note = f"seeded from {mpath.parent.name}"
            self._write_register(conn, {}, assets, actor, "seed", note)
            self._write_plans(
                conn,
                {},
                {p.id: (p, None) for p in book.plans},
                actor,
                "seed",
                note,
                [p.id for p in book.plans],
            )
        return True

    # -- audit trail ---------------------------------------------------------------------------

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
        with self._read() as conn:
            return [_audit_entry(r) for r in conn.execute(query)]

    def save_scenario(
        self,
        path: str | Path,
        scenario_data: Mapping[str, Any],
        expected_version: str,
        actor: Actor,
        note: str = "",
    ) -> Scenario:
        """Replace a scenario file (role-checked, validated, conflict-checked, audited): see
        `riskapp.store.scenarios.save_scenario`. Returns the saved Scenario."""
        from riskapp.store.scenarios import save_scenario

        return save_scenario(
            self, actor, path, dict(scenario_data), expected_version=expected_version, note=note
        )

    def revision(self) -> int:
        """A number that grows with every change (the newest audit entry): a cache key."""
        with self._read() as conn:
            return int(conn.execute(select(func.max(t.audit_log.c.seq))).scalar() or 0)

    def audit_actors(self) -> list[str]:
        with self._read() as conn:
            return sorted(conn.execute(select(t.audit_log.c.actor).distinct()).scalars().all())

    # -- assessments ---------------------------------------------------------------------------

    def save_assessment(
        self,
        label: str,
        as_of: date,
        inputs: Mapping[str, Any],
        results: Mapping[str, Any],
        actor: Actor,
    ) -> AssessmentSummary:
        """Keep an assessment: label, date, the hash and fingerprint of its inputs, results."""
        label = label.strip()
        if not label or len(label) > 200:
            raise InputError(
                [Problem("assessment", None, "label", "give a label (1-200 characters)")]
            )
        digest = inputs_hash(inputs)
        with self._write(lock=False) as conn:
            self._authorize(conn, actor, Permission.SAVE_ASSESSMENT)
            now = self._now()
            new_id = conn.execute(
                insert(t.assessments)
                .values(
                    label=label,
                    as_of=as_of,
                    created_at=now,
                    created_by=actor.label,
                    inputs_hash=digest,
                    inputs=dict(inputs),
                    results=dict(results),
                )
                .returning(t.assessments.c.id)
            ).scalar_one()
            self._audit(
                conn,
                [
                    self._entry(
                        actor,
                        "save",
                        "assessment",
                        str(new_id),
                        new={"label": label, "as_of": as_of.isoformat(), "inputs_hash": digest},
                        version=1,
                        at=now,
                    )
                ],
            )
        return self.assessment(int(new_id)).summary

    def assessments(self) -> list[AssessmentSummary]:
        """Saved assessments, oldest first (by date, then by when they were saved)."""
        c = t.assessments.c
        with self._read() as conn:
            rows = conn.execute(
                select(
                    c.id, c.label, c.as_of, c.created_at, c.created_by, c.inputs_hash, c.results
                ).order_by(c.as_of, c.created_at, c.id)
            )
            return [_assessment_summary(r) for r in rows]

    def assessment(self, assessment_id: int) -> SavedAssessment:
        with self._read() as conn:
            row = conn.execute(
                select(t.assessments).where(t.assessments.c.id == assessment_id)
            ).first()
        if row is None:
            raise KeyError(f"no saved assessment {assessment_id}")
        return SavedAssessment(_assessment_summary(row), row.inputs, row.results)

    # -- users ---------------------------------------------------------------------------------

    def has_users(self) -> bool:
        with self._read() as conn:
            return self._count(conn, t.users) > 0

    def users(self) -> list[UserInfo]:
        with self._read() as conn:
            rows = conn.execute(select(t.users).order_by(t.users.c.username))
            return [
                UserInfo(
                    r.username,
                    r.display_name,
                    Role(r.role),
                    from_db_time(r.created_at),
                    r.password_hash.startswith("$argon2"),
                )
                for r in rows
            ]

    def add_user(
        self,
        username: str,
        password: str | None,
        role: Role,
        actor: Actor,
        display_name: str = "",
    ) -> UserInfo:
        """A local account (argon2 hash), or, with no password, an OpenID Connect identity
        (the username is the e-mail the provider reports)."""
        try:
            check_username(username)
            password_hash = hash_password(password) if password is not None else "oidc"
        except ValueError as exc:
            raise InputError([Problem("user", None, "username", str(exc))]) from None
        with self._write(lock=False) as conn:
            first = self._count(conn, t.users) == 0
            if not (first and actor.kind is not ActorKind.USER):
                self._authorize(conn, actor, Permission.MANAGE_USERS)
            if first and role is not Role.ADMIN:
                raise InputError(
                    [
                        Problem(
                            "user",
                            None,
                            "role",
                            "the first user must be an admin, or nobody "
                            "could manage users once login is on",
                        )
                    ]
                )
            exists = conn.execute(
                select(t.users.c.username).where(t.users.c.username == username)
            ).first()
            if exists:
                raise InputError([Problem("user", None, "username", f"user {username!r} exists")])
            now = self._now()
            conn.execute(
                insert(t.users).values(
                    username=username,
                    display_name=display_name or username,
                    role=role.value,
                    password_hash=password_hash,
                    created_at=now,
                )
            )
            self._audit(
                conn,
                [
                    self._entry(
                        actor,
                        "create",
                        "user",
                        username,
                        new={"role": role.value, "display_name": display_name or username},
                        version=1,
                        at=now,
                    )
                ],
            )
        return next(u for u in self.users() if u.username == username)

    def remove_user(self, username: str, actor: Actor) -> None:
        with self._write(lock=False) as conn:
            self._authorize(conn, actor, Permission.MANAGE_USERS)
            row = conn.execute(select(t.users).where(t.users.c.username == username)).first()
            if row is None:
                raise KeyError(f"no user {username!r}")
            admins = conn.execute(
                select(func.count()).select_from(t.users).where(t.users.c.role == "admin")
            ).scalar()
            others = self._count(conn, t.users) - 1
            if row.role == "admin" and admins == 1 and others > 0:
                raise InputError(
                    [
                        Problem(
                            "user",
                            None,
                            "username",
                            f"{username!r} is the last admin; make someone else admin first",
                        )
                    ]
                )
            conn.execute(delete(t.users).where(t.users.c.username == username))
            self._audit(
                conn,
                [
                    self._entry(
                        actor, "delete", "user", username, old={"role": row.role}, at=self._now()
                    )
                ],
            )

    def set_role(self, username: str, role: Role, actor: Actor) -> None:
        with self._write(lock=False) as conn:
            self._authorize(conn, actor, Permission.MANAGE_USERS)
            row = conn.execute(select(t.users).where(t.users.c.username == username)).first()
            if row is None:
                raise KeyError(f"no user {username!r}")
            conn.execute(
                update(t.users).where(t.users.c.username == username).values(role=role.value)
            )
            self._audit(
                conn,
                [
                    self._entry(
                        actor,
                        "edit",
                        "user",
                        username,
                        "role",
                        row.role,
                        role.value,
                        at=self._now(),
                    )
                ],
            )

    def set_password(self, username: str, password: str, actor: Actor) -> None:
        """Change a password: admins for anyone, a user for themselves."""
        try:
            new_hash = hash_password(password)
        except ValueError as exc:
            raise InputError([Problem("user", None, "password", str(exc))]) from None
        with self._write(lock=False) as conn:
            if not (actor.kind is ActorKind.USER and actor.username == username):
                self._authorize(conn, actor, Permission.MANAGE_USERS)
            result = conn.execute(
                update(t.users).where(t.users.c.username == username).values(password_hash=new_hash)
            )
            if not result.rowcount:
                raise KeyError(f"no user {username!r}")
            self._audit(
                conn,
                [
                    self._entry(
                        actor,
                        "edit",
                        "user",
                        username,
                        "password",
                        "(hidden)",
                        "(changed)",
                        at=self._now(),
                    )
                ],
            )

    def authenticate(self, username: str, password: str) -> Actor:
        """The actor for a correct username and password. After too many failures in a row
        the username is locked for a while (LoginThrottled), checked before the password, and
        the lock is shared by every server of the team through the database."""
        name = username.strip()[:200]
        now = self._now()
        with self._write(lock=False) as conn:
            throttle = conn.execute(
                select(t.login_throttle).where(t.login_throttle.c.username == name)
            ).first()
            wait = locked_for(throttle.locked_until if throttle else None, now)
            if wait is not None:
                raise LoginThrottled(name, wait)
            row = conn.execute(select(t.users).where(t.users.c.username == name)).first()
        ok = verify_password(row.password_hash if row else None, password)
        with self._write(lock=False) as conn:
            if ok and row is not None:
                conn.execute(delete(t.login_throttle).where(t.login_throttle.c.username == name))
                if needs_rehash(row.password_hash):
                    conn.execute(
                        update(t.users)
                        .where(t.users.c.username == name)
                        .values(password_hash=hash_password(password))
                    )
                return Actor(name, Role(row.role), ActorKind.USER, row.display_name)
            failures = (throttle.failures if throttle else 0) + 1
            wait = lockout(
                failures,
                self.settings.login_max_failures,
                timedelta(seconds=self.settings.login_lockout_seconds),
            )
            values = {"failures": failures, "locked_until": now + wait if wait else None}
            if throttle is None:
                conn.execute(insert(t.login_throttle).values(username=name, **values))
            else:
                conn.execute(
                    update(t.login_throttle)
                    .where(t.login_throttle.c.username == name)
                    .values(**values)
                )
        if wait is not None:
            raise LoginThrottled(name, wait)
        raise AuthError("wrong username or password")

    def oidc_actor(self, email: str) -> Actor:
        """The actor for an identity confirmed by the OpenID Connect provider; it must have been
        added as a user (its role decides what it may do)."""
        with self._read() as conn:
            row = conn.execute(select(t.users).where(t.users.c.username == email)).first()
        if row is None:
            raise AuthError(f"{email} is not a user of this workspace; ask an admin to add it")
        return Actor(email, Role(row.role), ActorKind.USER, row.display_name)

    # -- backup and restore --------------------------------------------------------------------

    def export_workspace(self, actor: Actor) -> dict[str, Any]:
        """Everything the database holds, audit trail and users (password hashes) included."""
        with self._read() as conn:
            self._authorize(conn, actor, Permission.RESTORE)
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
            "exported_at": self.clock().isoformat(),
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
        with self._write() as conn:
            self._authorize(conn, actor, Permission.RESTORE)
            held = {n: self._count(conn, tb) for n, tb in _BACKUP_TABLES.items()}
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
            if self.dialect == "postgresql":
                for name, column in (("audit_log", "seq"), ("assessments", "id")):
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', '{column}'), "
                            f"COALESCE((SELECT MAX({column}) FROM {name}), 0) + 1, false)"
                        )
                    )
            self._audit(
                conn,
                [
                    self._entry(
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


_BACKUP_TABLES = {
    "assets": t.assets,
    "plans": t.plans,
    "assessments": t.assessments,
    "users": t.users,
    "audit_log": t.audit_log,
}


def _permissions(role: Role) -> frozenset[Permission]:
    from riskapp.store.auth import ROLE_PERMISSIONS

    return ROLE_PERMISSIONS[role]


def _audit_entry(row: Any) -> AuditEntry:
    m = row._mapping
    return AuditEntry(
        seq=m["seq"],
        at=from_db_time(m["at"]),
        actor=m["actor"],
        action=m["action"],
        entity=m["entity"],
        entity_id=m["entity_id"],
        field=m["field"],
        old=load_value(m["old_value"]),
        new=load_value(m["new_value"]),
        version=m["version"],
        note=m["note"],
    )


def _assessment_summary(row: Any) -> AssessmentSummary:
    m = row._mapping
    figures = m["results"].get("key_figures", {}) if m["results"] else {}
    return AssessmentSummary(
        id=m["id"],
        label=m["label"],
        as_of=m["as_of"],
        created_at=from_db_time(m["created_at"]),
        created_by=m["created_by"],
        inputs_hash=m["inputs_hash"],
        key_figures={k: float(v) for k, v in figures.items()},
    )


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
