"""Validation of imported and edited tables, row by row, with the io layer's rules.

A table is a header and numbered rows (as `riskapp.io.tables.read_rows` returns them, header =
row 1). Assets are checked exactly as a workspace's assets.csv is (the same cell conversion,
the same Asset model, the same register checks); plan tables carry the fields the product
edits (owner, status, review date).
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import pickle
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from itertools import chain
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from riskapp.domain import Asset, PlanBook, PlanStatus
from riskapp.domain.assets import ASSET_COLUMNS, REGISTER_COLUMNS, find_cycle, id_index
from riskapp.domain.common import Identifier, Strict
from riskapp.io.columnar import asset_frame, columns_of_rows
from riskapp.io.errors import InputError, Problem
from riskapp.io.export import neutralise
from riskapp.io.tables import (
    ASSET_REQUIRED,
    asset_rows,
    check_header,
    check_register,
    read_rows,
    table_records,
    validate_rows,
)
from riskapp.io.workspace import load_model
from riskapp.store.frames import frame_of_assets, normalised

Rows = list[tuple[int, list[Any]]]

PLAN_TABLE_COLUMNS = ["id", "title", "owner", "status", "review_date"]
PLAN_TABLE_REQUIRED = {"id"}


@dataclass(frozen=True)
class Table:
    """A header and its numbered rows, from a file, an upload or an edited grid; not changed
    once made (its digest is kept)."""

    name: str
    header: list[str]
    rows: Rows

    @cached_property
    def digest(self) -> str:
        """`table_digest` of this table, computed once (a table is not changed once made: a
        preview and the import that follows it read the same one)."""
        return table_digest(self)

    @classmethod
    def from_file(cls, path: Path, label: str | None = None) -> Table:
        name = label or path.name
        header, rows = read_rows(path, name)
        return cls(name, header, rows)

    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, name: str, lines: Sequence[int] | None = None
    ) -> Table:
        """An edited grid: list cells are joined with ';', missing cells become empty. Rows
        are numbered from 2 in the frame's order, or by `lines` (some rows of a larger grid
        keep the numbers they have there)."""
        header = [str(c) for c in frame.columns]
        rows: Rows = []
        numbers = range(2, len(frame) + 2) if lines is None else lines
        for n, values in zip(numbers, frame.itertuples(index=False, name=None), strict=True):
            cells = [_cell_text(v) for v in values]
            if any(str(c).strip() for c in cells):
                rows.append((n, cells))
        return cls(name, header, rows)


def _cell_text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ";".join(str(v) for v in value)
    if isinstance(value, float) and math.isnan(value):
        return ""
    if value is pd.NA or value is pd.NaT:
        return ""
    return value


def parse_assets(table: Table) -> tuple[list[Asset], list[int], list[Problem]]:
    """Assets of a table with their row numbers, and every problem with row, column, reason."""
    if not table.rows and not check_header(
        table.header, REGISTER_COLUMNS, ASSET_REQUIRED, table.name
    ):
        return [], [], [Problem(table.name, None, "", "the table has a header but no rows", "row")]
    return asset_rows(table.header, table.rows, table.name)


@dataclass(frozen=True)
class ParsedRegister:
    """A register table read and validated: its assets as a register frame
    (`riskapp.store.frames`) with each one's row number, or every problem (then no frame)."""

    frame: pd.DataFrame | None
    lines: list[int]
    problems: list[Problem]
    notes: tuple[str, ...] = ()  # what reading the locations converted (riskapp.io.locations)


def parse_register(table: Table) -> ParsedRegister:
    """The assets of a register table as columns, checked exactly as `parse_assets` checks
    them (the same problems, the same values), without a model object per row: the register's
    one columnar reading (`riskapp.io.columnar.asset_frame`: Arrow kernels accept the plainly
    valid cells and convert them; only the other rows go to the Asset model, which words every
    problem). The store's one reading of an imported register."""
    if not table.rows:
        return _parsed_by_model(table)  # no rows: the model's words
    header, columns, lines = columns_of_rows(table.header, table.rows)
    frame, problems = asset_frame(header, columns, lines, table.name)
    if problems:
        return ParsedRegister(None, [], problems)
    notes = tuple(frame.attrs.get("location_notes", ()))
    return ParsedRegister(normalised(frame), lines.tolist(), [], notes)


def _parsed_by_model(table: Table) -> ParsedRegister:
    assets, lines, problems = parse_assets(table)
    if problems:
        return ParsedRegister(None, [], problems)
    return ParsedRegister(frame_of_assets(assets), lines, [])


