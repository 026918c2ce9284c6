"""Each dependent's cascade loss in a run, computed after the run from what the chunks kept.

A run keeps the portfolio's cascade loss per trial (`ChunkResult.cascade`) and, for the
(trial, scenario) pairs of the scenarios whose damage depends on a shock's range, the damage of
those groups (`ChunkResult.pair_damage`): every other pair of a scenario takes the scenario's
deterministic cascade (`CascadeModel.nominal`). From these, each dependent's cascade loss is
computed when a table asks for it: summed over all trials or some (`dependent_sums`: means and
tail contributions, no (trials x dependents) array), or trial by trial (`dependent_losses`:
what a per-asset distribution needs). The pairs are read in a fixed order and fixed batches, so
the figures depend on the run's draws only, not on how its chunks were cut.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from riskapp.engine.montecarlo.model import BoolArray, FloatArray, IntArray, MonteCarloModel

PAIR_BATCH_FLOATS = 2_000_000  # floats of working memory per batch of pairs read back


def kept_scenarios(model: MonteCarloModel) -> list[int]:
    """Scenarios whose pairs a run keeps the damage of (with cascades: the range-driven)."""
    if model.cascade is None:
        return []
    return [s for s, var in enumerate(model.variable) if var is not None]


def pair_sizes(model: MonteCarloModel, occurs: BoolArray) -> IntArray:
    """(S,) floats of pair damage each scenario keeps for trials with these occurrences."""
    out = np.zeros(len(model.scenario_ids), dtype=np.int64)
    for s in kept_scenarios(model):
        var = model.variable[s]
        assert var is not None
        out[s] = int(occurs[:, s].sum()) * len(var.cols)
    return out


def assemble(model: MonteCarloModel, pieces: list[tuple[int, BoolArray, FloatArray]]) -> FloatArray:
    """The pair damage of a whole run from its chunks' (start, occurs, pair_damage), in any
    order: scenario by scenario, trials in order (what one chunk of the whole run keeps)."""
    pieces = sorted(pieces, key=lambda p: p[0])
    sizes = [pair_sizes(model, occurs) for _, occurs, _ in pieces]
    total = int(sum(int(z.sum()) for z in sizes))
    out = np.empty(total)
    at = 0
    offsets = [np.r_[0, np.cumsum(z)] for z in sizes]
    for s in kept_scenarios(model):
        for (_, _, flat), z, off in zip(pieces, sizes, offsets, strict=True):
            out[at : at + z[s]] = flat[off[s] : off[s] + z[s]]
            at += int(z[s])
    return out


def pair_batches(
    model: MonteCarloModel,
    occurs: BoolArray,
    pair_damage: FloatArray,
    trials: BoolArray | None = None,
) -> Iterator[tuple[int, IntArray, FloatArray]]:
    """(scenario, trial numbers, (n, Gv) damage of the scenario's range-driven groups) of the
    kept pairs, the trials restricted to `trials` (a mask) if given; scenario by scenario,
    trials in order, in batches of a size fixed by the model."""
    at = 0
    n_g = model.n_groups
    for s in kept_scenarios(model):
        var = model.variable[s]
        assert var is not None and model.cascade is not None
        rows = np.flatnonzero(occurs[:, s])
        width = len(var.cols)
        block = pair_damage[at : at + len(rows) * width].reshape(len(rows), width)
        at += len(rows) * width
        if trials is not None:
            pick = trials[rows]
            rows, block = rows[pick], block[pick]
        scenario = model.cascade.scenarios[s]
        per_pair = 2 * n_g + (0 if scenario is None else scenario.case_floats)
        step = max(1, PAIR_BATCH_FLOATS // per_pair)
        for b0 in range(0, len(rows), step):
            yield s, rows[b0 : b0 + step], block[b0 : b0 + step]


def _full(model: MonteCarloModel, s: int, damage: FloatArray) -> FloatArray:
    """(n, G) group damage of pairs of scenario s from its range-driven groups' (n, Gv)."""
    var = model.variable[s]
    assert var is not None
    full = np.repeat(model.nominal_damage[s][np.newaxis, :], len(damage), axis=0)
    full[:, var.cols] = damage
    return full


def dependent_sums(
    model: MonteCarloModel,
    occurs: BoolArray,
    pair_damage: FloatArray,
    trials: IntArray | None = None,
) -> FloatArray:
    """(D,) each dependent's cascade loss summed over the trials (all, or these trial
    numbers), dependents in `CascadeModel.graph.dependents` order."""
    c = model.cascade
    if c is None:
        return np.zeros(0)
    mask = None
    if trials is not None:
        mask = np.zeros(len(occurs), dtype=bool)
        mask[trials] = True
    out = np.zeros(len(c.dependent_value))
    kept = set(kept_scenarios(model))
    for s in range(len(model.scenario_ids)):
        if s not in kept:
            hits = occurs[:, s] if mask is None else occurs[:, s] & mask
            out += float(hits.sum()) * c.nominal[s]
    for s, _, damage in pair_batches(model, occurs, pair_damage, mask):
        scenario = c.scenarios[s]
        assert scenario is not None
        out += scenario.dependent_sums(damage)
    return out


def _scenario_losses(
    model: MonteCarloModel, occurs: BoolArray, pair_damage: FloatArray
) -> Iterator[tuple[IntArray, FloatArray]]:
    """(trial numbers, each dependent's cascade loss in them) scenario by scenario, in batches:
    (n, D) for a range-driven scenario's pairs (its cascade on their own damage, by
    `CascadeGraph.dependent_cascade`), (1, D) for the trials of any other scenario (its
    deterministic cascade, the same in each). Adding them up per trial gives a year's."""
    c = model.cascade
    assert c is not None
    batches = pair_batches(model, occurs, pair_damage)
    pending = next(batches, None)
    for s in range(len(model.scenario_ids)):
        if model.variable[s] is None:
            yield np.flatnonzero(occurs[:, s]), c.nominal[s][np.newaxis, :]
            continue
        while pending is not None and pending[0] == s:
            _, rows, damage = pending
            full = _full(model, s, damage)
            yield rows, c.graph.dependent_cascade(full, c.node_group) * c.dependent_value
            pending = next(batches, None)


def dependent_losses(
    model: MonteCarloModel,
    occurs: BoolArray,
    pair_damage: FloatArray,
    columns: IntArray | None = None,
) -> FloatArray:
    """(T, D) each dependent's cascade loss in each trial (each scenario's cascade on its own
    damage, the scenarios of a year added up); with `columns`, (T, len(columns)) of those
    dependents only (positions in `CascadeModel.graph.dependents` order): the cascades are
    computed for all, the memory held is for these."""
    c = model.cascade
    width = 0 if c is None else len(c.dependent_value) if columns is None else len(columns)
    out = np.zeros((len(occurs), width))
    if c is None or not width:
        return out
    for rows, losses in _scenario_losses(model, occurs, pair_damage):
        out[rows] += losses if columns is None else losses[:, columns]
    return out


def group_losses(
    model: MonteCarloModel, occurs: BoolArray, pair_damage: FloatArray, n_groups: int
) -> FloatArray:
    """(T, G) the cascade loss of each damage group's dependents in each trial, summed batch
    by batch: no (trials x dependents) array is held."""
    c = model.cascade
    out = np.zeros((len(occurs), n_groups))
    if c is None:
        return out
    for rows, losses in _scenario_losses(model, occurs, pair_damage):
        out[rows] += c.group_loss(losses, n_groups)
    return out
