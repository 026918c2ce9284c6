"""The tornado: each input at the ends of its range, the others at their values."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskapp.engine.montecarlo import BATCH_FLOATS
from riskapp.engine.sensitivity.inputs import VAR_LEVEL, InputKind, LossModel, range_text
from riskapp.engine.sensitivity.losses import (
    occurrence,
    probabilities,
    reference_damage,
    scenario_losses,
    shifted_trial_losses,
    status_quo_loss,
    trial_basis,
    trial_losses,
    value_at_risk,
)

# -- tornado -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tornado:
    """One row per input: the expected annual loss and the VaR at the low and the high end of
    its range (`table`), around the values with every input at its value (`eal`, `var`)."""

    table: pd.DataFrame
    eal: float
    var: float
    level: float
    trials: int
    seed: int


TORNADO_COLUMNS = [
    "key",
    "kind",
    "label",
    "range",
    "low",
    "high",
    "nominal",
    "eal_low",
    "eal_high",
    "var_low",
    "var_high",
    "eal_swing",
    "var_swing",
]


def tornado(lm: LossModel, seed: int, trials: int, level: float = VAR_LEVEL) -> Tornado:
    """Move each input to the low and the high end of its range, the others at their values.

    `eal_swing` and `var_swing` are |high-end figure - low-end figure|; rows come largest
    expected-loss swing first.
    """
    m = lm.model
    spec = lm.spec
    n_s, n_f = len(m.scenario_ids), len(m.factor_ids)
    ones = np.ones(n_s)
    p0 = probabilities(spec, ones)[0]
    l0 = scenario_losses(lm, np.zeros((1, n_f)))[0]
    freqs = lm.of_kind(InputKind.FREQUENCY)
    reach = max([1.0, *(inp.high for inp in freqs), *(inp.low for inp in freqs)])
    basis = trial_basis(lm, seed, trials, reach)  # loss_if where some setting can need it
    occurs = basis.draws.occurs
    loss0 = basis.loss
    figures: dict[tuple[str, str], tuple[float, float]] = {}  # (key, end) -> (EAL, VaR)
    for inp in freqs:
        for end, setting in (("low", inp.low), ("high", inp.high)):
            mult = ones.copy()
            mult[inp.index] = setting
            occ = occurrence(spec, basis.uniforms, mult)
            figures[inp.key, end] = (
                basis.status_quo + float(probabilities(spec, mult)[0] @ l0),
                value_at_risk(basis.status_quo + (basis.loss_if * occ).sum(axis=1), level),
            )
    for inp in lm.of_kind(InputKind.FACTOR):
        for end, setting in (("low", inp.low), ("high", inp.high)):
            shift = np.zeros(n_f)
            shift[inp.index] = setting
            reference = reference_damage(lm, shift)
            sq = float(status_quo_loss(lm, shift)[0])
            loss = np.full(trials, sq)
            for s in range(n_s):
                hit = np.flatnonzero(occurs[:, s])
                if len(hit):
                    drawn = basis.draws.shock_values[hit]
                    loss[hit] += shifted_trial_losses(lm, s, drawn, shift, reference)
            figures[inp.key, end] = (
                sq + float(p0 @ scenario_losses(lm, shift[np.newaxis])[0]),
                value_at_risk(loss, level),
            )
    zero = np.zeros((1, n_f))
    shocks = lm.of_kind(InputKind.SHOCK)
    for s in sorted({inp.scenario for inp in shocks}):
        settings = [
            (inp, end, setting)
            for inp in shocks
            if inp.scenario == s
            for end, setting in (("low", inp.low), ("high", inp.high))
        ]
        hit = np.flatnonzero(occurs[:, s])
        drawn = basis.draws.shock_values[hit]
        per = max(1, BATCH_FLOATS // max(1, drawn.size))  # settings evaluated together
        for c0 in range(0, len(settings), per):
            part = settings[c0 : c0 + per]
            stacked = np.tile(drawn, (len(part), 1))
            for i, (inp, _, setting) in enumerate(part):
                stacked[i * len(hit) : (i + 1) * len(hit), inp.index] = setting
            new = trial_losses(lm, s, stacked).reshape(len(part), len(hit))
            for i, (inp, end, setting) in enumerate(part):
                values = spec.shock_value.copy()
                values[inp.index] = setting
                ls = scenario_losses(lm, zero, values, [s])[0, 0]
                loss = loss0.copy()
                loss[hit] += new[i] - basis.loss_if[hit, s]
                figures[inp.key, end] = (
                    basis.status_quo + float(p0 @ l0 + p0[s] * (ls - l0[s])),
                    value_at_risk(loss, level),
                )
    rows = []
    for inp in lm.inputs:
        (eal_low, var_low), (eal_high, var_high) = figures[inp.key, "low"], figures[inp.key, "high"]
        rows.append(
            {
                "key": inp.key,
                "kind": inp.kind.value,
                "label": inp.label,
                "range": range_text(inp),
                "low": inp.low,
                "high": inp.high,
                "nominal": inp.nominal,
                "eal_low": eal_low,
                "eal_high": eal_high,
                "var_low": var_low,
                "var_high": var_high,
                "eal_swing": abs(eal_high - eal_low),
                "var_swing": abs(var_high - var_low),
            }
        )
    table = pd.DataFrame(rows, columns=TORNADO_COLUMNS)
    table = table.sort_values(["eal_swing", "var_swing"], ascending=False, kind="stable")
    return Tornado(
        table=table.reset_index(drop=True),
        eal=basis.status_quo + float(p0 @ l0),
        var=value_at_risk(loss0, level),
        level=level,
        trials=trials,
        seed=seed,
    )
