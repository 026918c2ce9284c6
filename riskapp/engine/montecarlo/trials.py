"""One chunk of trials: the losses of the (trial, scenario) pairs that occur, on the loss basis,
plans and dependency cascades included."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskapp.engine.montecarlo.model import (
    BoolArray,
    FloatArray,
    IntArray,
    MonteCarloModel,
    sampled_intensities,
)
from riskapp.engine.sampling import TrialDraws

BATCH_FLOATS = 4_000_000  # floats of working memory per batch of (trial, scenario) pairs


# -- one chunk of trials ----------------------------------------------------------------------


@dataclass(frozen=True)
class ChunkResult:
    """Per-trial results of trials `start` to `stop - 1`.

    With dependency links, `pair_damage` keeps what each dependent's cascade loss is computed
    from afterwards (`riskapp.engine.montecarlo.cascades`): for each scenario with groups whose
    damage depends on a shock's range, in scenario order, the damage of those groups in each
    trial in which the scenario occurs, trial after trial, flattened. Without links it is
    empty."""

    start: int
    stop: int
    occurs: BoolArray  # (n, S)
    loss: FloatArray  # (n,) portfolio loss, cascades included
    group_damage: FloatArray  # (n, G) status-quo damage + the year's scenarios' increments
    scenario_loss: FloatArray  # (n, S) increment of each scenario, cascades included
    factor_loss: FloatArray  # (n, F) direct loss attributed to factors
    cascade: FloatArray  # (n,) cascade loss of the portfolio (0 without dependency links)
    pair_damage: FloatArray  # damage of the range-driven groups in each pair (see below)
    averted: FloatArray  # (n,) loss averted by all effective plans together
    averted_alone: FloatArray  # (n, P) loss each plan averts on its own


def _batches(rows: IntArray, size: int) -> list[IntArray]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def evaluate_trials(model: MonteCarloModel, draws: TrialDraws, start: int = 0) -> ChunkResult:
    """Losses of a run of trials from their draws. Pure: the same draws give the same
    figures, trial by trial, whatever else is in the run."""
    n, n_s = draws.occurs.shape
    n_g, n_f, n_p = model.n_groups, len(model.factor_ids), model.n_plans
    damage = np.zeros((n, n_g))
    scen = np.zeros((n, n_s))
    factor = np.zeros((n, n_f))
    casc = np.zeros(n)
    pairs: list[FloatArray] = []
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
                extra = float(model.cascade.nominal_total[s])
                casc[rows] += extra
            scen[rows, s] = model.nominal_loss[s] + extra
            if plans is not None:
                averted[rows] += plans.averted_all[s]
                alone[rows] += plans.averted_alone[s]
            continue
        per_pair = n_g + 6 * len(var.cols) * n_f + model.baseline.size
        scenario_cascade = None if model.cascade is None else model.cascade.scenarios[s]
        if scenario_cascade is not None:
            per_pair += scenario_cascade.case_floats
        for batch in _batches(rows, max(1, BATCH_FLOATS // per_pair)):
            intensities = sampled_intensities(
                model.baseline, model.programs[s], draws.shock_values[batch]
            )
            # the ranged factors' intensities, factor-major (Fv, n, C)
            felt = intensities.transpose(2, 0, 1)[var.factors]
            at = felt[:, :, var.groups.column_place]
            comb, by_factor = var.fixed.increment(
                var.curves.read_by_factor(at), *var.base_by_factor, var.value
            )
            full = np.repeat(model.nominal_damage[s][np.newaxis, :], len(batch), axis=0)
            full[:, var.cols] = comb
            damage[batch] += full
            delta = by_factor.T - var.attributed_value
            factor[batch] += model.nominal_factor_loss[s] + delta
            direct = (full * model.group_value).sum(axis=1)
            if scenario_cascade is not None:
                cl = scenario_cascade.loss(comb)
                casc[batch] += cl
                direct = direct + cl
                pairs.append(comb.reshape(-1))
            scen[batch, s] = direct
            if plans is not None:
                change = np.zeros((len(batch), n_p + 1))  # each plan alone, then every plan
                stack = plans.stacks[s]
                if stack is not None:
                    change[:, stack.slots] = stack.change(felt, full)
                averted[batch] += plans.averted_all[s] + change[:, -1]
                for p in range(n_p):
                    if plans.effective[s, p]:
                        alone[batch, p] += plans.averted_alone[s, p] + change[:, p]
    damage += model.status_quo_damage  # the status quo holds in every year
    factor += model.status_quo_factor_loss
    loss = (damage * model.group_value).sum(axis=1)
    if model.n_dependents:
        loss = loss + casc
    return ChunkResult(
        start=start,
        stop=start + n,
        occurs=draws.occurs,
        loss=loss,
        group_damage=damage,
        scenario_loss=scen,
        factor_loss=factor,
        cascade=casc,
        pair_damage=np.concatenate(pairs) if pairs else np.zeros(0),
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
