"""Contingency plans: triggers, readiness, residual and averted loss, cost and benefit-cost.

A plan is *effective* in a scenario when it is not retired, its trigger fires (any of: the
scenario is listed; a listed factor reaches its level in any country of the region; the gross
loss of the covered assets reaches the amount; a listed signpost of the scenario is red; the
scenario's current probability reaches a listed level) and, if the workspace requires readiness, the
plan is in place (ready/active) or its slowest action's lead time fits the scenario's warning
time.

For the assets it covers an effective plan lowers the intensity felt (`intensity_reduction`,
reductions of several plans add up) and scales damage (`damage_multiplier`, multipliers of
several plans multiply). Since curves never fall and multipliers are at most 1, a plan never
raises a loss.

    cost_npv    = one_off + annual * A,      A = sum_{t=1..H} (1 + r)^-t
    averted_npv = averted_EAL * A
    BCR         = averted_npv / cost_npv

Each plan's averted loss and benefit-cost ratio are measured for the plan on its own (other
plans off), so a plan is judged on what it adds; the portfolio's residual loss applies every
effective plan together. Costs are incurred whether or not a scenario occurs.

Plans respond to scenarios: what a plan averts in a scenario is part of the scenario's
increment over the status quo (damage above the unmitigated baseline damage, floored at 0 per
asset group), on both loss bases, so averted loss and benefit-cost ratios do not depend on the
basis. The status-quo loss, counted once in the absolute basis, is left as it is:

    gross EAL    = status_quo + sum_s frequency[s] x increment[s]
    residual EAL = status_quo + sum_s frequency[s] x increment_with_plans[s]
    averted EAL  = gross EAL - residual EAL (for one plan, with that plan alone)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskapp.domain.assets import text_codes
from riskapp.domain.enums import LossBasis
from riskapp.domain.plans import Plan, PlanStatus
from riskapp.domain.workspace import Workspace
from riskapp.engine.damage import AssetGroups, combine, group_assets, group_damage, incremental
from riskapp.engine.intensity import region_max_intensity
from riskapp.engine.scoring import ScoreInputs, ScoreResult, prepare, score

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def annuity_factor(rate: float, years: int) -> float:
    """Present value of 1 per year for `years` years, paid at each year's end."""
    t = np.arange(1, years + 1, dtype=float)
    return float(np.sum((1.0 + rate) ** -t))


