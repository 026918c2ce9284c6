"""Check input files one by one or as a whole workspace, collecting every problem."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from riskapp.domain.assets import Asset
from riskapp.domain.baseline import BaselineEntry
from riskapp.domain.curves import CurveSet
from riskapp.domain.factors import FactorCatalogue
from riskapp.domain.plans import PlanBook
from riskapp.domain.regions import RegionCatalogue
from riskapp.domain.scenarios import Scenario
from riskapp.domain.workspace import Workspace
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
    scenario_files,
)
from riskapp.io.yamlfile import load_yaml, parse_once

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
    """Every file of a workspace, its dependency shares (dependencies.csv) included: the
    shares are checked against the register, so they are read once the register loads.

    A large register is checked as a stream first: its problems are reported in bounded
    memory, before the whole workspace (and every asset) is loaded. Returns the problems
    and the workspace when it loaded (for checks beyond its files)."""
    register = _register_path(path)
    if register is not None and register.stat().st_size > stream_above:
        problems = register_problems(register, display(register))
        if problems:
            return problems, None
    ws = load_workspace(path)
    deps = dependency_file(path)
    if not deps.exists():
        return [], ws
    try:
        load_dependencies(deps, ws.portfolio)
    except InputError as exc:
        return exc.problems, ws
    return [], ws


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


def _check_path(path: Path) -> Checked:
    try:
        if path.is_dir():
            if (path / MANIFEST).exists():
                return Checked("workspace", *checked_workspace(path))
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
                return Checked("workspace", *checked_workspace(path))
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
