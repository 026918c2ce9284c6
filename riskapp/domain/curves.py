"""Vulnerability curves: intensity (0-10) -> damage ratio (0-1), piecewise linear, clamped."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field, field_validator, model_validator

from riskapp.domain.common import Identifier, Intensity, NoBool, ShortText, Slug, Strict, UniqueList

DamageRatio = Annotated[float, NoBool, Field(ge=0.0, le=1.0)]


class VulnerabilityCurve(Strict):
    """Damage ratio of one asset type (or one asset, as an override) for one factor.

    Between points the damage ratio is interpolated linearly; below the first point it is the
    first point's ratio and above the last point the last point's ratio (clamped, as CLIMADA's
    impact functions interpolate). Intensities rise strictly; damage never falls as intensity
    rises, so more intensity never lowers a loss.
    """

    asset_type: Slug | None = None
    asset_id: Identifier | None = None
    factor: Slug
    points: list[tuple[Intensity, DamageRatio]] = Field(min_length=2, max_length=101)

    @model_validator(mode="after")
    def _check(self) -> VulnerabilityCurve:
        if (self.asset_type is None) == (self.asset_id is None):
            raise ValueError("give exactly one of asset_type (a type curve) or asset_id (override)")
        return self

    @field_validator("points")
    @classmethod
    def _rising(cls, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        """Reported on `points` (their line and field), naming the point that breaks the rule."""
        for i in range(1, len(points)):
            (x0, y0), (x1, y1) = points[i - 1], points[i]
            if x1 <= x0:
                raise ValueError(
                    f"intensities must rise strictly from point to point; point {i + 1} "
                    f"has {x1} after {x0}"
                )
            if y1 < y0:
                raise ValueError(
                    f"damage ratios must not fall as intensity rises; point {i + 1} has "
                    f"{y1} after {y0}"
                )
        return points

    @property
    def key(self) -> tuple[str, str, str]:
        """('type', asset_type, factor) or ('asset', asset_id, factor)."""
        if self.asset_id is not None:
            return ("asset", self.asset_id, self.factor)
        assert self.asset_type is not None
        return ("type", self.asset_type, self.factor)

    def damage(self, intensity: np.ndarray) -> np.ndarray:
        """Damage ratio at each intensity (vectorised, clamped at both ends)."""
        xs = np.array([p[0] for p in self.points], dtype=float)
        ys = np.array([p[1] for p in self.points], dtype=float)
        result: np.ndarray = np.interp(intensity, xs, ys)
        return result


class CurveSet(UniqueList):
    """All curves of a workspace. A missing (type, factor) pair means the type is not
    vulnerable to that factor (damage ratio 0)."""

    unique_by = ("curves", ("asset_type", "asset_id", "factor"), "curve for")
    curves: list[VulnerabilityCurve] = Field(min_length=1)

    @property
    def asset_types(self) -> set[str]:
        return {c.asset_type for c in self.curves if c.asset_type is not None}

    def type_curves(self) -> dict[tuple[str, str], VulnerabilityCurve]:
        return {(c.asset_type, c.factor): c for c in self.curves if c.asset_type is not None}

    def override_curves(self) -> dict[tuple[str, str], VulnerabilityCurve]:
        return {(c.asset_id, c.factor): c for c in self.curves if c.asset_id is not None}


class LibraryType(Strict):
    """One asset type of the curve library: its curves for every factor, why they are so and
    what documents the exposure."""

    type: Slug
    name: ShortText
    sectors: list[Slug] = Field(min_length=1)
    synonyms: list[ShortText] = Field(default_factory=list)
    rationale: Annotated[str, Field(min_length=20, max_length=2000)]
    sources: list[ShortText] = Field(min_length=1)
    curves: dict[Slug, list[tuple[Intensity, DamageRatio]]]

    @model_validator(mode="after")
    def _curves_valid(self) -> LibraryType:
        self.as_curves()  # every curve checked as a workspace's is
        return self

    def as_curves(self) -> list[VulnerabilityCurve]:
        return [
            VulnerabilityCurve(asset_type=self.type, factor=f, points=p)
            for f, p in self.curves.items()
        ]


class CurveLibrary(Strict):
    """riskapp's default curves (resources/curves/library.yaml)."""

    types: list[LibraryType] = Field(min_length=1)

    def get(self, type_id: str) -> LibraryType:
        for t in self.types:
            if t.type == type_id:
                return t
        known = ", ".join(t.type for t in self.types)
        raise KeyError(f"no asset type {type_id!r} in the curve library; it has {known}")

    def sectors(self) -> list[str]:
        return sorted({s for t in self.types for s in t.sectors})