def coverage_matrix(ws: Workspace, inputs: ScoreInputs | None = None) -> BoolArray:
    """(A, P) whether each plan covers each asset. Each column is factorised once and a plan's
    lists are matched against its distinct values, not against every asset. A region that
    names zones (itself, or as members of a group) covers the assets in them (weight > 0),
    read from `inputs`' places (prepared from `ws` if not given)."""
    plans = ws.plans.plans
    portfolio = ws.portfolio
    n = len(portfolio)
    out = np.ones((n, len(plans)), dtype=bool)
    if not plans:
        return out
    codes: dict[str, tuple[npt.NDArray[np.intp], npt.NDArray[np.object_]]] = {}

    def member(col: str, wanted: Iterable[str]) -> BoolArray:
        if col == "id":  # distinct per asset: looked up, not factorised
            named: BoolArray = text_codes(portfolio.series(col), list(wanted)) >= 0
            return named
        if col not in codes:
            factorised, distinct = pd.factorize(portfolio.series(col))
            codes[col] = (factorised, np.asarray(distinct, dtype=object))
        found, uniques = codes[col]
        hit: BoolArray = np.isin(uniques, list(wanted))[found]
        return hit

    tagged_by: dict[str, npt.NDArray[Any]] = {}

    def tagged(wanted: Sequence[str]) -> BoolArray:
        """Assets carrying any of `wanted` (the tag lists are flattened once, in C)."""
        if not tagged_by:
            tag_lists = portfolio.series("tags").to_numpy(dtype=object)
            counts = np.fromiter(map(len, tag_lists), dtype=np.int64, count=n)
            flat = np.fromiter(chain.from_iterable(tag_lists), dtype=object, count=counts.sum())
            tag_codes, tag_uniques = pd.factorize(flat)
            tagged_by["owner"] = np.repeat(np.arange(n), counts)
            tagged_by["codes"] = tag_codes
            tagged_by["uniques"] = np.asarray(tag_uniques, dtype=object)
        hits = np.isin(tagged_by["uniques"], list(wanted))[tagged_by["codes"]]
        out = np.zeros(n, dtype=bool)
        out[tagged_by["owner"][hits]] = True
        return out

    for p_i, plan in enumerate(plans):
        cov = plan.coverage
        mask = np.ones(n, dtype=bool)
        if cov.asset_ids:
            mask &= member("id", cov.asset_ids)
        if cov.asset_types:
            mask &= member("type", cov.asset_types)
        if cov.tags:
            mask &= tagged(cov.tags)
        if cov.regions:
            named = {c for r in cov.regions for c in ws.regions.members(r)}
            in_zones = sorted(z for z in named if ws.zones.get(z) is not None)
            covered = member("country", named - set(in_zones))
            if in_zones:
                inputs = inputs or prepare(ws)
                zoned = inputs.places.zone_weight(in_zones) > 0
                covered |= zoned[inputs.place_index]
                r = inputs.routes
                if r is not None:  # a route lies in a zone if any of its parts does
                    part_in = zoned[r.table.parts.place]
                    code_in = np.logical_or.reduceat(part_in, r.table.parts.indptr[:-1])
                    covered[r.rows] |= code_in[r.code]
            mask &= covered
        out[:, p_i] = mask
    return out


