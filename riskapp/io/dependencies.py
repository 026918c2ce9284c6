"""The dependency-share file of a workspace (`dependencies.csv` next to workspace.yaml):
asset_id, depends_on, share, redundancy_group; read with every problem named by its row."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from riskapp.domain.assets import DependencyLink, Portfolio

DEPENDENCIES = "dependencies.csv"
DEPENDENCY_COLUMNS = ["asset_id", "depends_on", "share", "redundancy_group"]


def load_dependencies(path: Path, portfolio: Portfolio) -> list[DependencyLink]:
    """Read a dependency-share file (CSV or XLSX: asset_id, depends_on, share,
    redundancy_group); raise InputError listing every problem with its row."""
    from pydantic import ValidationError

    from riskapp.domain.assets import DependencyLink, DependencyTable
    from riskapp.io.errors import InputError, Problem, pydantic_message
    from riskapp.io.tables import read_rows
    from riskapp.io.workspace import display

    name = display(path)
    header, rows = read_rows(path, name)
    problems = [
        Problem(name, 1, col, "required column is missing", "row")
        for col in DEPENDENCY_COLUMNS[:3]
        if col not in header
    ]
    problems += [
        Problem(name, 1, col, f"unknown column; expected {', '.join(DEPENDENCY_COLUMNS)}", "row")
        for col in header
        if col and col not in DEPENDENCY_COLUMNS
    ]
    if problems:
        raise InputError(problems)
    links: list[DependencyLink] = []
    lines: list[int] = []
    for line, cells in rows:
        record: dict[str, Any] = {}
        for col, cell in zip(header, cells, strict=False):
            value = cell.strip() if isinstance(cell, str) else cell
            if col and value not in ("", None):
                record[col] = value
        try:
            links.append(DependencyLink.model_validate(record))
            lines.append(line)
        except ValidationError as exc:
            for err in exc.errors():
                field = str(err["loc"][0]) if err["loc"] else ""
                problems.append(Problem(name, line, field, pydantic_message(err), "row"))
    # the rows that read well are checked against the register too, so that one run lists
    # every problem of the file
    try:
        table = DependencyTable(links=links)
    except ValidationError as exc:
        problems += [Problem(name, None, "", pydantic_message(e), "row") for e in exc.errors()]
    else:
        problems += [
            Problem(name, lines[i], field, message, "row")
            for i, field, message in table.problems(portfolio)
        ]
    if problems:
        raise InputError(sorted(problems, key=lambda p: (p.line or 0, p.field)))
    return links


def dependency_file(workspace: Path) -> Path:
    """Where a workspace keeps its dependency shares (next to workspace.yaml)."""
    from riskapp.io.workspace import manifest_path

    return manifest_path(workspace).parent / DEPENDENCIES