def table_digest(table: Table) -> str:
    """A digest of a table's name, header and numbered cells (what its validation reads): the
    cells' text joined with NUL, with every row's width (when no cell holds a NUL, that text
    and the widths give back every cell, so no two tables share a digest)."""
    digest = hashlib.blake2b(digest_size=32)
    digest.update(repr((table.name, table.header)).encode("utf-8", "surrogatepass"))
    rows = [cells for _, cells in table.rows]
    digest.update(array("q", [line for line, _ in table.rows]).tobytes())
    digest.update(array("q", map(len, rows)).tobytes())
    cells = sum(map(len, rows))
    try:
        text = "\x00".join(chain.from_iterable(rows))
    except TypeError:  # cells that are not text (a workbook's numbers and dates)
        text = None
    if text is None or text.count("\x00") != max(cells - 1, 0):
        digest.update(pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL))
    else:
        digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def register_checks(
    assets: Sequence[Asset], lines: Sequence[int | None], name: str
) -> list[Problem]:
    """Duplicate ids, dangling dependencies and cycles, as `riskapp.io.tables.check_register`
    finds them; an asset without a row number (one already in the register, not in the table
    at hand) is named by its id instead."""
    if all(line is not None for line in lines):
        return check_register(list(assets), [int(line or 0) for line in lines], name)

    def where(asset_id: str, line: int | None) -> str:
        return f"row {line}" if line is not None else f"asset {asset_id!r} of the register"

    problems = []
    seen: dict[str, int | None] = {}
    for asset, line in zip(assets, lines, strict=True):
        if asset.id in seen:
            first = where(asset.id, seen[asset.id])
            problems.append(
                Problem(name, line, "id", f"duplicate id {asset.id!r} (first: {first})", "row")
            )
        seen.setdefault(asset.id, line)
    for asset, line in zip(assets, lines, strict=True):
        for dep in asset.depends_on:
            if dep not in seen:
                prefix = "" if line is not None else f"asset {asset.id!r}: "
                problems.append(
                    Problem(
                        name, line, "depends_on", f"{prefix}no asset {dep!r} in the register", "row"
                    )
                )
    if not problems:
        cycle = find_cycle({a.id: a.depends_on for a in assets if a.depends_on})
        if cycle:
            problems.append(
                Problem(
                    name,
                    seen[cycle[0]],
                    "depends_on",
                    "dependency cycle: " + " -> ".join(cycle),
                    "row",
                )
            )
    return problems


def register_checks_frame(
    frame: pd.DataFrame, lines: Sequence[int | None], name: str
) -> list[Problem]:
    """`register_checks` of a register held as columns: the ids and dependencies are checked
    set-wise (repeated ids, dependencies on ids not in the register) and only the dependency
    graph is walked for cycles; when anything is wrong, `register_checks` words it."""
    ids = frame["id"].to_numpy(dtype=object)
    deps = frame["depends_on"].to_numpy(dtype=object)
    sizes = np.fromiter(map(len, deps), dtype=np.int64, count=len(deps))
    linked = np.flatnonzero(sizes)
    known = id_index(ids)
    trouble = bool(known.has_duplicates)
    if not trouble and linked.size:
        trouble = not bool(id_index(np.concatenate(deps[linked])).isin(known).all())
        if not trouble:
            trouble = find_cycle(dict(zip(ids[linked], deps[linked], strict=True))) is not None
    if not trouble:
        return []
    # register_checks reads only the ids and dependencies: assets of those two, unvalidated
    light = [
        Asset.model_construct(**{"id": i, "depends_on": d})
        for i, d in zip(ids.tolist(), deps.tolist(), strict=True)
    ]
    return register_checks(light, lines, name)


class PlanTableRow(Strict):
    """One row of a plan table: the fields the product edits (empty title: keep it)."""

    id: Identifier
    title: Annotated[str, Field(max_length=200)] | None = None
    owner: Annotated[str, Field(max_length=200)] | None = None
    status: PlanStatus | None = None
    review_date: date | None = None

    @field_validator("review_date", mode="before")
    @classmethod
    def _date(cls, value: Any) -> Any:
        if value in ("", None):
            return None
        if isinstance(value, pd.Timestamp):
            return value.date()
        if hasattr(value, "date") and callable(value.date):  # datetime from a workbook
            return value.date()
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(f"expected a date as YYYY-MM-DD; got {value!r}") from None
        return value