@dataclass(frozen=True)
class PlanEvaluation:
    plans: list[Plan]
    scenario_ids: list[str]
    frequencies: FloatArray  # (S,)
    coverage: BoolArray  # (A, P)
    triggered: BoolArray  # (S, P)
    ready: BoolArray  # (S, P)
    gap_days: FloatArray  # (S, P)
    effective: BoolArray  # (S, P)
    gross_loss: FloatArray  # (S,)
    residual_loss: FloatArray  # (S,) with every effective plan applied together
    status_quo_loss: float  # borne every year (0 on the incremental basis); plans leave it
    gross_increment: FloatArray  # (S,) loss above the status quo, floored at 0 per group
    residual_increment: FloatArray  # (S,) the same with every effective plan applied
    residual_damage: FloatArray  # (S, G) combined damage with all effective plans
    of_asset: npt.NDArray[np.int64]  # (A,) group of each asset in `residual_damage`
    exposed_value: FloatArray  # (A,)
    averted_alone: FloatArray  # (S, P) increment each plan averts on its own
    covered_value: FloatArray  # (P,)
    annuity: float
    basis: LossBasis
    effects: PlanEffects

    def residual_asset_loss(self) -> FloatArray:
        """(A, S) loss of each asset with every effective plan applied."""
        result: FloatArray = (
            self.exposed_value[:, np.newaxis] * self.residual_damage.T[self.of_asset]
        )
        return result

    @property
    def plan_ids(self) -> list[str]:
        return [p.id for p in self.plans]

    def averted_eal(self) -> FloatArray:
        """(P,) expected annual loss each plan averts on its own."""
        result: FloatArray = self.frequencies @ self.averted_alone
        return result

    def cost_npv(self) -> FloatArray:
        one_off = np.array([p.one_off_cost for p in self.plans], dtype=float)
        annual = np.array([p.annual_cost for p in self.plans], dtype=float)
        result: FloatArray = one_off + annual * self.annuity
        return result

    def averted_npv(self) -> FloatArray:
        result: FloatArray = self.averted_eal() * self.annuity
        return result

    def benefit_cost_ratio(self) -> FloatArray:
        """(P,) averted NPV / cost NPV; infinite for a free plan that averts something."""
        cost = self.cost_npv()
        benefit = self.averted_npv()
        with np.errstate(divide="ignore", invalid="ignore"):
            bcr = np.where(cost > 0, benefit / np.where(cost > 0, cost, 1.0), np.inf)
        result: FloatArray = np.where((cost == 0) & (benefit == 0), np.nan, bcr)
        return result

    def gross_eal(self) -> float:
        """Status-quo loss + sum_s frequency x increment (as `ScoreResult.expected_annual_loss`)."""
        return self.status_quo_loss + float(self.frequencies @ self.gross_increment)

    def residual_eal(self) -> float:
        return self.status_quo_loss + float(self.frequencies @ self.residual_increment)

    def table(self) -> pd.DataFrame:
        """One row per plan: triggers, readiness, cost and benefit."""
        rows = []
        for p_i, plan in enumerate(self.plans):
            trig = [s for s_i, s in enumerate(self.scenario_ids) if self.triggered[s_i, p_i]]
            late = [
                s
                for s_i, s in enumerate(self.scenario_ids)
                if self.triggered[s_i, p_i] and not self.ready[s_i, p_i]
            ]
            gaps = self.gap_days[self.triggered[:, p_i], p_i]
            rows.append(
                {
                    "plan_id": plan.id,
                    "title": plan.title,
                    "owner": plan.owner,
                    "status": plan.status.value,
                    "covered_assets": int(self.coverage[:, p_i].sum()),
                    "covered_value": float(self.covered_value[p_i]),
                    "triggered_in": trig,
                    "not_ready_in": late,
                    "lead_time_days": plan.lead_time_days,
                    "max_gap_days": float(gaps.max()) if gaps.size else 0.0,
                    "one_off_cost": plan.one_off_cost,
                    "annual_cost": plan.annual_cost,
                    "cost_npv": float(self.cost_npv()[p_i]),
                    "averted_eal": float(self.averted_eal()[p_i]),
                    "averted_npv": float(self.averted_npv()[p_i]),
                    "benefit_cost_ratio": float(self.benefit_cost_ratio()[p_i]),
                }
            )
        return pd.DataFrame(rows)

    def scenario_table(self) -> pd.DataFrame:
        """One row per scenario: gross, residual and averted loss with all plans applied."""
        return pd.DataFrame(
            {
                "scenario_id": self.scenario_ids,
                "frequency": self.frequencies,
                "gross_loss": self.gross_loss,
                "residual_loss": self.residual_loss,
                "averted_loss": self.gross_increment - self.residual_increment,
                "plans_effective": [
                    [p.id for p_i, p in enumerate(self.plans) if self.effective[s_i, p_i]]
                    for s_i in range(len(self.scenario_ids))
                ],
            }
        )


