"""Register mappings for the surfaces (riskapp.io.mapping): what the dashboard's import
wizard and the command line share. A workspace keeps its saved mapping as `mapping.yaml`
next to workspace.yaml."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskapp.domain.mapping import RegisterMapping
from riskapp.io.errors import InputError
from riskapp.io.mapping import REQUIRED, Suggestion, apply_mapping, load_mapping, suggest
from riskapp.store.validation import Table

if TYPE_CHECKING:
    import pandas as pd

MAPPING_FILE = "mapping.yaml"


@dataclass(frozen=True)
class MappingStart:
    """Where an upload's mapping starts: the suggestion from its header and, if the workspace
    has one, the saved mapping (which wins where the file has its columns)."""

    suggestion: Suggestion
    saved: RegisterMapping | None
    needed: bool  # the file lacks register columns: a mapping is needed to import it

    @property
    def mapping(self) -> RegisterMapping:
        return self.saved if self.saved is not None else self.suggestion.mapping


def workspace_types(workspace: Path) -> list[str]:
    """The asset types with curves in a workspace."""
    from riskapp.domain.curves import CurveSet
    from riskapp.io.workspace import load_manifest, load_model, manifest_path

    mpath = manifest_path(workspace)
    manifest, _ = load_manifest(mpath)
    curves, _ = load_model(mpath.parent / manifest.paths.curves, CurveSet)
    return sorted(curves.asset_types)


def type_values(table: Table, column: str | None) -> list[str]:
    """The distinct cells of one column of a table."""
    header = [h.strip() for h in table.header]
    if column is None or column not in header:
        return []
    at = header.index(column)
    return sorted({str(c[at]).strip() for _, c in table.rows if at < len(c) and c[at] is not None})


def start_mapping(table: Table, workspace: Path) -> MappingStart:
    """The suggestion for an uploaded table, and the workspace's saved mapping if it fits the
    file (every column it names is in the file)."""
    header = [h.strip() for h in table.header]
    first = suggest(header, [], [])
    values = type_values(table, first.mapping.columns.get("type"))
    countries = type_values(table, first.mapping.columns.get("country"))
    suggestion = suggest(header, values, workspace_types(workspace), countries)
    saved_path = workspace / MAPPING_FILE
    saved = None
    if saved_path.is_file():
        try:
            candidate = load_mapping(saved_path)
        except InputError:
            candidate = None
        if candidate is not None and all(c in header for c in candidate.columns.values()):
            saved = candidate
    needed = any(f not in header for f in REQUIRED)
    return MappingStart(suggestion, saved, needed)


def mapped_table(table: Table, mapping: RegisterMapping, mapping_name: str) -> Table:
    """The table read through a mapping, as the register's import reads it."""
    header, rows = apply_mapping(table.name, table.header, table.rows, mapping, mapping_name)
    return Table(table.name, header, rows)


def save_mapping(workspace: Path, mapping: RegisterMapping) -> Path:
    """Write the mapping as the workspace's `mapping.yaml`, whole or not at all."""
    import yaml

    path = workspace / MAPPING_FILE
    text = (
        "# Register mapping saved from the dashboard's import (riskapp mapping suggest writes\n"
        "# the same format): the client's columns, units and type names for the register.\n"
        + yaml.safe_dump(
            mapping.model_dump(exclude_defaults=True), sort_keys=False, allow_unicode=True
        )
    )
    fd, tmp = tempfile.mkstemp(prefix=".mapping-", suffix=".yaml", dir=workspace)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@dataclass(frozen=True)
class SetAside:
    """A mapped table split by the register's row checks: the rows that read well, and each
    other row's number with the fields and problems that keep it out."""

    kept: Table
    rows: dict[int, tuple[str, str]]  # row -> (fields, problems), each '; '-joined


def set_aside_bad_rows(table: Table) -> SetAside:
    """The rows of a mapped register that its row checks refuse (every one, not the first
    MAX_PROBLEMS), set aside with why, and the rest to import: a client's file with a few bad
    rows goes in at once and the bad rows go back to the client. Checks between rows and files
    (duplicate ids, links) are `riskapp validate`'s, on the rows kept. A header the register
    cannot read is an InputError."""
    from riskapp.domain.assets import REGISTER_COLUMNS
    from riskapp.io.columnar import asset_frame, columns_of_rows
    from riskapp.io.tables import ASSET_REQUIRED, check_header

    header_problems = check_header(table.header, REGISTER_COLUMNS, ASSET_REQUIRED, table.name)
    if header_problems:
        raise InputError(header_problems)
    if not table.rows:
        return SetAside(table, {})
    header, columns, lines = columns_of_rows(table.header, table.rows)
    frame, problems = asset_frame(header, columns, lines, table.name, partial=True, limit=None)
    good = set(frame.index.tolist()) if len(frame) else set()
    why: dict[int, tuple[list[str], list[str]]] = {}
    for p in problems:
        if p.line is not None:
            fields, messages = why.setdefault(p.line, ([], []))
            if p.field not in fields:
                fields.append(p.field)
            messages.append(p.message)
    kept = [r for i, r in enumerate(table.rows) if i in good]
    out: dict[int, tuple[str, str]] = {}
    for i, (line, _) in enumerate(table.rows):
        if i not in good:
            fields, messages = why.get(line, ([], ["not read (riskapp validate names why)"]))
            out[line] = ("; ".join(fields), "; ".join(messages))
    return SetAside(Table(table.name, list(table.header), kept), out)


def register_from(
    name: str,
    header: Sequence[str],
    rows: Sequence[tuple[int, list[Any]]],
    mapping: RegisterMapping,
    mapping_name: str,
    set_aside: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """A client's rows as a register table to write (`riskapp mapping apply`) and, with
    `set_aside`, the rows the row checks refuse as a table to send back: the row number, the
    fields and problems, then the file's own cells."""
    import pandas as pd

    from riskapp.io.mapping import mapped_frame

    aside = None
    if set_aside:
        columns, mapped = apply_mapping(name, header, rows, mapping, mapping_name)
        split = set_aside_bad_rows(Table(name, columns, mapped))
        width = len(header)
        aside = pd.DataFrame(
            [
                [n, *split.rows[n], *(list(c[:width]) + [""] * (width - len(c)))]
                for n, c in rows
                if n in split.rows
            ],
            columns=["row", "fields", "problems", *header],
            dtype=object,
        )
        rows = [r for r in rows if r[0] not in split.rows]
    return mapped_frame(name, header, rows, mapping, mapping_name), aside
