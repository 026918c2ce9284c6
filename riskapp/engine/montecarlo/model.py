"""The Monte Carlo model: a workspace compiled into the small, picklable arrays a chunk of
trials needs (shock programs, variable groups, plan slices, cascades), and `prepare_simulation`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from riskapp.domain.assets import DependencyLink
from riskapp.domain.curves import CurveSet
from riskapp.domain.enums import LossBasis
from riskapp.domain.workspace import Workspace
from riskapp.engine.cascade import CascadeGraph, build_graph
from riskapp.engine.cascade_compiled import PortfolioCascade, portfolio_cascade
from riskapp.engine.cascade_scenario import ScenarioCascade
from riskapp.engine.damage import (
    AssetGroups,
    CurveTable,
    above_baseline,
    combine,
    concat_groups,
    curve_table,
    group_damage,
)
from riskapp.engine.enums import RangeDistribution
from riskapp.engine.fixed_factors import FixedFactors, fixed_factors
from riskapp.engine.intensity import ShockStep, compile_programs, run_program
from riskapp.engine.plans import PlanEffects, PlanEvaluation, evaluate_plans
from riskapp.engine.sampling import SamplingSpec
from riskapp.engine.scoring import ScoreInputs, ScoreResult, prepare, score

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

CHUNK_FLOATS = 8_000_000  # floats of per-trial results held by one chunk
MAX_CHUNK = 5_000


# -- the model a chunk needs (small, picklable) ----------------------------------------------


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
    curves: CurveTable  # their curves for the ranged factors
    fixed: FixedFactors  # what the other factors bring to the combination
    base_by_factor: tuple[FloatArray, FloatArray]  # the base: (Gv,) and by factor (F, Gv)
    attributed_value: FloatArray  # (F,) deterministic attributed loss of these groups


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
class PlanStack:
    """The plan slices of one scenario side by side (columns), so that a batch of pairs reads
    the curves of all of them at once: `slots[j]` is -1 for the slice of every effective plan,
    p for plan p alone; slice j's columns start at `starts[j]`."""

    slots: IntArray  # (k,)
    starts: IntArray  # (k,)
    country_index: IntArray  # (columns,) the places the columns' curves read
    curves: CurveTable  # their curves for the scenario's ranged factors
    fixed: FixedFactors  # what the other factors (plans applied) bring to the combination
    reduction: FloatArray  # (Fv, columns) the ranged factors' intensity reduction
    multiplier: FloatArray  # (Fv, m) and damage multiplier
    base: FloatArray  # (m,) status-quo damage
    to_damage_group: IntArray  # (m,)
    averted: FloatArray  # (m,) deterministic averted damage ratio
    value: FloatArray  # (m,)

    def change(self, felt: FloatArray, full: FloatArray) -> FloatArray:
        """(n, k) each slice's change of the averted loss against the deterministic one, for
        the ranged factors' intensities (Fv, n, C) by country and the pairs' group damage
        (n, G). Only the factors hit by a ranged shock are read again from the curves (the
        others' intensity does not vary), and only the combined residual is needed, not its
        attribution to factors."""
        at = np.maximum(felt[:, :, self.country_index] - self.reduction[:, np.newaxis], 0.0)
        damage = self.curves.read_by_factor(at) * self.multiplier[:, np.newaxis]
        residual = self.fixed.combined(damage)
        residual = above_baseline(residual, self.base)
        change = ((full[:, self.to_damage_group] - residual) - self.averted) * self.value
        result: FloatArray = np.add.reduceat(change, self.starts, axis=1)
        return result


