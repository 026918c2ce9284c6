"""The asset register: reading it, edits (all or nothing, conflict-checked) and imports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, bindparam, delete, insert, select, update

from riskapp.domain import Asset, Plan
from riskapp.io.errors import InputError, Problem, pydantic_message
from riskapp.store import schema as t
from riskapp.store.auth import Actor, Permission
from riskapp.store.conflicts import changed_conflict, deleted_conflict
from riskapp.store.core import (
    CHUNK,
    Hook,
    ImportPreview,
    Mode,
    StoreCore,
    stored_assets,
    stored_plans,
)
from riskapp.store.errors import Conflict, ConflictError
from riskapp.store.records import (
    ASSET_FIELDS,
    ChangeSummary,
    StoredAsset,
    asset_from_row,
    asset_values,
)
from riskapp.store.validation import Table, parse_assets, register_checks
from riskapp.store.workspace import REGISTER, FileInputs


@dataclass(frozen=True)
class AssetEdit:
    """One row of an edit: the new asset (None deletes it) and the version it was read at
    (None: a new asset)."""

    asset_id: str
    asset: Asset | None
    expected_version: int | None


class Register:
    """Reads and changes the asset register."""

    def __init__(self, core: StoreCore) -> None:
        self.core = core

    def assets(self) -> list[StoredAsset]:
        with self.core.read() as conn:
            return stored_assets(conn)

    def asset(self, asset_id: str) -> StoredAsset:
        with self.core.read() as conn:
            row = conn.execute(select(t.assets).where(t.assets.c.id == asset_id)).first()
        if row is None:
            raise KeyError(f"no asset {asset_id!r} in the register")
        return asset_from_row(row)

    def register(self) -> list[Asset]:
        return [s.asset for s in self.assets()]

    def update_asset(
        self, asset_id: str, changes: Mapping[str, Any], expected_version: int, actor: Actor
    ) -> StoredAsset:
        """Change some fields of one asset read at `expected_version`."""
        try:
            current = self.asset(asset_id)
        except KeyError:
            with self.core.read() as conn:
                gone = deleted_conflict(conn, "asset", asset_id, expected_version)
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
        changed since it was read, with InputError if the resulting register is invalid.

        The edits are checked (against the workspace files, read once) before the write lock
        is taken; holding it, the store only confirms nothing changed and writes."""
        self.core.require(actor, Permission.EDIT)
        for edit in edits:
            if edit.asset is not None and edit.asset.id != edit.asset_id:
                raise InputError(
                    [Problem(REGISTER, None, "id", "an asset's id cannot be changed", "row")]
                )
        files = self.core.file_inputs()

        def prepare(conn: Connection) -> tuple[dict[str, StoredAsset], list[Asset]]:
            current = {s.id: s for s in stored_assets(conn)}
            conflicts = self._asset_conflicts(conn, current, edits)
            if conflicts:
                raise ConflictError(conflicts)
            new = [s.asset for s in current.values()]
            index = {a.id: i for i, a in enumerate(new)}
            removed = set()
            for edit in edits:
                if edit.asset is None:
                    removed.add(edit.asset_id)
                elif edit.asset_id in index:
                    new[index[edit.asset_id]] = edit.asset
                else:
                    index[edit.asset_id] = len(new)
                    new.append(edit.asset)
            new = [a for a in new if a.id not in removed]
            check_register(self.core, conn, new, [None] * len(new), REGISTER, files=files)
            return current, new

        def commit(
            conn: Connection, planned: tuple[dict[str, StoredAsset], list[Asset]]
        ) -> ChangeSummary:
            current, new = planned
            return write_register(self.core, conn, current, new, actor, "edit", note)

        return self.core.write_checked(actor, Permission.EDIT, prepare, commit)

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
                out.append(deleted_conflict(conn, "asset", edit.asset_id, edit.expected_version))
            elif now.version != edit.expected_version:
                out.append(
                    changed_conflict(
                        conn, "asset", edit.asset_id, edit.expected_version, now.version
                    )
                )
        return out

    # -- imports -------------------------------------------------------------------------------

    def _planned_assets(
        self,
        conn: Connection,
        table: Table,
        mode: Mode,
        parsed: tuple[list[Asset], list[int]] | None = None,
        files: FileInputs | None = None,
    ) -> tuple[dict[str, StoredAsset], list[Asset], ChangeSummary]:
        """What an import would write; `parsed` (the table's assets and row numbers) and
        `files` may be given when read already."""
        if parsed is None:
            assets, lines, problems = parse_assets(table)
            if problems:
                raise InputError(problems)
        else:
            assets, lines = parsed
        current = {s.id: s for s in stored_assets(conn)}
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
        check_register(self.core, conn, new, new_lines, table.name, files=files)
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
        with self.core.read() as conn:
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
        self.core.require(actor, Permission.IMPORT)
        assets, lines, problems = parse_assets(table)  # the costly part, before any lock
        if problems:
            raise InputError(problems)
        files = self.core.file_inputs()

        def prepare(conn: Connection) -> tuple[dict[str, StoredAsset], list[Asset]]:
            current, new, _ = self._planned_assets(conn, table, mode, (assets, lines), files)
            return current, new

        def commit(
            conn: Connection, planned: tuple[dict[str, StoredAsset], list[Asset]]
        ) -> ChangeSummary:
            current, new = planned
            note = f"import {table.name} ({mode})"
            return write_register(self.core, conn, current, new, actor, "import", note, hook)

        return self.core.write_checked(actor, Permission.IMPORT, prepare, commit)


def check_register(
    core: StoreCore,
    conn: Connection,
    assets: list[Asset],
    lines: Sequence[int | None],
    name: str,
    plans: Sequence[Plan] | None = None,
    files: FileInputs | None = None,
) -> None:
    """InputError if the register (with `plans`, or the stored ones) does not hold together or
    does not fit the workspace files (`files`, or read now)."""
    problems = register_checks(assets, lines, name)
    if not problems:
        files = files if files is not None else core.file_inputs()
        if files is not None:
            from riskapp.store.workspace import register_problems

            plan_list = plans if plans is not None else [p.plan for p in stored_plans(conn)]
            rows = lines if any(line is not None for line in lines) else None
            problems = register_problems(files, assets, plan_list, rows, name)
    if problems:
        raise InputError(problems)


def write_register(
    core: StoreCore,
    conn: Connection,
    current: dict[str, StoredAsset],
    new: list[Asset],
    actor: Actor,
    action: str,
    note: str,
    hook: Hook | None = None,
) -> ChangeSummary:
    now = core.now()
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
            core.audit_entry(
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
                core.audit_entry(
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
                core.audit_entry(
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
    core.append_audit(conn, audit)
    return summary
