"""Contingency plans: trigger, actions (owners, lead times, costs), coverage and effect."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from riskapp.domain.common import (
    Identifier,
    Intensity,
    Label,
    NoBool,
    NonNegative,
    Probability,
    ShortText,
    Slug,
    Strict,
    Text,
    UniqueList,
)


class PlanStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    READY = "ready"
    ACTIVE = "active"
    RETIRED = "retired"


IN_PLACE = frozenset({PlanStatus.READY, PlanStatus.ACTIVE})


class FactorLevel(Strict):
    """Fires when the factor's intensity reaches `at_least` in any country of the region."""

    region: Annotated[str, Field(min_length=2, max_length=48)]
    factor: Slug
    at_least: Intensity


class ProbabilityLevel(Strict):
    """Fires in `scenario` when its current probability (its signposts' update of the prior)
    reaches `at_least`."""

    scenario: Identifier
    at_least: Probability


class Trigger(Strict):
    """A plan fires in a scenario when ANY of its conditions holds."""

    scenarios: list[Identifier] = Field(default_factory=list)
    factor_levels: list[FactorLevel] = Field(default_factory=list)
    loss_at_least: NonNegative | None = Field(
        default=None,
        description="Fires when the gross loss of the covered assets reaches this amount.",
    )
    signposts: list[ShortText] = Field(
        default_factory=list,
        description="Fires in a scenario when its signpost of this name is red (crossed), as "
        "the latest value of the series it watches says.",
    )
    probabilities: list[ProbabilityLevel] = Field(
        default_factory=list,
        description="Fires in a scenario when its current probability reaches a level.",
    )

    @model_validator(mode="after")
    def _not_empty(self) -> Trigger:
        if not (
            self.scenarios
            or self.factor_levels
            or self.loss_at_least is not None
            or self.signposts
            or self.probabilities
        ):
            raise ValueError(
                "a trigger needs scenarios, factor_levels, loss_at_least, signposts or "
                "probabilities"
            )
        return self


class Action(Strict):
    title: ShortText
    owner: Label = ""
    lead_time_days: NonNegative
    one_off_cost: NonNegative = 0.0
    annual_cost: NonNegative = 0.0


class Coverage(Strict):
    """Which assets a plan protects. Within a list any entry matches; lists that are given
    must all match; no lists at all covers every asset."""

    asset_ids: list[Identifier] = Field(default_factory=list)
    asset_types: list[Slug] = Field(default_factory=list)
    tags: list[Slug] = Field(default_factory=list)
    regions: list[Annotated[str, Field(min_length=2, max_length=48)]] = Field(default_factory=list)


Multiplier = Annotated[float, NoBool, Field(ge=0.0, le=1.0)]


class Effect(Strict):
    """What a plan does to the assets it covers, per factor.

    `damage_multiplier` scales the damage ratio (0.4 keeps 40 % of the damage);
    `intensity_reduction` lowers the intensity the asset feels before its curve is read.
    """

    damage_multiplier: dict[Slug, Multiplier] = Field(default_factory=dict)
    intensity_reduction: dict[Slug, Intensity] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _not_empty(self) -> Effect:
        if not self.damage_multiplier and not self.intensity_reduction:
            raise ValueError("an effect needs damage_multiplier or intensity_reduction")
        return self

    @property
    def factors(self) -> set[str]:
        return set(self.damage_multiplier) | set(self.intensity_reduction)


class Plan(Strict):
    id: Identifier
    title: ShortText
    description: Text = ""
    owner: Label = ""
    status: PlanStatus = PlanStatus.PROPOSED
    trigger: Trigger
    actions: list[Action] = Field(min_length=1)
    coverage: Coverage = Field(default_factory=Coverage)
    effect: Effect

    @property
    def lead_time_days(self) -> float:
        """Lead time of the slowest action."""
        return max(a.lead_time_days for a in self.actions)

    @property
    def one_off_cost(self) -> float:
        return sum(a.one_off_cost for a in self.actions)

    @property
    def annual_cost(self) -> float:
        return sum(a.annual_cost for a in self.actions)

    @property
    def in_place(self) -> bool:
        """Ready or active plans need no lead time when a scenario hits."""
        return self.status in IN_PLACE


class PlanBook(UniqueList):
    """The contingency plans of a workspace."""

    unique_by = ("plans", ("id",), "plan id")
    plans: list[Plan] = Field(default_factory=list)
