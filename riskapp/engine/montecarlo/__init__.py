"""Monte Carlo: distributions of annual loss from scenario frequencies, escalation ladders and
shock uncertainty ranges.

Each trial is one simulated year. The draws (see `sampling`) say which scenarios occur and the
value of every shock. The year's loss is the status-quo loss (on the absolute basis; 0 on the
incremental one) plus the sum, over the scenarios that occur, of each scenario's increment over
the status quo at the trial's shock values, dependency cascades included:

    intensity[t, s, c, f] = baseline[c, f] modified by scenario s's shocks at their trial values
    damage[t, s, g]       = combined damage of group g at those intensities (as in scoring)
    inc[t, s, g]          = max(damage[t, s, g] - base[g], 0), base = status-quo damage
    D[t, g]               = B[g] + sum over scenarios s occurring in t of inc[t, s, g]
    loss[t]               = sum_g D[t, g] x value[g] + cascade loss of the scenarios in t

B = base on the absolute basis, 0 on the incremental one. With every shock at its `value` (no
ranges) and no cascades, the mean annual loss converges to the expected annual loss, status quo
+ sum_s frequency[s] x increment[s] (`ScoreResult.expected_annual_loss`). An asset's annual loss is
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

from riskapp.engine.intensity import ShockStep
from riskapp.engine.montecarlo.model import (
    CHUNK_FLOATS,
    MAX_CHUNK,
    BoolArray,
    CascadeModel,
    FloatArray,
    IntArray,
    MonteCarloModel,
    PlanModel,
    PlanSlice,
    Simulation,
    VariableGroups,
    prepare_simulation,
    sampled_intensities,
)
from riskapp.engine.montecarlo.runner import Reducer, reduce_chunks, run, simulate
from riskapp.engine.montecarlo.statistics import (
    CASCADE_FACTOR,
    COLUMN_BLOCK,
    DEFAULT_RETURN_PERIODS,
    LEVELS,
    SimulationResult,
    binomial_cdf,
    distribution_stats,
    quantile_band,
    tail_size,
    tail_trials,
)
from riskapp.engine.montecarlo.trials import (
    BATCH_FLOATS,
    ChunkResult,
    chunk_bounds,
    evaluate_trials,
    simulate_chunk,
)

__all__ = [
    "BATCH_FLOATS",
    "CASCADE_FACTOR",
    "CHUNK_FLOATS",
    "COLUMN_BLOCK",
    "DEFAULT_RETURN_PERIODS",
    "LEVELS",
    "MAX_CHUNK",
    "BoolArray",
    "CascadeModel",
    "ChunkResult",
    "FloatArray",
    "IntArray",
    "MonteCarloModel",
    "PlanModel",
    "PlanSlice",
    "Reducer",
    "ShockStep",
    "Simulation",
    "SimulationResult",
    "VariableGroups",
    "binomial_cdf",
    "chunk_bounds",
    "distribution_stats",
    "evaluate_trials",
    "prepare_simulation",
    "quantile_band",
    "reduce_chunks",
    "run",
    "sampled_intensities",
    "simulate",
    "simulate_chunk",
    "tail_size",
    "tail_trials",
]
