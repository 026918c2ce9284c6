"""A workspace: every input of an assessment, checked for consistency across its parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Annotated

import numpy as np
from pydantic import Field

from riskapp.domain.assets import Currency, Portfolio, rows_of
from riskapp.domain.baseline import Baseline
from riskapp.domain.common import (
    Label,
    NoBool,
    ShortText,
    Slug,
    Strict,
    check_subdivision,
    iso_alpha3_codes,
    looks_like_subdivision,
)
from riskapp.domain.curves import CurveSet
from riskapp.domain.enums import LossBasis  # defined there (light, for the CLI), used here
from riskapp.domain.factors import FactorCatalogue
from riskapp.domain.plans import PlanBook
from riskapp.domain.regions import RegionCatalogue
from riskapp.domain.routes import RouteBook, RouteRule
from riskapp.domain.scenarios import Scenario
from riskapp.domain.zones import ZoneCatalogue


class WorkspaceSettings(Strict):
    """Assessment-wide settings read from workspace.yaml."""

    name: ShortText
    client: Label = ""
    currency: Currency = "EUR"
    fx_rates: dict[Currency, Annotated[float, NoBool, Field(gt=0, le=1e6)]] = Field(
        default_factory=dict,
        description="Units of the workspace currency for one unit of each other currency.",
    )
    fx_date: date | None = Field(
        default=None,
        description=(
            "The date the exchange rates are of. With a rates file (fx.csv, written by "
            "`riskapp fx import`): each currency's latest rate on or before this date, the "
            "file's latest date if not set. With fx_rates written here: the date they were "
            "taken, shown next to them in reports."
        ),
    )
    fx_source: Label = Field(
        default="",
        description="Where the exchange rates come from (set from the rates file if there is "
        "one), shown next to them in reports.",
    )
    fx_rate_dates: dict[Currency, date] = Field(
        default_factory=dict,
        description="The date of each currency's rate (set from the rates file).",
    )
    discount_rate: Annotated[float, NoBool, Field(ge=0, le=1)] = 0.05
    plan_horizon_years: Annotated[int, NoBool, Field(ge=1, le=50)] = 5
    loss_basis: LossBasis = LossBasis.ABSOLUTE
    require_readiness: bool = Field(
        default=True,
        description=(
            "A plan that is not yet in place and whose slowest action takes longer than the "
            "scenario's warning time averts nothing in that scenario."
        ),
    )
    return_periods: list[Annotated[float, NoBool, Field(gt=0, le=1e6)]] = Field(
        default_factory=lambda: [10.0, 50.0, 100.0, 250.0],
        description="Return periods (years) at which losses are reported.",
    )
    simulation_years: Annotated[int, NoBool, Field(ge=1_000, le=200_000)] = Field(
        default=10_000,
        description=(
            "Years simulated for the headline figures (value at risk, expected shortfall, "
            "return-period losses) on every surface."
        ),
    )
    zone_weight_step: Annotated[float, NoBool, Field(ge=0.001, le=0.5)] = Field(
        default=0.05,
        description=(
            "An asset's weight in a zone that fades with distance is rounded to this step "
            "(0.05: the nearest 5 %). Assets whose weights round alike share a damage ratio; "
            "a finer step is more precise and slower on large registers."
        ),
    )
    route_rules: dict[Slug, RouteRule] = Field(
        default_factory=dict,
        description=(
            "How the places along a route combine, by asset type: any_cut (a cut anywhere "
            "cuts it: 1 - prod(1 - d)) or length_weighted (each place damages its share of "
            "the length). Types not listed: any_cut. A route's own rule comes first."
        ),
    )
    route_piece_km: Annotated[float, NoBool, Field(ge=1, le=500)] = Field(
        default=10.0,
        description="Routes are cut into pieces of at most this length (km) to find the "
        "countries and zones they cross.",
    )
    probability_cap: Annotated[float, NoBool, Field(gt=0, le=1)] = Field(
        default=0.95,
        description="The highest annual probability signposts may raise a scenario to (a "
        "probability already above it is left as written).",
    )
    alert_probability_change: Annotated[float, NoBool, Field(gt=0, le=1)] = Field(
        default=0.02,
        description="An alert is raised when a scenario's current probability differs from "
        "its prior by at least this much (0.02: two percentage points).",
    )
    simulation_seed: Annotated[int, NoBool, Field(ge=0, le=2**63 - 1)] = Field(
        default=0,
        description="Seed of the headline simulation: the same seed, the same figures.",
    )

    def fx_to_reporting(self) -> dict[str, float]:
        return {**self.fx_rates, self.currency: 1.0}

    def fx_provenance(self) -> str:
        """Where and of when the exchange rates are, in words ("ECB euro foreign exchange
        reference rates, 2026-04-13"; "undated" when nobody said)."""
        when = self.fx_date.isoformat() if self.fx_date else "undated"
        dates = {d for c, d in self.fx_rate_dates.items() if c in self.fx_rates}
        if self.fx_date and dates - {self.fx_date}:
            older = sorted(
                f"{c} {d.isoformat()}"
                for c, d in self.fx_rate_dates.items()
                if c in self.fx_rates and d != self.fx_date
            )
            when += " (older: " + ", ".join(older) + ")"
        return f"{self.fx_source}, {when}" if self.fx_source else when


@dataclass(frozen=True)
class Inconsistency:
    """A reference between parts of a workspace that does not resolve.

    `part` names the input ('assets', 'curves', 'baseline', 'plans', 'scenario:<id>'),
    `loc` the path inside it (as pydantic reports locations) and `message` what was expected.
    """

    part: str
    loc: tuple[str | int, ...]
    message: str


@dataclass(frozen=True)
class Workspace:
    settings: WorkspaceSettings
    factors: FactorCatalogue
    regions: RegionCatalogue
    curves: CurveSet
    baseline: Baseline
    portfolio: Portfolio
    scenarios: list[Scenario]
    plans: PlanBook = field(default_factory=PlanBook)
    zones: ZoneCatalogue = field(default_factory=ZoneCatalogue)
    routes: RouteBook = field(default_factory=RouteBook)

    def scenario(self, scenario_id: str) -> Scenario:
        for s in self.scenarios:
            if s.id == scenario_id:
                return s
        known = ", ".join(s.id for s in self.scenarios)
        raise KeyError(f"unknown scenario {scenario_id!r}; known: {known}")

    def with_scenarios(self, scenario_ids: list[str]) -> Workspace:
        """The same workspace restricted to the named scenarios, in the given order."""
        chosen = [self.scenario(sid) for sid in scenario_ids]
        return Workspace(
            self.settings,
            self.factors,
            self.regions,
            self.curves,
            self.baseline,
            self.portfolio,
            chosen,
            self.plans,
            self.zones,
            self.routes,
        )


def find_inconsistencies(ws: Workspace) -> list[Inconsistency]:
    """Every cross-reference that does not resolve, in a stable order."""
    out: list[Inconsistency] = []
    factor_ids = set(ws.factors.ids)
    group_ids = {g.id for g in ws.regions.groups}
    frame = {col: ws.portfolio.series(col) for col in ("id", "type", "country", "currency")}
    # the asset ids the other files name, of those in the register (not a set of every id:
    # 0.15-0.5 s at 1,000,000 assets)
    named = [
        *(r.asset_id for r in ws.routes.routes),
        *(c.asset_id for c in ws.curves.curves if c.asset_id is not None),
        *(aid for plan in ws.plans.plans for aid in plan.coverage.asset_ids),
    ]
    asset_ids = {a for a, row in zip(named, rows_of(frame["id"], named), strict=True) if row >= 0}
    countries = set(frame["country"].unique().tolist())
    known_factors = ", ".join(sorted(factor_ids))

    zone_ids = set(ws.zones.ids)

    def target_ok(target: str) -> bool:
        return target in group_ids or target in iso_alpha3_codes() or target in zone_ids

    target_expected = (
        "expected an ISO 3166-1 alpha-3 code, a region group id, a zone of the workspace's "
        "zones file, a shipped sea area id (such as baltic_sea) or an ISO 3166-2 subdivision "
        "code (such as NO-54)"
    )

    def unknown(what: str, name: str) -> str:
        """Why a name is no known place: a malformed or retired ISO 3166-2 code says so
        with the closest codes; anything else gets the list of what a place may be."""
        if looks_like_subdivision(name):
            try:
                check_subdivision(name)
            except ValueError as exc:
                return str(exc)
        return f"unknown {what} {name!r}; " + target_expected

    # zones: ids apart from groups; region groups: members are countries or known zones
    for i, zone in enumerate(ws.zones.zones):
        if zone.id in group_ids:
            out.append(
                Inconsistency(
                    "zones",
                    ("zones", i, "id"),
                    f"zone id {zone.id!r} is also a region group id; give one of them another id",
                )
            )
    for i, group in enumerate(ws.regions.groups):
        for j, member in enumerate(group.members):
            if member not in iso_alpha3_codes() and member not in zone_ids:
                out.append(
                    Inconsistency(
                        "regions",
                        ("groups", i, "members", j),
                        f"unknown member {member!r}: " + target_expected[9:],
                    )
                )

    # routes: of assets in the register
    for i, route in enumerate(ws.routes.routes):
        if route.asset_id not in asset_ids:
            out.append(
                Inconsistency(
                    "routes",
                    ("routes", i, "asset_id"),
                    f"no asset {route.asset_id!r} in the register",
                )
            )
    # curves
    for i, c in enumerate(ws.curves.curves):
        if c.factor not in factor_ids:
            out.append(
                Inconsistency(
                    "curves",
                    ("curves", i, "factor"),
                    f"unknown factor {c.factor!r}; expected one of {known_factors}",
                )
            )
        if c.asset_id is not None and c.asset_id not in asset_ids:
            out.append(
                Inconsistency(
                    "curves", ("curves", i, "asset_id"), f"no asset {c.asset_id!r} in the register"
                )
            )
    # assets: types need curves, currencies need rates (rows looked at only when one is wrong)
    types_with_curves = ws.curves.asset_types
    rates = ws.settings.fx_to_reporting()
    bad_type = ~frame["type"].isin(list(types_with_curves)).to_numpy(dtype=bool)
    bad_currency = ~frame["currency"].isin(list(rates)).to_numpy(dtype=bool)
    bad_rows = np.flatnonzero(bad_type | bad_currency)
    if len(bad_rows):  # worded once per distinct type or currency, then given to each row
        types = frame["type"].to_numpy(dtype=object)
        currencies = frame["currency"].to_numpy(dtype=object)
        known_types = ", ".join(sorted(types_with_curves))
        type_says = {
            t: f"asset type {t!r} has no vulnerability curve; known types: " + known_types
            for t in set(types[bad_type].tolist())
        }
        currency_says = {
            c: f"no exchange rate for {c}; add it to fx_rates in workspace.yaml, or import "
            "it into the rates file fx.csv (riskapp fx import)"
            for c in set(currencies[bad_currency].tolist())
        }
        for row in bad_rows.tolist():
            if bad_type[row]:
                out.append(Inconsistency("assets", (row, "type"), type_says[types[row]]))
            if bad_currency[row]:
                out.append(
                    Inconsistency("assets", (row, "currency"), currency_says[currencies[row]])
                )
    # baseline: every factor for every asset country
    for i, e in enumerate(ws.baseline.entries):
        if e.factor not in factor_ids:
            out.append(
                Inconsistency(
                    "baseline",
                    (i, "factor"),
                    f"unknown factor {e.factor!r}; expected one of {known_factors}",
                )
            )
        if e.country not in iso_alpha3_codes() and e.country not in zone_ids:
            out.append(
                Inconsistency(
                    "baseline",
                    (i, "country"),
                    f"unknown zone {e.country!r}; " + target_expected,
                )
            )
    have = {(e.country, e.factor) for e in ws.baseline.entries}
    for country in sorted(countries):
        missing = [f for f in ws.factors.ids if (country, f) not in have]
        if missing:
            out.append(
                Inconsistency(
                    "baseline",
                    (),
                    f"no baseline intensity for country {country} (used by assets) and "
                    f"factor(s) {', '.join(missing)}",
                )
            )
    # scenarios
    seen: set[str] = set()
    for s in ws.scenarios:
        part = f"scenario:{s.id}"
        if s.id in seen:
            out.append(Inconsistency(part, ("id",), f"scenario id {s.id!r} is used twice"))
        seen.add(s.id)
        for i, shock in enumerate(s.shocks):
            if shock.factor not in factor_ids:
                out.append(
                    Inconsistency(
                        part,
                        ("shocks", i, "factor"),
                        f"unknown factor {shock.factor!r}; expected one of {known_factors}",
                    )
                )
            if not target_ok(shock.target):
                out.append(
                    Inconsistency(
                        part,
                        ("shocks", i, "target"),
                        unknown("target", shock.target),
                    )
                )
    # plans
    scenario_ids = {s.id for s in ws.scenarios}
    signpost_names = {p.name for s in ws.scenarios for p in s.signposts}
    for p_i, plan in enumerate(ws.plans.plans):
        base: tuple[str | int, ...] = ("plans", p_i)
        for j, sid in enumerate(plan.trigger.scenarios):
            if sid not in scenario_ids:
                out.append(
                    Inconsistency(
                        "plans",
                        (*base, "trigger", "scenarios", j),
                        f"unknown scenario {sid!r}",
                    )
                )
        for j, name in enumerate(plan.trigger.signposts):
            if name not in signpost_names:
                out.append(
                    Inconsistency(
                        "plans",
                        (*base, "trigger", "signposts", j),
                        f"no scenario has a signpost named {name!r}",
                    )
                )
        for j, chance in enumerate(plan.trigger.probabilities):
            if chance.scenario not in scenario_ids:
                out.append(
                    Inconsistency(
                        "plans",
                        (*base, "trigger", "probabilities", j, "scenario"),
                        f"unknown scenario {chance.scenario!r}",
                    )
                )
        for j, level in enumerate(plan.trigger.factor_levels):
            if level.factor not in factor_ids:
                out.append(
                    Inconsistency(
                        "plans",
                        (*base, "trigger", "factor_levels", j, "factor"),
                        f"unknown factor {level.factor!r}; expected one of {known_factors}",
                    )
                )
            if not target_ok(level.region):
                out.append(
                    Inconsistency(
                        "plans",
                        (*base, "trigger", "factor_levels", j, "region"),
                        unknown("region", level.region),
                    )
                )
        for j, aid in enumerate(plan.coverage.asset_ids):
            if aid not in asset_ids:
                out.append(
                    Inconsistency(
                        "plans",
                        (*base, "coverage", "asset_ids", j),
                        f"no asset {aid!r} in the register",
                    )
                )
        for j, region in enumerate(plan.coverage.regions):
            if not target_ok(region):
                out.append(
                    Inconsistency(
                        "plans",
                        (*base, "coverage", "regions", j),
                        unknown("region", region),
                    )
                )
        for key in ("damage_multiplier", "intensity_reduction"):
            for fid in getattr(plan.effect, key):
                if fid not in factor_ids:
                    out.append(
                        Inconsistency(
                            "plans",
                            (*base, "effect", key, fid),
                            f"unknown factor {fid!r}; expected one of {known_factors}",
                        )
                    )
    out.extend(probability_problems(ws))
    # escalation ladders: parents exist, no cycles, frequency = parent's frequency x probability
    by_id = {s.id: s for s in ws.scenarios}
    ladder_loc: tuple[str | int, ...] = ("escalates_from", "scenario")
    for s in ws.scenarios:
        step = s.escalates_from
        if step is None:
            continue
        part = f"scenario:{s.id}"
        parent = by_id.get(step.scenario)
        if parent is None:
            out.append(
                Inconsistency(
                    part,
                    ladder_loc,
                    f"unknown scenario {step.scenario!r}; expected one of "
                    + ", ".join(sorted(by_id)),
                )
            )
            continue
        chain: list[str] = [s.id]
        node: Scenario | None = parent
        while node is not None and node.id not in chain:
            chain.append(node.id)
            node = by_id.get(node.escalates_from.scenario) if node.escalates_from else None
        if node is not None:  # a cycle; reported by its members, not by rungs hanging off it
            if node.id == s.id:
                cycle = " -> ".join([*chain, s.id])
                out.append(Inconsistency(part, ladder_loc, f"escalation cycle: {cycle}"))
            continue
        implied = parent.frequency * step.probability
        if s.frequency > parent.frequency:
            out.append(
                Inconsistency(
                    part,
                    ("frequency",),
                    f"frequency {s.frequency:g} is above that of {parent.id} "
                    f"({parent.frequency:g}), the scenario it escalates from: it occurs only in "
                    f"years in which {parent.id} occurs, so expected at most "
                    f"{parent.frequency:g} ({parent.frequency:g} x {step.probability:g} = "
                    f"{implied:.6g})",
                )
            )
        elif abs(s.frequency - implied) > 0.01 * implied + 1e-12:
            out.append(
                Inconsistency(
                    part,
                    ("frequency",),
                    f"frequency {s.frequency:g} does not match the escalation ladder: "
                    f"{parent.frequency:g} ({parent.id}) x {step.probability:g} = "
                    f"{implied:.6g}; set frequency to {implied:.6g}",
                )
            )
    return out


def probability_problems(ws: Workspace) -> list[Inconsistency]:
    """Scenario probabilities that cannot hold under the engine's co-occurrence model.

    The model, the same for the expected annual loss, the exceedance curve and the Monte Carlo:
    the baseline, the status quo, holds in every year. Every scenario without an escalation
    step occurs in a year with probability `frequency`, at most once, independently of the
    other scenarios; so several can occur in the same year (their increments over the status
    quo then add up), and scenario probabilities are not shares of one year that must add up
    to 1: their sum is the expected number of scenarios a year (1.95 means about two). Scenarios
    are not mutually exclusive alternatives; to make one scenario follow another, use an
    escalation step: a scenario that escalates from another occurs only in years in which its
    parent occurs, with the step's conditional probability, so its frequency must equal the
    parent's frequency times that probability (within 1 %). The expected annual loss is
    status quo + sum_s frequency[s] x increment[s] under any dependence between scenarios (an
    expectation of a sum is the sum of expectations); independence matters for the Monte
    Carlo's tails (value at risk, expected shortfall) and is what it simulates.

    Reported by `riskapp validate`, the workspace loader and the scenario editor, on the
    scenario's `frequency` line:
    - a scenario with shocks at probability 1: it would be a second status quo, present every
      year; only the baseline holds every year (put lasting shocks into the baseline);
    - a rung more likely than the scenario it escalates from: it can occur only in the
      parent's years, so its frequency is at most the parent's;
    - a rung whose frequency differs from parent frequency x conditional probability.
    """
    out: list[Inconsistency] = []
    for s in ws.scenarios:
        if s.shocks and s.frequency >= 1.0 and s.escalates_from is None:
            out.append(
                Inconsistency(
                    f"scenario:{s.id}",
                    ("frequency",),
                    "frequency 1 says this scenario occurs every year, but it has shocks: only "
                    "the status quo (the baseline, a scenario without shocks) holds every year; "
                    "expected an annual probability below 1, or move the shocks into the "
                    "baseline",
                )
            )
    return out
