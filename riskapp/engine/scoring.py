"""Scoring: assets x factors x scenarios -> damage ratios and losses.

    intensity[s, c, f]  = baseline[c, f] modified by scenario s's shocks (section 3)
    damage[s, g, f]     = curve[type(g), f](intensity[s, country(g), f])
    combined[s, g]      = 1 - prod_f (1 - damage[s, g, f])
    loss[a, s]          = exposed_value[a] * combined[s, group(a)]
    base[g]             = combined damage of group g at the baseline intensities (status quo)
    increment[s, g]     = max(combined[s, g] - base[g], 0)
    EAL[a]              = exposed_value[a] * (B + sum_s frequency[s] * increment[s, group(a)])

where B = base[group(a)] on the absolute basis and 0 on the incremental basis. The baseline
(the status quo) holds in every year and is counted once; a scenario adds its increment over
it in the years in which it occurs; a scenario below the status quo (a de-escalation) adds
nothing (no gains are booked). On the incremental basis `combined` is already the increment.

All work is done per group of assets sharing a damage path; asset-level figures are one
multiplication of the exposed values by the group's damage ratio.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskapp.domain.assets import rows_of, text_codes
from riskapp.domain.common import subdivision_chain
from riskapp.domain.enums import LossBasis
from riskapp.domain.routes import RouteRule
from riskapp.domain.workspace import Workspace
from riskapp.engine.damage import (
    AssetGroups,
    combine,
    group_assets,
    group_damage,
    incremental,
)
from riskapp.engine.exceedance import (
    exceedance_curve,
    expected_annual_loss,
    loss_at_return_periods,
)
from riskapp.engine.geo import ZoneWeights
from riskapp.engine.intensity import scenario_intensities
from riskapp.engine.places import Places
from riskapp.engine.routes import RouteTable

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ScoreInputs:
    """Arrays the engine needs from a workspace, built once and reused (what-if, plans)."""

    countries: list[str]
    factor_ids: list[str]
    baseline: FloatArray  # (C, F) by country; `places.expand` spreads it over the places
    country_index: npt.NDArray[np.int64]  # (A,) each asset's country
    exposed_value: FloatArray  # (A,)
    groups: AssetGroups  # groups share a type and a place (`groups.country_index`: the place)
    places: Places
    place_index: npt.NDArray[np.int64]  # (A,) each asset's place
    zone_baseline: FloatArray | None = None  # (Z, F) the zones' baseline rows, NaN where none
    routes: RouteInfo | None = None  # the assets that are routes (riskapp.engine.routes)

    @property
    def group_index(self) -> npt.NDArray[np.int64]:
        """(A,) what `group_assets` keys assets by: the place, or for a route its code
        above the places (`RouteTable`)."""
        if self.routes is None:
            return self.place_index
        out = self.place_index.copy()
        out[self.routes.rows] = self.routes.table.first + self.routes.code
        return out

    @property
    def place_baseline(self) -> FloatArray:
        """(P, F) the baseline at each place: its country's, changed by the rows of the zones
        it lies in (`Places.baseline_at`)."""
        return self.places.baseline_at(self.baseline, self.zone_baseline)


def prepare(ws: Workspace) -> ScoreInputs:
    """Index countries, factors and asset groups of a workspace."""
    portfolio = ws.portfolio
    factor_ids = ws.factors.ids
    asset_countries = portfolio.series("country")
    countries = sorted(set(ws.baseline.countries) | set(asset_countries.unique().tolist()))
    c_codes = text_codes(asset_countries, countries)
    baseline = ws.baseline.matrix(countries, factor_ids)
    used = np.unique(c_codes)
    if np.isnan(baseline[used]).any():
        rows, cols = np.nonzero(np.isnan(baseline[used]))
        c, f = countries[used[rows[0]]], factor_ids[cols[0]]
        raise ValueError(f"no baseline intensity for country {c} and factor {f}")
    baseline = np.nan_to_num(baseline, nan=0.0)
    overrides = {c.asset_id for c in ws.curves.curves if c.asset_id is not None}
    places, place_index, routes = locate_assets(ws, countries, c_codes)
    keys = place_index
    if routes is not None:
        keys = place_index.copy()
        keys[routes.rows] = routes.table.first + routes.code
    groups = group_assets(
        portfolio.series("id"),
        portfolio.series("type"),
        keys,
        overrides,
        routes=routes.table if routes is not None else None,
    )
    return ScoreInputs(
        countries=countries,
        factor_ids=factor_ids,
        baseline=baseline,
        country_index=c_codes,
        exposed_value=ws.portfolio.exposed_value(ws.settings.fx_to_reporting()),
        groups=groups,
        places=places,
        place_index=place_index,
        zone_baseline=ws.baseline.matrix(places.zone_ids, factor_ids) if places.zone_ids else None,
        routes=routes,
    )


@dataclass(frozen=True)
class RouteInfo:
    """The assets that are routes: their rows in the register, their landing countries,
    lengths, codes among the distinct routes and those routes' parts (`table`)."""

    rows: npt.NDArray[np.int64]
    start_country: npt.NDArray[np.object_]
    end_country: npt.NDArray[np.object_]
    length_km: FloatArray
    code: npt.NDArray[np.int64]
    table: RouteTable


