"""Check input files one by one or as a whole workspace, collecting every problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from riskapp.baseline.method import Method
from riskapp.domain.assets import Asset
from riskapp.domain.baseline import BaselineEntry
from riskapp.domain.curves import CurveSet
from riskapp.domain.factors import FactorCatalogue
from riskapp.domain.plans import PlanBook
from riskapp.domain.regions import RegionCatalogue
from riskapp.domain.scenarios import Scenario
from riskapp.io.dependencies import dependency_file, load_dependencies
from riskapp.io.errors import InputError, Problem
from riskapp.io.tables import load_assets, load_baseline, read_rows
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
from riskapp.io.yamlfile import load_yaml

YAML_KINDS: dict[str, type[BaseModel]] = {
    "factors": FactorCatalogue,
    "groups": RegionCatalogue,
    "curves": CurveSet,
    "plans": PlanBook,
}

SCHEMAS: dict[str, type[BaseModel]] = {
    "workspace": WorkspaceManifest,
    "scenario": Scenario,
    "plans": PlanBook,
    "factors": FactorCatalogue,
    "regions": RegionCatalogue,
    "curves": CurveSet,
    "asset": Asset,
    "baseline-row": BaselineEntry,
    "methodology": Method,
}


def _validate_yaml(path: Path) -> str:
    data, _ = load_yaml(path, display(path))
    if isinstance(data, dict):
        if "indicators" in data and "factors" in data:
            from riskapp.baseline.build import load_method

            load_method(path)
            return "methodology"
        for key, model in YAML_KINDS.items():
            if key in data:
                load_model(path, model)
                return key
        if "paths" in data or ("name" in data and "frequency" not in data):
            load_manifest(path)
            return "workspace settings"
    load_scenario(path)
    return "scenario"


def _workspace_problems(path: Path) -> list[Problem]:
    """Every file of a workspace, its dependency shares (dependencies.csv) included: the
    shares are checked against the register, so they are read once the register loads."""
    ws = load_workspace(path)
    deps = dependency_file(path)
    if not deps.exists():
        return []
    try:
        load_dependencies(deps, ws.portfolio)
    except InputError as exc:
        return exc.problems
    return []


def _validate_table(path: Path) -> str:
    header, _ = read_rows(path, display(path))
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
    if "replacement_value" in header:
        load_assets(path, display(path))
        return "assets"
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


def validate_path(path: Path) -> tuple[str, list[Problem]]:
    """Validate one file or folder; returns what it was and the problems found."""
    try:
        if path.is_dir():
            if (path / MANIFEST).exists():
                return "workspace", _workspace_problems(path)
            problems: list[Problem] = []
            files = scenario_files(path)
            if not files:
                return "folder", [
                    Problem(display(path), None, "", "no workspace.yaml and no *.yaml")
                ]
            for f in files:
                try:
                    _validate_yaml(f)
                except InputError as exc:
                    problems.extend(exc.problems)
            return "scenario folder", problems
        suffix = path.suffix.lower()
        if suffix in {".yaml", ".yml"}:
            if path.name == MANIFEST:
                return "workspace", _workspace_problems(path)
            return _validate_yaml(path), []
        if suffix in {".csv", ".xlsx", ".xlsm", ".txt"}:
            return _validate_table(path), []
        if not path.exists():
            return "file", [Problem(display(path), None, "", "file not found")]
        return "file", [
            Problem(display(path), None, "", "expected a workspace folder, .yaml, .csv or .xlsx")
        ]
    except InputError as exc:
        return "input", exc.problems


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of each file type, for editors to validate against."""
    out = {}
    for name, model in SCHEMAS.items():
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
