"""Load a workspace directory: settings, factors, regions, curves, baseline, assets, scenarios,
plans. Every problem in every file is collected and reported together."""

from __future__ import annotations

import contextvars
import dataclasses
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any, TypeVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, ValidationError

from riskapp.domain.common import (
    Strict,
    UniqueList,
    describe_key,
    duplicate_positions,
    iso_alpha3_codes,
    iso_subdivision_codes,
    subdivision_name,
)
from riskapp.domain.curves import CurveSet
from riskapp.domain.factors import FactorCatalogue
from riskapp.domain.plans import PlanBook
from riskapp.domain.regions import RegionCatalogue
from riskapp.domain.routes import RouteBook
from riskapp.domain.scenarios import Scenario
from riskapp.domain.workspace import (
    Workspace,
    WorkspaceSettings,
)
from riskapp.domain.zones import Zone, ZoneCatalogue
from riskapp.io.columnar import register_problems
from riskapp.io.errors import InputError, Problem, problems_from_validation
from riskapp.io.tables import load_baseline
from riskapp.io.yamlfile import LineMap, load_yaml

M = TypeVar("M", bound=BaseModel)

MANIFEST = "workspace.yaml"


class WorkspacePaths(Strict):
    """Where a workspace's files are, relative to workspace.yaml."""

    factors: str = "factors.yaml"
    regions: str = "regions.yaml"
    curves: str = "curves.yaml"
    baseline: str = "baseline.csv"
    assets: str = "assets.csv"
    plans: str = "plans.yaml"
    scenarios: str = Field(default="scenarios", description="Folder of scenario YAML files.")
    zones: str = Field(
        default="zones.yaml",
        description="The workspace's own zones (YAML or GeoJSON; optional): polygons, "
        "corridors, circles and hotspots that shocks, baseline rows, region groups and plans "
        "may target like countries. Shipped sea areas need no file.",
    )
    routes: str = Field(
        default="routes.yaml",
        description="The lines that cables, pipelines, power lines and lanes follow (YAML or "
        "GeoJSON, keyed by asset id; optional).",
    )
    fx: str = Field(
        default="fx.csv",
        description="Dated exchange rates with their source (optional; `riskapp fx import` "
        "writes it from the ECB's reference rates). Replaces fx_rates in workspace.yaml.",
    )
    indicators: str = Field(
        default="indicators.yaml",
        description="Which indicator series `riskapp indicators fetch` fetches, from which "
        "publisher and with which parameters (optional).",
    )


class WorkspaceManifest(WorkspaceSettings):
    """workspace.yaml: the assessment's settings and where its files are."""

    paths: WorkspacePaths = Field(default_factory=WorkspacePaths)
    allow_paths_outside: list[Annotated[str, Field(min_length=1, max_length=1000)]] = Field(
        default_factory=list,
        max_length=20,
        description="Folders outside the workspace folder that `paths` entries may point into "
        "(relative to workspace.yaml, or absolute). Without them every path must resolve, "
        "symlinks followed, to a place inside the workspace folder.",
    )

    def settings(self) -> WorkspaceSettings:
        """The settings as written in workspace.yaml (`workspace_settings` adds the rates
        file's exchange rates)."""
        return WorkspaceSettings(**self.model_dump(exclude={"paths", "allow_paths_outside"}))


def workspace_settings(manifest: WorkspaceManifest, mpath: Path) -> WorkspaceSettings:
    """The workspace's settings, with the exchange rates of its rates file if it has one."""
    from riskapp.io.fx import with_rates_file

    fx_path = mpath.parent / manifest.paths.fx
    return with_rates_file(manifest.settings(), fx_path, display(fx_path), display(mpath))


def _inside(target: Path, base: Path) -> bool:
    return target == base or base in target.parents


def _folder_to_allow(value: str, target: Path, is_dir: bool) -> str:
    """The folder an `allow_paths_outside` entry would name: as written when the path itself
    leaves the workspace, the real folder when a symlink inside it leads out."""
    written = os.path.normpath(value)
    if os.path.isabs(written) or written.split(os.sep)[0] == os.pardir:
        return written if is_dir else os.path.dirname(written)
    return str(target if is_dir else target.parent)