def located_weights(ws: Workspace, lon: FloatArray, lat: FloatArray) -> ZoneWeights:
    """(N, Z) each point's weight in each zone of the workspace, in catalogue order, in the
    compact form (riskapp.engine.geo.ZoneWeights; `.dense()` for a plain array). The first
    len(register) points are the assets, in register order; any further ones are route
    pieces.

    A zone with a geometry weighs points by it (riskapp.engine.geo.zone_weights). A
    subdivision (an ISO 3166-2 zone) holds the assets whose register row names it or one of
    its parts (FR-75C lies in FR-IDF), with weight 1; an asset whose row names a subdivision
    lies in no other one. Where a row names none, and for route pieces, a subdivision with a
    polygon from the zones file holds the points inside it; a shipped boundary holds only the
    route pieces inside it (assets: their register row, read from their coordinates when the
    workspace was read); without a polygon, only the register places assets in it."""
    from riskapp.engine.geo import located_zones

    zones = ws.zones.zones
    step = ws.settings.zone_weight_step
    drawn = [i for i, z in enumerate(zones) if z.geometry is not None]
    out = located_zones(lon, lat, [zones[i] for i in drawn], step).widened(drawn, len(zones))
    subs = np.array([i for i, z in enumerate(zones) if z.subdivision], dtype=np.int64)
    if not len(subs):
        return out
    named = _register_subdivisions(ws)
    given = np.flatnonzero(named != "")
    # a named subdivision lies in each of its parents too (FR-75C in FR-IDF): one column of
    # zones per level of the chain, -1 where the level is not a zone
    codes, distinct = pd.factorize(named[given])
    chains = [subdivision_chain(str(c)) for c in distinct.tolist()]
    depth = max((len(c) for c in chains), default=1)
    index = pd.Index([zones[i].id for i in subs.tolist()])
    column = np.full((len(given), depth), -1, dtype=np.int64)
    for level in range(depth):
        at = [c[level] if level < len(c) else "" for c in chains]
        hit = index.get_indexer(pd.Index(at))
        column[:, level] = np.where(hit >= 0, subs[np.maximum(hit, 0)], -1)[codes]
    out = out.named(given.astype(np.int64), subs, column)
    # a shipped boundary (riskapp.io.subdivisions) places assets only through the register's
    # column, which the workspace's reading fills from their coordinates in their own
    # country; its polygon places route pieces alone
    shipped = np.array([i for i in subs.tolist() if zones[i].shipped], dtype=np.int64)
    blank = np.flatnonzero(named == "")
    if len(shipped) and len(blank):
        out = out.named(blank.astype(np.int64), shipped, np.full(len(blank), -1, np.int64))
    return out


def _register_subdivisions(ws: Workspace) -> npt.NDArray[np.object_]:
    """The register's subdivision codes ('' where a row names none)."""
    column = ws.portfolio.series("subdivision")
    result: npt.NDArray[np.object_] = column.fillna("").astype(str).to_numpy(dtype=object)
    return result


