"""One chunk of trials: the losses of the (trial, scenario) pairs that occur, on the loss basis,
plans and dependency cascades included."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskapp.engine.damage import (
    above_baseline,
    combine,
    combined_damage,
    group_damage,
    incremental,
)
from riskapp.engine.montecarlo.model import (
    BoolArray,
    FloatArray,
    IntArray,
    MonteCarloModel,
    PlanSlice,
    VariableGroups,
    sampled_intensities,
)
from riskapp.engine.sampling import TrialDraws

BATCH_FLOATS = 4_000_000  # floats of working memory per batch of (trial, scenario) pairs


# -- one chunk of trials ----------------------------------------------------------------------


@dataclass(frozen=True)
class ChunkResult:
    """Per-trial results of trials `start` to `stop - 1`."""

    start: int
    stop: int
    occurs: BoolArray  # (n, S)
    loss: FloatArray  # (n,) portfolio loss, cascades included
    group_damage: FloatArray  # (n, G) status-quo damage + the year's scenarios' increments
    scenario_loss: FloatArray  # (n, S) increment of each scenario, cascades included
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
    result: FloatArray = c.graph.dependent_cascade(full, c.node_group) * c.dependent_value
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
    varied = (
        group_damage(
            sl.groups,
            intensities[:, :, f],
            [model.factor_ids[j] for j in f.tolist()],
            model.curves,
            sl.reduction[np.newaxis][:, :, f],
        )
        * sl.multiplier[:, f]
    )
    # only the combined residual is needed here, not its attribution to factors: the factors
    # that do not vary combine once, per group, and the varied ones on top of them
    fixed = np.ones(sl.raw.shape[1], dtype=bool)
    fixed[f] = False
    kept = 1.0 - combined_damage(sl.raw[:, fixed])  # (G,) survival of the fixed factors
    residual = 1.0 - kept * (1.0 - combined_damage(varied))
    if sl.base is not None:
        residual = above_baseline(residual, sl.base[0])
    gross = full[:, sl.to_damage_group]
    # summed elementwise, not by a BLAS product: a run must give the same bits on any worker
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
    damage += model.status_quo_damage  # the status quo holds in every year
    factor += model.status_quo_factor_loss
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
