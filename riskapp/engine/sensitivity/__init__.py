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

from riskapp.engine.sensitivity.inputs import (
    FREQUENCY_RANGE,
    SHIFT_RANGE,
    VAR_LEVEL,
    BoolArray,
    FloatArray,
    InputKind,
    IntArray,
    LossModel,
    SensitivityInput,
    loss_model,
    range_text,
)
from riskapp.engine.sensitivity.losses import (
    COUPLING_KEY,
    TrialBasis,
    coupled_uniforms,
    expected_annual_loss,
    occurrence,
    probabilities,
    reference_damage,
    scenario_losses,
    shifted_trial_losses,
    trial_basis,
    trial_losses,
    value_at_risk,
)
from riskapp.engine.sensitivity.sobol import (
    SOBOL_COLUMNS,
    SOBOL_SAMPLES,
    SobolResult,
    portfolio_sobol,
    sobol_indices,
)
from riskapp.engine.sensitivity.tornado import TORNADO_COLUMNS, Tornado, tornado

__all__ = [
    "COUPLING_KEY",
    "FREQUENCY_RANGE",
    "SHIFT_RANGE",
    "SOBOL_COLUMNS",
    "SOBOL_SAMPLES",
    "TORNADO_COLUMNS",
    "VAR_LEVEL",
    "BoolArray",
    "FloatArray",
    "InputKind",
    "IntArray",
    "LossModel",
    "SensitivityInput",
    "SobolResult",
    "Tornado",
    "TrialBasis",
    "coupled_uniforms",
    "expected_annual_loss",
    "loss_model",
    "occurrence",
    "portfolio_sobol",
    "probabilities",
    "range_text",
    "reference_damage",
    "scenario_losses",
    "shifted_trial_losses",
    "sobol_indices",
    "tornado",
    "trial_basis",
    "trial_losses",
    "value_at_risk",
]
