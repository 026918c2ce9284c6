"""View models of the Assets and Contingency plans pages: pure functions, no Streamlit.

Every number the two pages show comes from here (tables) or from `charts/assets.py` and
`charts/plans.py` (figures), so it can be tested without a browser.
"""

from __future__ import annotations

import weakref
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskapp.assessment.core import Assessment, asset_table
from riskapp.domain import PlanStatus, Workspace, country_name
from riskapp.engine import PlanEvaluation, waterfall

NO_OWNER = "(no owner)"


# -- shared ---------------------------------------------------------------------------------
def scenario_titles(ws: Workspace) -> dict[str, str]:
    return {s.id: s.title for s in ws.scenarios}


def factor_names(ws: Workspace) -> dict[str, str]:
    return {f.id: f.name for f in ws.factors.factors}


def worst_scenario(a: Assessment) -> str:
    """The scenario with the largest portfolio loss: the default choice of both pages."""
    losses = a.result.scenario_loss()
    if not len(losses):
        raise ValueError("the workspace has no scenarios")
    return a.result.scenario_ids[int(np.argmax(losses))]


# -- assets: register and filters -----------------------------------------------------------
def register(a: Assessment, scenario_id: str) -> pd.DataFrame:
    """The asset register, one row per asset, with its loss in `scenario_id`.

    Columns of `asset_table` plus: replacement_value and annual_revenue (in the asset's own
    `currency`), tag_list (list), owner_label (owner or '(no owner)'), dominant_factor_name
    and scenario_loss (reporting currency).
    """
    out = asset_table(a)
    frame = a.ws.portfolio.frame
    s = a.result.scenario_ids.index(scenario_id)
    out["replacement_value"] = frame["replacement_value"].to_numpy(dtype=float)
    out["annual_revenue"] = frame["annual_revenue_at_stake"].to_numpy(dtype=float)
    out["currency"] = frame["currency"].to_numpy()
    out["tag_list"] = frame["tags"].map(list)
    out["owner_label"] = [o if o else NO_OWNER for o in out["owner"]]
    names = factor_names(a.ws)
    out["dominant_factor_name"] = [names.get(f, "-") if f else "-" for f in out["dominant_factor"]]
    out["scenario_loss"] = a.result.asset_loss()[:, s]
    return out


def filter_options(reg: pd.DataFrame) -> dict[str, list[str]]:
    """The choices of each register filter (type, country code, tag, owner), sorted."""
    tags = sorted({t for tags in reg["tag_list"] for t in tags})
    return {
        "type": sorted(reg["type"].unique().tolist()),
        "country": sorted(
            reg["country"].unique().tolist(), key=lambda c: (country_name(c), str(c))
        ),
        "tag": tags,
        "owner": sorted(reg["owner_label"].unique().tolist()),
    }


def filter_register(
    reg: pd.DataFrame,
    types: Sequence[str] = (),
    countries: Sequence[str] = (),
    tags: Sequence[str] = (),
    owners: Sequence[str] = (),
) -> pd.DataFrame:
    """Rows that match every filter given; an empty filter matches everything.

    Within one filter any choice matches (an asset matches a tag filter when it has any of the
    chosen tags); owners are matched on `owner_label`, so '(no owner)' finds unowned assets.
    """
    mask = np.ones(len(reg), dtype=bool)
    if types:
        mask &= reg["type"].isin(list(types)).to_numpy(dtype=bool)
    if countries:
        mask &= reg["country"].isin(list(countries)).to_numpy(dtype=bool)
    if tags:
        wanted = set(tags)
        mask &= np.array([bool(wanted.intersection(t)) for t in reg["tag_list"]], dtype=bool)
    if owners:
        mask &= reg["owner_label"].isin(list(owners)).to_numpy(dtype=bool)
    return reg[mask]


# -- assets: dependencies -------------------------------------------------------------------
def dependency_edges(ws: Workspace) -> dict[str, list[str]]:
    """Asset id -> ids it depends on (the register's depends_on column)."""
    frame = ws.portfolio.frame
    return {aid: list(deps) for aid, deps in zip(frame["id"], frame["depends_on"], strict=True)}