def path_problems(mpath: Path, manifest: WorkspaceManifest, lines: LineMap) -> list[Problem]:
    """Every `paths` entry that resolves (symlinks followed, '..' collapsed) outside the
    workspace folder and outside every folder `allow_paths_outside` names."""
    root = mpath.parent.resolve()
    allowed = [root, *((root / entry).resolve() for entry in manifest.allow_paths_outside)]
    problems = []
    for field, value in manifest.paths.model_dump().items():
        target = (root / value).resolve()
        if any(_inside(target, base) for base in allowed):
            continue
        folder = _folder_to_allow(value, target, is_dir=field == "scenarios")
        problems.append(
            Problem(
                display(mpath),
                lines.line(("paths", field)),
                f"paths.{field}",
                f"{value!r} resolves to {target}, outside the workspace folder {root}; expected "
                "a path inside the workspace folder (symlinks are followed). To use files "
                "kept elsewhere on purpose, allow their folder in workspace.yaml, e.g. "
                f"allow_paths_outside: [{folder}]",
            )
        )
    return problems


def load_manifest(path: Path) -> tuple[WorkspaceManifest, LineMap]:
    """workspace.yaml, with every `paths` entry confined to the workspace folder (or a folder
    `allow_paths_outside` names); InputError otherwise."""
    manifest, lines = load_model(path, WorkspaceManifest)
    problems = path_problems(path, manifest, lines)
    if problems:
        raise InputError(problems)
    return manifest, lines