def locate_assets(
    ws: Workspace, countries: list[str], c_codes: npt.NDArray[np.int64]
) -> tuple[Places, npt.NDArray[np.int64], RouteInfo | None]:
    """The places of a workspace's assets (riskapp.engine.places): their countries, refined
    by the zones their coordinates lie in (only where the workspace has zones); and its
    routes cut into pieces, each piece in its own place (riskapp.engine.routes)."""
    rows = np.zeros(0, dtype=np.int64)
    if len(ws.routes):
        found = rows_of(ws.portfolio.series("id"), ws.routes.asset_ids)
        rows = found[found >= 0]
        chosen = [r for r, f in zip(ws.routes.routes, found.tolist(), strict=True) if f >= 0]
    if not len(ws.zones) and not len(rows):
        return Places.of_countries(countries), c_codes, None
    lon = ws.portfolio.series("lon").to_numpy(dtype=float, na_value=np.nan)
    lat = ws.portfolio.series("lat").to_numpy(dtype=float, na_value=np.nan)
    if not len(rows):
        weights = located_weights(ws, lon, lat)
        places, place_index = Places.locate(countries, c_codes, ws.zones.ids, weights)
        return places, place_index, None
    from riskapp.engine import routes as route_engine

    lines = [r.line for r in chosen]
    known = set(countries)
    filed = [countries[c] for c in c_codes[rows].tolist()]
    start, end = route_engine.landings(lines, filed, known)
    pieces = route_engine.cut(lines, ws.settings.route_piece_km)
    piece_country = route_engine.piece_countries(pieces, start, end, known)
    piece_codes = text_codes(piece_country, countries)
    # the assets' points and the pieces' midpoints located in one pass
    weights = located_weights(ws, np.r_[lon, pieces.lon], np.r_[lat, pieces.lat])
    both, both_index = Places.locate(countries, np.r_[c_codes, piece_codes], ws.zones.ids, weights)
    place_index = both_index[: len(c_codes)]
    piece_place = both_index[len(c_codes) :]
    types = ws.portfolio.series("type").take(rows).to_numpy(dtype=object)
    rules = ws.settings.route_rules
    any_cut = np.array(
        [
            (r.rule or rules.get(str(t), RouteRule.ANY_CUT)) is RouteRule.ANY_CUT
            for r, t in zip(chosen, types, strict=True)
        ],
        dtype=bool,
    )
    parts, code = route_engine.parts(pieces, piece_place, any_cut, both.country)
    place_index = place_index.copy()
    place_index[rows] = parts.place[parts.indptr[code]]  # a route's first part
    info = RouteInfo(
        rows=rows,
        start_country=start,
        end_country=end,
        length_km=pieces.route_length(len(rows)),
        code=code,
        table=RouteTable(first=both.count, parts=parts),
    )
    return both, place_index, info


