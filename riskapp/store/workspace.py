"""A domain Workspace from the files that stay files (settings, factors, regions, curves,
baseline, scenarios) and the register and plans the store holds, so the engine runs on it."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskapp.domain import (
    Asset,
    Baseline,
    CurveSet,
    FactorCatalogue,
    Inconsistency,
    Plan,
    PlanBook,
    Portfolio,
    RegionCatalogue,
    Scenario,
    Workspace,
    WorkspaceSettings,
    find_inconsistencies,
)
from riskapp.domain.assets import ASSET_COLUMNS, TEXT_COLUMNS
from riskapp.domain.routes import RouteBook
from riskapp.domain.zones import ZoneCatalogue
from riskapp.io.errors import InputError, Problem, loc_to_field
from riskapp.io.tables import load_baseline
from riskapp.io.workspace import (
    WorkspaceManifest,
    display,
    load_manifest,
    load_model,
    load_scenario,
    manifest_path,
    scenario_files,
    with_zones,
    workspace_settings,
)

REGISTER = "asset register (database)"
PLANS = "plans (database)"


@dataclass(frozen=True)
class FileInputs:
    """The parts of a workspace that stay files (versionable, reviewable)."""

    root: Path
    manifest: WorkspaceManifest
    settings: WorkspaceSettings
    factors: FactorCatalogue
    regions: RegionCatalogue
    curves: CurveSet
    baseline: Baseline
    scenarios: list[Scenario]
    zones: ZoneCatalogue = dataclasses.field(default_factory=ZoneCatalogue)  # the workspace's own
    routes: RouteBook = dataclasses.field(default_factory=RouteBook)


def load_files(path: str | Path) -> FileInputs:
    """Read and check the file parts of a workspace; the register and plans files, if any, are
    not read (the store holds them). Raises InputError listing every problem."""
    mpath = manifest_path(path)
    manifest, _ = load_manifest(mpath)
    root = mpath.parent
    paths = manifest.paths
    problems: list[Problem] = []

    def attempt(fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except InputError as exc:
            problems.extend(exc.problems)
            return None

    factors = attempt(load_model, root / paths.factors, FactorCatalogue)
    regions = attempt(load_model, root / paths.regions, RegionCatalogue)
    curves = attempt(load_model, root / paths.curves, CurveSet)
    baseline = attempt(load_baseline, root / paths.baseline, display(root / paths.baseline))
    zones: tuple[ZoneCatalogue, Any] | None = (ZoneCatalogue(), None)
    if (root / paths.zones).exists():
        from riskapp.io.zones import load_zone_file

        zones = attempt(load_zone_file, root / paths.zones, display(root / paths.zones))
    routes: tuple[RouteBook, Any] | None = (RouteBook(), None)
    if (root / paths.routes).exists():
        from riskapp.io.routes import load_route_file

        routes = attempt(load_route_file, root / paths.routes, display(root / paths.routes))
    scen_dir = root / paths.scenarios
    scenarios: list[Scenario] = []
    if not scen_dir.is_dir():
        problems.append(Problem(display(scen_dir), None, "", "scenario folder not found"))
    else:
        for f in scenario_files(scen_dir):
            got = attempt(load_scenario, f)
            if got is not None:
                scenarios.append(got[0])
    settings = attempt(workspace_settings, manifest, mpath)
    if problems:
        raise InputError(problems)
    assert settings is not None
    files = FileInputs(
        root=root,
        manifest=manifest,
        settings=settings,
        factors=factors[0],
        regions=regions[0],
        curves=curves[0],
        baseline=Baseline(entries=baseline[0]),
        scenarios=scenarios,
        zones=zones[0] if zones is not None else ZoneCatalogue(),
        routes=routes[0] if routes is not None else RouteBook(),
    )
    # references between the files themselves (those to assets are checked with the register)
    sources = {"curves": paths.curves, "plans": paths.plans, "baseline": paths.baseline}
    for issue in find_inconsistencies(assemble(files, [], [])):
        if "in the register" in issue.message:
            continue
        where = sources.get(issue.part, f"{paths.scenarios}/{issue.part.split(':')[-1]}.yaml")
        problems.append(
            Problem(display(root / where), None, loc_to_field(issue.loc), issue.message)
        )
    if problems:
        raise InputError(problems)
    return files


RECENT_NS = 2_000_000_000
"""A file changed less than this long ago (ns) is read again every time: file times are kept at
the clock's coarse resolution, so a second change within one tick would keep the same time."""

