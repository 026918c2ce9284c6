"""The uncertain inputs of a sensitivity analysis (shock ranges, scenario frequencies,
factor shifts) and the `LossModel` they move."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from riskapp.domain.scenarios import ShockOperation
from riskapp.domain.workspace import Workspace
from riskapp.engine.cascade_compiled import PortfolioCascade
from riskapp.engine.damage import AssetGroups, combined_damage, group_damage
from riskapp.engine.montecarlo import MonteCarloModel, Simulation
from riskapp.engine.sampling import SamplingSpec
from riskapp.engine.scoring import ScoreInputs, prepare

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

FREQUENCY_RANGE = (0.5, 1.5)  # multipliers of a scenario's (conditional) annual probability
SHIFT_RANGE = (-1.0, 1.0)  # intensity points added to a factor, after the shocks
VAR_LEVEL = 0.99


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
    base: FloatArray | None  # (1, G) combined status-quo damage (increments on both bases)
    inputs: list[SensitivityInput]
    cascade: PortfolioCascade | None = None  # the cascade loss as a function of group damage

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
    if op is ShockOperation.TOWARD_MAX:
        return f"{_number(value)} of the way to 10"
    if op is ShockOperation.TOWARD_MIN:
        return f"{_number(value)} of the way to 0"
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
    # scenarios are measured on their increment over the status quo, on both bases, as the
    # Monte Carlo measures them; the status-quo loss is a constant no input of the analysis moves
    base: FloatArray | None = combined_damage(
        group_damage(groups, m.baseline[np.newaxis], m.factor_ids, m.curves)
    )
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
    compiled = None if m.cascade is None else m.cascade.portfolio
    return LossModel(model=m, groups=groups, base=base, inputs=items, cascade=compiled)