@dataclass(frozen=True)
class ScoreResult:
    """Damage and loss of every asset under every scenario, held per group of assets."""

    scenario_ids: list[str]
    frequencies: FloatArray  # (S,)
    factor_ids: list[str]
    countries: list[str]
    intensities: FloatArray  # (S, P, F) over places; place c < C is country c
    basis: LossBasis
    inputs: ScoreInputs
    damage: FloatArray  # (S, G) combined damage ratio on `basis`
    factor_damage: FloatArray  # (S, G, F) attributed, sums to `damage` over F
    base_damage: FloatArray  # (G,) status-quo damage on `basis` (0 on the incremental basis)
    base_factor_damage: FloatArray  # (G, F) attributed, sums to `base_damage` over F
    increment: FloatArray  # (S, G) damage above the status quo, floored at 0
    factor_increment: FloatArray  # (S, G, F) attributed, sums to `increment` over F

    # -- per asset -------------------------------------------------------------------------
    def asset_damage_ratio(self) -> FloatArray:
        """(A, S) combined damage ratio of each asset."""
        result: FloatArray = self.damage.T[self.inputs.groups.of_asset]
        return result

    def asset_loss(self) -> FloatArray:
        """(A, S) loss of each asset in each scenario, in the workspace currency."""
        result: FloatArray = self.inputs.exposed_value[:, np.newaxis] * self.asset_damage_ratio()
        return result

    def asset_factor_loss(self, scenario: int) -> FloatArray:
        """(A, F) loss of each asset by factor in one scenario."""
        groups = self.inputs.groups.of_asset
        result: FloatArray = (
            self.inputs.exposed_value[:, np.newaxis] * self.factor_damage[scenario][groups]
        )
        return result

    def asset_eal(self) -> FloatArray:
        """(A,) expected annual loss of each asset: its status-quo loss plus the frequency-
        weighted increments of the scenarios."""
        group_eal = self.base_damage + expected_annual_loss(self.increment.T, self.frequencies)
        result: FloatArray = self.inputs.exposed_value * group_eal[self.inputs.groups.of_asset]
        return result

    def asset_increment(self) -> FloatArray:
        """(A, S) loss of each asset above its status-quo loss in each scenario (floored at 0)."""
        result: FloatArray = (
            self.inputs.exposed_value[:, np.newaxis] * self.increment.T[self.inputs.groups.of_asset]
        )
        return result

    def asset_factor_eal(self) -> FloatArray:
        """(A, F) expected annual loss of each asset attributed to factors; rows add to
        `asset_eal`."""
        per_group = self.base_factor_damage + np.einsum(
            "s,sgf->gf", self.frequencies, self.factor_increment
        )
        result: FloatArray = (
            self.inputs.exposed_value[:, np.newaxis] * per_group[self.inputs.groups.of_asset]
        )
        return result

    # -- per group and portfolio ---------------------------------------------------------
    def group_exposure(self) -> FloatArray:
        """(G,) total exposed value of each asset group."""
        result: FloatArray = np.bincount(
            self.inputs.groups.of_asset,
            weights=self.inputs.exposed_value,
            minlength=self.inputs.groups.count,
        ).astype(float)
        return result

    def scenario_loss(self) -> FloatArray:
        """(S,) portfolio loss per scenario."""
        result: FloatArray = self.damage @ self.group_exposure()
        return result

    def scenario_factor_loss(self) -> FloatArray:
        """(S, F) portfolio loss per scenario attributed to factors; rows add to scenario_loss."""
        result: FloatArray = np.einsum("sgf,g->sf", self.factor_damage, self.group_exposure())
        return result

    def status_quo_loss(self) -> float:
        """Portfolio loss of the status quo (the baseline), borne every year; 0 on the
        incremental basis."""
        return float(self.base_damage @ self.group_exposure())

    def scenario_increment(self) -> FloatArray:
        """(S,) portfolio loss of each scenario above the status quo (floored at 0 per asset
        group): what the scenario adds in a year in which it occurs."""
        result: FloatArray = self.increment @ self.group_exposure()
        return result

    def scenario_factor_increment(self) -> FloatArray:
        """(S, F) `scenario_increment` attributed to factors."""
        result: FloatArray = np.einsum("sgf,g->sf", self.factor_increment, self.group_exposure())
        return result

    def status_quo_factor_loss(self) -> FloatArray:
        """(F,) `status_quo_loss` attributed to factors."""
        result: FloatArray = self.base_factor_damage.T @ self.group_exposure()
        return result

    def eal_contribution(self) -> FloatArray:
        """(S,) each scenario's contribution to expected annual loss: frequency x increment.
        With `status_quo_loss` they add up to `expected_annual_loss`."""
        result: FloatArray = self.frequencies * self.scenario_increment()
        return result

    def event_loss(self) -> FloatArray:
        """(S,) the loss of a year in which the scenario occurs: the status-quo loss plus the
        scenario's increment (what the exceedance curve is built from)."""
        result: FloatArray = self.status_quo_loss() + self.scenario_increment()
        return result

    def expected_annual_loss(self) -> float:
        """Expected annual loss: the status quo counted once, plus what each scenario adds.

        The baseline intensities are today's world, the status quo: they hold in every year,
        whether or not any scenario occurs. A scenario's loss at its own intensities already
        contains the status-quo damage, so adding up frequency x loss over the scenarios would
        count the status quo again inside every scenario (with a status-quo scenario of
        probability 1 in the list, about twice). Instead:

            increment[s, a]  = max(loss[s, a] - status_quo[a], 0)        for every asset a
            EAL              = status_quo + sum_s frequency[s] x increment[s]

        where `status_quo` is the loss at the baseline intensities on the absolute basis and 0
        on the incremental basis (whose losses are increments already). The two bases
        therefore differ by the status-quo loss, a constant, in every figure: expected annual
        loss, loss at a return period (the exceedance curve is built from the loss of a year
        in which a scenario occurs, status quo + increment), the Monte Carlo's annual losses,
        residual loss; averted loss and benefit-cost ratios are the same on both.

        A de-escalation (a scenario whose shocks lower intensities, so that an asset loses less
        than today) adds nothing: its increment is floored at 0 asset by asset, and it never
        lowers the expected loss. Floored, not signed, for three reasons: a risk figure
        measures the downside, and a hoped-for de-escalation must not offset real exposures
        elsewhere in the register; scenarios occur independently and their increments add up
        in a year, so negative increments could push an asset's annual loss below zero or
        cancel an escalation that happens in the same year; and the incremental basis has
        always booked no gains, so both bases agree. The de-escalation's own loss (below the
        status quo) is still shown per scenario.

        Worked example (tests/data/tiny, absolute basis). Status quo: P1 20 + P2 115 + O1 25
        = 160 a year. Scenario s1 (probability 0.1) loses P1 60, P2 220, O1 25 = 305: increment
        40 + 105 + 0 = 145. Scenario s2 (0.01) loses 260, of which O1 125: increment 100. A
        de-escalation 'calm' (0.2) loses P1 20, P2 70, O1 0 = 90: increment 0 + 0 + 0 = 0.

            EAL = 160 + 0.1 x 145 + 0.01 x 100 + 0.2 x 0 = 175.5

        (The sum 1 x 160 + 0.1 x 305 + 0.01 x 260 + 0.2 x 90 = 211.1 would have counted the
        status quo 1.31 times and let the de-escalation add 18.) On the incremental basis the
        same workspace gives 0 + 14.5 + 1 + 0 = 15.5 = 175.5 - 160.
        """
        return self.status_quo_loss() + float(
            expected_annual_loss(self.scenario_increment(), self.frequencies)
        )

    def exceedance(self) -> pd.DataFrame:
        rp, freq, loss = exceedance_curve(self.event_loss(), self.frequencies)
        return pd.DataFrame({"return_period_years": rp, "exceedance_frequency": freq, "loss": loss})

    def loss_at_return_periods(self, return_periods: list[float]) -> dict[float, float]:
        values = loss_at_return_periods(
            self.event_loss(), self.frequencies, np.asarray(return_periods, dtype=float)
        )
        return {float(rp): float(v) for rp, v in zip(return_periods, values, strict=True)}

    @property
    def total_exposed_value(self) -> float:
        return float(self.inputs.exposed_value.sum())