def display(path: Path) -> str:
    """A path as a user would type it: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def load_model(path: Path, model: type[M]) -> tuple[M, LineMap]:
    """Load one YAML file into a model; problems carry the YAML line of each field."""
    name = display(path)
    data, lines = load_yaml(path, name)
    if not isinstance(data, dict):
        raise InputError(
            [
                Problem(
                    name,
                    1,
                    "",
                    f"expected a mapping of keys to values, found {type(data).__name__}",
                )
            ]
        )
    if issubclass(model, UniqueList):
        check_duplicates(data, lines, model, name)
    try:
        return model.model_validate(data), lines
    except ValidationError as exc:
        problems = problems_from_validation(exc, name, lines.line, model=model)
        raise InputError(misplaced_keys(problems)) from None


def check_duplicates(
    data: dict[str, Any], lines: LineMap, model: type[UniqueList], name: str
) -> None:
    """InputError naming each entry of a UniqueList's list whose key was defined before, with
    both lines (checked before validation, so each problem has its line)."""
    field, keys, label = model.unique_by
    entries = data.get(field)
    if not isinstance(entries, list):
        return
    dupes = duplicate_positions(entries, keys)
    if dupes:
        raise InputError(
            [
                Problem(
                    name,
                    lines.line((field, index)),
                    f"{field}[{index}].{keys[0]}",
                    f"{describe_key(label, keys, key)} is defined more than once "
                    f"(first on line {lines.line((field, first))})",
                )
                for index, first, key in dupes
            ]
        )


MISSING = "required field is missing"
UNKNOWN = re.compile(r"unknown field '([^']+)'")


def misplaced_keys(problems: list[Problem]) -> list[Problem]:
    """A key indented into the wrong mapping shows as a field missing where it belongs and an
    unknown field where it landed; say so on both, each at its own line."""
    unknown: dict[str, Problem] = {}
    for p in problems:
        m = UNKNOWN.match(p.message)
        if m:
            unknown.setdefault(m.group(1), p)
    missing: dict[str, Problem] = {}
    for p in problems:
        key = re.sub(r"\[\d+\]$", "", p.field.rsplit(".", 1)[-1])
        if p.message == MISSING and key in unknown:
            missing.setdefault(key, p)
    out = []
    for p in problems:
        key = re.sub(r"\[\d+\]$", "", p.field.rsplit(".", 1)[-1])
        m = UNKNOWN.match(p.message)
        message = p.message
        if p.message == MISSING and missing.get(key) is p:
            u = unknown[key]
            message = (
                f"{MISSING}; '{key}' is given on line {u.line} [{u.field}], outside this "
                "block: check that line's indentation"
            )
        elif m and m.group(1) in missing:
            w = missing[m.group(1)]
            message = (
                f"'{m.group(1)}' does not belong here, but {w.field} (line {w.line}) lacks it: "
                f"is this key indented wrongly? {p.message[0].upper()}{p.message[1:]}"
            )
        out.append(dataclasses.replace(p, message=message))
    return out


def scenario_files(folder: Path) -> list[Path]:
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def load_scenario(path: Path) -> tuple[Scenario, LineMap]:
    scenario, lines = load_model(path, Scenario)
    if scenario.id != path.stem:
        raise InputError(
            [
                Problem(
                    display(path),
                    lines.line(("id",)),
                    "id",
                    f"scenario id {scenario.id!r} must match the file name {path.stem!r}",
                )
            ]
        )
    return scenario, lines


def _collect(problems: list[Problem], fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except InputError as exc:
        problems.extend(exc.problems)
        return None


def manifest_path(path: str | Path) -> Path:
    p = Path(path)
    return p / MANIFEST if p.is_dir() else p


@dataclasses.dataclass
class _Documents:
    """A workspace's YAML files, parsed and checked, with their problems: those of the
    catalogues (reported before the tables') and those of the plans and scenarios (after)."""

    factors: tuple[FactorCatalogue, LineMap] | None
    regions: tuple[RegionCatalogue, LineMap] | None
    curves: tuple[CurveSet, LineMap] | None
    plans: tuple[PlanBook, LineMap] | None
    scenarios: list[tuple[Scenario, LineMap, Path]]
    catalogue_problems: list[Problem]
    other_problems: list[Problem]
    zones: tuple[ZoneCatalogue, LineMap | None] | None = None
    routes: tuple[RouteBook, LineMap | None] | None = None


def _load_documents(root: Path, paths: WorkspacePaths) -> _Documents:
    first: list[Problem] = []
    factors = _collect(first, load_model, root / paths.factors, FactorCatalogue)
    regions = _collect(first, load_model, root / paths.regions, RegionCatalogue)
    curves = _collect(first, load_model, root / paths.curves, CurveSet)
    zones_path = root / paths.zones
    zones: tuple[ZoneCatalogue, LineMap | None] | None = (ZoneCatalogue(), None)
    if zones_path.exists():
        from riskapp.io.zones import load_zone_file

        zones = _collect(first, load_zone_file, zones_path, display(zones_path))
    routes_path = root / paths.routes
    routes: tuple[RouteBook, LineMap | None] | None = (RouteBook(), None)
    if routes_path.exists():
        from riskapp.io.routes import load_route_file

        routes = _collect(first, load_route_file, routes_path, display(routes_path))
    problems: list[Problem] = []
    plans_path = root / paths.plans
    plans = (
        _collect(problems, load_model, plans_path, PlanBook)
        if plans_path.exists()
        else (PlanBook(), LineMap({}))
    )
    scen_dir = root / paths.scenarios
    scenarios: list[tuple[Scenario, LineMap, Path]] = []
    if not scen_dir.is_dir():
        problems.append(Problem(display(scen_dir), None, "", "scenario folder not found"))
    else:
        files = scenario_files(scen_dir)
        if not files:
            problems.append(Problem(display(scen_dir), None, "", "no scenario files (*.yaml)"))
        for f in files:
            got = _collect(problems, load_scenario, f)
            if got is not None:
                scenarios.append((got[0], got[1], f))
    return _Documents(factors, regions, curves, plans, scenarios, first, problems, zones, routes)


def load_workspace(path: str | Path) -> Workspace:
    """Load and check a whole workspace (a folder with workspace.yaml, or that file).

    Every problem is raised at once: those of each file, and those between files, checked on
    what did read (the rows of the register that read well, the files that parsed), so that
    one run lists them all (`riskapp.io.crosscheck`)."""
    read = read_workspace(path)
    if read.problems:
        raise InputError(read.problems)
    return read.workspace


@dataclasses.dataclass(frozen=True)
class ReadWorkspace:
    """A workspace as far as it read, every problem, and the ids written on register rows
    that did not read (a reference to one of them is not reported as unknown)."""

    workspace: Workspace
    problems: list[Problem]
    unread_ids: set[str]
    register_cells: list[Problem] = dataclasses.field(default_factory=list)  # the rows' own


def read_workspace(path: str | Path) -> ReadWorkspace:
    """A workspace as far as it reads, and every problem (`load_workspace`): with problems,
    the parts that did not read are empty and the register holds the rows that read well.
    Raises InputError only when workspace.yaml itself cannot be read."""
    from riskapp.io.columnar import parse_register_partial
    from riskapp.io.crosscheck import Loaded, cross_problems, without_known_elsewhere
    from riskapp.io.dependencies import declared_pairs, dependency_file, with_declared_links

    mpath = manifest_path(path)
    root = mpath.parent
    problems: list[Problem] = []
    loaded = _collect(problems, load_manifest, mpath)
    if loaded is None:
        raise InputError(problems)
    manifest: WorkspaceManifest = loaded[0]
    paths = manifest.paths

    # The YAML files are parsed in Python on a worker thread while Arrow reads the register
    # (its C++ kernels release the interpreter lock), so the two overlap on a second core;
    # problems are reported in the same order either way.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="riskapp-yaml") as pool:
        # (in this context: the worker shares `parse_once`'s readings)
        documents = pool.submit(contextvars.copy_context().run, _load_documents, root, paths)
        table_problems: list[Problem] = []
        baseline = _collect(
            table_problems, load_baseline, root / paths.baseline, display(root / paths.baseline)
        )
        assets_path = root / paths.assets
        assets_name = display(assets_path)
        parsed = _collect(table_problems, parse_register_partial, assets_path, assets_name)
        register: pd.DataFrame | None = None
        asset_rows: np.ndarray = np.zeros(0, dtype=np.int64)
        between_rows: list[Problem] = []
        other_ids: set[str] = set()
        cell_problems: list[Problem] = []
        if parsed is not None:
            register, asset_rows, cell_problems, other_ids = parsed
            table_problems += cell_problems
            # links declared in dependencies.csv need not be listed in depends_on again
            register = with_declared_links(register, declared_pairs(dependency_file(mpath)))
            between_rows = register_problems(register, asset_rows, assets_name)
            between_rows = without_known_elsewhere(between_rows, other_ids)
        docs = documents.result()
    problems += docs.catalogue_problems + table_problems + docs.other_problems
    settings = _collect(problems, workspace_settings, manifest, mpath)
    problems += between_rows
    scen_dir = root / paths.scenarios
    read = {f for _, _, f in docs.scenarios}
    files = scenario_files(scen_dir) if scen_dir.is_dir() else []
    ws, cross = cross_problems(
        Loaded(
            manifest,
            root,
            docs.factors,
            docs.regions,
            docs.curves,
            baseline,
            None if register is not None and not len(register) and cell_problems else register,
            asset_rows,
            docs.plans,
            docs.scenarios,
            docs.zones,
            docs.routes,
            other_ids,
            {f.stem for f in files if f not in read},
            settings,
        ),
        assets_name,
    )
    return ReadWorkspace(ws, problems + cross, other_ids, cell_problems)


def with_zones(ws: Workspace, own: ZoneCatalogue) -> Workspace:
    """The workspace with its own zones and those its targets name (`with_named_zones`), its
    assets' empty subdivisions read from their coordinates where a shipped boundary is
    targeted (riskapp.io.subdivisions.place_subdivisions): how every reading of a workspace,
    from its files or the team database, completes it."""
    from riskapp.io.subdivisions import place_subdivisions

    zones = with_named_zones(ws, own)
    return place_subdivisions(ws if zones is ws.zones else dataclasses.replace(ws, zones=zones))


def with_named_zones(ws: Workspace, own: ZoneCatalogue) -> ZoneCatalogue:
    """The workspace's own zones, then the shipped sea areas and the ISO 3166-2 subdivisions
    its shocks, baseline rows, region groups and plans name (only those: a sea area's
    geometry is read when something targets it). A subdivision not in the zones file takes
    its shipped boundary (riskapp.io.subdivisions); without one, its members are the assets
    whose register row names it."""
    named: list[str] = [shock.target for s in ws.scenarios for shock in s.shocks]
    named += ws.baseline.zones
    named += [m for g in ws.regions.groups for m in g.members]
    for plan in ws.plans.plans:
        named += [level.region for level in plan.trigger.factor_levels]
        named += list(plan.coverage.regions)
    groups = {g.id for g in ws.regions.groups}
    wanted = [
        n
        for n in dict.fromkeys(named)
        if n not in groups and own.get(n) is None and n.upper() not in iso_alpha3_codes()
    ]
    if not wanted:
        return own
    from riskapp.io.sea_areas import sea_area, sea_area_ids

    shipped = sea_area_ids()
    extra = [sea_area(n) for n in wanted if n in shipped]
    from riskapp.io.subdivisions import subdivision_zone

    for n in wanted:
        if n in iso_subdivision_codes():
            drawn = subdivision_zone(n)  # its shipped boundary, where riskapp has one
            extra.append(
                drawn or Zone(id=n, name=subdivision_name(n), source="ISO 3166-2 (pycountry)")
            )
    return own if not extra else ZoneCatalogue(zones=[*own.zones, *extra])
