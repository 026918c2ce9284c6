"""Check input files one by one or as a whole workspace, collecting every problem."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from riskapp.domain.assets import Asset
from riskapp.domain.baseline import BaselineEntry
from riskapp.domain.curves import CurveSet
from riskapp.domain.factors import FactorCatalogue
from riskapp.domain.plans import PlanBook
from riskapp.domain.regions import RegionCatalogue
from riskapp.domain.scenarios import Scenario
from riskapp.domain.workspace import Workspace
from riskapp.io.crosscheck import without_known_elsewhere
from riskapp.io.dependencies import dependency_file, load_dependencies
from riskapp.io.errors import InputError, Problem
from riskapp.io.register_check import register_problems
from riskapp.io.tables import iter_rows, load_baseline
from riskapp.io.workspace import (
    MANIFEST,
    WorkspaceManifest,
    display,
    load_manifest,
    load_model,
    load_scenario,
    load_workspace,
    read_workspace,
    scenario_files,
)
from riskapp.io.yamlfile import load_yaml, parse_once

if TYPE_CHECKING:
    from riskapp.io.findings import RuleGroup

YAML_KINDS: dict[str, type[BaseModel]] = {
    "factors": FactorCatalogue,
    "groups": RegionCatalogue,
    "curves": CurveSet,
    "plans": PlanBook,
}


def schema_models() -> dict[str, type[BaseModel]]:
    """The model of each file type `riskapp schema` describes. The baseline methodology's
    model is imported here, not with this module: validating a workspace does not need the
    baseline builder (riskapp.baseline imports it whole)."""
    from riskapp.baseline.method import Method
    from riskapp.io.connectors import FeedFile

    return {
        "workspace": WorkspaceManifest,
        "scenario": Scenario,
        "plans": PlanBook,
        "factors": FactorCatalogue,
        "regions": RegionCatalogue,
        "curves": CurveSet,
        "asset": Asset,
        "baseline-row": BaselineEntry,
        "methodology": Method,
        "indicators": FeedFile,
    }


def _validate_geojson(path: Path) -> str:
    """A zones or routes file in GeoJSON: routes if its features name an asset_id."""
    from riskapp.io.routes import load_route_file
    from riskapp.io.zones import load_zone_file

    head = path.read_bytes()[:200_000]
    if b'"asset_id"' in head:
        load_route_file(path, display(path))
        return "routes"
    load_zone_file(path, display(path))
    return "zones"


def _validate_yaml(path: Path) -> str:
    data, _ = load_yaml(path, display(path))
    if isinstance(data, dict):
        if "indicators" in data and "factors" in data:
            from riskapp.baseline.build import load_method
            from riskapp.baseline.table_source import load_file_sources

            load_file_sources(load_method(path).indicators)  # its own tables, not refdata
            return "methodology"
        if "indicators" in data:
            from riskapp.io.connectors import load_feeds

            load_feeds(path, display(path))
            return "indicator feeds"
        for key, model in YAML_KINDS.items():
            if key in data:
                load_model(path, model)
                return key
        if "zones" in data:
            from riskapp.io.zones import load_zone_file

            load_zone_file(path, display(path))
            return "zones"
        if "routes" in data:
            from riskapp.io.routes import load_route_file

            load_route_file(path, display(path))
            return "routes"
        if "paths" in data or ("name" in data and "frequency" not in data):
            load_manifest(path)
            return "workspace settings"
    load_scenario(path)
    return "scenario"


STREAM_REGISTER_BYTES = 20_000_000  # larger registers are checked as a stream first


def checked_workspace(
    path: Path, stream_above: int = STREAM_REGISTER_BYTES
) -> tuple[list[Problem], Workspace | None]:
    """Every file of a workspace, its dependency shares (dependencies.csv) included, and the
    references between them, in one run: the checks between files run on what did read.

    A large register is checked as a stream first (its own problems counted in bounded
    memory), then the workspace is read as far as it reads and the checks between files run
    on the rows that read well. Returns the problems and the workspace when it loaded (for
    checks beyond its files)."""
    problems, ws = _checked_workspace(path, stream_above)
    return problems, (None if problems else ws)


def _checked_workspace(
    path: Path, stream_above: int = STREAM_REGISTER_BYTES
) -> tuple[list[Problem], Workspace | None]:
    """`checked_workspace`, keeping the workspace as far as it read (for suggestions)."""
    register = _register_path(path)
    streamed: list[Problem] = []
    if register is not None and register.stat().st_size > stream_above:
        streamed = register_problems(register, display(register))
    read = read_workspace(path)
    ws, problems = read.workspace, read.problems
    if streamed:  # the stream's wording of the register's own problems (every kind counted)
        own = set(map(id, read.register_cells))
        problems = streamed + [p for p in problems if id(p) not in own]
    deps = dependency_file(path)
    if deps.exists():
        try:
            load_dependencies(deps, ws.portfolio)
        except InputError as exc:
            found = without_known_elsewhere(exc.problems, read.unread_ids)
            if problems and not len(ws.portfolio):  # the register did not read at all
                found = [p for p in found if not p.message.startswith("no asset ")]
            problems = problems + found
    return problems, ws


def suggestion_choices(ws: Workspace | None) -> dict[str, Sequence[str]]:
    """What a "did you mean" may suggest, by kind (riskapp.io.findings): the register's ids,
    the asset types with curves, the currencies with rates, factors, places and scenarios."""
    if ws is None:
        return {}
    from riskapp.domain.common import iso_alpha3_codes
    from riskapp.io.sea_areas import sea_area_ids

    places = [g.id for g in ws.regions.groups] + ws.zones.ids + sorted(sea_area_ids())
    return {
        "asset": ws.portfolio.series("id").tolist(),
        "asset_type": sorted(ws.curves.asset_types),
        "currency": sorted(ws.settings.fx_to_reporting()),
        "factor": list(ws.factors.ids),
        "place": places + sorted(iso_alpha3_codes()),
        "scenario": [s.id for s in ws.scenarios],
    }


def _register_path(path: Path) -> Path | None:
    """The register file a workspace names, when its manifest reads and the file exists."""
    manifest = path if path.is_file() else path / MANIFEST
    try:
        loaded, _ = load_model(manifest, WorkspaceManifest)
    except InputError:
        return None  # load_workspace reports it
    register = manifest.parent / loaded.paths.assets
    return register if register.is_file() else None


def _validate_table(path: Path) -> str:
    header, rows = iter_rows(path, display(path))
    if "replacement_value" in header and not ("depends_on" in header and "share" in header):
        rows.close()
        problems = register_problems(path, display(path))
        if problems:
            raise InputError(problems)
        return "assets"
    for _ in rows:  # the file's own problems (encoding, quotes) before anything else
        pass
    if "depends_on" in header and "share" in header:
        manifest = path.parent / MANIFEST
        if not manifest.exists():
            raise InputError(
                [
                    Problem(
                        display(path),
                        None,
                        "",
                        "dependency shares are checked against their workspace's register: "
                        f"no {MANIFEST} next to this file (validate the workspace folder)",
                    )
                ]
            )
        load_dependencies(path, load_workspace(manifest).portfolio)
        return "dependencies"
    if "intensity" in header:
        load_baseline(path, display(path))
        return "baseline"
    raise InputError(
        [
            Problem(
                display(path),
                1,
                "",
                "cannot tell what this table holds: an asset register needs a "
                "replacement_value column, a baseline an intensity column",
                "row",
            )
        ]
    )


@dataclass(frozen=True)
class Checked:
    """What `check_path` found: the kind of file or folder, its problems and, for a workspace
    that loaded, the workspace (for checks beyond its files, e.g. shocks clamped to the
    scale, which `riskapp validate` prints as warnings)."""

    kind: str
    problems: list[Problem]
    workspace: Workspace | None = None
    choices: dict[str, Sequence[str]] = field(default_factory=dict)  # for "did you mean"


def validate_path(path: Path) -> tuple[str, list[Problem]]:
    """Validate one file or folder; returns what it was and the problems found."""
    checked = check_path(path)
    return checked.kind, checked.problems


def check_path(path: Path) -> Checked:
    """Validate one file or folder (`validate_path`), keeping a workspace that loaded. Each
    YAML file is parsed once (`parse_once`; a caller checking several paths that share files
    wraps them all in one `parse_once` block)."""
    with parse_once():
        return _check_path(path)


def check_paths(paths: Sequence[Path]) -> list[tuple[Path, Checked]]:
    """`check_path` of each path, a file they share read once (the demo's scenarios)."""
    with parse_once():
        return [(path, check_path(path)) for path in paths]


def grouped(checked: Sequence[Checked]) -> list[RuleGroup]:
    """The problems of checked paths grouped by rule, with suggestions drawn from what each
    workspace holds (`riskapp.io.findings`): what `riskapp validate` prints, as text or
    JSON (`text_lines`, `json_document`)."""
    from riskapp.io.findings import group, tabulate

    choices: dict[str, Sequence[str]] = {}
    for c in checked:
        for kind, names in c.choices.items():
            choices[kind] = [*choices.get(kind, ()), *names]
    return group(tabulate([p for c in checked for p in c.problems], choices))


def _check_path(path: Path) -> Checked:
    try:
        if path.is_dir():
            if (path / MANIFEST).exists():
                return _workspace_checked(path)
            problems: list[Problem] = []
            files = scenario_files(path)
            if not files:
                return Checked(
                    "folder", [Problem(display(path), None, "", "no workspace.yaml and no *.yaml")]
                )
            for f in files:
                try:
                    _validate_yaml(f)
                except InputError as exc:
                    problems.extend(exc.problems)
            return Checked("scenario folder", problems)
        suffix = path.suffix.lower()
        if suffix in {".yaml", ".yml"}:
            if path.name == MANIFEST:
                return _workspace_checked(path)
            return Checked(_validate_yaml(path), [])
        if suffix in {".csv", ".xlsx", ".xlsm", ".txt", ".parquet"}:
            return Checked(_validate_table(path), [])
        if suffix in {".geojson", ".json"} and path.is_file():
            return Checked(_validate_geojson(path), [])
        if not path.exists():
            return Checked("file", [Problem(display(path), None, "", "file not found")])
        return Checked(
            "file",
            [
                Problem(
                    display(path),
                    None,
                    "",
                    "expected a workspace folder, .yaml, .csv, .xlsx, .parquet or .geojson",
                )
            ],
        )
    except InputError as exc:
        return Checked("input", exc.problems)


def _workspace_checked(path: Path) -> Checked:
    problems, ws = _checked_workspace(path)
    return Checked("workspace", problems, None if problems else ws, suggestion_choices(ws))


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of each file type, for editors to validate against."""
    out = {}
    for name, model in schema_models().items():
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        out[name] = schema
    return out


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in json_schemas().items():
        target = folder / f"{name}.schema.json"
        target.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(target)
    return written


def workspace_problems(path: Path, stream_above: int = STREAM_REGISTER_BYTES) -> list[Problem]:
    """Every problem of a workspace's files (see `checked_workspace`)."""
    return checked_workspace(path, stream_above)[0]
