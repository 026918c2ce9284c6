"""Random draws of the Monte Carlo: which scenarios occur in a simulated year, and how strong
their shocks are.

Each trial is one year. A scenario without an escalation ladder occurs in a year with
probability equal to its annual `frequency` (at most once a year; scenarios occur independently
of each other). A scenario that escalates from another occurs only in a year in which its parent
occurs, and then with the step's conditional probability; so its annual probability is the
product of the root's frequency and the conditional probabilities along the ladder.

A shock with an uncertainty range `{low, mode, high}` takes, in every trial, a value drawn
from a PERT or a triangular distribution on that range (chosen for the run, PERT by
default); a shock without a range, or with `low = high`, keeps its `value`. Shock
values are drawn independently of each other and of whether their scenario occurs.

Reproducibility: trials are numbered 0, 1, 2, ... and come in fixed blocks of
`TRIALS_PER_BLOCK`. Block b draws from its own generator, seeded with child b of
`numpy.random.SeedSequence(seed)` (what `SeedSequence(seed).spawn(b + 1)[b]` returns). A
trial's draws therefore depend only on the seed and the trial's number: any split of the trials
into chunks, run on any number of workers in any order, gives the same draws, and a run with
more trials extends a shorter run with the same seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from riskapp.domain.scenarios import Scenario
from riskapp.engine.enums import RangeDistribution  # defined there (light, for the CLI)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

TRIALS_PER_BLOCK = 1000
PERT_LAMBDA = 4.0


def pert_parameters(
    low: FloatArray, mode: FloatArray, high: FloatArray, lam: float = PERT_LAMBDA
) -> tuple[FloatArray, FloatArray]:
    """Shape parameters of the (modified) PERT distribution, a beta distribution on [low, high].

        alpha = 1 + lam (mode - low) / (high - low)
        beta  = 1 + lam (high - mode) / (high - low)
        value = low + (high - low) X,   X ~ Beta(alpha, beta)

    With lam = 4 (the classic PERT) its mean is (low + 4 mode + high) / 6 and its variance
    (mean - low)(high - mean) / 7: the mode weighs four times as much as either end.
    Requires high > low.
    """
    width = high - low
    alpha = 1.0 + lam * (mode - low) / width
    beta = 1.0 + lam * (high - mode) / width
    return alpha, beta


def range_moments(
    low: FloatArray,
    mode: FloatArray,
    high: FloatArray,
    distribution: RangeDistribution,
    lam: float = PERT_LAMBDA,
) -> tuple[FloatArray, FloatArray]:
    """Theoretical mean and variance of a shock drawn from its range.

    PERT: mean (low + lam mode + high) / (lam + 2), variance (mean - low)(high - mean) / (lam + 3).
    Triangular: mean (low + mode + high) / 3, variance
    (low^2 + mode^2 + high^2 - low mode - low high - mode high) / 18.
    """
    if distribution is RangeDistribution.PERT:
        mean = (low + lam * mode + high) / (lam + 2.0)
        var = (mean - low) * (high - mean) / (lam + 3.0)
    else:
        mean = (low + mode + high) / 3.0
        var = (low**2 + mode**2 + high**2 - low * mode - low * high - mode * high) / 18.0
    return mean, var


def sample_range(
    rng: np.random.Generator,
    low: FloatArray,
    mode: FloatArray,
    high: FloatArray,
    distribution: RangeDistribution,
    n: int,
    lam: float = PERT_LAMBDA,
) -> FloatArray:
    """(n, K) draws for K ranges (each with high > low).

    PERT: `low + (high - low) Beta(alpha, beta)` (see `pert_parameters`). Triangular: by its
    inverse distribution function from a uniform u: with c = (mode - low) / (high - low),
    `low + sqrt(u (high - low)(mode - low))` if u < c, else
    `high - sqrt((1 - u)(high - low)(high - mode))`.
    """
    width = high - low
    if distribution is RangeDistribution.PERT:
        alpha, beta = pert_parameters(low, mode, high, lam)
        x: FloatArray = rng.beta(alpha, beta, size=(n, len(low)))
        return low + width * x
    u = rng.random((n, len(low)))
    c = (mode - low) / width
    left = low + np.sqrt(u * width * (mode - low))
    right = high - np.sqrt((1.0 - u) * width * (high - mode))
    result: FloatArray = np.where(u < c, left, right)
    return result


def block_seed(seed: int, block: int) -> np.random.SeedSequence:
    """Seed of block `block`: child `block` of `SeedSequence(seed)`, built directly."""
    return np.random.SeedSequence(seed, spawn_key=(block,))


@dataclass(frozen=True)
class TrialDraws:
    """The random inputs of a run of trials.

    `occurs[t, s]`: whether scenario s occurs in trial t; `shock_values[t, k]`: the value of
    shock k (shocks flattened over scenarios in file order, as `scenario_intensities` reads
    them).
    """

    occurs: BoolArray  # (n, S)
    shock_values: FloatArray  # (n, N)

    def __len__(self) -> int:
        return int(self.occurs.shape[0])


@dataclass(frozen=True)
class SamplingSpec:
    """What is random in a workspace's scenarios, as arrays (picklable, no models).

    `parent[s]` is the index of the scenario s escalates from (-1 for none, or if its parent
    is not in the run, in which case s occurs on its own with its `frequency`); `order` lists
    the scenarios parents first. Shocks are flattened over scenarios in file order; `ranged`
    are the positions of the shocks drawn from a range.
    """

    scenario_ids: list[str]
    frequency: FloatArray  # (S,)
    parent: IntArray  # (S,)
    probability: FloatArray  # (S,) conditional probability given the parent
    order: IntArray  # (S,)
    shock_value: FloatArray  # (N,)
    ranged: IntArray  # (K,)
    low: FloatArray  # (K,)
    mode: FloatArray  # (K,)
    high: FloatArray  # (K,)
    distribution: RangeDistribution

    @classmethod
    def from_scenarios(
        cls,
        scenarios: Sequence[Scenario],
        distribution: RangeDistribution = RangeDistribution.PERT,
    ) -> SamplingSpec:
        ids = [s.id for s in scenarios]
        index = {sid: i for i, sid in enumerate(ids)}
        parent = np.full(len(ids), -1, dtype=np.int64)
        prob = np.ones(len(ids))
        for i, s in enumerate(scenarios):
            step = s.escalates_from
            if step is not None and step.scenario in index:
                parent[i] = index[step.scenario]
                prob[i] = step.probability
        order = _parents_first(parent)
        values: list[float] = []
        ranged: list[int] = []
        low: list[float] = []
        mode: list[float] = []
        high: list[float] = []
        for s in scenarios:
            for shock in s.shocks:
                r = shock.range
                if r is not None and r.high > r.low:
                    ranged.append(len(values))
                    low.append(r.low)
                    mode.append(r.mode)
                    high.append(r.high)
                values.append(shock.value)
        return cls(
            scenario_ids=ids,
            frequency=np.array([s.frequency for s in scenarios], dtype=float),
            parent=parent,
            probability=prob,
            order=order,
            shock_value=np.array(values, dtype=float),
            ranged=np.array(ranged, dtype=np.int64),
            low=np.array(low, dtype=float),
            mode=np.array(mode, dtype=float),
            high=np.array(high, dtype=float),
            distribution=distribution,
        )

    def marginal_probabilities(self) -> FloatArray:
        """Annual probability of each scenario as the ladder implies it: the root's frequency
        times the conditional probabilities down to the scenario."""
        p = np.zeros(len(self.scenario_ids))
        for s in self.order.tolist():
            par = int(self.parent[s])
            p[s] = self.frequency[s] if par < 0 else p[par] * self.probability[s]
        return p

    def draw_block(self, seed: int, block: int) -> TrialDraws:
        """All `TRIALS_PER_BLOCK` trials of one block: first a uniform per (trial, scenario)
        for occurrence, then the ranged shock values."""
        rng = np.random.Generator(np.random.PCG64(block_seed(seed, block)))
        n, n_s = TRIALS_PER_BLOCK, len(self.scenario_ids)
        u = rng.random((n, n_s))
        occurs = np.zeros((n, n_s), dtype=bool)
        for s in self.order.tolist():
            par = int(self.parent[s])
            if par < 0:
                occurs[:, s] = u[:, s] < self.frequency[s]
            else:
                occurs[:, s] = occurs[:, par] & (u[:, s] < self.probability[s])
        values = np.repeat(self.shock_value[np.newaxis, :], n, axis=0)
        if len(self.ranged):
            values[:, self.ranged] = sample_range(
                rng, self.low, self.mode, self.high, self.distribution, n
            )
        return TrialDraws(occurs, values)

    def draw(self, seed: int, start: int, stop: int) -> TrialDraws:
        """Draws of trials `start` to `stop - 1` (whole blocks are drawn and cut)."""
        if stop <= start:
            n_s, n_k = len(self.scenario_ids), len(self.shock_value)
            return TrialDraws(np.zeros((0, n_s), dtype=bool), np.zeros((0, n_k)))
        first, last = start // TRIALS_PER_BLOCK, (stop - 1) // TRIALS_PER_BLOCK
        blocks = [self.draw_block(seed, b) for b in range(first, last + 1)]
        lo = start - first * TRIALS_PER_BLOCK
        hi = lo + (stop - start)
        occurs = np.concatenate([b.occurs for b in blocks])[lo:hi]
        values = np.concatenate([b.shock_values for b in blocks])[lo:hi]
        return TrialDraws(np.ascontiguousarray(occurs), np.ascontiguousarray(values))


def _parents_first(parent: IntArray) -> IntArray:
    """Scenario indices ordered so that every parent comes before its children (file order
    otherwise). The ladder is checked for cycles when the workspace loads."""
    n = len(parent)
    depth = np.zeros(n, dtype=np.int64)
    for s in range(n):
        p, d = int(parent[s]), 0
        while p >= 0 and d <= n:
            d += 1
            p = int(parent[p])
        if d > n:
            raise ValueError("escalation ladder has a cycle")
        depth[s] = d
    order: IntArray = np.argsort(depth, kind="stable").astype(np.int64)
    return order
