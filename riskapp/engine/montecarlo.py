"""Monte Carlo: distributions of annual loss from scenario frequencies, escalation ladders and
shock uncertainty ranges.

Each trial is one simulated year. The draws (see `sampling`) say which scenarios occur and the
value of every shock. The year's loss is the sum, over the scenarios that occur, of the
scenario's loss at the trial's shock values, on the workspace's loss basis, dependency
cascades included:

    intensity[t, s, c, f] = baseline[c, f] modified by scenario s's shocks at their trial values
    damage[t, s, g]       = combined damage of group g at those intensities (as in scoring)
    D[t, g]               = sum over scenarios s occurring in t of damage[t, s, g]
    loss[t]               = sum_g D[t, g] x value[g] + cascade loss of the scenarios in t

With every shock at its `value` (no ranges) and no cascades, the mean annual loss converges to
the expected annual loss, sum_s frequency[s] x loss[s]. An asset's annual loss is
`exposed_value x D[t, group]`: the engine keeps D per group of assets that share a damage path,
never per asset, and evaluates only the (trial, scenario) pairs that occur, and of those only
the groups in countries touched by a shock drawn from a range (the others take the scenario's
deterministic damage). Scenario losses in one year add up, as in the expected annual loss; in
the rare year in which several severe scenarios hit the same asset its annual loss can exceed
its exposed value (`SimulationResult.overflow_trials` counts those years).

Statistics over T trials (each figure for the portfolio and for every asset, country, asset
type, factor and scenario):

    mean, standard deviation (T - 1 in the denominator), standard error of the mean = sd / sqrt(T)
    VaR_a = the ceil(a T)-th smallest loss (the empirical a-quantile, a = 0.95 or 0.99)
    ES_a  = mean of the k = T - ceil(a T) largest losses (the tail; k >= 1)

A standard error that is large against the mean says the trial count is too small.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskapp.domain.assets import DependencyLink
from riskapp.domain.curves import CurveSet
from riskapp.domain.regions import RegionCatalogue
from riskapp.domain.scenarios import Scenario, ShockOperation
from riskapp.domain.workspace import LossBasis, Workspace
from riskapp.engine.cascade import CascadeGraph, build_graph
from riskapp.engine.damage import AssetGroups, combine, group_damage, incremental
from riskapp.engine.intensity import apply_shock, ordered_shocks
from riskapp.engine.plans import PlanEffects, evaluate_plans
from riskapp.engine.sampling import RangeDistribution, SamplingSpec, TrialDraws
from riskapp.engine.scoring import ScoreInputs, ScoreResult, prepare, score

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

LEVELS = (0.95, 0.99)
CASCADE_FACTOR = "dependency_cascade"
DEFAULT_RETURN_PERIODS = (2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 250.0, 500.0, 1000.0)
BATCH_FLOATS = 4_000_000  # floats of working memory per batch of (trial, scenario) pairs
CHUNK_FLOATS = 8_000_000  # floats of per-trial results held by one chunk
MAX_CHUNK = 5_000
COLUMN_BLOCK = 512  # columns of (trials x columns) results processed at a time


# -- the model a chunk needs (small, picklable) ----------------------------------------------


@dataclass(frozen=True)
class ShockStep:
    """One shock of a scenario, resolved to array positions (application order)."""

    rows: IntArray  # countries it hits
    factor: int
    op: ShockOperation
    position: int  # in the flattened shock values


@dataclass(frozen=True)
class VariableGroups:
    """Groups whose damage in a scenario depends on a shock drawn from a range."""

    cols: IntArray  # group indices
    groups: AssetGroups  # those groups (no asset index)
    factors: IntArray  # factors hit by a ranged shock
    raw: FloatArray  # (Gv, F) deterministic damage per factor, before combination
    combined: FloatArray  # (Gv,) deterministic damage, to restore the nominal row
    attributed: FloatArray  # (Gv, F) deterministic attributed damage
    value: FloatArray  # (Gv,)
    base: tuple[FloatArray, FloatArray] | None  # baseline damage of these groups (incremental)


@dataclass(frozen=True)
class PlanSlice:
    """The plan-coverage groups of one scenario whose residual damage must be recomputed for
    one set of active plans (all plans effective in the scenario, or one plan alone), with
    the plans' effect on them (as `PlanEffects.damage` applies it)."""

    cols: IntArray  # plan groups
    to_damage_group: IntArray  # their damage group
    groups: AssetGroups
    base: tuple[FloatArray, FloatArray] | None
    reduction: FloatArray  # (n, F) intensity reduction of the active plans
    multiplier: FloatArray  # (n, F) damage multiplier of the active plans
    raw: FloatArray  # (n, F) deterministic damage per factor with the plans applied
    averted: FloatArray  # (n,) deterministic averted damage ratio of these groups
    value: FloatArray  # (n,)


@dataclass(frozen=True)
class PlanModel:
    """Plans as the deterministic evaluation makes them effective, ready for sampled years."""

    plan_ids: list[str]
    effective: BoolArray  # (S, P)
    averted_all: FloatArray  # (S,) deterministic averted loss with all effective plans
    averted_alone: FloatArray  # (S, P) deterministic averted loss of each plan alone
    all_slices: list[PlanSlice | None]  # per scenario
    alone_slices: list[list[PlanSlice | None]]  # per scenario, per plan
    cost_npv: FloatArray  # (P,)
    bcr: FloatArray  # (P,) deterministic benefit-cost ratio
    discount_rate: float
    horizon_years: int
    annuity: float


