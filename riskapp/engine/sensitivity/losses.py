"""Losses with inputs moved: expected annual loss, scenario and trial losses, and the trial
basis (occurrences coupled to the Monte Carlo run's) the tornado and Sobol analyses share."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from riskapp.domain.enums import LossBasis
from riskapp.domain.scenarios import ShockOperation
from riskapp.engine import threads as engine_threads
from riskapp.engine.damage import (
    AssetGroups,
    FactorSurvival,
    above_baseline,
    combined_damage,
    factor_survival,
    group_damage,
)
from riskapp.engine.intensity import apply_shock
from riskapp.engine.montecarlo import BATCH_FLOATS, sampled_intensities
from riskapp.engine.sampling import SamplingSpec, TrialDraws
from riskapp.engine.sensitivity.inputs import VAR_LEVEL, BoolArray, FloatArray, IntArray, LossModel

COUPLING_KEY = 0x5E45  # spawn key of the generator of the coupled occurrence numbers


# -- losses with inputs moved -----------------------------------------------------------------


def _on_basis(combined: FloatArray, base: FloatArray | None) -> FloatArray:
    """Damage on the loss basis: above the baseline damage `base` (floored at 0, as
    `incremental` computes it) or, without a base, absolute."""
    if base is None:
        return combined
    return above_baseline(combined, base)


def _direct_damage(
    lm: LossModel, groups: AssetGroups, base: FloatArray | None, intensities: FloatArray
) -> FloatArray:
    """(n, G) combined damage on the loss basis at (n, C, F) intensities (as scoring does)."""
    m = lm.model
    return _on_basis(
        combined_damage(group_damage(groups, intensities, m.factor_ids, m.curves)), base
    )


def reference_damage(
    lm: LossModel, shift: FloatArray | None, cols: IntArray | None = None
) -> FloatArray | None:
    """The baseline damage the incremental basis subtracts, at today's baseline plus `shift`
    (None on the absolute basis); of the groups `cols` if given."""
    if lm.base is None:
        return None
    base = lm.base
    if shift is not None:
        m = lm.model
        base = combined_damage(
            group_damage(lm.groups, _shifted(m.baseline, shift)[np.newaxis], m.factor_ids, m.curves)
        )
    return base if cols is None else base[:, cols]


def status_quo_loss(lm: LossModel, shifts: FloatArray) -> FloatArray:
    """(n,) the status-quo loss, borne every year, at today's baseline plus each row of factor
    shifts (n, F): the baseline damage times the exposed value on the absolute basis (no
    cascades, as in the Monte Carlo), 0 on the incremental basis."""
    m = lm.model
    rows = np.atleast_2d(shifts)
    if m.basis is not LossBasis.ABSOLUTE:
        return np.zeros(len(rows))
    intensities = _shifted(m.baseline[np.newaxis], rows[:, np.newaxis, :])
    damage = combined_damage(group_damage(lm.groups, intensities, m.factor_ids, m.curves))
    result: FloatArray = damage @ m.group_value
    return result


def _portfolio_loss(lm: LossModel, damage: FloatArray) -> FloatArray:
    """(n,) loss of (n, G) group damage ratios, dependency cascades included."""
    m = lm.model
    loss: FloatArray = damage @ m.group_value
    if lm.cascade is not None:
        loss = loss + lm.cascade.loss(damage)
    elif m.cascade is not None:
        c = m.cascade
        direct = damage[:, c.node_group]
        total = c.graph.propagate(direct)
        dep = c.graph.dependents
        loss = loss + ((total[:, dep] - direct[:, dep]) * c.dependent_value).sum(axis=1)
    return loss


def _shifted(intensities: FloatArray, shift: FloatArray) -> FloatArray:
    return apply_shock(intensities, ShockOperation.ADD, shift)


def scenario_losses(
    lm: LossModel,
    shifts: FloatArray,
    values: FloatArray | None = None,
    scenarios: Sequence[int] | None = None,
    threads: int | None = None,
) -> FloatArray:
    """(n, S') loss of each scenario (as if it occurs) for each row of factor shifts (n, F),
    with the shocks at `values` (default: their values; flattened as `SamplingSpec` holds
    them). `scenarios` restricts the columns to those scenarios, in that order. `threads`:
    batches of rows computed at once (default `riskapp.engine.threads.default_threads()`);
    the losses are the same."""
    m = lm.model
    values = m.sampling.shock_value if values is None else values
    chosen = list(range(len(m.scenario_ids))) if scenarios is None else list(scenarios)
    rows = np.atleast_2d(shifts)
    # distinct rows in the order they first come (Saltelli's rows of one base point stay
    # together, so a batch holds few distinct values of each factor)
    _, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    unique = rows[first[order]]
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    inverse = rank[inverse.reshape(-1)]
    n_c, n_f = m.baseline.shape
    base = np.concatenate(
        [sampled_intensities(m.baseline, m.programs[s], values[np.newaxis]) for s in chosen]
    )  # (S', C, F)
    if lm.base is not None:  # today's baseline first: the incremental basis moves it too
        base = np.concatenate([m.baseline[np.newaxis], base])
    out = np.zeros((len(unique), len(chosen)))
    n_g = lm.groups.count
    step = max(1, BATCH_FLOATS // max(1, len(base) * (n_c + 3 * n_g) * n_f))

    def batch(b0: int) -> None:
        sh = unique[b0 : b0 + step]
        n_b = len(sh)
        # a factor's damage depends on that factor's shift only: read each factor's curves
        # once per distinct shift of it in the batch
        raw = np.empty((n_b, len(base), n_g, n_f))
        for j in range(n_f):
            levels, code = np.unique(sh[:, j], return_inverse=True)
            felt = _shifted(base[np.newaxis, :, :, j : j + 1], levels[:, None, None, None])
            dmg = group_damage(
                lm.groups, felt.reshape(-1, n_c, 1), m.factor_ids[j : j + 1], m.curves
            )
            raw[..., j] = dmg.reshape(len(levels), len(base), n_g)[code.reshape(-1)]
        combined = combined_damage(raw)
        if lm.base is not None:
            combined = _on_basis(combined[:, 1:], combined[:, :1])
        damage = combined.reshape(n_b * len(chosen), -1)
        out[b0 : b0 + n_b] = _portfolio_loss(lm, damage).reshape(n_b, len(chosen))

    starts = range(0, len(unique), step)
    # batches two at a time where there are several (`riskapp.engine.threads`): each writes
    # its own rows of `out`
    with engine_threads.pool(threads if len(starts) > 1 else 1) as pool:
        engine_threads.each(pool, batch, starts)
    result: FloatArray = out[inverse]
    return result


def scenario_losses_at(lm: LossModel, s: int, values: FloatArray) -> FloatArray:
    """(n,) loss of scenario `s` (as if it occurs) with the shocks at each row of `values`
    (n, N), no factor shift: `scenario_losses(lm, 0, row, [s])` for many rows at once."""
    m = lm.model
    intensities = sampled_intensities(m.baseline, m.programs[s], values)
    return _portfolio_loss(lm, _direct_damage(lm, lm.groups, lm.base, intensities))


def probabilities(spec: SamplingSpec, multipliers: FloatArray) -> FloatArray:
    """(n, S) annual probability of each scenario with each row's frequency multipliers (n, S):
    a root's frequency, or a rung's conditional probability, times its multiplier (at most 1),
    chained down the ladder. Multipliers of 1 give `SamplingSpec.marginal_probabilities`."""
    own = np.where(spec.parent < 0, spec.frequency, spec.probability)
    q = np.minimum(own[np.newaxis, :] * np.atleast_2d(multipliers), 1.0)
    p: FloatArray = np.zeros_like(q)
    for s in spec.order.tolist():
        par = int(spec.parent[s])
        p[:, s] = q[:, s] if par < 0 else p[:, par] * q[:, s]
    return p


def expected_annual_loss(lm: LossModel, shifts: FloatArray, multipliers: FloatArray) -> FloatArray:
    """(n,) expected annual loss, status quo + sum_s p_s L_s (L_s the scenario's increment over
    the status quo), for rows of factor shifts (n, F) and frequency multipliers (n, S), shocks
    at their values, cascades included."""
    p = probabilities(lm.spec, multipliers)
    increments = (p * scenario_losses(lm, shifts)).sum(axis=1)
    result: FloatArray = status_quo_loss(lm, shifts) + increments
    return result


def trial_losses(
    lm: LossModel, s: int, values: FloatArray, shift: FloatArray | None = None
) -> FloatArray:
    """(n,) loss of scenario `s` in n simulated years with shock values (n, N), as if it
    occurs in each, with an optional factor shift (F,). Without a shift this is the Monte
    Carlo's own per-scenario loss of those years (`ChunkResult.scenario_loss`)."""
    if shift is None or not shift.any():
        return shifted_trial_losses(lm, s, values, None, None)
    return shifted_trial_losses(lm, s, values, shift, reference_damage(lm, shift))


def shifted_trial_losses(
    lm: LossModel,
    s: int,
    values: FloatArray,
    shift: FloatArray | None,
    reference: FloatArray | None,
) -> FloatArray:
    """`trial_losses` with the baseline damage at the shift (`reference_damage`) given, so a
    caller that runs several scenarios at one shift computes it once."""
    m = lm.model
    var = m.variable[s]
    n = values.shape[0]
    nominal = m.baseline[np.newaxis]
    if shift is None:
        det = m.nominal_damage[s]
    else:
        nominal = sampled_intensities(m.baseline, m.programs[s], m.sampling.shock_value[np.newaxis])
        det = _direct_damage(lm, lm.groups, reference, _shifted(nominal, shift))[0]
    if var is None:
        return np.full(n, float(_portfolio_loss(lm, det[np.newaxis])[0]))
    # as the Monte Carlo does: only the factors of ranged shocks vary from year to year
    if shift is None:
        var_base = None if var.base is None else var.base[0]
        var_raw = var.raw
    else:
        var_base = None if reference is None else reference[:, var.cols]
        var_raw = group_damage(var.groups, _shifted(nominal, shift), m.factor_ids, m.curves)[0]
    f = var.factors
    f_ids = [m.factor_ids[j] for j in f.tolist()]
    out = np.zeros(n)
    n_c, n_f = m.baseline.shape
    step = max(1, BATCH_FLOATS // (m.n_groups + n_c * n_f + 4 * len(var.cols) * n_f))
    for b0 in range(0, n, step):
        rows = slice(b0, min(n, b0 + step))
        intensities = sampled_intensities(m.baseline, m.programs[s], values[rows])
        if shift is not None:
            intensities = _shifted(intensities, shift)
        raw = np.repeat(var_raw[np.newaxis], intensities.shape[0], axis=0)
        raw[:, :, f] = group_damage(var.groups, intensities[:, :, f], f_ids, m.curves)
        combined = _on_basis(combined_damage(raw), var_base)
        full = np.repeat(det[np.newaxis], intensities.shape[0], axis=0)
        full[:, var.cols] = combined
        out[rows] = _portfolio_loss(lm, full)
    return out


@dataclass(frozen=True)
class DrawnYears:
    """Simulated years of one scenario with range-driven groups (as if it occurs in each),
    made ready for moving one factor at a time: their intensities at the drawn shock values and
    the per-factor damage of the range-driven groups (`VariableGroups`), with the survival of
    every other factor. Moving one factor's intensities changes that factor's damage only; the
    others are read from here."""

    scenario: int
    values: FloatArray  # (n, N) drawn shock values
    intensities: FloatArray  # (n, C, F)
    survival: FactorSurvival  # of the (n, Gv, F) per-factor damage


def drawn_years(lm: LossModel, s: int, values: FloatArray) -> DrawnYears:
    """`DrawnYears` of scenario `s` (which must have range-driven groups) for shock values
    (n, N), as `shifted_trial_losses` computes them without a shift."""
    m = lm.model
    var = m.variable[s]
    if var is None:
        raise ValueError(f"scenario {m.scenario_ids[s]!r} has no range-driven groups")
    intensities = sampled_intensities(m.baseline, m.programs[s], values)
    raw = np.repeat(var.raw[np.newaxis], len(values), axis=0)
    f = var.factors
    f_ids = [m.factor_ids[j] for j in f.tolist()]
    raw[:, :, f] = group_damage(var.groups, intensities[:, :, f], f_ids, m.curves)
    return DrawnYears(s, values, intensities, factor_survival(raw))


def moved_losses(
    lm: LossModel,
    years: DrawnYears,
    factor: int,
    felt: FloatArray,
    fixed: FloatArray,
    base: FloatArray | None,
) -> FloatArray:
    """(n,) loss of the years with factor `factor`'s intensities replaced by `felt` (n, C),
    every other factor as drawn: `fixed` (G,) is the damage of the groups whose damage does
    not vary from year to year (at the same setting), `base` the baseline damage of the
    range-driven groups on the incremental basis (None on the absolute one)."""
    m = lm.model
    var = m.variable[years.scenario]
    assert var is not None
    damage = group_damage(
        var.groups, felt[:, :, np.newaxis], m.factor_ids[factor : factor + 1], m.curves
    )[:, :, 0]
    full = np.repeat(fixed[np.newaxis], len(felt), axis=0)
    full[:, var.cols] = _on_basis(years.survival.combined_with(factor, damage), base)
    return _portfolio_loss(lm, full)


def shock_felt(
    lm: LossModel, years: DrawnYears, position: int, value: float
) -> tuple[int, FloatArray] | None:
    """The factor of the shock at `position` and its (n, C) intensities in the years with that
    shock at `value`, every other shock as drawn (only the shocks on that factor apply); None
    if the shock hits no country of the baseline (it moves nothing)."""
    m = lm.model
    program = m.programs[years.scenario]
    factors = [step.factor for step in program if step.position == position]
    if not factors:
        return None
    values = years.values.copy()
    values[:, position] = value
    steps = [step for step in program if step.factor == factors[0]]
    return factors[0], sampled_intensities(m.baseline, steps, values)[:, :, factors[0]]


def shifted_felt(years: DrawnYears, factor: int, shift: float) -> FloatArray:
    """(n, C) intensities of `factor` in the years, shifted by `shift` points (clamped)."""
    return _shifted(years.intensities[:, :, factor], np.asarray(shift, dtype=float))


def shifted_fixed(
    lm: LossModel, s: int, shift: FloatArray, reference: FloatArray | None
) -> FloatArray:
    """(G,) damage of scenario `s` on the loss basis at the shocks' values with a factor
    shift (F,), and `reference` the baseline damage at that shift (`reference_damage`)."""
    m = lm.model
    nominal = sampled_intensities(m.baseline, m.programs[s], m.sampling.shock_value[np.newaxis])
    result: FloatArray = _direct_damage(lm, lm.groups, reference, _shifted(nominal, shift))[0]
    return result


@dataclass(frozen=True)
class TrialBasis:
    """A run's simulated years made ready for moving inputs with common random numbers: its
    draws, each scenario's loss in every year as if it occurred (a year's loss is the sum over
    the scenarios that occur), and the coupled occurrence numbers."""

    draws: TrialDraws
    loss_if: FloatArray  # (T, S) increments over the status quo
    uniforms: FloatArray  # (T, S)
    status_quo: float = 0.0  # borne every year (absolute basis)

    @property
    def loss(self) -> FloatArray:
        result: FloatArray = self.status_quo + (self.loss_if * self.draws.occurs).sum(axis=1)
        return result


def coupled_uniforms(spec: SamplingSpec, occurs: BoolArray, seed: int) -> FloatArray:
    """(T, S) uniform numbers that agree with the occurrences `occurs`: below a scenario's
    probability p (its frequency, or for a rung its conditional probability) where it occurred,
    above where it did not, and unconstrained where a rung's parent did not occur. Drawn from
    their own generator (child (COUPLING_KEY, 0) of `SeedSequence(seed)`), so they are
    independent uniforms and reproducible."""
    gen = np.random.Generator(
        np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(COUPLING_KEY, 0)))
    )
    r = gen.random(occurs.shape)
    own = np.where(spec.parent < 0, spec.frequency, spec.probability)
    u = np.where(occurs, r * own, own + r * (1.0 - own))
    for s in range(len(own)):
        par = int(spec.parent[s])
        if par >= 0:
            u[:, s] = np.where(occurs[:, par], u[:, s], r[:, s])
    return u