@dataclass(frozen=True)
class PlanEffects:
    """Everything needed to apply any subset of plans to a scored workspace.

    Assets are grouped by damage path *and* plan coverage, so applying plans costs as much as
    the number of such groups, not the number of assets.
    """

    ws: Workspace
    result: ScoreResult
    coverage: BoolArray  # (A, P)
    groups: AssetGroups
    group_value: FloatArray  # (G,)
    multiplier: FloatArray  # (P, F)
    reduction: FloatArray  # (P, F)
    base: tuple[FloatArray, FloatArray] | None  # baseline damage for incremental losses
    status_quo: tuple[FloatArray, FloatArray]  # (1, G) and (1, G, F) unmitigated baseline damage

    @classmethod
    def build(cls, ws: Workspace, result: ScoreResult) -> PlanEffects:
        inputs = result.inputs
        plans = ws.plans.plans
        factors = inputs.factor_ids
        f_index = {f: j for j, f in enumerate(factors)}
        cov = coverage_matrix(ws, inputs)
        overrides = {c.asset_id for c in ws.curves.curves if c.asset_id is not None}
        groups = group_assets(
            ws.portfolio.series("id"),
            ws.portfolio.series("type"),
            inputs.group_index,
            overrides,
            coverage=cov,
            routes=inputs.routes.table if inputs.routes is not None else None,
        )
        group_value = np.bincount(
            groups.of_asset, weights=inputs.exposed_value, minlength=groups.count
        ).astype(float)
        mult = np.ones((len(plans), len(factors)))
        red = np.zeros((len(plans), len(factors)))
        for p_i, plan in enumerate(plans):
            for fid, m in plan.effect.damage_multiplier.items():
                if fid in f_index:
                    mult[p_i, f_index[fid]] = m
            for fid, r in plan.effect.intensity_reduction.items():
                if fid in f_index:
                    red[p_i, f_index[fid]] = r
        status_quo = combine(
            group_damage(groups, inputs.place_baseline[np.newaxis], factors, ws.curves)
        )
        base = status_quo if result.basis is LossBasis.INCREMENTAL else None
        return cls(ws, result, cov, groups, group_value, mult, red, base, status_quo)

    def damage(self, active: BoolArray, increment: bool = False) -> FloatArray:
        """(S, G) combined damage ratio with the `active` (S, P) plans applied; with
        `increment`, the damage above the (unmitigated) status quo, floored at 0, whatever
        the basis: what a scenario adds to the expected annual loss."""
        act = active.astype(float)
        g_cov = self.groups.coverage.astype(float)
        reduction = np.einsum("sp,gp,pf->sgf", act, g_cov, self.reduction)
        mult = self.multiplier
        log_m = np.log(np.where(mult > 0, mult, 1.0))
        zeros = np.einsum("sp,gp,pf->sgf", act, g_cov, (mult == 0).astype(float))
        factor_mult = np.where(
            zeros > 0, 0.0, np.exp(np.einsum("sp,gp,pf->sgf", act, g_cov, log_m))
        )
        raw = (
            group_damage(
                self.groups,
                self.result.intensities,
                self.result.factor_ids,
                self.ws.curves,
                reduction,
            )
            * factor_mult
        )
        combined, attributed = combine(raw)
        base = self.status_quo if increment else self.base
        if base is not None:
            combined, attributed = incremental(combined, attributed, *base)
        return combined

    def loss(self, active: BoolArray, increment: bool = False) -> FloatArray:
        """(S,) portfolio loss with the `active` (S, P) plans applied (see `damage`)."""
        result: FloatArray = self.damage(active, increment) @ self.group_value
        return result


@dataclass(frozen=True)
class TriggerSignals:
    """What the world says now, for triggers on it: the signposts that are red, as (scenario
    id, signpost name), and each scenario's current probability."""

    red: frozenset[tuple[str, str]] = frozenset()
    probability: dict[str, float] | None = None


