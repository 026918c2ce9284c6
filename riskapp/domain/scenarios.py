"""Scenarios: named shocks to factor intensities with an annual probability of occurring."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator, model_validator

from riskapp.domain.common import (
    Identifier,
    NoBool,
    NonNegative,
    Probability,
    ShortText,
    Slug,
    Strict,
    Text,
)

Finite = Annotated[float, NoBool, Field(ge=-1e6, le=1e6)]


class ShockOperation(StrEnum):
    SET = "set"
    ADD = "add"
    SCALE = "scale"
    TOWARD_MAX = "toward_max"
    TOWARD_MIN = "toward_min"


class UncertaintyRange(Strict):
    """Low / most likely / high value of a shock, for Monte Carlo sampling."""

    low: Finite
    mode: Finite
    high: Finite

    @model_validator(mode="after")
    def _ordered(self) -> UncertaintyRange:
        if not self.low <= self.mode <= self.high:
            raise ValueError(
                f"expected low <= mode <= high; got {self.low}, {self.mode}, {self.high}"
            )
        return self


class Shock(Strict):
    """Change to one factor's intensity in a country, region group or zone.

    `set` replaces the intensity x with `value` (0-10), `add` adds `value` (-10..10), `scale`
    multiplies by `value` (0-10). The result is clamped to 0-10, and every clamp is reported
    (`riskapp validate`, `riskapp score`, the Scenarios page, every report's "Shocks that hit
    the scale's limit"), at the shock's value and at the ends of its uncertainty range (which
    the Monte Carlo draws): a country already at 9 gains only 1 point from `add 3`, one at 10
    gains nothing.

    The headroom operations never clamp. `toward_max` moves the intensity the fraction
    `value` (0-1) of the way to 10:

        new = x + value x (10 - x)

    and `toward_min` the fraction `value` of the way to 0: new = x - value x x. Example: with
    energy weaponization at 4 in Poland and 9 in Latvia, `add 3` gives 7 and 12, held at 10
    (2 points lost, reported); `toward_max 0.5` gives 4 + 0.5 x 6 = 7 and 9 + 0.5 x 1 = 9.5.
    The order of countries is kept and the increase is largest where there is most headroom;
    a country at 10 stays at 10. An uncertainty range of a headroom shock is a range of
    fractions (0-1).
    """

    target: Annotated[str, Field(min_length=2, max_length=48)] = Field(
        description="ISO 3166-1 alpha-3 country code, region group id, or zone id (a shipped "
        "sea area such as baltic_sea, or a zone of the workspace's zones file)."
    )
    factor: Slug
    op: ShockOperation = Field(
        description="set: replace the intensity by value (0-10); add: add value (-10 to 10); "
        "scale: multiply by value (0-10); toward_max: move the fraction value (0-1) of the way "
        "to 10, x + value x (10 - x); toward_min: move the fraction value (0-1) of the way to "
        "0, x - value x x. set, add and scale are clamped to the 0-10 scale (and the clamp is "
        "reported); toward_max and toward_min respect each country's headroom and never clamp."
    )
    value: Finite = Field(
        description="The shock's size, in the unit of its op: an intensity (set), intensity "
        "points (add), a multiplier (scale) or a fraction of the distance to the scale's end "
        "(toward_max, toward_min)."
    )
    range: UncertaintyRange | None = None
    note: Text = ""

    @model_validator(mode="after")
    def _value_fits_op(self) -> Shock:
        bounds = {
            ShockOperation.SET: (0.0, 10.0),
            ShockOperation.ADD: (-10.0, 10.0),
            ShockOperation.SCALE: (0.0, 10.0),
            ShockOperation.TOWARD_MAX: (0.0, 1.0),
            ShockOperation.TOWARD_MIN: (0.0, 1.0),
        }[self.op]
        values = [self.value]
        if self.range is not None:
            values += [self.range.low, self.range.high]
            if not self.range.low <= self.value <= self.range.high:
                raise ValueError(
                    f"value {self.value} lies outside its range {self.range.low}-{self.range.high}"
                )
        for v in values:
            if not bounds[0] <= v <= bounds[1]:
                raise ValueError(
                    f"a '{self.op.value}' shock takes values from {bounds[0]:g} to "
                    f"{bounds[1]:g}; got {v}"
                )
        return self


class Direction(StrEnum):
    ABOVE = "above"
    BELOW = "below"


class Signpost(Strict):
    """A named indicator whose crossing of a threshold tells that the scenario is coming."""

    name: ShortText
    indicator: ShortText
    threshold: Finite
    direction: Direction = Direction.ABOVE
    description: Text = ""
    series: Identifier | None = Field(
        default=None,
        description="Id of the stored indicator series that gives the signpost its value "
        "(riskapp indicators list); without it the signpost is watched by hand.",
    )
    likelihood_ratio: Annotated[float, NoBool, Field(gt=0, le=1000)] = Field(
        default=1.0,
        description="How much more likely the scenario is once this signpost is crossed (red): "
        "its current probability multiplies the prior odds by this ratio. 1: no update.",
    )
    amber_band: Annotated[float, NoBool, Field(ge=0, le=1e12)] = Field(
        default=0.0,
        description="Amber within this distance of the threshold on the safe side (in the "
        "indicator's unit): a warning before the signpost is crossed. 0: no amber state.",
    )


class EscalationStep(Strict):
    """One rung of an escalation ladder: this scenario can only follow `scenario`.

    In a simulated year the scenario occurs with probability `probability` if the scenario it
    escalates from occurs that year, and never otherwise, so its annual probability is
    P(parent) x probability. Steps chain (incident -> limited exchange -> wider conflict) and
    branch (several scenarios may escalate from the same one; given the parent they escalate
    independently of each other). The scenario's own `frequency` must state that annual
    probability (the frequency of the parent times `probability`, within 1 %), so that the
    expected annual loss, which reads `frequency`, and the Monte Carlo, which walks the ladder,
    agree. If the parent is left out of an assessment, the scenario occurs on its own with its
    `frequency`. In a year in which several rungs occur their losses add up, like those of any
    scenarios occurring in the same year: describe each rung by what it adds.
    """

    scenario: Identifier = Field(description="Id of the scenario this one escalates from.")
    probability: Probability = Field(
        description="Probability that this scenario follows, in a year in which the parent "
        "scenario occurs."
    )


class Scenario(Strict):
    """A named geopolitical scenario for one workspace."""

    id: Identifier
    title: ShortText
    narrative: Text = ""
    frequency: Probability = Field(description="Annual probability that the scenario occurs.")
    horizon_years: Annotated[float, NoBool, Field(gt=0, le=50)] = Field(
        default=1.0,
        description="How long the shocked conditions last, in years (informational; the engine "
        "scores one occurrence).",
    )
    warning_time_days: NonNegative = Field(
        description="Days of notice a company can expect before the scenario hits."
    )
    shocks: list[Shock] = Field(default_factory=list)
    signposts: list[Signpost] = Field(default_factory=list)
    tags: list[Slug] = Field(default_factory=list)
    escalates_from: EscalationStep | None = Field(
        default=None,
        description="Escalation ladder: the scenario this one can follow and the conditional "
        "probability that it does.",
    )

    @field_validator("escalates_from")
    @classmethod
    def _not_own_parent(
        cls, step: EscalationStep | None, info: ValidationInfo
    ) -> EscalationStep | None:
        """Reported on escalates_from (its line and field), not on the scenario as a whole."""
        own = info.data.get("id")
        if step is not None and step.scenario == own:
            raise ValueError(
                f"scenario {own!r} cannot escalate from itself; name the scenario it follows"
            )
        return step
