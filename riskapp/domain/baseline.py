"""Baseline: the intensity of each factor in each country before any scenario shock."""

from __future__ import annotations

import numpy as np
from pydantic import Field, model_validator

from riskapp.domain.common import CountryCode, Intensity, Slug, Strict


class BaselineEntry(Strict):
    country: CountryCode
    factor: Slug
    intensity: Intensity
    source: str = Field(default="", max_length=500)


class Baseline(Strict):
    """Baseline intensities (0-10) per country and factor, with their source."""

    entries: list[BaselineEntry]

    @model_validator(mode="after")
    def _unique(self) -> Baseline:
        seen: set[tuple[str, str]] = set()
        for e in self.entries:
            key = (e.country, e.factor)
            if key in seen:
                raise ValueError(f"two baseline rows for country {e.country} and factor {e.factor}")
            seen.add(key)
        return self

    @property
    def countries(self) -> list[str]:
        return sorted({e.country for e in self.entries})

    def matrix(self, countries: list[str], factors: list[str]) -> np.ndarray:
        """Intensity array of shape (countries, factors); NaN where no row is given."""
        out = np.full((len(countries), len(factors)), np.nan)
        c_index = {c: i for i, c in enumerate(countries)}
        f_index = {f: j for j, f in enumerate(factors)}
        for e in self.entries:
            i = c_index.get(e.country)
            j = f_index.get(e.factor)
            if i is not None and j is not None:
                out[i, j] = e.intensity
        return out
