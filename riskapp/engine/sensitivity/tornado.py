"""The tornado: each input at the ends of its range, the others at their values."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskapp.engine import threads as engine_threads
from riskapp.engine.montecarlo import BATCH_FLOATS
from riskapp.engine.montecarlo.model import IntArray
from riskapp.engine.sensitivity.inputs import (
    VAR_LEVEL,
    FloatArray,
    InputKind,
    LossModel,
    range_text,
)
from riskapp.engine.sensitivity.losses import (
    DrawnYears,
    drawn_years,
    moved_losses,
    occurrence,
    probabilities,
    reference_damage,
    scenario_losses,
    scenario_losses_at,
    shifted_felt,
    shifted_fixed,
    shifted_trial_losses,
    shock_felt,
    status_quo_loss,
    trial_basis,
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


def tornado(
    lm: LossModel,
    seed: int,
    trials: int,
    level: float = VAR_LEVEL,
    progress: Callable[[int, int], None] | None = None,
    threads: int | None = None,
) -> Tornado:
    """Move each input to the low and the high end of its range, the others at their values.

    `eal_swing` and `var_swing` are |high-end figure - low-end figure|; rows come largest
    expected-loss swing first. `progress(done, total)` is called as the scenarios' years are
    done (total: the scenarios, plus one for the basis). `threads`: factor settings computed
    at once (default `riskapp.engine.threads.default_threads()`); the figures are the same.
    """
    m = lm.model
    spec = lm.spec
    n_s, n_f = len(m.scenario_ids), len(m.factor_ids)
    ones = np.ones(n_s)
    p0 = probabilities(spec, ones)[0]
    l0 = scenario_losses(lm, np.zeros((1, n_f)))[0]
    freqs = lm.of_kind(InputKind.FREQUENCY)
    reach = max([1.0, *(inp.high for inp in freqs), *(inp.low for inp in freqs)])
    # loss_if where some setting can need it
    basis = trial_basis(lm, seed, trials, reach, threads)
    if progress is not None:
        progress(1, n_s + 1)
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
    # factors and shocks moved in the same simulated years: each scenario's years are prepared
    # once (`drawn_years`) and each setting recomputes only the factor it moves
    moves = [
        (inp, end, setting)
        for inp in lm.of_kind(InputKind.FACTOR)
        for end, setting in (("low", inp.low), ("high", inp.high))
    ]
    shifts = np.zeros((len(moves), n_f))
    for i, (inp, _, setting) in enumerate(moves):
        shifts[i, inp.index] = setting
    references = [reference_damage(lm, shift) for shift in shifts]
    status_quo = status_quo_loss(lm, shifts) if moves else np.zeros(0)
    shifted = np.repeat(status_quo[:, np.newaxis], trials, axis=1)  # (moves, T)
    shocks = lm.of_kind(InputKind.SHOCK)
    moved: dict[tuple[str, str], FloatArray] = {}  # shock setting -> loss in its years
    with engine_threads.pool(threads) as pool:
        for s in range(n_s):
            if progress is not None and s:
                progress(s + 1, n_s + 1)
            hit = np.flatnonzero(occurs[:, s])
            if not len(hit):
                continue
            var = m.variable[s]
            if var is None:  # no range-driven group: one loss per setting, every year alike
                for i, shift in enumerate(shifts):
                    shifted[i, hit] += shifted_trial_losses(
                        lm, s, basis.draws.shock_values[hit[:1]], shift, references[i]
                    )[0]
                continue
            own = [
                (inp, end, setting)
                for inp in shocks
                if inp.scenario == s
                for end, setting in (("low", inp.low), ("high", inp.high))
            ]
            for inp, end, _ in own:
                moved[inp.key, end] = basis.loss_if[hit, s].copy()
            fixed = [shifted_fixed(lm, s, shift, references[i]) for i, shift in enumerate(shifts)]
            bases = [None if r is None else r[:, var.cols] for r in references]
            nominal_base = None if var.base is None else var.base[0]
            n_c = m.baseline.shape[0]
            per_row = 4 * len(var.cols) * n_f + 2 * n_c * n_f + m.n_groups
            step = max(1, BATCH_FLOATS // per_row)
            for b0 in range(0, len(hit), step):
                batch = hit[b0 : b0 + step]
                years = drawn_years(lm, s, basis.draws.shock_values[batch])

                # the settings two at a time (`riskapp.engine.threads`): each adds to its own
                # row of `shifted`
                def move(
                    i: int,
                    years: DrawnYears = years,
                    batch: IntArray = batch,
                    fixed: list[FloatArray] = fixed,
                    bases: list[FloatArray | None] = bases,
                ) -> None:
                    inp, _, setting = moves[i]
                    felt = shifted_felt(years, inp.index, setting)
                    shifted[i, batch] += moved_losses(
                        lm, years, inp.index, felt, fixed[i], bases[i]
                    )

                engine_threads.each(pool, move, range(len(moves)))
                for inp, end, setting in own:
                    found = shock_felt(lm, years, inp.index, setting)
                    if found is None:  # the shock hits no country of the baseline
                        continue
                    factor, felt = found
                    moved[inp.key, end][b0 : b0 + len(batch)] = moved_losses(
                        lm, years, factor, felt, m.nominal_damage[s], nominal_base
                    )
    if progress is not None:
        progress(n_s + 1, n_s + 1)
    for i, (inp, end, _) in enumerate(moves):
        figures[inp.key, end] = (
            float(status_quo[i]) + float(p0 @ scenario_losses(lm, shifts[i : i + 1])[0]),
            value_at_risk(shifted[i], level),
        )
    settings = [
        (inp, end, v) for inp in shocks for end, v in (("low", inp.low), ("high", inp.high))
    ]
    for s in sorted({inp.scenario for inp in shocks}):
        own = [(inp, end, v) for inp, end, v in settings if inp.scenario == s]
        values = np.repeat(spec.shock_value[np.newaxis], len(own), axis=0)
        for i, (inp, _, setting) in enumerate(own):
            values[i, inp.index] = setting
        at_setting = scenario_losses_at(lm, s, values)
        hit = np.flatnonzero(occurs[:, s])
        for (inp, end, _), ls in zip(own, at_setting.tolist(), strict=True):
            loss = loss0.copy()
            if (inp.key, end) in moved:
                loss[hit] += moved[inp.key, end] - basis.loss_if[hit, s]
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
