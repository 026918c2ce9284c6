"""The team workspace's tables as the Register, Audit and History pages show them (no UI code):
the register and plan book as editable frames, the edits a changed frame means, import problems,
overdue reviews and comparisons of saved assessments."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from riskapp.domain import Asset
from riskapp.domain.assets import ASSET_COLUMNS
from riskapp.io.errors import InputError, Problem
from riskapp.io.register_check import register_problems
from riskapp.io.tables import iter_rows
from riskapp.store import (
    Actor,
    ActorKind,
    AssetEdit,
    PlanEdit,
    StoredAsset,
    StoredPlan,
    Table,
)
from riskapp.store.assessments import KEY_FIGURES, Comparison
from riskapp.store.validation import parse_assets, register_checks

EDITABLE_PLAN_COLUMNS = ["owner", "status", "review_date"]


def problems_frame(problems: Sequence[Problem]) -> pd.DataFrame:
    """Problems as a table: file, row, column, reason."""
    return pd.DataFrame(
        [
            {
                "file": p.file,
                "row": p.line,
                "column": p.field,
                "reason": p.message,
            }
            for p in problems
        ],
        columns=["file", "row", "column", "reason"],
    ).astype({"row": "Int64"})


STREAM_UPLOAD_BYTES = 5_000_000  # larger register uploads are checked as a stream first


def save_upload(name: str, data: bytes) -> Table:
    """An uploaded CSV/XLSX as a table (rows numbered as the spreadsheet numbers them).

    A large asset register is first checked as a stream (bounded memory, as `riskapp
    validate` does): a file whose rows have problems is refused with them before its rows are
    held, so a bad 50 MB upload costs the server a few hundred MB, not gigabytes. References to
    other assets are left to the import preview (a merge may depend on stored assets)."""
    suffix = Path(name).suffix.lower() or ".csv"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        if len(data) > STREAM_UPLOAD_BYTES:
            header, rows = iter_rows(path, name)
            rows.close()
            if "replacement_value" in header:
                problems = register_problems(path, name, references=False)
                if problems:
                    raise InputError(problems)
        return Table.from_file(path, name)


# -- pure functions: register editing ------------------------------------------------------------


def _cell(value: object) -> object:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return value


def register_frame(assets: Sequence[StoredAsset]) -> pd.DataFrame:
    """The register as the editor shows it: one row per asset, lists as 'a;b' text."""
    rows = [{c: _cell(v) for c, v in s.asset.model_dump().items()} for s in assets]
    frame = pd.DataFrame(rows, columns=ASSET_COLUMNS)
    for col in ("lat", "lon", "replacement_value", "annual_revenue_at_stake"):
        frame[col] = frame[col].astype("float64")
    frame["criticality"] = frame["criticality"].astype("Int64")
    return frame


@dataclass(frozen=True)
class RegisterChanges:
    """What an edited grid asks the store to do, or the problems that keep it from saving."""

    edits: list[AssetEdit]
    problems: list[Problem]

    @property
    def empty(self) -> bool:
        return not self.edits and not self.problems


def asset_edits(
    versions: dict[str, int],
    original: Sequence[Asset],
    edited: pd.DataFrame,
    name: str = "register",
    shown: pd.DataFrame | None = None,
) -> RegisterChanges:
    """Compare the edited grid with the register as it was read (`versions`: id -> version
    when read). Rows are validated as an import validates them (row 2 = first asset).

    `shown`: the grid as the editor was given it (`register_frame` of `original`, row for row).
    With it, a row the editor returns unchanged (same index label, same cells) is the stored
    asset it was made from and is not parsed again; only added and changed rows are, and the
    checks across rows (ids, dependencies, cycles) still run over the whole register. The
    edits and problems are the same as without it."""
    edited = edited[ASSET_COLUMNS]
    if shown is None or edited.empty:
        return _asset_edits_parsed(versions, original, Table.from_frame(edited, name))
    source = _unchanged_source(shown[ASSET_COLUMNS], edited)
    if len(edited) == len(original) and bool((source == np.arange(len(source))).all()):
        return RegisterChanges([], [])  # the grid as it was read: nothing to save
    changed = np.flatnonzero(source < 0)
    partial = Table.from_frame(edited.iloc[changed], name, lines=(changed + 2).tolist())
    parsed: dict[int, Asset] = {}
    if partial.rows:
        assets, lines, problems = parse_assets(partial)
        if problems:
            return RegisterChanges([], problems)
        parsed = dict(zip(lines, assets, strict=True))
    register: list[Asset] = []
    numbers: list[int | None] = []
    for position, at in enumerate(source.tolist()):
        line = position + 2
        asset = original[at] if at >= 0 else parsed.get(line)
        if asset is not None:  # None: an empty row, which the editor's import skips too
            register.append(asset)
            numbers.append(line)
    if not register:  # nothing to save in a new workspace; emptying a register is refused
        problems = [Problem(name, None, "", "the register cannot be empty", "row")]
        return RegisterChanges([], problems if len(original) else [])
    return _edits(versions, original, register, numbers, name)


def _unchanged_source(shown: pd.DataFrame, edited: pd.DataFrame) -> np.ndarray:
    """For each row of `edited`, the position in `shown` of the row it still equals (same index
    label, every cell equal or both missing), else -1: compared column by column."""
    at = shown.index.get_indexer(edited.index)
    kept = np.flatnonzero(at >= 0)
    same = np.ones(len(kept), dtype=bool)
    for col in ASSET_COLUMNS:
        left = edited[col].iloc[kept].reset_index(drop=True)
        right = shown[col].iloc[at[kept]].reset_index(drop=True)
        try:
            equal = (left == right).fillna(False).to_numpy(dtype=bool)
        except (TypeError, ValueError):  # cells of types that do not compare: parse them
            equal = np.zeros(len(kept), dtype=bool)
        same &= equal | (left.isna() & right.isna()).to_numpy(dtype=bool)
    out = np.full(len(edited), -1, dtype=np.int64)
    out[kept[same]] = at[kept[same]]
    return out


def _asset_edits_parsed(
    versions: dict[str, int], original: Sequence[Asset], table: Table
) -> RegisterChanges:
    if not table.rows:
        problems = [Problem(table.name, None, "", "the register cannot be empty", "row")]
        return RegisterChanges([], problems if len(original) else [])
    assets, lines, problems = parse_assets(table)
    if problems:
        return RegisterChanges([], problems)
    return _edits(versions, original, assets, list[int | None](lines), table.name)


def _edits(
    versions: dict[str, int],
    original: Sequence[Asset],
    assets: Sequence[Asset],
    lines: list[int | None],
    name: str,
) -> RegisterChanges:
    problems = register_checks(assets, lines, name)
    if problems:
        return RegisterChanges([], problems)
    before = {a.id: a for a in original}
    edits: list[AssetEdit] = []
    kept = set()
    for asset in assets:
        kept.add(asset.id)
        old = before.get(asset.id)
        if old is None:
            edits.append(AssetEdit(asset.id, asset, None))
        elif old is not asset and old != asset:
            edits.append(AssetEdit(asset.id, asset, versions[asset.id]))
    edits.extend(AssetEdit(a.id, None, versions[a.id]) for a in original if a.id not in kept)
    return RegisterChanges(edits, [])


def plan_frame(plans: Sequence[StoredPlan], today: date) -> pd.DataFrame:
    """Plans with the fields the product edits, and whether their review is overdue."""
    return pd.DataFrame(
        [
            {
                "id": p.id,
                "title": p.plan.title,
                "owner": p.plan.owner,
                "status": p.plan.status.value,
                "review_date": p.review_date,
                "overdue": p.overdue(today),
            }
            for p in plans
        ],
        columns=["id", "title", "owner", "status", "review_date", "overdue"],
    )


def _same(a: object, b: object) -> bool:
    if a is None or (isinstance(a, float) and pd.isna(a)) or a is pd.NaT:
        return b is None or (isinstance(b, float) and pd.isna(b)) or b is pd.NaT
    return bool(a == b)


def _as_date(value: object) -> date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def plan_edits(
    versions: dict[str, int], original: pd.DataFrame, edited: pd.DataFrame
) -> list[PlanEdit]:
    """Owner, status and review-date changes of the plan grid (rows keep their order)."""
    out = []
    for (_, before), (_, after) in zip(original.iterrows(), edited.iterrows(), strict=True):
        changes: dict[str, object] = {}
        for col in EDITABLE_PLAN_COLUMNS:
            old, new = before[col], after[col]
            if col == "review_date":
                old, new = _as_date(old), _as_date(new)
            if col == "owner":
                new = "" if new is None or (isinstance(new, float) and pd.isna(new)) else new
            if not _same(old, new):
                changes[col] = new
        if changes:
            out.append(PlanEdit(str(before["id"]), changes, versions[str(before["id"])]))
    return out


def overdue_reviews(plans: Sequence[StoredPlan], today: date) -> pd.DataFrame:
    """Plans whose review date has passed (not retired), most overdue first."""
    rows = [
        {
            "id": p.id,
            "title": p.plan.title,
            "owner": p.plan.owner,
            "status": p.plan.status.value,
            "review_date": p.review_date,
            "days_overdue": (today - p.review_date).days if p.review_date else 0,
        }
        for p in plans
        if p.overdue(today)
    ]
    frame = pd.DataFrame(
        rows, columns=["id", "title", "owner", "status", "review_date", "days_overdue"]
    )
    return frame.sort_values("days_overdue", ascending=False, kind="stable").reset_index(drop=True)


# -- pure functions: history ------------------------------------------------------------------


def key_figure_table(comparison: Comparison) -> pd.DataFrame:
    table = comparison.key_figures.copy()
    before = table["before"].replace(0, float("nan"))
    table["change %"] = (table["change"] / before * 100).round(1)
    return table


def comparison_table(comparison: Comparison, dimension: str, top: int = 25) -> pd.DataFrame:
    """The largest movers of one dimension with the input changes that explain them."""
    table = comparison.by[dimension]
    moved = table[table["change"].abs() > 0.5]
    return moved.head(top).reset_index(drop=True)


def figure_labels() -> dict[str, str]:
    return dict(KEY_FIGURES)


def actor_label(actor: Actor) -> str:
    if actor.kind is ActorKind.LOCAL:
        return "local demo (no login)"
    return f"{actor.display_name or actor.username} ({actor.role.value})"