Stamp = tuple[tuple[str, int, int, int, int], ...]


def files_read(files: FileInputs) -> list[Path]:
    """The files (and the scenario folder) `load_files` read for these inputs."""
    paths = files.manifest.paths
    root = files.root
    folder = root / paths.scenarios
    return [
        manifest_path(root),
        root / paths.factors,
        root / paths.regions,
        root / paths.curves,
        root / paths.baseline,
        # the optional files where present, and the folder, whose times change when one is
        # added or removed
        *(f for f in (root / paths.zones, root / paths.routes) if f.is_file()),
        root,
        folder,
        *scenario_files(folder),
    ]


def stamp(paths: Sequence[Path]) -> Stamp | None:
    """Size, times and inode of each path; None when one is missing or changed just now (then
    whatever was read from it must be read again)."""
    now = time.time_ns()
    out = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            return None
        if now - max(st.st_mtime_ns, st.st_ctime_ns) < RECENT_NS:
            return None
        out.append((str(path), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    return tuple(out)


class FilesCache:
    """The file inputs of one workspace read once and given again while none of the files
    read (nor the scenario folder's list) has changed: a store change checks the register
    against them, and reading the YAML again each time costs more than the rest of an edit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: tuple[Path, Stamp, FileInputs] | None = None

    def get(self, path: Path) -> FileInputs:
        with self._lock:
            kept = self._kept
        if (
            kept is not None
            and kept[0] == path
            and stamp([Path(p) for p, *_ in kept[1]]) == kept[1]
        ):
            return kept[2]
        files = load_files(path)
        now = stamp(files_read(files))
        with self._lock:
            self._kept = (path, now, files) if now is not None else None
        return files


def with_files(
    files: FileInputs,
    portfolio: Portfolio,
    plans: Sequence[Plan],
    routes: RouteBook | None = None,
) -> Workspace:
    """The workspace of file inputs, a register and plans, with the shipped sea areas its
        targets name (`with_zones`); not checked across parts. `routes`: the routes file's and
    the register's (`register_routes`), when the caller has read them already. Links declared
    in the workspace's dependencies.csv complete the register's depends_on."""
    from riskapp.domain.assets import find_cycle
    from riskapp.io.dependencies import declared_pairs, dependency_file, with_declared_links

    pairs = declared_pairs(dependency_file(files.root))
    if pairs is not None and len(pairs):
        frame = portfolio.series("depends_on")
        derived = with_declared_links(portfolio.frame, pairs)
        graph = {a: d for a, d in zip(derived["id"], derived["depends_on"], strict=True) if d}
        # (links that would close a cycle are refused where the file is read, on their row)
        if not derived["depends_on"].equals(frame) and find_cycle(graph) is None:
            portfolio = Portfolio(derived)
    ws = Workspace(
        settings=files.settings,
        factors=files.factors,
        regions=files.regions,
        curves=files.curves,
        baseline=files.baseline,
        portfolio=portfolio,
        scenarios=list(files.scenarios),
        plans=PlanBook(plans=list(plans)),
        zones=files.zones,
        routes=routes
        if routes is not None
        else register_routes(files, portfolio.series("id"), portfolio.series("route"))[0],
    )
    return with_zones(ws, ws.zones)


def register_routes(
    files: FileInputs,
    ids: pd.Series,
    cells: pd.Series,
    rows: Sequence[int | None] | None = None,
    name: str = REGISTER,
) -> tuple[RouteBook, list[Problem]]:
    """The routes file's routes and those of the register's route column
    (`riskapp.io.routes.register_routes`), with the problems of the column's cells."""
    if not (cells != "").any():
        return files.routes, []
    from riskapp.io.routes import register_routes as read

    return read(ids.tolist(), cells.tolist(), rows, name, files.routes, "the routes file")


def assemble(files: FileInputs, assets: Sequence[Asset], plans: Sequence[Plan]) -> Workspace:
    """A workspace of file inputs and a register (not checked across parts)."""
    return with_files(files, Portfolio(Portfolio.frame_of(assets)), plans)


def register_problems(
    files: FileInputs,
    assets: Sequence[Asset],
    plans: Sequence[Plan],
    rows: Sequence[int | None] | None = None,
    name: str = REGISTER,
) -> list[Problem]:
    """Problems the register and plans cause against the file inputs: asset types without a
    curve, currencies without a rate, countries without a baseline, plans or curves naming
    assets that are not in the register. Problems of the files alone are not repeated.
    `rows` are the assets' row numbers in the file being imported (if any)."""
    return frame_problems(files, Portfolio.frame_of(assets), plans, rows, name)


def frame_problems(
    files: FileInputs,
    frame: pd.DataFrame,
    plans: Sequence[Plan],
    rows: Sequence[int | None] | None = None,
    name: str = REGISTER,
) -> list[Problem]:
    """`register_problems` of a register held as columns (`riskapp.store.frames`)."""
    return _checked(files, Portfolio(frame[ASSET_COLUMNS]), plans, rows, name)[1]


def _checked(
    files: FileInputs,
    portfolio: Portfolio,
    plans: Sequence[Plan],
    rows: Sequence[int | None] | None = None,
    name: str = REGISTER,
) -> tuple[Workspace, list[Problem]]:
    """The workspace of file inputs, a register and plans (`with_files`), and the problems
    the register and plans cause against the file inputs (`register_problems`)."""
    ids = portfolio.series("id")
    routes, route_problems = register_routes(files, ids, portfolio.series("route"), rows, name)
    ws = with_files(files, portfolio, plans, routes)
    issues = find_inconsistencies(ws)
    if not issues:
        return ws, route_problems
    countries = portfolio.series("country").to_numpy(dtype=object)
    out = [_locate(issue, ids.tolist(), countries, plans, rows, name) for issue in issues]
    return ws, route_problems + [p for p in out if p is not None]


def _locate(
    issue: Inconsistency,
    ids: Sequence[str],
    countries: np.ndarray,
    plans: Sequence[Plan],
    rows: Sequence[int | None] | None,
    name: str,
) -> Problem | None:
    def row_of(index: int) -> int | None:
        return rows[index] if rows is not None else None

    if issue.part == "assets" and isinstance(issue.loc[0], int):
        index = issue.loc[0]
        where = "" if rows is not None else f"asset {ids[index]!r}: "
        return Problem(name, row_of(index), str(issue.loc[-1]), where + issue.message, "row")
    if issue.part == "baseline" and not issue.loc:
        country = issue.message.split("country ", 1)[1].split(" ", 1)[0]
        found = np.flatnonzero(countries == country)
        if not found.size:
            return None
        first = int(found[0])
        where = "" if rows is not None else f"asset {ids[first]!r}: "
        return Problem(name, row_of(first), "country", where + issue.message, "row")
    if issue.part == "plans" and isinstance(issue.loc[1], int):
        plan_id = plans[issue.loc[1]].id if issue.loc[1] < len(plans) else f"#{issue.loc[1]}"
        return Problem(
            PLANS,
            None,
            loc_to_field(issue.loc[2:]),
            f"plan {plan_id!r}: {issue.message}",
            "row",
        )
    if issue.part == "curves" and "in the register" in issue.message:
        return Problem(
            name,
            None,
            "id",
            f"a vulnerability curve (curves[{issue.loc[1]}]) is set for an asset the register "
            f"would no longer hold: {issue.message}",
            "row",
        )
    return None


def build_workspace(files: FileInputs, assets: Sequence[Asset], plans: Sequence[Plan]) -> Workspace:
    """The checked workspace the engine runs on; InputError if the parts do not fit."""
    return workspace_of_frame(files, Portfolio.frame_of(assets), plans)


def workspace_of_frame(files: FileInputs, frame: pd.DataFrame, plans: Sequence[Plan]) -> Workspace:
    """`build_workspace` of a register held as columns (the stored register is read in one
    query, not one model object per asset); text columns as the files' reading holds them."""
    frame = frame[ASSET_COLUMNS].astype(dict.fromkeys(TEXT_COLUMNS, "str"))
    try:
        portfolio = Portfolio.from_frame(frame)
    except ValueError as exc:
        raise InputError([Problem(REGISTER, None, "", str(exc), "row")]) from None
    ws, problems = _checked(files, portfolio, plans)  # one workspace, checked and returned
    if problems:
        raise InputError(problems)
    return ws
