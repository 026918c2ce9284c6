"""The asset register: reading it, edits (all or nothing, conflict-checked) and imports."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError
from sqlalchemy import Connection, select

from riskapp.domain import Asset, Plan
from riskapp.domain.assets import ASSET_COLUMNS, id_index
from riskapp.io.errors import InputError, Problem, pydantic_message
from riskapp.store import schema as t
from riskapp.store.auth import Actor, Permission
from riskapp.store.bulk import delete_rows, insert_rows, update_rows
from riskapp.store.conflicts import changed_conflict, deleted_conflict
from riskapp.store.core import (
    AuditColumns,
    DataState,
    Hook,
    ImportPreview,
    Mode,
    StoreCore,
    data_state,
    stored_assets,
    stored_plans,
)
from riskapp.store.errors import Conflict, ConflictError
from riskapp.store.frames import (
    RegisterDiff,
    db_values,
    diff_registers,
    frame_of_assets,
    no_cyclic_gc,
    normalised,
    record_texts,
    stored_register,
    value_texts,
)
from riskapp.store.records import (
    ASSET_FIELDS,
    ChangeSummary,
    StoredAsset,
    asset_from_row,
    from_db_time,
)
from riskapp.store.validation import (
    ParsedRegister,
    Table,
    parse_register,
    register_checks_frame,
)
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
        self._parsed: OrderedDict[str, ParsedRegister] = OrderedDict()
        self._previewed: tuple[str, Mode, FileInputs | None, DataState, Planned] | None = None
        self._lock = threading.Lock()

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
        with no_cyclic_gc():
            return self._save_assets(edits, actor, note)

    def _save_assets(self, edits: Sequence[AssetEdit], actor: Actor, note: str) -> ChangeSummary:
        self.core.require(actor, Permission.EDIT)
        for edit in edits:
            if edit.asset is not None and edit.asset.id != edit.asset_id:
                raise InputError(
                    [Problem(REGISTER, None, "id", "an asset's id cannot be changed", "row")]
                )
        files = self.core.file_inputs()

        def prepare(conn: Connection) -> Planned:
            current = stored_register(conn)
            conflicts = self._asset_conflicts(conn, current, edits)
            if conflicts:
                raise ConflictError(conflicts)
            new = edited_register(current, edits)
            check_frame(self.core, conn, new, [None] * len(new), REGISTER, files=files)
            return current, new

        def commit(conn: Connection, planned: Planned) -> ChangeSummary:
            current, new = planned
            return write_register(self.core, conn, current, new, actor, "edit", note)

        return self.core.write_checked(actor, Permission.EDIT, prepare, commit)

    def _asset_conflicts(
        self, conn: Connection, current: pd.DataFrame, edits: Sequence[AssetEdit]
    ) -> list[Conflict]:
        ids = [edit.asset_id for edit in edits]
        found = id_index(current["id"]).get_indexer(id_index(ids))
        versions = current["version"].to_numpy()
        out = []
        for edit, row in zip(edits, found.tolist(), strict=True):
            now = int(versions[row]) if row >= 0 else None
            if edit.expected_version is None:
                if now is not None:
                    by, at = conn.execute(
                        select(t.assets.c.updated_by, t.assets.c.updated_at).where(
                            t.assets.c.id == edit.asset_id
                        )
                    ).one()
                    out.append(
                        Conflict(
                            "asset",
                            edit.asset_id,
                            "added",
                            None,
                            now,
                            by=by,
                            at=from_db_time(at),
                        )
                    )
            elif now is None:
                out.append(deleted_conflict(conn, "asset", edit.asset_id, edit.expected_version))
            elif now != edit.expected_version:
                out.append(
                    changed_conflict(conn, "asset", edit.asset_id, edit.expected_version, now)
                )
        return out

    # -- imports -------------------------------------------------------------------------------

    def _parse(self, table: Table) -> tuple[str, ParsedRegister]:
        """The table read and validated, once: a table with the same content (the same file
        previewed, then imported) is validated again only when no longer kept."""
        key = table.digest
        with self._lock:
            parsed = self._parsed.get(key)
            if parsed is not None:
                self._parsed.move_to_end(key)
                return key, parsed
        parsed = parse_register(table)
        with self._lock:
            self._parsed[key] = parsed
            while len(self._parsed) > PARSED_KEPT:
                self._parsed.popitem(last=False)
        return key, parsed

    def _forget(self, key: str) -> None:
        with self._lock:
            self._parsed.pop(key, None)

    def _planned_assets(
        self,
        conn: Connection,
        parsed: ParsedRegister,
        mode: Mode,
        name: str,
        files: FileInputs | None = None,
    ) -> Planned:
        """What an import would write: the stored register and the one it would become, checked
        (against `files`, read now when not given). Changes in the database since the table
        was validated are seen here: this runs in the transaction that reads (and, on commit,
        again in the one that writes when anything changed meanwhile)."""
        assert parsed.frame is not None
        current = stored_register(conn)
        table = parsed.frame
        lines = np.asarray(parsed.lines, dtype=object)
        if mode == "replace":
            new, new_lines = table, lines
        else:
            ids = table["id"]
            if ids.duplicated().any():
                dupes = register_checks_frame(table, list(lines), name)
                raise InputError([p for p in dupes if p.field == "id"])
            # the stored register in its order, each asset in the table replaced by its row
            # there, then the table's new assets in the table's order
            file_ids, stored_ids = id_index(ids), id_index(current["id"])
            source = file_ids.get_indexer(stored_ids)
            fresh = np.flatnonzero(~file_ids.isin(stored_ids))
            n = len(current)
            take = np.concatenate([np.where(source >= 0, n + source, np.arange(n)), n + fresh])
            both = pd.concat([current[ASSET_COLUMNS], table], ignore_index=True)
            new = normalised(both.iloc[take])
            new_lines = np.concatenate([np.full(n, None, dtype=object), lines])[take]
        check_frame(self.core, conn, new, list(new_lines), name, files=files)
        return current, new

    def preview_assets(self, table: Table, mode: Mode = "replace") -> ImportPreview:
        """Every problem of an asset import (row, column, reason) and what it would change;
        writes nothing."""
        with no_cyclic_gc():
            return self._preview_assets(table, mode)

    def _preview_assets(self, table: Table, mode: Mode) -> ImportPreview:
        key, parsed = self._parse(table)
        if parsed.problems:
            return ImportPreview(
                "assets", table.name, len(table.rows), parsed.problems, ChangeSummary()
            )
        files = self.core.file_inputs()
        with self.core.read() as conn:
            state = data_state(conn)
            try:
                current, new = self._planned_assets(conn, parsed, mode, table.name, files)
            except InputError as exc:
                return ImportPreview(
                    "assets", table.name, len(table.rows), exc.problems, ChangeSummary()
                )
        with self._lock:
            self._previewed = (key, mode, files, state, (current, new))
        summary = diff_registers(current, new).summary(current, new)
        return ImportPreview("assets", table.name, len(table.rows), [], summary, parsed.notes)

    def import_assets(
        self,
        table: Table,
        actor: Actor,
        mode: Mode = "replace",
        hook: Hook | None = None,
    ) -> ChangeSummary:
        """Import a register table, all or nothing. `replace`: the register becomes the table
        (assets not in it are removed); `merge`: the table's assets are added or updated, the
        others stay. InputError lists every problem; nothing is written then.

        The table's rows are validated once: after a preview of the same content, the import
        takes the preview's validated rows (kept by content digest) and checks them again only
        against what can have changed since: the stored register and plans, and the workspace
        files."""
        with no_cyclic_gc():
            return self._import_assets(table, actor, mode, hook)

    def _import_assets(
        self, table: Table, actor: Actor, mode: Mode, hook: Hook | None
    ) -> ChangeSummary:
        self.core.require(actor, Permission.IMPORT)
        key, parsed = self._parse(table)  # the costly part, before any lock
        if parsed.problems:
            raise InputError(parsed.problems)
        files = self.core.file_inputs()
        with self._lock:
            previewed, self._previewed = self._previewed, None
        known = None
        if previewed is not None:
            same_key, same_mode, same_files, state, planned = previewed
            if (same_key, same_mode) == (key, mode) and same_files is files:
                known = (state, planned)  # the preview's plan, while the store is as it was

        def prepare(conn: Connection) -> Planned:
            return self._planned_assets(conn, parsed, mode, table.name, files)

        def commit(conn: Connection, planned: Planned) -> ChangeSummary:
            current, new = planned
            note = f"import {table.name} ({mode})"
            return write_register(self.core, conn, current, new, actor, "import", note, hook)

        summary = self.core.write_checked(actor, Permission.IMPORT, prepare, commit, known)
        self._forget(key)
        return summary


Planned = tuple[pd.DataFrame, pd.DataFrame]
"""The stored register (with versions) and the register a change makes of it."""

PARSED_KEPT = 2
"""Validated tables a register keeps (a preview's, for the import that follows it)."""


def edited_register(current: pd.DataFrame, edits: Sequence[AssetEdit]) -> pd.DataFrame:
    """The register after the edits: an edited asset keeps its place, a new one is appended
    (in the order of the edits; the last edit of an id wins), deleted ones are left out."""
    last: dict[str, int] = {}
    for i, edit in enumerate(edits):
        if edit.asset is not None:
            last[edit.asset_id] = i
    removed = {edit.asset_id for edit in edits if edit.asset is None}
    order = list(last)
    edited = frame_of_assets([edits[last[i]].asset for i in order])  # type: ignore[misc]
    n = len(current)
    source = id_index(order).get_indexer(id_index(current["id"]))
    stored = set(current["id"].tolist())
    fresh = [k for k, asset_id in enumerate(order) if asset_id not in stored]
    take = np.concatenate(
        [np.where(source >= 0, n + source, np.arange(n)), n + np.asarray(fresh, dtype=int)]
    )
    both = pd.concat([current[ASSET_COLUMNS], edited], ignore_index=True)
    new = both.iloc[take]
    return normalised(new[~id_index(new["id"]).isin(id_index(sorted(removed)))])


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
    check_frame(core, conn, frame_of_assets(assets), lines, name, plans, files)


def check_frame(
    core: StoreCore,
    conn: Connection,
    frame: pd.DataFrame,
    lines: Sequence[int | None],
    name: str,
    plans: Sequence[Plan] | None = None,
    files: FileInputs | None = None,
) -> None:
    """`check_register` of a register held as columns (`riskapp.store.frames`)."""
    problems = register_checks_frame(frame, lines, name)
    if not problems:
        files = files if files is not None else core.file_inputs()
        if files is not None:
            from riskapp.store.workspace import frame_problems

            plan_list = plans if plans is not None else [p.plan for p in stored_plans(conn)]
            rows = lines if any(line is not None for line in lines) else None
            problems = frame_problems(files, frame, plan_list, rows, name)
    if problems:
        raise InputError(problems)


def write_register(
    core: StoreCore,
    conn: Connection,
    current: pd.DataFrame,
    new: pd.DataFrame,
    actor: Actor,
    action: str,
    note: str,
    hook: Hook | None = None,
) -> ChangeSummary:
    """Write the register `new` over the stored `current` (its versions included): removed
    assets deleted, changed ones updated (version + 1), new ones inserted, moved ones given
    their place, in bulk, and one audit entry per asset added or removed and per field
    changed (the whole record as JSON, or the field's old and new value)."""
    diff = diff_registers(current, new)
    summary = diff.summary(current, new)
    now = core.now()
    total = len(diff.removed) + len(diff.added) + len(diff.changed)
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        if hook is not None:
            hook(done, total)

    ids = new["id"].to_numpy(dtype=object)
    versions = current["version"].to_numpy(dtype=np.int64)
    delete_rows(conn, t.assets, "id", summary.removed, progress)
    if len(diff.changed):
        rows = new.iloc[diff.changed]
        k = len(diff.changed)
        update_rows(
            conn,
            t.assets,
            "id",
            {
                "id": ids[diff.changed].tolist(),
                **{c: db_values(rows, c) for c in ASSET_FIELDS},
                "position": diff.changed.tolist(),
                "version": (versions[diff.changed_from] + 1).tolist(),
                "updated_at": [now] * k,
                "updated_by": [actor.label] * k,
            },
            progress,
        )
    if len(diff.moved):
        update_rows(
            conn,
            t.assets,
            "id",
            {"id": ids[diff.moved].tolist(), "position": diff.moved.tolist()},
        )
    shared = {"at": now, "actor": actor.label, "action": action, "entity": "asset", "note": note}
    added = rows_at(new, diff.added)
    values = {c: db_values(added, c) for c in ASSET_COLUMNS} if len(diff.added) else {}

    def audit() -> AuditColumns:
        return AuditColumns(shared, *_audit_columns(current, new, diff, versions, added, values))

    entries = None
    if len(diff.added):
        k = len(diff.added)
        # the audit entries are built while PostgreSQL stores the COPYed rows
        entries = insert_rows(
            conn,
            t.assets,
            {
                **values,
                "position": diff.added.tolist(),
                "version": [1] * k,
                "updated_at": [now] * k,
                "updated_by": [actor.label] * k,
            },
            progress,
            meanwhile=audit,
        )
    core.append_audit(conn, entries if entries is not None else audit())
    return summary


def rows_at(frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """The frame's rows at these (ascending) positions: a slice, not a copy, when they are
    one run (an import's new assets usually are)."""
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
        return frame.iloc[int(rows[0]) : int(rows[-1]) + 1]
    return frame.iloc[rows]


def _audit_columns(
    current: pd.DataFrame,
    new: pd.DataFrame,
    diff: RegisterDiff,
    versions: np.ndarray,
    added: pd.DataFrame,
    values: Mapping[str, Sequence[Any]] | None = None,
) -> tuple[list[str], list[str], list[str | None], list[str | None], list[int | None]]:
    """The audit entries of a register change, column by column (entity id, field, old and
    new value as JSON text, version): removed assets in the stored order, then by place in the
    new register each added asset (the whole record) or each changed field. `added`: the
    added assets' rows of `new`; `values`: their `db_values`, when at hand."""
    cur_ids = current["id"].to_numpy(dtype=object)
    ids = new["id"].to_numpy(dtype=object)
    removed = diff.removed
    if not len(diff.changed):  # nothing changed field by field: the added ones in their order
        k = len(diff.added)
        return (
            [*cur_ids[removed].tolist(), *ids[diff.added].tolist()],
            [""] * (len(removed) + k),
            [*record_texts(current.iloc[removed]), *[None] * k],
            [*[None] * len(removed), *record_texts(added, values)],
            [*(versions[removed] + 1).tolist(), *[1] * k],
        )
    # added and changed entries, sorted by (place, field): added ones have field -1
    place = [diff.added]
    field = [np.full(len(diff.added), -1)]
    olds: list[list[str | None]] = [[None] * len(diff.added)]
    news: list[list[str | None]] = [list[str | None](record_texts(added, values))]
    vers = [np.ones(len(diff.added), dtype=np.int64)]
    for j, col in enumerate(ASSET_FIELDS):
        which = np.flatnonzero(diff.fields[:, j]) if len(diff.changed) else np.empty(0, int)
        if not which.size:
            continue
        rows, origin = diff.changed[which], diff.changed_from[which]
        place.append(rows)
        field.append(np.full(which.size, j))
        olds.append(value_texts(current[col].iloc[origin], col))
        news.append(value_texts(new[col].iloc[rows], col))
        vers.append(versions[origin] + 1)
    at = np.concatenate(place)
    fld = np.concatenate(field)
    order = np.lexsort((fld, at))
    names = np.array(["", *ASSET_FIELDS], dtype=object)
    old_col = np.array([v for part in olds for v in part], dtype=object)[order]
    new_col = np.array([v for part in news for v in part], dtype=object)[order]
    ver_col = np.concatenate(vers)[order]
    return (
        [*cur_ids[removed].tolist(), *ids[at[order]].tolist()],
        [*([""] * len(removed)), *names[fld[order] + 1].tolist()],
        [*record_texts(current.iloc[removed]), *old_col.tolist()],
        [*([None] * len(removed)), *new_col.tolist()],
        [*(versions[removed] + 1).tolist(), *ver_col.tolist()],
    )