def _plan_cell(col: str, value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
    if col == "title" and value == "":
        return None
    if col == "status" and value == "":
        return None
    if col == "id" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


def parse_plan_table(
    table: Table, known: Sequence[str]
) -> tuple[list[PlanTableRow], list[int], list[Problem]]:
    """Rows of a plan table; every plan must exist already (plans are defined in plans.yaml)."""
    problems = check_header(table.header, PLAN_TABLE_COLUMNS, PLAN_TABLE_REQUIRED, table.name)
    if problems:
        return [], [], problems
    if not table.rows:
        return [], [], [Problem(table.name, None, "", "the table has a header but no rows", "row")]
    records, problems = table_records(table.header, table.rows, _plan_cell, table.name)
    if problems:
        return [], [], problems
    lines = [line for line, _ in table.rows]
    rows, problems = validate_rows(PlanTableRow, records, lines, table.name)
    seen: dict[str, int] = {}
    known_ids = set(known)
    for record, line in zip(records, lines, strict=True):
        plan_id = str(record.get("id", ""))
        if plan_id in seen:
            message = f"duplicate plan {plan_id!r} (first on row {seen[plan_id]})"
            problems.append(Problem(table.name, line, "id", message, "row"))
        elif plan_id and plan_id not in known_ids:
            message = f"no plan {plan_id!r}; plans are defined in plans.yaml (import it first)"
            problems.append(Problem(table.name, line, "id", message, "row"))
        seen.setdefault(plan_id, line)
    if problems:
        return [], [], sorted(problems, key=lambda p: (p.line or 0, p.field))
    return rows, lines, problems


def parse_plan_book(path: Path) -> PlanBook:
    """A plans.yaml file; InputError with the YAML line of each problem."""
    book, _ = load_model(path, PlanBook)
    return book


def asset_table_csv(assets: Sequence[Asset]) -> str:
    """A register as assets.csv text: lists joined with ';', numbers written exactly, text
    that a spreadsheet would run as a formula neutralised (`riskapp.io.export.neutralise`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ASSET_COLUMNS)
    for a in assets:
        data = a.model_dump()
        writer.writerow([_csv_cell(data[c]) for c in ASSET_COLUMNS])
    return out.getvalue()


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return neutralise(";".join(value))
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def template_csv(kind: str) -> str:
    """An empty table with the right header, for people to fill in."""
    return ",".join(ASSET_COLUMNS if kind == "assets" else PLAN_TABLE_COLUMNS) + "\n"


ASSET_COLUMN_HELP = {
    "id": "Required. 1-64 letters, digits, '_', '.', '-'; unique in the register.",
    "name": "Required. Up to 200 characters.",
    "type": "Required. Lower-case asset type with vulnerability curves, e.g. plant, port.",
    "country": "Required. ISO 3166-1 alpha-3 code, e.g. DEU.",
    "lat": "Optional latitude (-90..90); give lat and lon together.",
    "lon": "Optional longitude (-180..180).",
    "replacement_value": "Required. Cost to replace the asset, in `currency`.",
    "annual_revenue_at_stake": "Optional (default 0). Annual revenue that depends on it.",
    "currency": "Optional (default EUR). ISO 4217 code with a rate in workspace.yaml.",
    "criticality": "Optional (default 3). Whole number 1-5.",
    "tags": "Optional. Lower-case tags separated by ';'.",
    "owner": "Optional. Who answers for the asset.",
    "depends_on": "Optional. Ids of assets it depends on, separated by ';'.",
    "subdivision": "Optional. ISO 3166-2 code of its sub-national region, e.g. NO-54.",
    "route": "Optional. The line it follows: WKT LINESTRING (lon lat, ...) or [[lon, lat], ...].",
}
PLAN_COLUMN_HELP = {
    "id": "Required. Id of a plan defined in plans.yaml.",
    "title": "Optional. New title (empty: keep it).",
    "owner": "Owner of the plan.",
    "status": "proposed, approved, ready, active or retired (empty: keep it).",
    "review_date": "Next review, YYYY-MM-DD (empty: none).",
}


def template_xlsx(kind: str) -> bytes:
    """A workbook with the header on the first sheet and what each column takes on a second."""
    import xlsxwriter

    columns, help_text = (
        (ASSET_COLUMNS, ASSET_COLUMN_HELP)
        if kind == "assets"
        else (PLAN_TABLE_COLUMNS, PLAN_COLUMN_HELP)
    )
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    bold = book.add_format({"bold": True})
    sheet = book.add_worksheet(kind)
    for i, col in enumerate(columns):
        sheet.write_string(0, i, col, bold)
        sheet.set_column(i, i, max(12, len(col) + 2))
    sheet.freeze_panes(1, 0)
    notes = book.add_worksheet("columns")
    notes.write_row(0, 0, ["column", "what it takes"], bold)
    for i, col in enumerate(columns, start=1):
        notes.write_string(i, 0, col)
        notes.write_string(i, 1, help_text[col])
    notes.set_column(0, 0, 26)
    notes.set_column(1, 1, 90)
    book.close()
    return buffer.getvalue()


def raise_if(problems: list[Problem]) -> None:
    if problems:
        raise InputError(problems)
