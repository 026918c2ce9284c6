"""Zones: places that are not countries. Named sea areas shipped with the product, and the
workspace's own polygons, corridors (a line and a width), circles (a point and a radius) and
hotspots (a point, line or polygon whose effect fades with distance).

Every zone is one model: a geometry in longitude/latitude (GeoJSON order), a band of full
membership around it (`within_km`: a circle's radius, a corridor's half-width, 0 for a
polygon) and an optional decay beyond that band. An asset's weight in a zone is

    w = 1                               if d <= within_km
    w = max(0, 1 - (d - within_km) / R)  beyond it, linear decay to zero at R km
    w = 0.5 ** ((d - within_km) / H)     beyond it, exponential decay with half-distance H km
                                        (0 beyond the cut-off, where w falls under 1 %)
    w = 0                               beyond it, without decay

where d is the asset's distance to the geometry in km, rounded to the nearest km (0 inside a
polygon). Scoring (riskapp.engine.intensity) says how weights enter intensities.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from riskapp.domain.common import (
    NoBool,
    ShortText,
    Strict,
    Text,
    UniqueList,
    ZoneId,
    looks_like_subdivision,
)

Longitude = Annotated[float, NoBool, Field(ge=-180, le=180)]
Latitude = Annotated[float, NoBool, Field(ge=-90, le=90)]
Position = tuple[Longitude, Latitude]
Kilometres = Annotated[float, NoBool, Field(ge=0, le=5_000)]

MAX_VERTICES = 200_000  # per zone: a zone is a region of interest, not a coastline survey
# exponential decay stops where the weight falls below this (w = 0.5 ** (d / H) < 1 %)
EXPONENTIAL_FLOOR = 0.01


class GeometryType(StrEnum):
    POINT = "Point"
    LINE = "LineString"
    POLYGON = "Polygon"
    MULTIPOLYGON = "MultiPolygon"


class Geometry(Strict):
    """A GeoJSON geometry: a Point [lon, lat], a LineString [[lon, lat], ...], a Polygon
    [ring, hole, ...] or a MultiPolygon [polygon, ...]; rings are closed (first = last)."""

    type: GeometryType
    coordinates: Position | list[Position] | list[list[Position]] | list[list[list[Position]]]

    @model_validator(mode="after")
    def _shape(self) -> Geometry:
        c = self.coordinates
        t = self.type
        if t is GeometryType.POINT:
            if not _is_position(c):
                raise ValueError("a Point's coordinates are one [lon, lat] pair")
            return self
        if t is GeometryType.LINE:
            if not isinstance(c, list) or not all(_is_position(p) for p in c):
                raise ValueError("a LineString's coordinates are a list of [lon, lat] pairs")
            if len(c) < 2:
                raise ValueError(f"a line needs at least 2 points; got {len(c)}")
            return self
        polygons = [c] if t is GeometryType.POLYGON else c
        if not isinstance(polygons, list):
            raise ValueError(f"a {t.value}'s coordinates are a list")
        count = 0
        for k, polygon in enumerate(polygons):
            if not isinstance(polygon, list) or not polygon:
                raise ValueError(f"polygon {k}: expected a list of rings")
            for r, ring in enumerate(polygon):
                if not isinstance(ring, list) or not all(_is_position(p) for p in ring):
                    raise ValueError(f"polygon {k}, ring {r}: expected a list of [lon, lat] pairs")
                if len(ring) < 4 or tuple(ring[0]) != tuple(ring[-1]):
                    raise ValueError(
                        f"polygon {k}, ring {r}: expected a closed ring of at least 4 points "
                        f"(first = last); got {len(ring)} point(s)"
                        + ("" if len(ring) < 4 else ", not closed")
                    )
                count += len(ring)
        if count > MAX_VERTICES:
            raise ValueError(f"{count} vertices; at most {MAX_VERTICES} per zone")
        return self

    @classmethod
    def shipped(cls, data: dict[str, Any]) -> Geometry:
        """A GeoJSON geometry from a file riskapp ships (its sea areas and subdivisions), built
        without checking each position: those files are checked whole by their tests (each
        feature validates as a Geometry, to the same model, and is a valid area), and checking
        a coastline's thousands of positions one by one took most of the time of reading one
        (2.4 ms of the Barents Sea's 2.8 ms)."""
        kind = GeometryType(data["type"])
        depth = _DEPTH[kind]
        return cls.model_construct(type=kind, coordinates=_positions(data["coordinates"], depth))


_DEPTH = {
    GeometryType.POINT: 0,
    GeometryType.LINE: 1,
    GeometryType.POLYGON: 2,
    GeometryType.MULTIPOLYGON: 3,
}


def _positions(c: Any, depth: int) -> Any:
    """GeoJSON coordinates nested `depth` lists deep, each position a (lon, lat) of floats (as
    validation makes them)."""
    if depth == 0:
        return (float(c[0]), float(c[1]))
    if depth == 1:
        return [(float(x), float(y)) for x, y in c]
    return [_positions(part, depth - 1) for part in c]


def _is_position(p: object) -> bool:
    return isinstance(p, tuple) and len(p) == 2


class Kernel(StrEnum):
    LINEAR = "linear"
    EXPONENTIAL = "exponential"


class Decay(Strict):
    """How a zone's effect fades beyond its band of full membership."""

    kernel: Kernel
    distance_km: Annotated[float, NoBool, Field(gt=0, le=5_000)] = Field(
        description="linear: the distance at which the weight reaches 0; exponential: the "
        "half-distance (the weight halves every distance_km)."
    )

    @property
    def reach_km(self) -> float:
        """Distance beyond the band at which the weight becomes 0."""
        if self.kernel is Kernel.LINEAR:
            return self.distance_km
        return self.distance_km * math.log2(1 / EXPONENTIAL_FLOOR)


class Zone(Strict):
    """A named place that is not a country: see the module's docstring for the weights."""

    id: ZoneId
    name: ShortText
    description: Text = ""
    geometry: Geometry | None = Field(
        default=None,
        description="None only for a subdivision (an ISO 3166-2 id) whose members are the "
        "assets the register places in it",
    )
    within_km: Kilometres = 0.0
    decay: Decay | None = None
    source: Annotated[str, Field(max_length=500)] = ""
    shipped: bool = Field(default=False, description="a sea area shipped with riskapp")

    @model_validator(mode="after")
    def _has_extent(self) -> Zone:
        if self.geometry is None:
            if not self.subdivision:
                raise ValueError(f"zone {self.id!r}: a zone needs a geometry")
            return self
        if (
            self.geometry.type in (GeometryType.POINT, GeometryType.LINE)
            and self.within_km == 0
            and self.decay is None
        ):
            raise ValueError(
                f"zone {self.id!r}: a {self.geometry.type.value} has no area; give within_km "
                "(a circle's radius, a corridor's half-width) or a decay"
            )
        return self

    @property
    def subdivision(self) -> bool:
        """A sub-national region: its id is an ISO 3166-2 code. Its members are the assets
        whose register row names it, and, where a row names none, those inside its polygon
        (if the zones file gives one)."""
        return looks_like_subdivision(self.id)

    @property
    def kind(self) -> Literal["subdivision", "polygon", "corridor", "circle", "hotspot"]:
        if self.subdivision:
            return "subdivision"
        if self.decay is not None:
            return "hotspot"
        assert self.geometry is not None  # only a subdivision may lack one
        if self.geometry.type is GeometryType.POINT:
            return "circle"
        if self.geometry.type is GeometryType.LINE:
            return "corridor"
        return "polygon"

    @property
    def reach_km(self) -> float:
        """Distance from the geometry beyond which the weight is 0."""
        return self.within_km + (self.decay.reach_km if self.decay else 0.0)

    def weight(self, distance_km: float) -> float:
        """The weight at a distance (km, already rounded) from the geometry; one asset at a
        time, for explanations and tests (the engine computes whole arrays,
        riskapp.engine.geo.zone_weights, by the same formula)."""
        d = distance_km - self.within_km
        if d <= 0:
            return 1.0
        if self.decay is None:
            return 0.0
        if self.decay.kernel is Kernel.LINEAR:
            return max(0.0, 1.0 - d / self.decay.distance_km)
        w = 0.5 ** (d / self.decay.distance_km)
        return w if w >= EXPONENTIAL_FLOOR else 0.0


class ZoneCatalogue(UniqueList):
    """The zones a workspace uses: its own, and the shipped sea areas its targets name."""

    unique_by = ("zones", ("id",), "zone id")
    zones: list[Zone] = Field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [z.id for z in self.zones]

    @property
    def located(self) -> list[Zone]:
        """The zones with a geometry (all but subdivisions known only from the register)."""
        return [z for z in self.zones if z.geometry is not None]

    def get(self, zone_id: str) -> Zone | None:
        for z in self.zones:
            if z.id == zone_id:
                return z
        return None

    def __len__(self) -> int:
        return len(self.zones)
