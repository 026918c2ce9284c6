"""The checks between a workspace's files (types with curves, shock targets, plan regions,
dependencies, ...), worded as problems on the file, line or row that names the reference.

They run even when some files or rows are wrong (`Loaded` with parts missing): on the rows and
files that did read, leaving out only the checks a missing part would make meaningless (with no
factors file, every factor would look unknown). So one run lists the problems of every file and
between them.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from riskapp.domain.assets import ASSET_COLUMNS, Portfolio
from riskapp.domain.baseline import Baseline
from riskapp.domain.common import iso_alpha3_codes
from riskapp.domain.curves import CurveSet
from riskapp.domain.factors import FactorCatalogue
from riskapp.domain.plans import PlanBook
from riskapp.domain.regions import RegionCatalogue
from riskapp.domain.routes import RouteBook
from riskapp.domain.workspace import Inconsistency, Workspace, find_inconsistencies
from riskapp.domain.zones import ZoneCatalogue
from riskapp.io.errors import Problem, loc_to_field
from riskapp.io.yamlfile import LineMap

if TYPE_CHECKING:
    from riskapp.domain.scenarios import Scenario
    from riskapp.domain.workspace import WorkspaceSettings
    from riskapp.io.workspace import WorkspaceManifest


@dataclasses.dataclass
class Loaded:
    """What of a workspace's files was read: a part is None when its file did not read;
    `register` holds the rows that read well (`asset_rows`: their row numbers) and
    `other_ids` the ids written on the rows that did not."""

    manifest: WorkspaceManifest
    root: Path
    factors: tuple[FactorCatalogue, LineMap] | None
    regions: tuple[RegionCatalogue, LineMap] | None
    curves: tuple[CurveSet, LineMap] | None
    baseline: tuple[Any, Any] | None
    register: pd.DataFrame | None
    asset_rows: np.ndarray
    plans: tuple[PlanBook, LineMap] | None
    scenarios: list[tuple[Scenario, LineMap, Path]]
    zones: tuple[ZoneCatalogue, LineMap | None] | None
    routes: tuple[RouteBook, LineMap | None] | None
    other_ids: set[str] = dataclasses.field(default_factory=set)
    failed_scenarios: set[str] = dataclasses.field(default_factory=set)
    settings: WorkspaceSettings | None = None  # None: the rates file did not read


_UNKNOWN_PLACE = re.compile(r"^unknown (?:target|region|member|zone) '([^']*)'[;:] ")
_NO_ASSET = re.compile(r"^no asset '([^']*)' in the register")
_UNKNOWN_SCENARIO = re.compile(r"^unknown scenario '([^']*)'")


def without_known_elsewhere(problems: list[Problem], other_ids: set[str]) -> list[Problem]:
    """Drop "no asset 'X' in the register" where X is on a register row that did not read
    (that row's own problem is reported)."""
    if not other_ids:
        return problems
    out = []
    for p in problems:
        found = _NO_ASSET.match(p.message)
        if found is None or found[1] not in other_ids:
            out.append(p)
    return out


def _meaningful(issue: Inconsistency, loaded: Loaded) -> bool:
    """False for an issue that only says a part is missing (its file did not read)."""
    message = issue.message
    if loaded.factors is None and message.startswith("unknown factor "):
        return False
    if (loaded.regions is None or loaded.zones is None) and _UNKNOWN_PLACE.match(message):
        return False
    if loaded.curves is None and (
        issue.part == "curves" or "has no vulnerability curve" in message
    ):
        return False
    if loaded.baseline is None and issue.part == "baseline":
        return False
    if loaded.settings is None and message.startswith("no exchange rate for "):
        return False
    no_asset = _NO_ASSET.match(message)
    if no_asset and (loaded.register is None or no_asset[1] in loaded.other_ids):
        return False
    scenario = _UNKNOWN_SCENARIO.match(message)
    return not (scenario and scenario[1] in loaded.failed_scenarios)


def with_hint(issue: Inconsistency, ws: Workspace) -> Inconsistency:
    """An unknown target, region or zone with the closest known name ("did you mean")."""
    found = _UNKNOWN_PLACE.match(issue.message)
    if found is None:
        return issue
    from riskapp.io.errors import did_you_mean
    from riskapp.io.sea_areas import sea_area_ids

    names = [g.id for g in ws.regions.groups] + ws.zones.ids + sorted(sea_area_ids())
    names += sorted(iso_alpha3_codes())
    hint = did_you_mean(found[1], names)
    if not hint:
        return issue
    head = found.end()
    return dataclasses.replace(issue, message=issue.message[:head] + hint + issue.message[head:])


def cross_problems(loaded: Loaded, assets_name: str) -> tuple[Workspace, list[Problem]]:
    """The workspace built from what was read (missing parts empty) and the problems between
    its files, each on the file, line or row that names the reference."""
    from riskapp.io.workspace import display, with_zones

    paths = loaded.manifest.paths
    root = loaded.root
    empty = LineMap({})
    factors = loaded.factors or (FactorCatalogue.model_construct(factors=[]), empty)
    regions = loaded.regions or (RegionCatalogue.model_construct(groups=[]), empty)
    curves = loaded.curves or (CurveSet.model_construct(curves=[]), empty)
    baseline = loaded.baseline or ([], [])
    plans = loaded.plans or (PlanBook(), empty)
    zones = loaded.zones or (ZoneCatalogue(), None)
    routes_read = loaded.routes or (RouteBook(), None)
    register = loaded.register
    if register is None:
        register = pd.DataFrame(columns=ASSET_COLUMNS)
    asset_rows = loaded.asset_rows
    problems: list[Problem] = []
    routes = routes_read[0]
    if len(register) and (register["route"] != "").any():  # the register's route column
        from riskapp.io.routes import register_routes

        routes, route_problems = register_routes(
            register["id"].tolist(),
            register["route"].tolist(),
            asset_rows.tolist(),
            assets_name,
            routes,
            paths.routes,
        )
        problems += route_problems
    ws = Workspace(
        settings=loaded.settings or loaded.manifest.settings(),
        factors=factors[0],
        regions=regions[0],
        curves=curves[0],
        baseline=Baseline(entries=baseline[0]),
        portfolio=Portfolio(register),
        scenarios=[s for s, _, _ in loaded.scenarios],
        plans=plans[0],
    )
    ws = with_zones(dataclasses.replace(ws, routes=routes), zones[0])
    issues = [with_hint(i, ws) for i in find_inconsistencies(ws) if _meaningful(i, loaded)]
    by_scenario = {s.id: (lines, f) for s, lines, f in loaded.scenarios}
    source: dict[str, tuple[tuple[Any, LineMap | None], str]] = {
        "curves": (curves, paths.curves),
        "plans": (plans, paths.plans),
        "regions": (regions, paths.regions),
        "zones": (zones, paths.zones),
        "routes": (routes_read, paths.routes),
    }
    for issue in issues:
        if issue.part == "assets":
            row_i = issue.loc[0]
            line = int(asset_rows[row_i]) if isinstance(row_i, int) else None
            problems.append(Problem(assets_name, line, str(issue.loc[-1]), issue.message, "row"))
        elif issue.part == "baseline":
            first = issue.loc[0] if issue.loc else None
            line = baseline[1][first] if isinstance(first, int) else None
            field = str(issue.loc[-1]) if issue.loc else ""
            where = display(root / paths.baseline)
            problems.append(Problem(where, line, field, issue.message, "row"))
        elif issue.part.startswith("scenario:"):
            lines, f = by_scenario[issue.part.split(":", 1)[1]]
            problems.append(
                Problem(display(f), lines.line(issue.loc), loc_to_field(issue.loc), issue.message)
            )
        else:
            model_lines, rel = source[issue.part]
            line_map = model_lines[1]
            problems.append(
                Problem(
                    display(root / rel),
                    line_map.line(issue.loc) if line_map is not None else None,
                    loc_to_field(issue.loc),
                    issue.message,
                )
            )
    return ws, problems