def reverse_edges(edges: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Asset id -> ids that depend on it directly (in register order)."""
    out: dict[str, list[str]] = {aid: [] for aid in edges}
    for aid, deps in edges.items():
        for dep in deps:
            out.setdefault(dep, []).append(aid)
    return out


def _reach(edges: Mapping[str, Sequence[str]], start: str) -> list[tuple[str, int, list[str]]]:
    """Breadth-first: every id reachable from `start` with its distance and the path between
    (ids strictly between start and it). Each id appears once, at its shortest distance."""
    seen = {start}
    out: list[tuple[str, int, list[str]]] = []
    queue: deque[tuple[str, list[str]]] = deque([(start, [])])
    while queue:
        node, path = queue.popleft()
        for nxt in edges.get(node, ()):
            if nxt in seen:
                continue
            seen.add(nxt)
            out.append((nxt, len(path) + 1, path))
            queue.append((nxt, [*path, nxt]))
    return out


def _linked(a: Assessment, edges: Mapping[str, Sequence[str]], asset_id: str) -> pd.DataFrame:
    reach = _reach(edges, asset_id)
    table = asset_table(a)
    rows = table.iloc[pd.Index(table["id"]).get_indexer([aid for aid, _, _ in reach])]
    steps = np.array([s for _, s, _ in reach], dtype=np.int64)
    out = pd.DataFrame(
        {
            "id": rows["id"].to_numpy(dtype=object),
            "name": rows["name"].to_numpy(dtype=object),
            "type": rows["type"].to_numpy(dtype=object),
            "country_name": rows["country_name"].to_numpy(dtype=object),
            "relation": np.where(steps == 1, "direct", "indirect").astype(object),
            "steps": steps,
            "via": [" → ".join(path) for _, _, path in reach],
            "eal": rows["eal"].to_numpy(dtype=float),
        }
    )
    return out


_EDGES: dict[int, tuple[dict[str, list[str]], dict[str, list[str]]]] = {}


def _edges(a: Assessment) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The register's dependency edges and their reverse, built once per assessment (a page
    run asks for both; the entry goes when the assessment does)."""
    found = _EDGES.get(id(a))
    if found is None:
        forward = dependency_edges(a.ws)
        found = _EDGES[id(a)] = (forward, reverse_edges(forward))
        weakref.finalize(a, _EDGES.pop, id(a), None)
    return found


def depends_on(a: Assessment, asset_id: str) -> pd.DataFrame:
    """What `asset_id` depends on, directly and indirectly (via = the assets in between)."""
    return _linked(a, _edges(a)[0], asset_id)


def dependents(a: Assessment, asset_id: str) -> pd.DataFrame:
    """What depends on `asset_id` (reverse edges), directly and indirectly."""
    return _linked(a, _edges(a)[1], asset_id)


# -- assets: drill-down ---------------------------------------------------------------------
@dataclass(frozen=True)
class AssetFacts:
    id: str
    name: str
    type: str
    country: str
    country_name: str
    subdivision: str  # ISO 3166-2 code, '' when the register names none
    currency: str  # the asset's own currency
    replacement_value: float  # in `currency`
    annual_revenue: float  # in `currency`
    exposed_value: float  # reporting currency
    eal: float  # reporting currency
    criticality: int
    owner: str
    tags: list[str]
    dominant_factor: str  # factor name or '-'
    approximate: bool = False  # coordinates are its city's centre (riskapp.io.locations)
    subdivision_read: bool = False  # its subdivision read from its coordinates


def asset_facts(a: Assessment, asset_id: str, reg: pd.DataFrame | None = None) -> AssetFacts:
    """One asset's facts; `reg`: the `register` of `a` the caller has already (any scenario:
    the facts do not depend on it)."""
    if reg is None:
        reg = register(a, a.result.scenario_ids[0])
    found = np.flatnonzero(reg["id"].to_numpy(dtype=object) == asset_id)
    if not len(found):
        raise KeyError(asset_id)
    row = reg.iloc[int(found[0])]
    return AssetFacts(
        id=asset_id,
        name=str(row["name"]),
        type=str(row["type"]),
        country=str(row["country"]),
        country_name=str(row["country_name"]),
        subdivision=str(row["subdivision"]),
        currency=str(row["currency"]),
        replacement_value=float(row["replacement_value"]),
        annual_revenue=float(row["annual_revenue"]),
        exposed_value=float(row["exposed_value"]),
        eal=float(row["eal"]),
        criticality=int(row["criticality"]),
        owner=str(row["owner"]),
        tags=list(row["tag_list"]),
        dominant_factor=str(row["dominant_factor_name"]),
        approximate=asset_id in a.ws.portfolio.approximate,
        subdivision_read=asset_id in a.ws.portfolio.subdivision_read,
    )


def _asset_index(a: Assessment, asset_id: str) -> int:
    ids = list(a.ws.portfolio.ids)
    return ids.index(asset_id)


def asset_factor_loss(a: Assessment, asset_id: str) -> pd.DataFrame:
    """Loss of one asset by scenario and factor (long table; rows of a scenario add up to the
    asset's loss in it). Factors with no loss in any scenario are left out."""
    i = _asset_index(a, asset_id)
    r = a.result
    titles = scenario_titles(a.ws)
    names = factor_names(a.ws)
    values = np.array([r.asset_factor_loss(s)[i] for s in range(len(r.scenario_ids))])  # (S, F)
    rows = []
    for f_i, fid in enumerate(r.factor_ids):
        if not np.any(values[:, f_i] != 0):
            continue
        for s_i, sid in enumerate(r.scenario_ids):
            rows.append(
                {
                    "scenario_id": sid,
                    "scenario_title": titles[sid],
                    "factor_id": fid,
                    "factor_name": names.get(fid, fid),
                    "loss": float(values[s_i, f_i]),
                }
            )
    columns = ["scenario_id", "scenario_title", "factor_id", "factor_name", "loss"]
    return pd.DataFrame(rows, columns=columns)


def asset_curves(a: Assessment, asset_id: str) -> pd.DataFrame:
    """The vulnerability curves that apply to one asset, as points from intensity 0 to 10.

    Per factor: the asset's own override curve if it has one, else its type's curve; factors
    with neither are left out (the asset is not vulnerable to them). Points are extended to 0
    and 10 with the clamped end values, as the engine reads them.
    """
    i = _asset_index(a, asset_id)
    frame = a.ws.portfolio.frame
    a_type = str(frame["type"].iloc[i])
    by_type = a.ws.curves.type_curves()
    by_asset = a.ws.curves.override_curves()
    names = factor_names(a.ws)
    rows = []
    for fid in a.result.factor_ids:
        curve = by_asset.get((asset_id, fid))
        source = "asset override"
        if curve is None:
            curve = by_type.get((a_type, fid))
            source = f"type {a_type}"
        if curve is None:
            continue
        xs = [float(p[0]) for p in curve.points]
        ys = [float(p[1]) for p in curve.points]
        if xs[0] > 0:
            xs, ys = [0.0, *xs], [ys[0], *ys]
        if xs[-1] < 10:
            xs, ys = [*xs, 10.0], [*ys, ys[-1]]
        for x, y in zip(xs, ys, strict=True):
            rows.append(
                {
                    "factor_id": fid,
                    "factor_name": names.get(fid, fid),
                    "source": source,
                    "intensity": x,
                    "damage_ratio": y,
                }
            )
    return pd.DataFrame(
        rows, columns=["factor_id", "factor_name", "source", "intensity", "damage_ratio"]
    )


def asset_intensity_marks(a: Assessment, asset_id: str) -> pd.DataFrame:
    """Where each scenario puts the asset on each of its curves: the intensity its country
    feels (before any plan) and the damage ratio read from the curve there.

    Scenarios that put the asset at the same point of a curve share one row; `scenarios`
    lists their titles.
    """
    curves = asset_curves(a, asset_id)
    i = _asset_index(a, asset_id)
    r = a.result
    c = int(r.inputs.place_index[i])  # the asset's place: its country and zones
    titles = scenario_titles(a.ws)
    rows = []
    for fid, pts in curves.groupby("factor_id", sort=False):
        f = r.factor_ids.index(str(fid))
        xs = pts["intensity"].to_numpy(dtype=float)
        ys = pts["damage_ratio"].to_numpy(dtype=float)
        points: dict[float, list[str]] = {}
        for s_i, sid in enumerate(r.scenario_ids):
            points.setdefault(round(float(r.intensities[s_i, c, f]), 6), []).append(titles[sid])
        for x, scen in points.items():
            rows.append(
                {
                    "factor_id": str(fid),
                    "factor_name": str(pts["factor_name"].iloc[0]),
                    "intensity": x,
                    "damage_ratio": float(np.interp(x, xs, ys)),
                    "scenarios": scen,
                }
            )
    return pd.DataFrame(
        rows, columns=["factor_id", "factor_name", "intensity", "damage_ratio", "scenarios"]
    )


# -- plans: trigger matrix ------------------------------------------------------------------
NOT_TRIGGERED = "not triggered"
EFFECTIVE = "triggered and effective"
NOT_READY = "triggered but not ready in time"
RETIRED = "retired"
TRIGGER_STATES = [NOT_TRIGGERED, EFFECTIVE, NOT_READY, RETIRED]


def trigger_state(ev: PlanEvaluation, s: int, p: int) -> str:
    """State of plan p in scenario s, read from the evaluation."""
    if ev.plans[p].status is PlanStatus.RETIRED:
        return RETIRED
    if not ev.triggered[s, p]:
        return NOT_TRIGGERED
    return EFFECTIVE if ev.effective[s, p] else NOT_READY


def trigger_matrix(a: Assessment) -> pd.DataFrame:
    """One row per (scenario, plan): the plan's state in that scenario, its readiness gap and
    the loss it averts on its own there."""
    ev = a.plans
    titles = scenario_titles(a.ws)
    warning = {s.id: float(s.warning_time_days) for s in a.ws.scenarios}
    rows = []
    for s_i, sid in enumerate(ev.scenario_ids):
        for p_i, plan in enumerate(ev.plans):
            state = trigger_state(ev, s_i, p_i)
            rows.append(
                {
                    "scenario_id": sid,
                    "scenario_title": titles[sid],
                    "plan_id": plan.id,
                    "plan_title": plan.title,
                    "state": state,
                    "code": TRIGGER_STATES.index(state),
                    "warning_days": warning[sid],
                    "lead_time_days": float(plan.lead_time_days),
                    "in_place": plan.in_place,
                    "gap_days": float(ev.gap_days[s_i, p_i]),
                    "averted_loss": float(ev.averted_alone[s_i, p_i]),
                }
            )
    return pd.DataFrame(rows)


# -- plans: action timeline -----------------------------------------------------------------
IN_TIME = "ready within the warning time"
LATE = "ends after the warning time"
IN_PLACE = "plan already in place"
BAR_STATES = [IN_TIME, LATE, IN_PLACE]


def action_timeline(a: Assessment, scenario_id: str, triggered_only: bool = False) -> pd.DataFrame:
    """One row per action of each (non-retired) plan, for the Gantt chart of one scenario.

    Each action runs from day 0 (the warning) to its lead time. `bar_state` says whether it is
    ready within the scenario's warning time, ends after it (a readiness gap of `late_days`),
    or does not matter because the plan is already in place (ready/active).
    """
    ev = a.plans
    s = ev.scenario_ids.index(scenario_id)
    warning = float(a.ws.scenario(scenario_id).warning_time_days)
    rows = []
    for p_i, plan in enumerate(ev.plans):
        if plan.status is PlanStatus.RETIRED:
            continue
        triggered = bool(ev.triggered[s, p_i])
        if triggered_only and not triggered:
            continue
        for action in plan.actions:
            lead = float(action.lead_time_days)
            if plan.in_place:
                state = IN_PLACE
            elif lead > warning:
                state = LATE
            else:
                state = IN_TIME
            rows.append(
                {
                    "plan_id": plan.id,
                    "plan_title": plan.title,
                    "plan_status": plan.status.value,
                    "triggered": triggered,
                    "plan_state": trigger_state(ev, s, p_i),
                    "action": action.title,
                    "owner": action.owner or plan.owner or NO_OWNER,
                    "lead_time_days": lead,
                    "one_off_cost": float(action.one_off_cost),
                    "annual_cost": float(action.annual_cost),
                    "warning_days": warning,
                    "late_days": max(lead - warning, 0.0),
                    "bar_state": state,
                }
            )
    columns = [
        "plan_id",
        "plan_title",
        "plan_status",
        "triggered",
        "plan_state",
        "action",
        "owner",
        "lead_time_days",
        "one_off_cost",
        "annual_cost",
        "warning_days",
        "late_days",
        "bar_state",
    ]
    return pd.DataFrame(rows, columns=columns)


# -- plans: waterfall, value, register ------------------------------------------------------
def waterfall_steps(a: Assessment, scenario_id: str) -> pd.DataFrame:
    """Gross loss, each effective plan's step (negative: loss averted on top of the plans
    before it, in plan-book order) and residual loss, with plotly's waterfall measures.

    gross + sum(steps) == residual.
    """
    steps = waterfall(a.plans, scenario_id)
    n = len(steps)
    measure = ["absolute"] + ["relative"] * (n - 2) + ["total"]
    out = steps.rename(columns={"step": "label"}).assign(measure=measure)
    out.loc[0, "label"] = "Gross loss"
    out.loc[n - 1, "label"] = "Residual loss"
    running = out["amount"].to_numpy(dtype=float).copy()
    running[1 : n - 1] = running[0] + np.cumsum(running[1 : n - 1])
    out["after_step"] = running
    return out[["label", "plan_id", "measure", "amount", "after_step"]]


def bubble_sizes(bcr: np.ndarray, smallest: float = 12.0, largest: float = 48.0) -> np.ndarray:
    """Marker diameters (px) for benefit-cost ratios: area grows with the ratio up to a cap.

    The cap is the largest finite ratio, at most 10 (so one outlier does not shrink the rest
    to dots); free plans (infinite ratio) get the cap; plans with no cost and no benefit (NaN)
    and ratios of 0 get the smallest size.
    """
    values = np.asarray(bcr, dtype=float)
    finite = values[np.isfinite(values) & (values > 0)]
    cap = min(float(finite.max()), 10.0) if finite.size else 1.0
    clipped = np.where(np.isposinf(values), cap, np.nan_to_num(values, nan=0.0))
    clipped = np.clip(clipped, 0.0, cap)
    result: np.ndarray = smallest + (largest - smallest) * np.sqrt(clipped / cap)
    return result


def plan_register(a: Assessment, scenario_id: str) -> pd.DataFrame:
    """One row per plan (numbered 1.. in plan-book order, as the bubble chart labels them):
    owner, status, lead time, costs, averted EAL, benefit-cost ratio,
    its state and readiness gap in `scenario_id` (NaN where it does not fire), its worst
    gap in any scenario that triggers it and its sanity flags ("" when none)."""
    from riskapp.assessment.plan_checks import flag_text, plan_flags

    flags = plan_flags(a)
    ev = a.plans
    s = ev.scenario_ids.index(scenario_id)
    table = ev.table()
    bcr = ev.benefit_cost_ratio()
    out = pd.DataFrame(
        {
            "number": np.arange(1, len(table) + 1),
            "plan_id": table["plan_id"],
            "title": table["title"],
            "owner": [o or NO_OWNER for o in table["owner"]],
            "status": table["status"],
            "state": [trigger_state(ev, s, p) for p in range(len(ev.plans))],
            "state_label": [
                f"{NOT_READY} ({ev.gap_days[s, p]:.0f} d late)"
                if trigger_state(ev, s, p) == NOT_READY
                else trigger_state(ev, s, p)
                for p in range(len(ev.plans))
            ],
            "lead_time_days": table["lead_time_days"].astype(float),
            "gap_days": ev.gap_days[s].astype(float),
            "max_gap_days": table["max_gap_days"].astype(float),
            "one_off_cost": table["one_off_cost"].astype(float),
            "annual_cost": table["annual_cost"].astype(float),
            "cost_npv": table["cost_npv"].astype(float),
            "averted_eal": table["averted_eal"].astype(float),
            "averted_npv": table["averted_npv"].astype(float),
            "averted_in_scenario": ev.averted_alone[s].astype(float),
            "bcr": bcr,
            "bcr_label": [a.fmt.ratio(float(v)) for v in bcr],
            "size": bubble_sizes(bcr),
            "flags": [flag_text(flags, p.id) for p in ev.plans],
        }
    )
    out.loc[~ev.triggered[s], "gap_days"] = np.nan  # no gap where the plan does not fire
    return out
