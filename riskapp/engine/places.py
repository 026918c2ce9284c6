"""Places: the axis intensities are held on. A place is a country, or a country together with
the zones an asset there lies in and its weight in each.

Places 0..C-1 are the countries themselves (in `countries` order), so an array over places
read at a country's index gives that country's own intensity, and a workspace without zones
has exactly one place per country. Assets in at least one zone share a further place with
every asset of the same country and the same weights; the number of places grows with the
distinct (country, weights) combinations, not with the assets (a hotspot's weights come from
distances rounded to the km, so they take few values).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskapp.domain.regions import RegionCatalogue
from riskapp.domain.zones import ZoneCatalogue
from riskapp.engine.geo import ZoneWeights, row_codes

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Places:
    countries: list[str]  # (C,)
    country: IntArray  # (P,) each place's country; place c < C is country c
    zone_ids: list[str]  # (Z,)
    weight: FloatArray  # (P, Z) each place's weight in each zone

    @classmethod
    def of_countries(cls, countries: Sequence[str]) -> Places:
        """One place per country, no zones (what a workspace without zones has)."""
        c = len(countries)
        return cls(list(countries), np.arange(c, dtype=np.int64), [], np.zeros((c, 0)))

    @classmethod
    def locate(
        cls,
        countries: Sequence[str],
        country_index: IntArray,
        zone_ids: Sequence[str],
        weights: FloatArray | ZoneWeights,
    ) -> tuple[Places, IntArray]:
        """The places of assets with a country (index) and zone weights (A, Z), plain or
        compact (`ZoneWeights`), and each asset's place.

        Assets are told apart by (country, weights in thousandths); a place's weights are
        those of its first asset. Zoned places are numbered in the order of a byte string per
        place (country, weights in thousandths), the same order whichever form the weights
        come in. Cost: the distinct weight rows are found once (a hash of a few 64-bit words
        per row), then one hash of an integer per asset."""
        w = weights if isinstance(weights, ZoneWeights) else ZoneWeights.of_dense(weights)
        c, z_count = len(countries), len(zone_ids)
        place_index = country_index.astype(np.int64, copy=True)
        country = np.arange(c, dtype=np.int64)
        weight = np.zeros((c, z_count))
        if not z_count or not len(w.code):
            return cls(list(countries), country, list(zone_ids), weight), place_index
        # weights in thousandths, as places are told apart: a row code per distinct row
        thousandths = np.rint(w.value * 1000).astype(np.uint16)
        _, level = np.unique(thousandths, return_inverse=True)
        row_code = row_codes(level.astype(w.code.dtype)[w.code])
        zoned_row = (w.code != 0).any(axis=1)
        at = w.location
        refined = np.flatnonzero(at >= 0)
        refined = refined[zoned_row[at[refined]]]
        if len(refined):
            key = country_index[refined].astype(np.int64) * (int(row_code.max()) + 1)
            key += row_code[at[refined]]
            codes, _ = pd.factorize(key)
            # codes number the keys in order of first appearance
            first = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)
            lead = refined[first]
            lead_weight = w.rows(lead)
            lead_country = country_index[lead].astype(np.int64)
            # a byte string per place (country, weights in thousandths), sorted
            levels = np.rint(lead_weight * 1000).astype(np.uint16)
            bytes_ = np.ascontiguousarray(np.column_stack([lead_country.astype(np.uint16), levels]))
            rows = bytes_.view(np.dtype((np.void, bytes_.shape[1] * bytes_.itemsize))).reshape(-1)
            order = np.argsort(rows, kind="stable")
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order))
            place_index[refined] = c + rank[codes]
            country = np.r_[country, lead_country[order]]
            weight = np.vstack([weight, lead_weight[order]])
        return cls(list(countries), country, list(zone_ids), weight), place_index

    @property
    def count(self) -> int:
        return int(self.country.shape[0])

    def expand(self, by_country: FloatArray) -> FloatArray:
        """An array over countries (axis -2 of length C) spread over the places."""
        result: FloatArray = np.take(by_country, self.country, axis=-2)
        return result

    def baseline_at(self, by_country: FloatArray, by_zone: FloatArray | None) -> FloatArray:
        """(P, F) the baseline at each place: its country's row, then the zones' rows
        (`by_zone` (Z, F), NaN where a zone has none) by the zone rule of the shocks, a zone's
        row acting like a `set` to its value: x + w (value - x) in each zone, the highest of
        them where a place lies in several zones with a row for the factor."""
        out = self.expand(by_country)
        if by_zone is None or not len(self.zone_ids) or np.isnan(by_zone).all():
            return out
        x0 = out.copy()
        best = np.full(out.shape, -np.inf)
        for z in range(len(self.zone_ids)):
            w = self.weight[:, z]
            rows = np.flatnonzero(w > 0)
            cols = np.flatnonzero(~np.isnan(by_zone[z]))
            if not len(rows) or not len(cols):
                continue
            block = np.ix_(rows, cols)
            value = x0[block] + w[rows, np.newaxis] * (by_zone[z, cols] - x0[block])
            best[block] = np.maximum(best[block], value)
        result: FloatArray = np.where(np.isfinite(best), best, out)
        return result

    def country_rows(self, members: Sequence[str]) -> IntArray:
        """Places of the given countries (all their places, zoned or not)."""
        named = set(members)
        wanted = [i for i, code in enumerate(self.countries) if code in named]
        rows: IntArray = np.flatnonzero(np.isin(self.country, wanted)).astype(np.int64)
        return rows

    def zone_weight(self, zone_ids: Sequence[str]) -> FloatArray:
        """(P,) each place's weight in the union of the zones (the highest of its weights)."""
        cols = [self.zone_ids.index(z) for z in zone_ids if z in self.zone_ids]
        if not cols:
            return np.zeros(self.count)
        result: FloatArray = self.weight[:, cols].max(axis=1)
        return result

    def reach(
        self, target: str, regions: RegionCatalogue, zones: ZoneCatalogue
    ) -> tuple[IntArray, IntArray, FloatArray]:
        """Where a target (country, region group or zone) reaches: the places of its countries
        (full weight), and the places in its zones with their weights (a group may hold both;
        a place in several of a group's zones takes its highest weight)."""
        country_members = [m for m in regions.members(target) if zones.get(m) is None]
        zone_members = [m for m in regions.members(target) if zones.get(m) is not None]
        rows = self.country_rows(country_members)
        w = self.zone_weight(zone_members)
        zone_rows: IntArray = np.flatnonzero(w > 0).astype(np.int64)
        return rows, zone_rows, w[zone_rows]

    def zones_text(self, p: int) -> str:
        """ ", in <zones>" for a zoned place (weights below 1 in per cent), "" for a country's
        own place."""
        inside = [
            z if w == 1.0 else f"{z} ({w:.0%})"
            for z, w in zip(self.zone_ids, self.weight[p].tolist(), strict=True)
            if w > 0
        ]
        return f", in {', '.join(inside)}" if inside else ""

    def label(self, p: int) -> str:
        """A place's name for tables: its country code, and the zones it lies in."""
        return self.countries[int(self.country[p])] + self.zones_text(p)
