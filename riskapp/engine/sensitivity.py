"""Sensitivity: which inputs move the portfolio loss, one at a time (tornado) and all together
(variance-based Sobol indices).

Inputs. Three kinds of input are moved, each across a stated range around its value:

- a scenario's *frequency*, multiplied by 0.5 to 1.5 (capped at an annual probability of 1).
  For a rung of an escalation ladder the multiplier applies to its conditional probability
  (the chance that it follows its parent); for a scenario that others escalate from, its rungs
  follow it, so their annual probabilities move with it. A scenario certain to occur (an
  annual probability, or conditional probability, of 0 or 1, such as today's status quo) has
  no frequency input.
- a factor's *intensity*, shifted by -1 to +1 points everywhere: today's baseline and every
  scenario's intensities after its shocks, in every country (clamped to 0-10, as after a
  shock). It asks what follows if the intensities of the factor, as estimated, are a point
  too low or too high. On the incremental basis the baseline that losses are counted above
  moves with the shift, so a factor's shift changes the loss a scenario adds only as far as
  the curves bend (or intensities reach 0 or 10); on the absolute basis every loss moves.
  Factors that no asset has a vulnerability curve for are left out.
- a shock's *value*, moved from the low to the high end of its uncertainty range
  `{low, mode, high}` (shocks without a range are left out).

Loss. For a set of inputs the engine scores every scenario as scoring does (curves, combination
across factors, loss basis, dependency cascades if the run has them) at the shocks' values,
giving each scenario's loss L_s; the expected annual loss is sum_s p_s L_s with p_s the annual
probability the ladder implies (`SamplingSpec.marginal_probabilities`).

Tornado (`tornado`). Each input is set to the low and then the high end of its range, every
other input staying at its value; the table gives the expected annual loss and the 99 % VaR at
both ends. The expected annual loss is computed exactly (shocks at their values). The VaR is
read from the simulated years of the run with the run's seed, with common random numbers:
every setting reuses the run's draws (which scenarios occur, every shock's drawn value), so the
difference between two settings is the effect of the input, not noise. A shock input fixes that
shock at its low or high end in every simulated year. A frequency input re-decides occurrence
from a uniform number per (year, scenario) drawn to agree with the run's occurrences: if the
scenario occurred in a year the number is uniform below its probability p, if not, above it
(and, for a rung whose parent did not occur, anywhere); a scenario then occurs at multiplier m
when that number is below m p (and, for a rung, its parent occurs). At m = 1 this gives back
the run's years exactly; at any m the occurrences have the stated probabilities.

Sobol indices (`portfolio_sobol`). Every factor shift (uniform on -1..+1 points) and every
frequency multiplier (uniform on 0.5..1.5) is uncertain at once, independently, and the model
is the expected annual loss above (deterministic, so the indices measure the inputs, not
sampling noise). The first-order index S1 of an input is the share of the variance of the
expected annual loss that the input explains on its own; the total index ST adds its
interactions with the other inputs (ST >= S1; ST - S1 is interaction). They come from SALib's
Saltelli-Sobol estimators (`SALib.sample.sobol`, `SALib.analyze.sobol`, second-order indices
not computed): N base points of a scrambled Sobol sequence give N (D + 2) evaluations for D
inputs, and confidence intervals come from bootstrap resampling. Small estimates can come out
slightly negative or above 1: read them with their intervals.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskapp.domain.scenarios import ShockOperation
from riskapp.domain.workspace import LossBasis, Workspace
from riskapp.engine.damage import AssetGroups, above_baseline, combined_damage, group_damage
from riskapp.engine.intensity import apply_shock
from riskapp.engine.montecarlo import (
    BATCH_FLOATS,
    MonteCarloModel,
    Simulation,
    sampled_intensities,
)
from riskapp.engine.sampling import SamplingSpec, TrialDraws
from riskapp.engine.scoring import ScoreInputs, prepare

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

FREQUENCY_RANGE = (0.5, 1.5)  # multipliers of a scenario's (conditional) annual probability
SHIFT_RANGE = (-1.0, 1.0)  # intensity points added to a factor, after the shocks
VAR_LEVEL = 0.99
SOBOL_SAMPLES = 256  # base points N of the Sobol sequence: N (D + 2) evaluations
COUPLING_KEY = 0x5E45  # spawn key of the generator of the coupled occurrence numbers


class InputKind(StrEnum):
    FREQUENCY = "frequency"
    FACTOR = "factor"
    SHOCK = "shock"


@dataclass(frozen=True)
class SensitivityInput:
    """One input moved across its range: `low` and `high` are its two settings, `nominal` its
    value (a multiplier for a frequency, intensity points for a factor, the shock's value)."""

    kind: InputKind
    key: str  # scenario id, factor id, or "scenario_id/k" (the scenario's k-th shock)
    label: str
    index: int  # scenario index, factor index, or position in the flattened shock values
    scenario: int  # scenario of a frequency or shock input, -1 for a factor
    low: float
    high: float
    nominal: float


@dataclass(frozen=True)
class LossModel:
    """The simulation model plus what moving the inputs needs: every asset group's damage path
    (the simulation keeps only the range-driven ones) and the baseline damage of the incremental
    basis."""

    model: MonteCarloModel
    groups: AssetGroups
    base: FloatArray | None  # (1, G) combined baseline damage, incremental basis only
    inputs: list[SensitivityInput]

    @property
    def spec(self) -> SamplingSpec:
        return self.model.sampling

    def of_kind(self, *kinds: InputKind) -> list[SensitivityInput]:
        return [i for i in self.inputs if i.kind in kinds]


def _number(value: float) -> str:
    return f"{value:g}"


def _shock_text(op: ShockOperation, value: float) -> str:
    if op is ShockOperation.SET:
        return f"set to {_number(value)}"
    if op is ShockOperation.ADD:
        return f"{value:+g} points"
    return f"x{_number(value)}"


def range_text(inp: SensitivityInput) -> str:
    """The input's range as users read it: x0.5 to x1.5, -1 to +1 points, 2 to 4.5."""
    if inp.kind is InputKind.FREQUENCY:
        return f"x{inp.low:g} to x{inp.high:g}"
    if inp.kind is InputKind.FACTOR:
        return f"{inp.low:+g} to {inp.high:+g} points"
    return f"{inp.low:g} to {inp.high:g}"


def _own_probability(spec: SamplingSpec, s: int) -> float:
    return float(spec.frequency[s] if spec.parent[s] < 0 else spec.probability[s])


def loss_model(
    ws: Workspace,
    sim: Simulation,
    inputs: ScoreInputs | None = None,
    frequency_range: tuple[float, float] = FREQUENCY_RANGE,
    shift_range: tuple[float, float] = SHIFT_RANGE,
) -> LossModel:
    """The inputs of a workspace's sensitivity analysis and the model to move them in.

    `sim` is the workspace's `prepare_simulation` (its loss basis, cascades and shock
    distribution are used); `inputs` its `prepare(ws)` if already at hand.
    """
    inputs = inputs or prepare(ws)
    m = sim.model
    groups = inputs.groups
    base = None
    if m.basis is LossBasis.INCREMENTAL:
        base = combined_damage(group_damage(groups, m.baseline[np.newaxis], m.factor_ids, m.curves))
    spec = m.sampling
    items: list[SensitivityInput] = []
    titles = {s.id: s.title for s in ws.scenarios}
    for s, sid in enumerate(m.scenario_ids):
        p = _own_probability(spec, s)
        if 0.0 < p < 1.0:
            what = "Conditional probability" if spec.parent[s] >= 0 else "Frequency"
            items.append(
                SensitivityInput(
                    InputKind.FREQUENCY,
                    sid,
                    f"{what} of {titles.get(sid, sid)}",
                    s,
                    s,
                    frequency_range[0],
                    frequency_range[1],
                    1.0,
                )
            )
    names = {f.id: f.name for f in ws.factors.factors}
    type_curves = m.curves.type_curves()
    owners = set(groups.override_owner.tolist()) - {""}
    felt = {f for t in set(groups.type.tolist()) for (ct, f) in type_curves if ct == t}
    felt |= {f for (owner, f) in m.curves.override_curves() if owner in owners}
    for j, fid in enumerate(m.factor_ids):
        if fid in felt:
            items.append(
                SensitivityInput(
                    InputKind.FACTOR,
                    fid,
                    f"Intensity of {names.get(fid, fid)}",
                    j,
                    -1,
                    shift_range[0],
                    shift_range[1],
                    0.0,
                )
            )
    ranged = set(spec.ranged.tolist())
    position = 0
    region_names = {g.id: g.name for g in ws.regions.groups}
    by_id = {sc.id: sc for sc in ws.scenarios}
    for s, sid in enumerate(m.scenario_ids):
        scenario = by_id[sid]
        for k, shock in enumerate(scenario.shocks):
            if position in ranged and shock.range is not None:
                target = region_names.get(shock.target, shock.target)
                items.append(
                    SensitivityInput(
                        InputKind.SHOCK,
                        f"{sid}/{k}",
                        f"{names.get(shock.factor, shock.factor)} "
                        f"{_shock_text(shock.op, shock.value)} in {target} ({scenario.title})",
                        position,
                        s,
                        float(shock.range.low),
                        float(shock.range.high),
                        float(shock.value),
                    )
                )
            position += 1
    return LossModel(model=m, groups=groups, base=base, inputs=items)


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


def _reference(
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


def _portfolio_loss(lm: LossModel, damage: FloatArray) -> FloatArray:
    """(n,) loss of (n, G) group damage ratios, dependency cascades included."""
    m = lm.model
    loss: FloatArray = damage @ m.group_value
    c = m.cascade
    if c is not None:
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
) -> FloatArray:
    """(n, S') loss of each scenario (as if it occurs) for each row of factor shifts (n, F),
    with the shocks at `values` (default: their values; flattened as `SamplingSpec` holds
    them). `scenarios` restricts the columns to those scenarios, in that order."""
    m = lm.model
    values = m.sampling.shock_value if values is None else values
    chosen = list(range(len(m.scenario_ids))) if scenarios is None else list(scenarios)
    unique, inverse = np.unique(np.atleast_2d(shifts), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    n_c, n_f = m.baseline.shape
    base = np.concatenate(
        [sampled_intensities(m.baseline, m.programs[s], values[np.newaxis]) for s in chosen]
    )  # (S', C, F)
    out = np.zeros((len(unique), len(chosen)))
    per_row = max(1, len(chosen) * (n_c * n_f + 4 * lm.groups.count * n_f))
    step = max(1, BATCH_FLOATS // per_row)
    if lm.base is not None:  # today's baseline first: the incremental basis moves it too
        base = np.concatenate([m.baseline[np.newaxis], base])
    for b0 in range(0, len(unique), step):
        sh = unique[b0 : b0 + step]
        n_b = len(sh)
        intensities = _shifted(base[np.newaxis], sh[:, np.newaxis, np.newaxis, :])
        raw = group_damage(lm.groups, intensities.reshape(-1, n_c, n_f), m.factor_ids, m.curves)
        combined = combined_damage(raw).reshape(n_b, len(base), -1)
        if lm.base is not None:
            combined = _on_basis(combined[:, 1:], combined[:, :1])
        damage = combined.reshape(n_b * len(chosen), -1)
        out[b0 : b0 + n_b] = _portfolio_loss(lm, damage).reshape(n_b, len(chosen))
    result: FloatArray = out[inverse]
    return result


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
    """(n,) expected annual loss, sum_s p_s L_s, for rows of factor shifts (n, F) and
    frequency multipliers (n, S), shocks at their values, cascades included."""
    p = probabilities(lm.spec, multipliers)
    result: FloatArray = (p * scenario_losses(lm, shifts)).sum(axis=1)
    return result


def trial_losses(
    lm: LossModel, s: int, values: FloatArray, shift: FloatArray | None = None
) -> FloatArray:
    """(n,) loss of scenario `s` in n simulated years with shock values (n, N), as if it
    occurs in each, with an optional factor shift (F,). Without a shift this is the Monte
    Carlo's own per-scenario loss of those years (`ChunkResult.scenario_loss`)."""
    if shift is None or not shift.any():
        return _trial_losses(lm, s, values, None, None)
    return _trial_losses(lm, s, values, shift, _reference(lm, shift))


def _trial_losses(
    lm: LossModel,
    s: int,
    values: FloatArray,
    shift: FloatArray | None,
    reference: FloatArray | None,
) -> FloatArray:
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
class TrialBasis:
    """A run's simulated years made ready for moving inputs with common random numbers: its
    draws, each scenario's loss in every year as if it occurred (a year's loss is the sum over
    the scenarios that occur), and the coupled occurrence numbers."""

    draws: TrialDraws
    loss_if: FloatArray  # (T, S)
    uniforms: FloatArray  # (T, S)

    @property
    def loss(self) -> FloatArray:
        result: FloatArray = (self.loss_if * self.draws.occurs).sum(axis=1)
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


def trial_basis(lm: LossModel, seed: int, trials: int) -> TrialBasis:
    """The years of the run with `seed` (the same draws as `montecarlo.run`)."""
    spec = lm.spec
    draws = spec.draw(seed, 0, trials)
    loss_if = np.column_stack(
        [trial_losses(lm, s, draws.shock_values) for s in range(len(spec.scenario_ids))]
    ).reshape(trials, -1)
    return TrialBasis(draws, loss_if, coupled_uniforms(spec, draws.occurs, seed))


def value_at_risk(loss: FloatArray, level: float = VAR_LEVEL) -> float:
    """The ceil(level T)-th smallest of T losses, as `distribution_stats` reads VaR."""
    t = len(loss)
    k = min(t, max(1, math.ceil(level * t - 1e-9))) - 1
    return float(np.partition(loss, k)[k])


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
    basis = trial_basis(lm, seed, trials)
    occurs = basis.draws.occurs
    loss0 = basis.loss
    figures: dict[tuple[str, str], tuple[float, float]] = {}  # (key, end) -> (EAL, VaR)
    for inp in lm.of_kind(InputKind.FREQUENCY):
        for end, setting in (("low", inp.low), ("high", inp.high)):
            mult = ones.copy()
            mult[inp.index] = setting
            occ = occurrence(spec, basis.uniforms, mult)
            figures[inp.key, end] = (
                float(probabilities(spec, mult)[0] @ l0),
                value_at_risk((basis.loss_if * occ).sum(axis=1), level),
            )
    for inp in lm.of_kind(InputKind.FACTOR):
        for end, setting in (("low", inp.low), ("high", inp.high)):
            shift = np.zeros(n_f)
            shift[inp.index] = setting
            reference = _reference(lm, shift)
            loss = np.zeros(trials)
            for s in range(n_s):
                hit = np.flatnonzero(occurs[:, s])
                if len(hit):
                    drawn = basis.draws.shock_values[hit]
                    loss[hit] += _trial_losses(lm, s, drawn, shift, reference)
            figures[inp.key, end] = (
                float(p0 @ scenario_losses(lm, shift[np.newaxis])[0]),
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
                    float(p0 @ l0 + p0[s] * (ls - l0[s])),
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
        eal=float(p0 @ l0),
        var=value_at_risk(loss0, level),
        level=level,
        trials=trials,
        seed=seed,
    )


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
            seed=seed,
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
