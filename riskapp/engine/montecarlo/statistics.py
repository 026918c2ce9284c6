"""Statistics of a run: VaR, ES, quantile bands and the `SimulationResult` tables per asset,
country, type, factor, scenario and plan."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskapp.engine.montecarlo import cascades
from riskapp.engine.montecarlo.model import (
    BoolArray,
    FloatArray,
    IntArray,
    MonteCarloModel,
    Simulation,
)

LEVELS = (0.95, 0.99)
CASCADE_FACTOR = "dependency_cascade"
DEFAULT_RETURN_PERIODS = (2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 250.0, 500.0, 1000.0)
COLUMN_BLOCK = 512  # columns of (trials x columns) results processed at a time
CASCADE_BLOCK_FLOATS = 32_000_000  # per-trial cascade losses held at once (256 MB)
T = TypeVar("T")


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
    cascade: FloatArray  # (T,) cascade loss of the portfolio (part of `loss`)
    pair_damage: FloatArray  # what each dependent's cascade is computed from (`cascades`)
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

    def _kept(self, name: str, compute: Callable[[], T]) -> T:
        """A figure computed once per result (a frozen dataclass: kept out of its fields)."""
        if name not in self.__dict__:
            self.__dict__[name] = compute()
        value: T = self.__dict__[name]
        return value

    @property
    def cascade_loss(self) -> FloatArray:
        """(T, D) each dependent's cascade loss in each trial (D = 0 without cascades),
        computed on first use (what per-asset distributions need; means and tail
        contributions come from `cascade_sums` without it)."""
        return self._kept(
            "_cascade_loss",
            lambda: cascades.dependent_losses(self.model, self.occurs, self.pair_damage),
        )

    @property
    def cascade_group_loss(self) -> FloatArray:
        """(T, G) the cascade loss of the dependents of each group, (T, 0) without cascades."""
        c = self.model.cascade
        if c is None:
            return np.zeros((self.trials, 0))
        return self._kept(
            "_cascade_group_loss",
            lambda: cascades.group_losses(
                self.model, self.occurs, self.pair_damage, self.model.n_groups
            ),
        )

    def cascade_sums(self, trials: IntArray | None = None) -> FloatArray:
        """(D,) each dependent's cascade loss summed over the trials (all, or these)."""
        if trials is None:
            return self._kept(
                "_cascade_sums",
                lambda: cascades.dependent_sums(self.model, self.occurs, self.pair_damage),
            )
        return cascades.dependent_sums(self.model, self.occurs, self.pair_damage, trials)

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
        """One row for the portfolio (and one for the residual loss if plans were simulated).
        Computed once per result (pages read it several times); each call gets a copy."""
        return self._kept("_portfolio_table", self._portfolio_table).copy()

    def _portfolio_table(self) -> pd.DataFrame:
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
            values = np.column_stack([values, self.cascade])
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

    def asset_table(self, rows: IntArray | None = None) -> pd.DataFrame:
        """One row per asset (or per asset at the positions `rows`, in that order): its
        stand-alone distribution and its tail contribution.

        Computed per group and scaled by each asset's exposed value (quantiles scale with a
        positive factor); assets that take cascade losses get their own figures, from their
        cascade losses trial by trial, computed for at most `CASCADE_BLOCK_FLOATS` (trials x
        dependents) values at a time: the cascades are recomputed per block rather than held
        for every dependent at once.
        """
        sim = self.sim
        picked = np.arange(len(sim.of_asset)) if rows is None else np.asarray(rows, np.int64)
        per_group = self._table(
            "group", [str(g) for g in range(self.model.n_groups)], self.group_damage
        )
        cols = [c for c in per_group.columns if c not in ("dimension", "key")]
        g = sim.of_asset[picked]
        value = sim.exposed_value[picked]
        columns = {c: per_group[c].to_numpy()[g] * value for c in cols}
        if self.model.n_dependents:
            columns["cascade_mean"] = np.zeros(len(g))
            # which of the picked assets are dependents, and which dependent each is
            where = np.full(len(sim.of_asset), -1, dtype=np.int64)
            where[sim.dependent_rows] = np.arange(len(sim.dependent_rows))
            at = np.flatnonzero(where[picked] >= 0)  # positions in the table
            step = max(COLUMN_BLOCK, CASCADE_BLOCK_FLOATS // max(self.trials, 1))
            for p0 in range(0, len(at), step):
                part = at[p0 : p0 + step]
                losses = cascades.dependent_losses(
                    self.model, self.occurs, self.pair_damage, where[picked[part]]
                )
                for b0 in range(0, len(part), COLUMN_BLOCK):
                    block = part[b0 : b0 + COLUMN_BLOCK]
                    cascade = losses[:, b0 : b0 + COLUMN_BLOCK]
                    own = self.group_damage[:, g[block]] * value[block] + cascade
                    dep = self._table("asset", [""] * len(block), own)
                    for c in cols:
                        columns[c][block] = dep[c].to_numpy()
                    columns["cascade_mean"][block] = cascade.mean(axis=0)
        table = pd.DataFrame(columns)
        table.insert(0, "key", sim.asset_ids[picked])
        table.insert(0, "dimension", "asset")
        return table

    def asset_contributions(self) -> pd.DataFrame:
        """One row per asset (key, mean, cascade_mean and the tail contributions tail_es_95,
        tail_es_99): the columns of `asset_table` that need no quantile of the asset's own
        losses, so no sort per asset and no (trials x dependents) array: each dependent's
        cascade loss is summed over all trials and over each tail's (`cascade_sums`). Equal to
        `asset_table`'s columns of the same name (to rounding). Computed once per result;
        each call gets a copy."""
        return self._kept("_asset_contributions", self._asset_contributions).copy()

    def _asset_contributions(self) -> pd.DataFrame:
        sim = self.sim
        g = sim.of_asset
        columns = {"mean": self.group_damage.mean(axis=0)[g] * sim.exposed_value}
        tails = {level: self.tail(level) for level in LEVELS}
        for level, rows in tails.items():
            tag = f"tail_es_{round(level * 100):d}"
            columns[tag] = self.group_damage[rows].mean(axis=0)[g] * sim.exposed_value
        columns["cascade_mean"] = np.zeros(len(g))
        if self.model.n_dependents:
            deps = sim.dependent_rows
            mean = self.cascade_sums() / self.trials
            columns["mean"][deps] += mean
            columns["cascade_mean"][deps] = mean
            for level, rows in tails.items():
                tag = f"tail_es_{round(level * 100):d}"
                columns[tag][deps] += self.cascade_sums(rows) / len(rows)
        table = pd.DataFrame(columns)
        table.insert(0, "key", sim.asset_ids)
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