def evaluate_plans(
    ws: Workspace, result: ScoreResult | None = None, signals: TriggerSignals | None = None
) -> PlanEvaluation:
    """Evaluate every plan of a workspace against every scenario; triggers on signposts and
    current probabilities read `signals` (without them they do not fire)."""
    result = result or score(ws)
    inputs = result.inputs
    plans = ws.plans.plans
    n_s, n_p = len(ws.scenarios), len(plans)
    f_index = {f: j for j, f in enumerate(inputs.factor_ids)}
    fx = PlanEffects.build(ws, result)
    none = np.zeros((n_s, n_p), dtype=bool)
    gross_d = fx.damage(none)
    gross = gross_d @ fx.group_value
    g_cov = fx.groups.coverage.astype(float)
    covered_loss = (g_cov * fx.group_value[:, np.newaxis]).T @ gross_d.T  # (P, S)

    triggered = np.zeros((n_s, n_p), dtype=bool)
    sids = [s.id for s in ws.scenarios]
    for p_i, plan in enumerate(plans):
        if plan.status is PlanStatus.RETIRED:
            continue
        t = plan.trigger
        triggered[:, p_i] = np.isin(sids, t.scenarios)
        for level in t.factor_levels:
            j = f_index.get(level.factor)
            if j is None:
                continue
            peak = region_max_intensity(
                result.intensities, inputs.places, level.region, ws.regions, ws.zones, j
            )
            triggered[:, p_i] |= peak >= level.at_least
        if t.loss_at_least is not None:
            triggered[:, p_i] |= covered_loss[p_i] >= t.loss_at_least
        if signals is not None:
            names = set(t.signposts)
            triggered[:, p_i] |= [any((sid, n) in signals.red for n in names) for sid in sids]
            levels = {c.scenario: c.at_least for c in t.probabilities}
            chance = signals.probability or {}
            triggered[:, p_i] |= [
                sid in levels and chance.get(sid, 0.0) >= levels[sid] for sid in sids
            ]

    warning = np.array([s.warning_time_days for s in ws.scenarios], dtype=float)
    lead = np.array([p.lead_time_days for p in plans], dtype=float)
    in_place = np.array([p.in_place for p in plans], dtype=bool)
    gap = np.where(
        in_place[np.newaxis, :], 0.0, np.maximum(lead[np.newaxis, :] - warning[:, None], 0)
    )
    ready = gap <= 0
    effective = triggered & (ready | (not ws.settings.require_readiness))

    res_d = fx.damage(effective)
    residual = res_d @ fx.group_value
    # plans avert part of a scenario's increment over the status quo, on both bases
    gross_inc = fx.loss(none, increment=True)
    residual_inc = fx.loss(effective, increment=True)
    averted_alone = np.zeros((n_s, n_p))
    for p_i in range(n_p):
        if effective[:, p_i].any():
            only = np.zeros((n_s, n_p), dtype=bool)
            only[:, p_i] = effective[:, p_i]
            averted_alone[:, p_i] = gross_inc - fx.loss(only, increment=True)

    return PlanEvaluation(
        plans=list(plans),
        scenario_ids=sids,
        frequencies=result.frequencies,
        coverage=fx.coverage,
        triggered=triggered,
        ready=ready,
        gap_days=gap,
        effective=effective,
        gross_loss=gross,
        residual_loss=residual,
        status_quo_loss=result.status_quo_loss(),
        gross_increment=gross_inc,
        residual_increment=residual_inc,
        residual_damage=res_d,
        of_asset=fx.groups.of_asset,
        exposed_value=inputs.exposed_value,
        averted_alone=averted_alone,
        covered_value=fx.coverage.T.astype(float) @ inputs.exposed_value,
        annuity=annuity_factor(ws.settings.discount_rate, ws.settings.plan_horizon_years),
        basis=result.basis,
        effects=fx,
    )


def waterfall(ev: PlanEvaluation, scenario_id: str) -> pd.DataFrame:
    """Gross to residual loss in one scenario, plan by plan.

    Effective plans are added one at a time in the order of the plan book; each step is the
    loss the plan averts on top of the plans before it, so the steps add up exactly to the
    gap between gross and residual loss (unlike the plans' stand-alone figures, which can
    overlap).
    """
    s = ev.scenario_ids.index(scenario_id)
    n_s, n_p = ev.effective.shape
    active = np.zeros((n_s, n_p), dtype=bool)
    rows = [{"step": "gross loss", "plan_id": "", "amount": float(ev.gross_loss[s])}]
    previous = float(ev.gross_loss[s])
    for p_i, plan in enumerate(ev.plans):
        if not ev.effective[s, p_i]:
            continue
        active[s, p_i] = True
        now = float(ev.effects.loss(active)[s])
        rows.append({"step": plan.title, "plan_id": plan.id, "amount": now - previous})
        previous = now
    rows.append({"step": "residual loss", "plan_id": "", "amount": float(ev.residual_loss[s])})
    return pd.DataFrame(rows)
