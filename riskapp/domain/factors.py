"""Factors: the geopolitical hazards whose intensity (0-10, 10 worst) drives damage."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from riskapp.domain.common import ShortText, Slug, Strict, Text, UniqueList

HexColour = Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")]


class Factor(Strict):
    """One geopolitical factor (hazard) with an intensity scale of 0-10, 10 worst."""

    id: Slug
    name: ShortText
    description: Text = ""
    colour: HexColour | None = Field(
        default=None, description="Colour used for this factor in every chart (#RRGGBB)."
    )


class FactorCatalogue(UniqueList):
    """The factors a workspace scores; users may add their own."""

    unique_by = ("factors", ("id",), "factor id")
    factors: list[Factor] = Field(min_length=1)

    @property
    def ids(self) -> list[str]:
        return [f.id for f in self.factors]

    def get(self, factor_id: str) -> Factor:
        for factor in self.factors:
            if factor.id == factor_id:
                return factor
        raise KeyError(factor_id)