@dataclass(frozen=True)
class PlanModel:
    """Plans as the deterministic evaluation makes them effective, ready for sampled years."""

    plan_ids: list[str]
    effective: BoolArray  # (S, P)
    averted_all: FloatArray  # (S,) deterministic averted loss with all effective plans
    averted_alone: FloatArray  # (S, P) deterministic averted loss of each plan alone
    all_slices: list[PlanSlice | None]  # per scenario
    alone_slices: list[list[PlanSlice | None]]  # per scenario, per plan
    stacks: list[PlanStack | None]  # per scenario: its slices side by side
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
    portfolio: PortfolioCascade  # the portfolio's cascade loss as a function of group damage
    scenarios: list[ScenarioCascade | None]  # per scenario with range-driven groups: the same
    # as a function of those groups' damage (the others at the scenario's deterministic damage)

    @property
    def nominal_total(self) -> FloatArray:
        """(S,) deterministic cascade loss of the portfolio per scenario."""
        result: FloatArray = self.nominal.sum(axis=1)
        return result

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
    baseline: FloatArray  # (P, F) over places (riskapp.engine.places)
    programs: list[list[ShockStep]]  # per scenario
    sampling: SamplingSpec
    basis: LossBasis
    curves: CurveSet
    group_value: FloatArray  # (G,)
    nominal_damage: FloatArray  # (S, G) damage above the status quo at the shocks' values
    nominal_loss: FloatArray  # (S,)
    nominal_factor_loss: FloatArray  # (S, F)
    status_quo_damage: FloatArray  # (G,) borne every year (0 on the incremental basis)
    status_quo_factor_loss: FloatArray  # (F,) the status-quo loss attributed to factors
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
        width = self.n_groups * (2 if self.n_dependents else 1)  # with cascades: pair damage
        width += 2 * len(self.scenario_ids)
        width += len(self.factor_ids) + self.n_plans + 2
        return int(max(100, min(MAX_CHUNK, CHUNK_FLOATS // width)))


def sampled_intensities(
    baseline: FloatArray, program: Sequence[ShockStep], values: FloatArray
) -> FloatArray:
    """(n, P, F) intensities of one scenario for n trials with shock values (n, N), from the
    baseline over places (P, F): the same rule as `scenario_intensities` (`run_program`)."""
    start = np.repeat(baseline[np.newaxis, :, :], values.shape[0], axis=0)
    return run_program(start, program, lambda step: values[:, step.position, np.newaxis])


def _subset(groups: AssetGroups, cols: IntArray) -> AssetGroups:
    return groups.subset(cols)


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
        hit |= groups.touches(step.rows) & has_curve[step.factor]
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
        base=(fx.status_quo[0][:, cols], fx.status_quo[1][:, cols]),
        reduction=reduction,
        multiplier=multiplier,
        raw=raw * multiplier,
        averted=gross[s, cols] - residual[s, cols],
        value=fx.group_value[cols],
    )


def _plan_stack(
    slices: list[tuple[int, PlanSlice]], var: VariableGroups, factors: list[str], curves: CurveSet
) -> PlanStack | None:
    """The slices (slot, slice) of one scenario side by side."""
    if not slices:
        return None
    parts = [sl for _, sl in slices]
    f = var.factors
    groups = concat_groups(
        [sl.groups for sl in parts], [np.arange(sl.groups.count) for sl in parts]
    )
    sizes = np.array([len(sl.cols) for sl in parts], dtype=np.int64)

    def joined(name: str) -> FloatArray:
        result: FloatArray = np.concatenate([getattr(sl, name) for sl in parts])
        return result

    base = [np.zeros(len(sl.cols)) if sl.base is None else sl.base[0][0] for sl in parts]
    return PlanStack(
        slots=np.array([slot for slot, _ in slices], dtype=np.int64),
        starts=np.r_[0, np.cumsum(sizes)[:-1]].astype(np.int64),
        country_index=groups.column_place,
        curves=curve_table(groups, [factors[j] for j in f.tolist()], curves),
        fixed=fixed_factors(joined("raw"), f),
        reduction=np.ascontiguousarray(joined("reduction")[groups.column_group][:, f].T),
        multiplier=np.ascontiguousarray(joined("multiplier")[:, f].T),
        base=np.concatenate(base),
        to_damage_group=joined("to_damage_group").astype(np.int64),
        averted=joined("averted"),
        value=joined("value"),
    )


def _plan_model(
    ws: Workspace,
    result: ScoreResult,
    variable: list[VariableGroups | None],
    evaluation: PlanEvaluation | None = None,
) -> PlanModel | None:
    if not ws.plans.plans:
        return None
    ev = evaluation if evaluation is not None else evaluate_plans(ws, result)
    fx = ev.effects
    n_s, n_p = ev.effective.shape
    first = np.zeros(fx.groups.count, dtype=np.int64)
    first[fx.groups.of_asset[::-1]] = np.arange(len(fx.groups.of_asset) - 1, -1, -1)
    to_damage = result.inputs.groups.of_asset[first]
    none = np.zeros((n_s, n_p), dtype=bool)
    gross = fx.damage(none, increment=True)
    residual = fx.damage(ev.effective, increment=True)
    value = fx.group_value
    averted_all = ((gross - residual) * value).sum(axis=1)
    averted_alone = np.zeros((n_s, n_p))
    alone_residual: dict[int, FloatArray] = {}
    for p in range(n_p):
        if ev.effective[:, p].any():
            only = np.zeros((n_s, n_p), dtype=bool)
            only[:, p] = ev.effective[:, p]
            alone_residual[p] = fx.damage(only, increment=True)
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
    stacks: list[PlanStack | None] = []
    for s, var in enumerate(variable):
        chosen = [(-1, all_slices[s]), *((p, sl) for p, sl in enumerate(alone_slices[s]))]
        present = [(slot, sl) for slot, sl in chosen if sl is not None]
        stacks.append(
            None if var is None else _plan_stack(present, var, result.factor_ids, ws.curves)
        )
    return PlanModel(
        plan_ids=ev.plan_ids,
        effective=ev.effective,
        averted_all=averted_all,
        averted_alone=averted_alone,
        all_slices=all_slices,
        alone_slices=alone_slices,
        stacks=stacks,
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
    result: ScoreResult | None = None,
    evaluation: PlanEvaluation | None = None,
) -> Simulation:
    """Build the simulation model of a workspace (cost grows with assets once, here only).

    `inputs`, `result` and `evaluation` may pass in what the caller has already computed for
    the same workspace (its prepared inputs, its score on `basis` and that score's plan
    evaluation), so that an assessment is not scored and its plans evaluated twice."""
    inputs = inputs or prepare(ws)
    if result is None or (basis is not None and result.basis is not basis):
        result = score(ws, basis=basis, inputs=inputs)
        evaluation = None
    groups = inputs.groups
    factors = inputs.factor_ids
    group_value = result.group_exposure()
    sampling = SamplingSpec.from_scenarios(ws.scenarios, distribution)
    programs = compile_programs(ws.scenarios, ws.regions, inputs.places, factors, ws.zones)
    ranged = set(sampling.ranged.tolist())
    # a year's loss is the status quo plus the increments of the scenarios that occur (see
    # riskapp.engine.scoring): scenarios are simulated on their increments, on both bases
    base = combine(group_damage(groups, inputs.place_baseline[np.newaxis], factors, ws.curves))
    nominal_factor_loss = (result.factor_increment * group_value[np.newaxis, :, np.newaxis]).sum(
        axis=1
    )
    raw = group_damage(groups, result.intensities, factors, ws.curves)
    variable: list[VariableGroups | None] = []
    for s, program in enumerate(programs):
        cols, var_factors = _variable_cols(program, ranged, groups, ws.curves, factors)
        if not len(cols):
            variable.append(None)
            continue
        subset = _subset(groups, cols)
        var_base = (base[0][:, cols], base[1][:, cols])
        variable.append(
            VariableGroups(
                cols=cols,
                groups=subset,
                factors=var_factors,
                raw=raw[s, cols],
                combined=result.increment[s, cols],
                attributed=result.factor_increment[s, cols],
                value=group_value[cols],
                base=var_base,
                curves=curve_table(subset, [factors[j] for j in var_factors.tolist()], ws.curves),
                fixed=fixed_factors(raw[s, cols], var_factors),
                base_by_factor=(var_base[0][0], np.ascontiguousarray(var_base[1][0].T)),
                attributed_value=(result.factor_increment[s, cols] * group_value[cols, None]).sum(
                    axis=0
                ),
            )
        )
    cascade = None
    dependent_rows = np.zeros(0, dtype=np.int64)
    if links:
        graph = build_graph(ws.portfolio.series("id"), links)
        if len(graph.dependents):
            node_group = groups.of_asset[graph.assets]
            dependent_rows = graph.dependent_assets
            dep_value = inputs.exposed_value[dependent_rows]
            direct = result.increment[:, node_group]
            total = graph.propagate(direct)
            dep = graph.dependents
            nominal = (total[:, dep] - direct[:, dep]) * dep_value
            dep_group = groups.of_asset[dependent_rows]
            order = np.argsort(dep_group, kind="stable").astype(np.int64)
            runs = np.flatnonzero(np.r_[True, dep_group[order][1:] != dep_group[order][:-1]])
            portfolio = portfolio_cascade(graph, node_group, dep_value, groups.count)
            cascade = CascadeModel(
                graph,
                node_group,
                dep_value,
                nominal,
                order,
                runs.astype(np.int64),
                dep_group[order][runs],
                portfolio,
                [
                    None if var is None else portfolio.restrict(var.cols, result.increment[s])
                    for s, var in enumerate(variable)
                ],
            )
    model = MonteCarloModel(
        scenario_ids=result.scenario_ids,
        factor_ids=factors,
        countries=inputs.countries,
        baseline=inputs.place_baseline,
        programs=programs,
        sampling=sampling,
        basis=result.basis,
        curves=ws.curves,
        group_value=group_value,
        nominal_damage=result.increment,
        nominal_loss=(result.increment * group_value).sum(axis=1),
        nominal_factor_loss=nominal_factor_loss,
        status_quo_damage=result.base_damage,
        status_quo_factor_loss=result.status_quo_factor_loss(),
        variable=variable,
        cascade=cascade,
        plans=_plan_model(ws, result, variable, evaluation) if plans else None,
    )
    countries = np.asarray(inputs.countries, dtype=object)[inputs.places.country]
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