def occurrence(spec: SamplingSpec, uniforms: FloatArray, multipliers: FloatArray) -> BoolArray:
    """(T, S) occurrences from coupled numbers with frequency multipliers (S,): a scenario
    occurs when its number is below its (conditional) probability times its multiplier (at
    most 1) and, for a rung, its parent occurs."""
    own = np.where(spec.parent < 0, spec.frequency, spec.probability)
    q = np.minimum(own * multipliers, 1.0)
    occ = np.zeros(uniforms.shape, dtype=bool)
    for s in spec.order.tolist():
        par = int(spec.parent[s])
        occ[:, s] = uniforms[:, s] < q[s]
        if par >= 0:
            occ[:, s] &= occ[:, par]
    return occ


def trial_basis(
    lm: LossModel,
    seed: int,
    trials: int,
    reach: float | None = None,
    threads: int | None = None,
) -> TrialBasis:
    """The years of the run with `seed` (the same draws as `montecarlo.run`); `threads`:
    scenarios computed at once (default `riskapp.engine.threads.default_threads()`).

    With `reach` (a frequency multiplier of at least 1), a scenario's loss is computed only
    in the years in which it occurs with every frequency multiplied by `reach` (the years in
    which some setting up to `reach` can make it occur, occurrence growing with the
    multipliers); `loss_if` is 0 in the others. Without it, in every year."""
    spec = lm.spec
    draws = spec.draw(seed, 0, trials)
    uniforms = coupled_uniforms(spec, draws.occurs, seed)
    n_s = len(spec.scenario_ids)
    needed = (
        np.ones((trials, n_s), dtype=bool)
        if reach is None
        else occurrence(spec, uniforms, np.full(n_s, max(1.0, reach))) | draws.occurs
    )
    loss_if = np.zeros((trials, n_s))

    def scenario(s: int) -> None:
        rows = np.flatnonzero(needed[:, s])
        if len(rows):
            loss_if[rows, s] = trial_losses(lm, s, draws.shock_values[rows])

    # scenarios two at a time (`riskapp.engine.threads`): each writes its own column
    with engine_threads.pool(threads) as pool:
        engine_threads.each(pool, scenario, range(n_s))
    status_quo = float(status_quo_loss(lm, np.zeros(len(lm.model.factor_ids)))[0])
    return TrialBasis(draws, loss_if, uniforms, status_quo)


def value_at_risk(loss: FloatArray, level: float = VAR_LEVEL) -> float:
    """The ceil(level T)-th smallest of T losses, as `distribution_stats` reads VaR."""
    t = len(loss)
    k = min(t, max(1, math.ceil(level * t - 1e-9))) - 1
    return float(np.partition(loss, k)[k])
