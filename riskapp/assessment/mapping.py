"""Register mappings for the surfaces (riskapp.io.mapping): what the dashboard's import
wizard and the command line share. A workspace keeps its saved mapping as `mapping.yaml`
next to workspace.yaml."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from riskapp.domain.mapping import RegisterMapping
from riskapp.io.errors import InputError
from riskapp.io.mapping import REQUIRED, Suggestion, apply_mapping, load_mapping, suggest
from riskapp.store.validation import Table

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