def status_quo_damage(ws: Workspace, inputs: ScoreInputs) -> FloatArray:
    """Damage ratio per (1, group, factor) at the baseline intensities (no scenario)."""
    return group_damage(
        inputs.groups, inputs.place_baseline[np.newaxis], inputs.factor_ids, ws.curves
    )


def score(
    ws: Workspace,
    basis: LossBasis | None = None,
    inputs: ScoreInputs | None = None,
    intensities: FloatArray | None = None,
    status_quo: FloatArray | None = None,
) -> ScoreResult:
    """Score every asset of a workspace under each of its scenarios.

    `basis` defaults to the workspace setting: `absolute` losses are the losses at the
    scenario's intensities; `incremental` losses are those above the no-shock baseline
    (the status quo). On both bases the expected annual loss counts the status quo once
    (`ScoreResult.expected_annual_loss` below says how).
    `intensities` (S, C, F) may replace the scenario intensities (what-if analysis).
    `status_quo` (1, G, F): `status_quo_damage(ws, inputs)`, when the caller keeps it (a what-if
    rescores one scenario many times; the baseline's damage does not change).
    """
    basis = basis or ws.settings.loss_basis
    inputs = inputs or prepare(ws)
    if intensities is None:
        intensities = scenario_intensities(
            inputs.place_baseline,
            inputs.countries,
            inputs.factor_ids,
            ws.scenarios,
            ws.regions,
            places=inputs.places,
            zones=ws.zones,
        )
    raw = group_damage(inputs.groups, intensities, inputs.factor_ids, ws.curves)
    combined, attributed = combine(raw)
    base_raw = status_quo_damage(ws, inputs) if status_quo is None else status_quo
    base_c, base_a = combine(base_raw)
    inc, inc_a = incremental(combined, attributed, base_c, base_a)
    if basis is LossBasis.INCREMENTAL:
        combined, attributed = inc, inc_a
        base_damage, base_factor = np.zeros_like(base_c[0]), np.zeros_like(base_a[0])
    else:
        base_damage, base_factor = base_c[0], base_a[0]
    return ScoreResult(
        scenario_ids=[s.id for s in ws.scenarios],
        frequencies=np.array([s.frequency for s in ws.scenarios], dtype=float),
        factor_ids=inputs.factor_ids,
        countries=inputs.countries,
        intensities=intensities,
        basis=basis,
        inputs=inputs,
        damage=combined,
        factor_damage=attributed,
        base_damage=base_damage,
        base_factor_damage=base_factor,
        increment=inc,
        factor_increment=inc_a,
    )
