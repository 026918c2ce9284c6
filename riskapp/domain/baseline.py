"""Baseline: the intensity of each factor in each country before any scenario shock."""

from __future__ import annotations

import numpy as np
from pydantic import Field, model_validator

from riskapp.domain.common import Intensity, PlaceCode, Slug, Strict, iso_alpha3_codes


class BaselineEntry(Strict):
    """One factor's intensity in a country, or in a zone (riskapp.domain.zones): a zone's row
    acts on the assets in the zone like a `set` shock, weighted by their weight in it
    (riskapp.engine.places.Places.baseline_at)."""

    country: PlaceCode
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
        """The countries with rows (zones' rows aside)."""
        codes = iso_alpha3_codes()
        return sorted({e.country for e in self.entries if e.country in codes})

    @property
    def zones(self) -> list[str]:
        """The zones with rows, in file order."""
        codes = iso_alpha3_codes()
        return list(dict.fromkeys(e.country for e in self.entries if e.country not in codes))

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