@dataclass(frozen=True)
class CascadeModel:
    graph: CascadeGraph
    node_group: IntArray  # (K,) damage group of each node
    dependent_value: FloatArray  # (D,) exposed value of each dependent
    nominal: FloatArray  # (S, D) deterministic cascade loss per scenario
    by_group: IntArray  # (D,) dependents ordered by their damage group
    group_starts: IntArray  # where each group's run starts in that order
    groups: IntArray  # the damage group of each run

    def group_loss(self, loss: FloatArray, n_groups: int) -> FloatArray:
        """(n, G) cascade loss summed over the dependents of each damage group."""
        out = np.zeros((loss.shape[0], n_groups))
        if loss.shape[0]:
            out[:, self.groups] = np.add.reduceat(loss[:, self.by_group], self.group_starts, axis=1)
        return out


@dataclass(frozen=True)
class MonteCarloModel:
    """Everything `evaluate_trials` needs: arrays per group, never per asset."""

    scenario_ids: list[str]
    factor_ids: list[str]
    countries: list[str]
    baseline: FloatArray  # (C, F)
    programs: list[list[ShockStep]]  # per scenario
    sampling: SamplingSpec
    basis: LossBasis
    curves: CurveSet
    group_value: FloatArray  # (G,)
    nominal_damage: FloatArray  # (S, G) combined damage at the shocks' values
    nominal_loss: FloatArray  # (S,)
    nominal_factor_loss: FloatArray  # (S, F)
    variable: list[VariableGroups | None]  # per scenario
    cascade: CascadeModel | None = None
    plans: PlanModel | None = None

    @property
    def n_groups(self) -> int:
        return len(self.group_value)

    @property
    def n_dependents(self) -> int:
        return 0 if self.cascade is None else len(self.cascade.dependent_value)

    @property
    def n_plans(self) -> int:
        return 0 if self.plans is None else len(self.plans.plan_ids)

    def default_chunk_size(self) -> int:
        """Trials per chunk so that a chunk's per-trial results stay within CHUNK_FLOATS."""
        width = self.n_groups * (2 if self.n_dependents else 1) + self.n_dependents
        width += 2 * len(self.scenario_ids)
        width += len(self.factor_ids) + self.n_plans + 2
        return int(max(100, min(MAX_CHUNK, CHUNK_FLOATS // width)))


def _compile(
    scenarios: Sequence[Scenario],
    regions: RegionCatalogue,
    countries: list[str],
    factors: list[str],
) -> list[list[ShockStep]]:
    """Shocks in application order (group shocks, then country shocks; `ordered_shocks`) with
    their positions in the flattened shock values, as `scenario_intensities` applies them."""
    c_index = {c: i for i, c in enumerate(countries)}
    f_index = {f: j for j, f in enumerate(factors)}
    programs: list[list[ShockStep]] = []
    offset = 0
    for scenario in scenarios:
        position = {id(s): offset + k for k, s in enumerate(scenario.shocks)}
        offset += len(scenario.shocks)
        steps = []
        for shock in ordered_shocks(scenario, regions):
            j = f_index.get(shock.factor)
            rows = [c_index[c] for c in regions.members(shock.target) if c in c_index]
            if j is None or not rows:
                continue
            steps.append(
                ShockStep(np.array(rows, dtype=np.int64), j, shock.op, position[id(shock)])
            )
        programs.append(steps)
    return programs


def sampled_intensities(
    baseline: FloatArray, program: Sequence[ShockStep], values: FloatArray
) -> FloatArray:
    """(n, C, F) intensities of one scenario for n trials with shock values (n, N).

    The same rule as `scenario_intensities`: shocks in application order, `set` replaces,
    `add` adds, `scale` multiplies, clamped to 0-10 after each shock.
    """
    out = np.repeat(baseline[np.newaxis, :, :], values.shape[0], axis=0)
    for step in program:
        v = values[:, step.position, np.newaxis]
        out[:, step.rows, step.factor] = apply_shock(out[:, step.rows, step.factor], step.op, v)
    return out


def _subset(groups: AssetGroups, cols: IntArray) -> AssetGroups:
    return AssetGroups(
        of_asset=np.zeros(0, dtype=np.int64),
        type=groups.type[cols],
        country_index=groups.country_index[cols],
        override_owner=groups.override_owner[cols],
        coverage=groups.coverage[cols],
    )


def _variable_cols(
    program: Sequence[ShockStep],
    ranged: set[int],
    groups: AssetGroups,
    curves: CurveSet,
    factors: list[str],
) -> tuple[IntArray, IntArray]:
    """Groups in a country hit by a ranged shock on a factor they have a curve for, and the
    factors of the ranged shocks."""
    type_curves = curves.type_curves()
    has_curve: dict[int, BoolArray] = {}
    hit = np.zeros(groups.count, dtype=bool)
    for step in program:
        if step.position not in ranged:
            continue
        if step.factor not in has_curve:
            factor = factors[step.factor]
            has_curve[step.factor] = np.array(
                [
                    owner != "" or (str(t), factor) in type_curves
                    for t, owner in zip(groups.type, groups.override_owner, strict=True)
                ],
                dtype=bool,
            )
        hit |= np.isin(groups.country_index, step.rows) & has_curve[step.factor]
    cols: IntArray = np.flatnonzero(hit).astype(np.int64)
    return cols, np.array(sorted(has_curve), dtype=np.int64)


def _plan_slice(
    fx: PlanEffects,
    result: ScoreResult,
    s: int,
    active: BoolArray,
    var: VariableGroups,
    to_damage: IntArray,
    gross: FloatArray,
    residual: FloatArray,
) -> PlanSlice | None:
    covered = (fx.groups.coverage[:, active]).any(axis=1)
    cols = np.flatnonzero(covered & np.isin(to_damage, var.cols)).astype(np.int64)
    if not len(cols):
        return None
    # the effect of the active plans on these groups, by PlanEffects.damage's formulas
    act = active[np.newaxis, :].astype(float)
    g_cov = fx.groups.coverage[cols].astype(float)
    reduction = np.einsum("sp,gp,pf->sgf", act, g_cov, fx.reduction)[0]
    mult = fx.multiplier
    log_m = np.log(np.where(mult > 0, mult, 1.0))
    zeros = np.einsum("sp,gp,pf->sgf", act, g_cov, (mult == 0).astype(float))[0]
    multiplier = np.where(zeros > 0, 0.0, np.exp(np.einsum("sp,gp,pf->sgf", act, g_cov, log_m)[0]))
    groups = _subset(fx.groups, cols)
    raw = group_damage(
        groups,
        result.intensities[s : s + 1],
        result.factor_ids,
        fx.ws.curves,
        reduction[np.newaxis],
    )[0]
    return PlanSlice(
        cols=cols,
        to_damage_group=to_damage[cols],
        groups=groups,
        base=None if fx.base is None else (fx.base[0][:, cols], fx.base[1][:, cols]),
        reduction=reduction,
        multiplier=multiplier,
        raw=raw * multiplier,
        averted=gross[s, cols] - residual[s, cols],
        value=fx.group_value[cols],
    )


def _plan_model(
    ws: Workspace, result: ScoreResult, variable: list[VariableGroups | None]
) -> PlanModel | None:
    if not ws.plans.plans:
        return None
    ev = evaluate_plans(ws, result)
    fx = ev.effects
    n_s, n_p = ev.effective.shape
    first = np.zeros(fx.groups.count, dtype=np.int64)
    first[fx.groups.of_asset[::-1]] = np.arange(len(fx.groups.of_asset) - 1, -1, -1)
    to_damage = result.inputs.groups.of_asset[first]
    none = np.zeros((n_s, n_p), dtype=bool)
    gross = fx.damage(none)
    residual = fx.damage(ev.effective)
    value = fx.group_value
    averted_all = ((gross - residual) * value).sum(axis=1)
    averted_alone = np.zeros((n_s, n_p))
    alone_residual: dict[int, FloatArray] = {}
    for p in range(n_p):
        if ev.effective[:, p].any():
            only = np.zeros((n_s, n_p), dtype=bool)
            only[:, p] = ev.effective[:, p]
            alone_residual[p] = fx.damage(only)
            averted_alone[:, p] = ((gross - alone_residual[p]) * value).sum(axis=1)
    all_slices: list[PlanSlice | None] = []
    alone_slices: list[list[PlanSlice | None]] = []
    for s in range(n_s):
        var = variable[s]
        eff = ev.effective[s]
        if var is None or not eff.any():
            all_slices.append(None)
            alone_slices.append([None] * n_p)
            continue
        all_slices.append(_plan_slice(fx, result, s, eff, var, to_damage, gross, residual))
        row: list[PlanSlice | None] = []
        for p in range(n_p):
            if not eff[p]:
                row.append(None)
                continue
            only_p = np.zeros(n_p, dtype=bool)
            only_p[p] = True
            row.append(_plan_slice(fx, result, s, only_p, var, to_damage, gross, alone_residual[p]))
        alone_slices.append(row)
    return PlanModel(
        plan_ids=ev.plan_ids,
        effective=ev.effective,
        averted_all=averted_all,
        averted_alone=averted_alone,
        all_slices=all_slices,
        alone_slices=alone_slices,
        cost_npv=ev.cost_npv(),
        bcr=ev.benefit_cost_ratio(),
        discount_rate=ws.settings.discount_rate,
        horizon_years=ws.settings.plan_horizon_years,
        annuity=ev.annuity,
    )


@dataclass(frozen=True)
class Simulation:
    """A workspace made ready for simulation: the chunk model plus what the reducer needs to
    report per asset (asset-level arrays stay here, never in the model)."""

    model: MonteCarloModel
    asset_ids: npt.NDArray[np.object_]  # (A,)
    of_asset: IntArray  # (A,) damage group of each asset
    exposed_value: FloatArray  # (A,)
    group_country: npt.NDArray[np.object_]  # (G,)
    group_type: npt.NDArray[np.object_]  # (G,)
    dependent_rows: IntArray  # (D,) register rows of the cascade dependents
    eal: float  # deterministic expected annual loss (shock values, no cascades)
    currency: str
    return_periods: list[float] = field(default_factory=list)


def prepare_simulation(
    ws: Workspace,
    *,
    distribution: RangeDistribution = RangeDistribution.PERT,
    basis: LossBasis | None = None,
    plans: bool = True,
    links: Sequence[DependencyLink] | None = None,
    inputs: ScoreInputs | None = None,
) -> Simulation:
    """Build the simulation model of a workspace (cost grows with assets once, here only)."""
    inputs = inputs or prepare(ws)
    result = score(ws, basis=basis, inputs=inputs)
    groups = inputs.groups
    factors = inputs.factor_ids
    group_value = result.group_exposure()
    sampling = SamplingSpec.from_scenarios(ws.scenarios, distribution)
    programs = _compile(ws.scenarios, ws.regions, inputs.countries, factors)
    ranged = set(sampling.ranged.tolist())
    base = None
    if result.basis is LossBasis.INCREMENTAL:
        base = combine(group_damage(groups, inputs.baseline[np.newaxis], factors, ws.curves))
    nominal_factor_loss = (result.factor_damage * group_value[np.newaxis, :, np.newaxis]).sum(
        axis=1
    )
    raw = group_damage(groups, result.intensities, factors, ws.curves)
    variable: list[VariableGroups | None] = []
    for s, program in enumerate(programs):
        cols, var_factors = _variable_cols(program, ranged, groups, ws.curves, factors)
        if not len(cols):
            variable.append(None)
            continue
        variable.append(
            VariableGroups(
                cols=cols,
                groups=_subset(groups, cols),
                factors=var_factors,
                raw=raw[s, cols],
                combined=result.damage[s, cols],
                attributed=result.factor_damage[s, cols],
                value=group_value[cols],
                base=None if base is None else (base[0][:, cols], base[1][:, cols]),
            )
        )
    cascade = None
    dependent_rows = np.zeros(0, dtype=np.int64)
    if links:
        graph = build_graph(ws.portfolio.series("id").tolist(), links)
        if len(graph.dependents):
            node_group = groups.of_asset[graph.assets]
            dependent_rows = graph.dependent_assets
            dep_value = inputs.exposed_value[dependent_rows]
            direct = result.damage[:, node_group]
            total = graph.propagate(direct)
            dep = graph.dependents
            nominal = (total[:, dep] - direct[:, dep]) * dep_value
            dep_group = groups.of_asset[dependent_rows]
            order = np.argsort(dep_group, kind="stable").astype(np.int64)
            runs = np.flatnonzero(np.r_[True, dep_group[order][1:] != dep_group[order][:-1]])
            cascade = CascadeModel(
                graph,
                node_group,
                dep_value,
                nominal,
                order,
                runs.astype(np.int64),
                dep_group[order][runs],
            )
    model = MonteCarloModel(
        scenario_ids=result.scenario_ids,
        factor_ids=factors,
        countries=inputs.countries,
        baseline=inputs.baseline,
        programs=programs,
        sampling=sampling,
        basis=result.basis,
        curves=ws.curves,
        group_value=group_value,
        nominal_damage=result.damage,
        nominal_loss=(result.damage * group_value).sum(axis=1),
        nominal_factor_loss=nominal_factor_loss,
        variable=variable,
        cascade=cascade,
        plans=_plan_model(ws, result, variable) if plans else None,
    )
    countries = np.asarray(inputs.countries, dtype=object)
    return Simulation(
        model=model,
        asset_ids=ws.portfolio.series("id").to_numpy(dtype=object),
        of_asset=groups.of_asset,
        exposed_value=inputs.exposed_value,
        group_country=countries[groups.country_index],
        group_type=groups.type,
        dependent_rows=dependent_rows,
        eal=result.expected_annual_loss(),
        currency=ws.settings.currency,
        return_periods=list(ws.settings.return_periods),
    )


# -- one chunk of trials ----------------------------------------------------------------------


@dataclass(frozen=True)
class ChunkResult:
    """Per-trial results of trials `start` to `stop - 1`."""

    start: int
    stop: int
    occurs: BoolArray  # (n, S)
    loss: FloatArray  # (n,) portfolio loss, cascades included
    group_damage: FloatArray  # (n, G) direct damage ratio summed over the year's scenarios
    scenario_loss: FloatArray  # (n, S) loss of each scenario, cascades included
    factor_loss: FloatArray  # (n, F) direct loss attributed to factors
    cascade_loss: FloatArray  # (n, D) cascade loss of each dependent
    cascade_group_loss: FloatArray  # (n, G) cascade loss of the dependents of each group
    averted: FloatArray  # (n,) loss averted by all effective plans together
    averted_alone: FloatArray  # (n, P) loss each plan averts on its own


def _batches(rows: IntArray, size: int) -> list[IntArray]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _cascade_loss(model: MonteCarloModel, full: FloatArray) -> FloatArray:
    assert model.cascade is not None
    c = model.cascade
    direct = full[:, c.node_group]
    total = c.graph.propagate(direct)
    dep = c.graph.dependents
    result: FloatArray = (total[:, dep] - direct[:, dep]) * c.dependent_value
    return result


def _averted(
    model: MonteCarloModel,
    var: VariableGroups,
    sl: PlanSlice,
    intensities: FloatArray,
    full: FloatArray,
) -> FloatArray:
    """Per pair: change of the averted loss of `sl`'s groups against the deterministic one.

    Only the factors hit by a ranged shock are read again from the curves; the others keep
    their deterministic damage (their intensity does not vary)."""
    f = var.factors
    raw = np.repeat(sl.raw[np.newaxis], intensities.shape[0], axis=0)
    raw[:, :, f] = (
        group_damage(
            sl.groups,
            intensities[:, :, f],
            [model.factor_ids[j] for j in f.tolist()],
            model.curves,
            sl.reduction[np.newaxis][:, :, f],
        )
        * sl.multiplier[:, f]
    )
    residual, attributed = combine(raw)
    if sl.base is not None:
        residual, _ = incremental(residual, attributed, *sl.base)
    gross = full[:, sl.to_damage_group]
    result: FloatArray = (((gross - residual) - sl.averted) * sl.value).sum(axis=1)
    return result


def evaluate_trials(model: MonteCarloModel, draws: TrialDraws, start: int = 0) -> ChunkResult:
    """Losses of a run of trials from their draws. Pure: the same draws give the same
    figures, trial by trial, whatever else is in the run."""
    n, n_s = draws.occurs.shape
    n_g, n_f, n_p = model.n_groups, len(model.factor_ids), model.n_plans
    damage = np.zeros((n, n_g))
    scen = np.zeros((n, n_s))
    factor = np.zeros((n, n_f))
    casc = np.zeros((n, model.n_dependents))
    averted = np.zeros(n)
    alone = np.zeros((n, n_p))
    plans = model.plans
    for s in range(n_s):
        rows = np.flatnonzero(draws.occurs[:, s])
        if not len(rows):
            continue
        var = model.variable[s]
        if var is None:
            damage[rows] += model.nominal_damage[s]
            factor[rows] += model.nominal_factor_loss[s]
            extra = 0.0
            if model.cascade is not None:
                casc[rows] += model.cascade.nominal[s]
                extra = float(model.cascade.nominal[s].sum())
            scen[rows, s] = model.nominal_loss[s] + extra
            if plans is not None:
                averted[rows] += plans.averted_all[s]
                alone[rows] += plans.averted_alone[s]
            continue
        per_pair = n_g + 6 * len(var.cols) * n_f + model.baseline.size + 3 * model.n_dependents
        for batch in _batches(rows, max(1, BATCH_FLOATS // per_pair)):
            intensities = sampled_intensities(
                model.baseline, model.programs[s], draws.shock_values[batch]
            )
            raw = np.repeat(var.raw[np.newaxis], len(batch), axis=0)
            raw[:, :, var.factors] = group_damage(
                var.groups,
                intensities[:, :, var.factors],
                [model.factor_ids[f] for f in var.factors.tolist()],
                model.curves,
            )
            comb, attr = combine(raw)
            if var.base is not None:
                comb, attr = incremental(comb, attr, *var.base)
            full = np.repeat(model.nominal_damage[s][np.newaxis, :], len(batch), axis=0)
            full[:, var.cols] = comb
            damage[batch] += full
            delta = ((attr - var.attributed) * var.value[:, np.newaxis]).sum(axis=1)
            factor[batch] += model.nominal_factor_loss[s] + delta
            direct = (full * model.group_value).sum(axis=1)
            if model.cascade is not None:
                cl = _cascade_loss(model, full)
                casc[batch] += cl
                direct = direct + cl.sum(axis=1)
            scen[batch, s] = direct
            if plans is not None:
                sl = plans.all_slices[s]
                change = 0.0 if sl is None else _averted(model, var, sl, intensities, full)
                averted[batch] += plans.averted_all[s] + change
                for p in range(n_p):
                    if not plans.effective[s, p]:
                        continue
                    slp = plans.alone_slices[s][p]
                    change = 0.0 if slp is None else _averted(model, var, slp, intensities, full)
                    alone[batch, p] += plans.averted_alone[s, p] + change
    loss = (damage * model.group_value).sum(axis=1)
    if model.n_dependents:
        loss = loss + casc.sum(axis=1)
    return ChunkResult(
        start=start,
        stop=start + n,
        occurs=draws.occurs,
        loss=loss,
        group_damage=damage,
        scenario_loss=scen,
        factor_loss=factor,
        cascade_loss=casc,
        cascade_group_loss=(
            np.zeros((n, 0)) if model.cascade is None else model.cascade.group_loss(casc, n_g)
        ),
        averted=averted,
        averted_alone=alone,
    )


def simulate_chunk(model: MonteCarloModel, seed: int, start: int, stop: int) -> ChunkResult:
    """Trials `start` to `stop - 1` of the run with `seed` (pure; picklable arguments)."""
    return evaluate_trials(model, model.sampling.draw(seed, start, stop), start)


def chunk_bounds(trials: int, chunk_size: int) -> list[tuple[int, int]]:
    """Consecutive (start, stop) ranges covering trials 0 to `trials - 1`."""
    size = max(1, int(chunk_size))
    return [(a, min(a + size, trials)) for a in range(0, trials, size)]


# -- statistics --------------------------------------------------------------------------------


def tail_size(trials: int, level: float) -> int:
    """Number of trials in the tail beyond VaR at `level`: T - ceil(level T), at least 1."""
    below = math.ceil(level * trials - 1e-9)
    return max(1, trials - below)


def tail_trials(loss: FloatArray, level: float) -> IntArray:
    """Trials of the tail at `level`: the k largest losses (ties: the later trials)."""
    order = np.argsort(loss, kind="stable")
    result: IntArray = np.sort(order[len(loss) - tail_size(len(loss), level) :]).astype(np.int64)
    return result


def distribution_stats(losses: FloatArray, levels: Sequence[float] = LEVELS) -> pd.DataFrame:
    """Mean, sd, standard error, VaR and ES of each column of (T, m) trial values."""
    x = losses.reshape(losses.shape[0], -1)
    t = x.shape[0]
    mean = x.mean(axis=0)
    sd = x.std(axis=0, ddof=1) if t > 1 else np.zeros(x.shape[1])
    out = {"mean": mean, "sd": sd, "se_mean": sd / math.sqrt(max(t, 1))}
    at = {level: min(t, max(1, math.ceil(level * t - 1e-9))) - 1 for level in levels}
    tail = {level: t - tail_size(t, level) for level in levels}
    # a partial sort puts each VaR in place and the k largest values after position T - k
    part = np.partition(x, sorted(set(at.values()) | set(tail.values())), axis=0)
    for level in levels:
        tag = f"{round(level * 100):d}"
        out[f"var_{tag}"] = part[at[level]]
        out[f"es_{tag}"] = part[tail[level] :].mean(axis=0)
    return pd.DataFrame(out)


def binomial_cdf(n: int, p: float) -> FloatArray:
    """P(B <= k) for k = 0..n, B ~ Binomial(n, p), from log-probabilities (no overflow)."""
    k = np.arange(n + 1, dtype=float)
    if p <= 0.0:
        return np.ones(n + 1)
    if p >= 1.0:
        out = np.zeros(n + 1)
        out[-1] = 1.0
        return out
    steps = np.log((n - k[:-1]) / (k[:-1] + 1.0)) + math.log(p / (1.0 - p))
    log_pmf = np.concatenate([[n * math.log1p(-p)], n * math.log1p(-p) + np.cumsum(steps)])
    pmf = np.exp(log_pmf - log_pmf.max())
    result: FloatArray = np.minimum(np.cumsum(pmf) / pmf.sum(), 1.0)
    return result


def quantile_band(
    ordered: FloatArray, probability: float, confidence: float
) -> tuple[float, float, float]:
    """Empirical quantile and its distribution-free confidence interval from order statistics.

    Of T trials, the number falling at or below the true q-quantile is Binomial(T, q). With
    F its distribution function and a = 1 - confidence, the interval runs from the l-th to the
    u-th smallest loss, l = min{k: F(k) >= a/2} and u = min{k: F(k) >= 1 - a/2} + 1, so it
    covers the true quantile with probability at least `confidence` (exact for continuous
    losses, conservative otherwise; clamped to the smallest and largest loss).
    """
    t = len(ordered)
    cdf = binomial_cdf(t, probability)
    alpha = 1.0 - confidence
    lo = int(np.searchsorted(cdf, alpha / 2.0))
    hi = int(np.searchsorted(cdf, 1.0 - alpha / 2.0)) + 1
    k = min(t, max(1, math.ceil(probability * t - 1e-9)))
    return (
        float(ordered[k - 1]),
        float(ordered[min(max(lo, 1), t) - 1]),
        float(ordered[min(max(hi, 1), t) - 1]),
    )


def _sum_by(values: FloatArray, keys: npt.NDArray[np.object_]) -> tuple[list[str], FloatArray]:
    """Sum the columns of (T, m) values that share a key (keys sorted), a block of columns at
    a time so that memory stays bounded."""
    codes, uniques = pd.factorize(pd.Series(keys), sort=True)
    order = np.argsort(codes, kind="stable")
    out = np.zeros((values.shape[0], len(uniques)))
    for b0 in range(0, len(order), COLUMN_BLOCK):
        cols = order[b0 : b0 + COLUMN_BLOCK]
        block_codes = codes[cols]
        starts = np.flatnonzero(np.r_[True, block_codes[1:] != block_codes[:-1]])
        out[:, block_codes[starts]] += np.add.reduceat(values[:, cols], starts, axis=1)
    return [str(u) for u in uniques], out


@dataclass(frozen=True)
class SimulationResult:
    """Per-trial results of a whole run, with the statistics users read.

    Tail contributions (Euler allocation): for a part i of the portfolio (an asset, a
    country, an asset type, a factor, a scenario) its contribution to ES_a is the mean of its
    loss over the tail trials of the *portfolio* (the k trials with the largest portfolio
    loss). As the parts' losses add up to the portfolio's in every trial, the contributions
    add up to the portfolio's ES_a exactly. An asset's part is `exposed_value x D[t, group]`
    plus its cascade loss; a factor's part is the damage attributed to it (as in scoring),
    with cascade losses a part of their own (`dependency_cascade`).
    """

    sim: Simulation
    seed: int
    loss: FloatArray  # (T,)
    occurs: BoolArray  # (T, S)
    group_damage: FloatArray  # (T, G)
    scenario_loss: FloatArray  # (T, S)
    factor_loss: FloatArray  # (T, F)
    cascade_loss: FloatArray  # (T, D)
    cascade_group_loss: FloatArray  # (T, G) or (T, 0) without cascades
    averted: FloatArray  # (T,)
    averted_alone: FloatArray  # (T, P)

    @property
    def trials(self) -> int:
        return len(self.loss)

    @property
    def model(self) -> MonteCarloModel:
        return self.sim.model

    @property
    def residual(self) -> FloatArray:
        """(T,) portfolio loss with every effective plan applied (plans do not change
        cascade losses here: they act on direct damage)."""
        result: FloatArray = self.loss - self.averted
        return result

    def overflow_trials(self) -> int:
        """Trials in which some group's annual damage ratio exceeds 1."""
        return int((self.group_damage > 1.0).any(axis=1).sum())

    def tail(self, level: float) -> IntArray:
        return tail_trials(self.loss, level)

    # -- tables ---------------------------------------------------------------------------
    def _table(self, name: str, keys: Sequence[str], values: FloatArray) -> pd.DataFrame:
        table = distribution_stats(values)
        for level in LEVELS:
            table[f"tail_es_{round(level * 100):d}"] = values[self.tail(level)].mean(axis=0)
        table.insert(0, "key", list(keys))
        table.insert(0, "dimension", name)
        return table

    def portfolio_table(self) -> pd.DataFrame:
        """One row for the portfolio (and one for the residual loss if plans were simulated)."""
        parts = [self._table("portfolio", ["gross"], self.loss[:, np.newaxis])]
        if self.model.plans is not None:
            res = self._table("portfolio", ["residual"], self.residual[:, np.newaxis])
            for level in LEVELS:  # the residual's own tail, not the gross tail
                tag = f"{round(level * 100):d}"
                res[f"tail_es_{tag}"] = res[f"es_{tag}"]
            parts.append(res)
        return pd.concat(parts, ignore_index=True)

    def scenario_table(self) -> pd.DataFrame:
        table = self._table("scenario", self.model.scenario_ids, self.scenario_loss)
        table["occurrence_rate"] = self.occurs.mean(axis=0)
        table["annual_probability"] = self.model.sampling.marginal_probabilities()
        return table

    def factor_table(self) -> pd.DataFrame:
        keys = list(self.model.factor_ids)
        values = self.factor_loss
        if self.model.n_dependents:
            keys.append(CASCADE_FACTOR)
            values = np.column_stack([values, self.cascade_loss.sum(axis=1)])
        return self._table("factor", keys, values)

    def _by_group_key(self, name: str, group_keys: npt.NDArray[np.object_]) -> pd.DataFrame:
        weighted = self.group_damage * self.model.group_value
        if self.model.n_dependents:
            weighted += self.cascade_group_loss
        keys, values = _sum_by(weighted, group_keys)
        return self._table(name, keys, values)

    def country_table(self) -> pd.DataFrame:
        return self._by_group_key("country", self.sim.group_country)

    def asset_type_table(self) -> pd.DataFrame:
        return self._by_group_key("asset_type", self.sim.group_type)

    def asset_table(self) -> pd.DataFrame:
        """One row per asset: its stand-alone distribution and its tail contribution.

        Computed per group and scaled by each asset's exposed value (quantiles scale with a
        positive factor); assets that take cascade losses get their own figures.
        """
        sim = self.sim
        per_group = self._table(
            "group", [str(g) for g in range(self.model.n_groups)], self.group_damage
        )
        cols = [c for c in per_group.columns if c not in ("dimension", "key")]
        g = sim.of_asset
        columns = {c: per_group[c].to_numpy()[g] * sim.exposed_value for c in cols}
        if self.model.n_dependents:
            columns["cascade_mean"] = np.zeros(len(g))
            for b0 in range(0, self.model.n_dependents, COLUMN_BLOCK):
                block = slice(b0, b0 + COLUMN_BLOCK)
                rows = sim.dependent_rows[block]
                cascade = self.cascade_loss[:, block]
                own = self.group_damage[:, g[rows]] * sim.exposed_value[rows] + cascade
                dep = self._table("asset", [""] * len(rows), own)
                for c in cols:
                    columns[c][rows] = dep[c].to_numpy()
                columns["cascade_mean"][rows] = cascade.mean(axis=0)
        table = pd.DataFrame(columns)
        table.insert(0, "key", sim.asset_ids)
        table.insert(0, "dimension", "asset")
        return table

    def summary_table(self, assets: bool = True) -> pd.DataFrame:
        """Every table above, one below the other (columns they lack are left empty)."""
        parts = [
            self.portfolio_table(),
            self.scenario_table(),
            self.factor_table(),
            self.country_table(),
            self.asset_type_table(),
        ]
        if assets:
            parts.append(self.asset_table())
        return pd.concat(parts, ignore_index=True)

    def exceedance(
        self,
        return_periods: Sequence[float] | None = None,
        confidence: float = 0.90,
        residual: bool = False,
    ) -> pd.DataFrame:
        """Loss exceedance curve: the loss reached or exceeded once in `rp` years on average
        (the empirical quantile at 1 - 1/rp, as VaR is read) with a distribution-free
        confidence band from order statistics (`quantile_band`). Return periods longer than
        the trial count cannot be read from the trials and are left out."""
        rps = sorted(set(return_periods or DEFAULT_RETURN_PERIODS) | set(self.sim.return_periods))
        ordered = np.sort(self.residual if residual else self.loss)
        rows = []
        for rp in rps:
            if rp <= 1.0 or rp > self.trials:
                continue
            loss, lo, hi = quantile_band(ordered, 1.0 - 1.0 / rp, confidence)
            rows.append(
                {
                    "return_period_years": float(rp),
                    "exceedance_probability": 1.0 / rp,
                    "loss": loss,
                    "lower": lo,
                    "upper": hi,
                    "confidence": confidence,
                }
            )
        return pd.DataFrame(
            rows,
            columns=[
                "return_period_years",
                "exceedance_probability",
                "loss",
                "lower",
                "upper",
                "confidence",
            ],
        )

    def plan_table(self) -> pd.DataFrame:
        """One row per plan: averted annual loss (plan on its own) and its benefit-cost ratio
        as a distribution.

        The plans that are effective in a scenario are those of the deterministic evaluation
        (triggers read at the shocks' values); in a trial they avert loss in the scenarios
        that occur. The benefit-cost ratio is read over plan horizons: trials are taken H at a
        time (H = the workspace's plan horizon; T // H horizons), each horizon's averted losses
        are discounted (year k by (1 + r)^-k) and divided by the plan's cost NPV. Its mean is
        the mean averted annual loss x annuity / cost NPV, the deterministic BCR's formula.
        """
        plans = self.model.plans
        if plans is None:
            return pd.DataFrame()
        h = plans.horizon_years
        n_h = self.trials // h
        disc = (1.0 + plans.discount_rate) ** -np.arange(1, h + 1, dtype=float)
        benefit = (
            self.averted_alone[: n_h * h].reshape(n_h, h, -1) * disc[np.newaxis, :, np.newaxis]
        ).sum(axis=1)
        rows = []
        for p, pid in enumerate(plans.plan_ids):
            cost = float(plans.cost_npv[p])
            x = self.averted_alone[:, p]
            sd = float(x.std(ddof=1)) if self.trials > 1 else 0.0
            if cost > 0 and n_h:
                bcr = benefit[:, p] / cost
                q = np.quantile(bcr, [0.05, 0.5, 0.95])
                figures = [float(bcr.mean()), *map(float, q), float((bcr >= 1.0).mean())]
            else:
                figures = [math.nan] * 5
            rows.append(
                {
                    "plan_id": pid,
                    "effective_in": [
                        sid
                        for s, sid in enumerate(self.model.scenario_ids)
                        if plans.effective[s, p]
                    ],
                    "averted_mean": float(x.mean()),
                    "averted_se": sd / math.sqrt(self.trials),
                    "cost_npv": cost,
                    "bcr_deterministic": float(plans.bcr[p]),
                    "bcr_mean": figures[0],
                    "bcr_p5": figures[1],
                    "bcr_p50": figures[2],
                    "bcr_p95": figures[3],
                    "prob_bcr_at_least_1": figures[4],
                    "horizons": n_h,
                }
            )
        return pd.DataFrame(rows)


class Reducer:
    """Collects chunk results, in any order, into the arrays of a whole run (allocated once,
    so a run holds its results and one chunk at a time)."""

    def __init__(self, sim: Simulation, seed: int, trials: int) -> None:
        m = sim.model
        n_s = len(m.scenario_ids)
        self.sim, self.seed, self.trials = sim, seed, trials
        self.seen = np.zeros(trials, dtype=bool)
        self.arrays: dict[str, npt.NDArray[np.generic]] = {
            "loss": np.zeros(trials),
            "occurs": np.zeros((trials, n_s), dtype=bool),
            "group_damage": np.zeros((trials, m.n_groups)),
            "scenario_loss": np.zeros((trials, n_s)),
            "factor_loss": np.zeros((trials, len(m.factor_ids))),
            "cascade_loss": np.zeros((trials, m.n_dependents)),
            "cascade_group_loss": np.zeros((trials, m.n_groups if m.n_dependents else 0)),
            "averted": np.zeros(trials),
            "averted_alone": np.zeros((trials, m.n_plans)),
        }

    def add(self, chunk: ChunkResult) -> None:
        span = slice(chunk.start, chunk.stop)
        if chunk.stop > self.trials or self.seen[span].any():
            raise ValueError(f"chunk {chunk.start}-{chunk.stop} overlaps or lies outside the run")
        self.seen[span] = True
        for name, array in self.arrays.items():
            array[span] = getattr(chunk, name)

    def result(self) -> SimulationResult:
        if not self.seen.all():
            first = int(np.flatnonzero(~self.seen)[0])
            raise ValueError(f"chunks do not cover the trials: trial {first} is missing")
        a = self.arrays

        def f(name: str) -> FloatArray:
            return cast(FloatArray, a[name])

        return SimulationResult(
            sim=self.sim,
            seed=self.seed,
            loss=f("loss"),
            occurs=cast(BoolArray, a["occurs"]),
            group_damage=f("group_damage"),
            scenario_loss=f("scenario_loss"),
            factor_loss=f("factor_loss"),
            cascade_loss=f("cascade_loss"),
            cascade_group_loss=f("cascade_group_loss"),
            averted=f("averted"),
            averted_alone=f("averted_alone"),
        )


def reduce_chunks(
    sim: Simulation, seed: int, chunks: Sequence[ChunkResult], trials: int | None = None
) -> SimulationResult:
    """Put chunk results back in trial order (they may arrive in any order); they must cover
    trials 0 to `trials - 1` (default: up to the last chunk's end) exactly once."""
    reducer = Reducer(sim, seed, trials or max(c.stop for c in chunks))
    for chunk in chunks:
        reducer.add(chunk)
    return reducer.result()


_WORKER_MODEL: list[MonteCarloModel] = []


def _init_worker(model: MonteCarloModel) -> None:
    _WORKER_MODEL[:] = [model]


def _run_in_worker(seed: int, start: int, stop: int) -> ChunkResult:
    return simulate_chunk(_WORKER_MODEL[0], seed, start, stop)


def run(
    sim: Simulation,
    trials: int,
    seed: int,
    chunk_size: int | None = None,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Simulate `trials` years in chunks, on `workers` processes; `progress(done, total)` is
    called after each chunk. The figures depend on the seed only."""
    if trials < 1:
        raise ValueError("trials must be at least 1")
    bounds = chunk_bounds(trials, chunk_size or sim.model.default_chunk_size())
    reducer = Reducer(sim, seed, trials)
    done = 0
    if workers <= 1 or len(bounds) == 1:
        for a, b in bounds:
            reducer.add(simulate_chunk(sim.model, seed, a, b))
            done += b - a
            if progress is not None:
                progress(done, trials)
    else:
        with ProcessPoolExecutor(
            max_workers=workers, initializer=_init_worker, initargs=(sim.model,)
        ) as pool:
            futures = [pool.submit(_run_in_worker, seed, a, b) for a, b in bounds]
            for future in as_completed(futures):
                chunk = future.result()
                reducer.add(chunk)
                done += chunk.stop - chunk.start
                del chunk
                if progress is not None:
                    progress(done, trials)
    return reducer.result()


def simulate(
    ws: Workspace,
    trials: int = 10_000,
    seed: int = 0,
    *,
    chunk_size: int | None = None,
    workers: int = 1,
    distribution: RangeDistribution = RangeDistribution.PERT,
    basis: LossBasis | None = None,
    plans: bool = True,
    links: Sequence[DependencyLink] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Monte Carlo of a workspace: `prepare_simulation`, then `run`."""
    sim = prepare_simulation(ws, distribution=distribution, basis=basis, plans=plans, links=links)
    return run(sim, trials, seed, chunk_size=chunk_size, workers=workers, progress=progress)
