"""Sobol indices of the portfolio's expected annual loss and VaR (SALib's Saltelli sampling)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskapp.engine.sensitivity.inputs import FloatArray, InputKind, LossModel
from riskapp.engine.sensitivity.losses import expected_annual_loss

SOBOL_SAMPLES = 256  # base points N of the Sobol sequence: N (D + 2) evaluations


# -- Sobol indices ------------------------------------------------------------------------------


SOBOL_COLUMNS = ["key", "kind", "label", "s1", "s1_conf", "st", "st_conf"]


def sobol_indices(
    names: Sequence[str],
    bounds: Sequence[tuple[float, float]],
    model: Callable[[FloatArray], FloatArray],
    samples: int = SOBOL_SAMPLES,
    seed: int = 0,
    conf_level: float = 0.95,
    resamples: int = 100,
) -> tuple[pd.DataFrame, FloatArray]:
    """First-order and total Sobol indices of `model` (rows of inputs (n, D) -> outputs (n,))
    for independent inputs uniform on `bounds`, by SALib (Saltelli sampling on a scrambled
    Sobol sequence, `samples` rounded up to a power of 2; Jansen/Saltelli estimators;
    bootstrap confidence intervals at `conf_level`). Returns the table (name, s1, s1_conf, st,
    st_conf) and the model outputs. A model whose output does not vary gets indices of 0."""
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    n = 1 << max(1, math.ceil(math.log2(max(2, samples))))
    problem = {
        "num_vars": len(names),
        "names": list(names),
        "bounds": [[float(lo), float(hi)] for lo, hi in bounds],
    }
    x = np.asarray(sample.sample(problem, n, calc_second_order=False, seed=seed), dtype=float)
    y = np.asarray(model(x), dtype=float)
    zeros = np.zeros(len(names))
    if len(names) == 0 or float(np.var(y)) <= 1e-12 * max(1.0, float(np.mean(y)) ** 2):
        s1, s1c, st, stc = zeros, zeros, zeros, zeros
    else:
        res = analyze.analyze(
            problem,
            y,
            calc_second_order=False,
            num_resamples=resamples,
            conf_level=conf_level,
            # a Generator, not the int: SALib seeds its bootstrap only `if seed:`, so seed 0
            # left the confidence intervals to the global random state (a Generator seeded
            # with n draws what SALib's own seeding with n draws)
            seed=np.random.default_rng(seed),
        )
        s1, s1c, st, stc = (
            np.asarray(res[k], dtype=float) for k in ("S1", "S1_conf", "ST", "ST_conf")
        )
    table = pd.DataFrame({"name": list(names), "s1": s1, "s1_conf": s1c, "st": st, "st_conf": stc})
    return table, y


@dataclass(frozen=True)
class SobolResult:
    """Sobol indices of the expected annual loss (`table`: one row per input), the number of
    model evaluations and the mean and standard deviation of the expected annual loss over
    the inputs' ranges."""

    table: pd.DataFrame
    samples: int
    evaluations: int
    mean: float
    sd: float
    conf_level: float


def portfolio_sobol(
    lm: LossModel,
    samples: int = SOBOL_SAMPLES,
    seed: int = 0,
    conf_level: float = 0.95,
) -> SobolResult:
    """Sobol indices of the expected annual loss with respect to the factor shifts and the
    frequency multipliers (see the module's description), by `sobol_indices`."""
    m = lm.model
    n_s, n_f = len(m.scenario_ids), len(m.factor_ids)
    chosen = lm.of_kind(InputKind.FACTOR, InputKind.FREQUENCY)
    factors = [i for i in chosen if i.kind is InputKind.FACTOR]
    freqs = [i for i in chosen if i.kind is InputKind.FREQUENCY]
    f_idx = np.array([i.index for i in factors], dtype=np.int64)
    s_idx = np.array([i.index for i in freqs], dtype=np.int64)

    def model(x: FloatArray) -> FloatArray:
        shifts = np.zeros((len(x), n_f))
        shifts[:, f_idx] = x[:, : len(factors)]
        mult = np.ones((len(x), n_s))
        mult[:, s_idx] = x[:, len(factors) :]
        return expected_annual_loss(lm, shifts, mult)

    ordered = factors + freqs
    table, y = sobol_indices(
        [i.key for i in ordered],
        [(i.low, i.high) for i in ordered],
        model,
        samples,
        seed,
        conf_level,
    )
    table = table.drop(columns="name")
    table.insert(0, "label", [i.label for i in ordered])
    table.insert(0, "kind", [i.kind.value for i in ordered])
    table.insert(0, "key", [i.key for i in ordered])
    return SobolResult(
        table=table[SOBOL_COLUMNS],
        samples=len(y) // (len(ordered) + 2) if ordered else 0,
        evaluations=len(y),
        mean=float(y.mean()) if len(y) else 0.0,
        sd=float(y.std(ddof=1)) if len(y) > 1 else 0.0,
        conf_level=conf_level,
    )
