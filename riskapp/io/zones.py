"""A workspace's own zone file (the sea areas riskapp ships: riskapp.io.sea_areas; what
reading YAML and GeoJSON shares with routes: riskapp.io.geofile).

A workspace's zone file in YAML (.yaml, .yml): a list of zones, each with an `id` (a-z, 0-9
and _, starting with a letter; not a 3-letter country code such as `deu`, nor the id of a
shipped sea area; or an ISO 3166-2 code such as NO-54, for a subdivision's boundary, which
must be a polygon), a `name`, an optional `description` and exactly one shape. Positions are
[longitude, latitude], in that order, as GeoJSON writes them.

    zones:
      - id: kaliningrad_150km             # circle: within radius_km of a point
        name: Within 150 km of Kaliningrad
        circle: {center: [20.51, 54.71], radius_km: 150}
      - id: finland_russia_border_100km   # corridor: within width_km of a line, either side
        name: Finland-Russia border, 100 km
        corridor:
          line: [[27.8, 60.5], [29.6, 61.2], [31.5, 62.9], [29.0, 66.0], [29.1, 69.0]]
          width_km: 100
      - id: my_area                       # polygon: GeoJSON Polygon coordinates, an outer
        name: Some polygon                # ring then any holes, each closed (last = first)
        polygon: [[[24.0, 60.0], [25.5, 60.0], [25.5, 61.0], [24.0, 61.0], [24.0, 60.0]]]
        within_km: 10                     # optional: the polygon and 10 km around it
      - id: front_line                    # hotspot: a point:, line:, polygon: or sea_area:
        name: Front line                  # whose effect fades with distance
        hotspot: {line: [[37.5, 47.0], [38.0, 48.5]], kernel: linear, distance_km: 200}
      - id: baltic_coast                  # sea_area: a shipped sea area (its geometry),
        name: Baltic Sea and its coast    # optionally widened by within_km
        sea_area: baltic_sea
        within_km: 30

A hotspot takes `kernel` (linear: the weight falls to 0 at distance_km beyond the band;
exponential: it halves every distance_km) and an optional `within_km`, the band of full
effect around its geometry (riskapp.domain.zones has the formula).

A zone file in GeoJSON (.geojson, .json): a FeatureCollection in longitude/latitude (WGS 84,
as RFC 7946 has it), one Feature per zone. Geometries: Point, LineString, Polygon or
MultiPolygon (a third coordinate, an altitude, is ignored). Properties:

    id, name, description   as in YAML (the Feature's own `id` serves when properties have none)
    radius_km               a Point's radius: a circle
    width_km                a LineString's reach either side: a corridor
    within_km               on any geometry instead: the band of full membership around it
    kernel, distance_km     both or neither: a hotspot, fading beyond the band

Problems name the file, where and the field: in YAML the line and the path of the field
(zones[2].circle.radius_km); in GeoJSON the feature, counted from 1 in the order of
`features`, and the field within it (properties.radius_km, geometry.coordinates[0][4]).
Every problem of the file is reported at once (InputError), and nothing is returned unless
the whole file is right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from riskapp.domain.common import (
    NoBool,
    ShortText,
    Strict,
    Text,
    ZoneId,
    country_name,
    iso_alpha3_codes,
    looks_like_subdivision,
    subdivision_name,
)
from riskapp.domain.zones import (
    MAX_VERTICES,
    Decay,
    Geometry,
    GeometryType,
    Kernel,
    Kilometres,
    Zone,
    ZoneCatalogue,
)
from riskapp.io.errors import (
    InputError,
    describe_input,
    did_you_mean,
)
from riskapp.io.geofile import (
    Loc,
    Reader,
    coordinates,
    count_positions,
    format_point,
    open_geo_file,
)
from riskapp.io.sea_areas import sea_area, sea_area_ids
from riskapp.io.yamlfile import LineMap

if TYPE_CHECKING:
    pass

MAX_ZONES = 10_000  # per file: each zone is located against every asset


# --- shipped sea areas -------------------------------------------------------------------


# --- what a zone file holds --------------------------------------------------------------


PositiveKm = Annotated[float, NoBool, Field(gt=0, le=5_000)]

# nesting depth of a geometry's coordinates: a Point is one position, a LineString a list...
DEPTH = {
    GeometryType.POINT: 0,
    GeometryType.LINE: 1,
    GeometryType.POLYGON: 2,
    GeometryType.MULTIPOLYGON: 3,
}


class Identity(Strict):
    """A zone's id, name and description."""

    id: ZoneId
    name: ShortText
    description: Text = ""


class Circle(Strict):
    """Everything within radius_km of a point."""

    center: Any
    radius_km: PositiveKm


class Corridor(Strict):
    """Everything within width_km of a line, either side."""

    line: Any
    width_km: PositiveKm


class Hotspot(Strict):
    """A point, line, polygon or sea area whose effect fades with distance."""

    point: Any = None
    line: Any = None
    polygon: Any = None
    sea_area: Any = None
    kernel: Kernel
    distance_km: PositiveKm
    within_km: Kilometres = 0.0


SHAPES = ("circle", "corridor", "polygon", "hotspot", "sea_area")
HOTSPOT_SHAPES = ("point", "line", "polygon", "sea_area")
ENTRY_KEYS = ("id", "name", "description", *SHAPES, "within_km")
GEOMETRY_TYPES = {t.value: t for t in GeometryType}
SHAPE_OF = {
    "point": GeometryType.POINT,
    "line": GeometryType.LINE,
    "polygon": GeometryType.POLYGON,
}


# --- reading -----------------------------------------------------------------------------


@dataclass
class ZoneDraft:
    """One zone as read, before its id is checked and its sea area looked up."""

    loc: Loc
    id_loc: Loc
    identity: Identity | None
    geometry: Geometry | None = None
    sea_area: str | None = None
    sea_loc: Loc = ()
    within_km: float = 0.0
    decay: Decay | None = None
    ok: bool = True  # False once a problem is found in its shape


def read_geometry(reader: Reader, kind: GeometryType, value: Any, loc: Loc, altitude: bool) -> Any:
    """A geometry's Geometry, or None after adding its problems."""
    count = count_positions(value, DEPTH[kind])
    if count > MAX_VERTICES:
        reader.add(
            loc,
            f"{count:,} points; a zone takes at most {MAX_VERTICES:,} (a zone is a region of "
            "interest, not a coastline survey): simplify the shape, e.g. with QGIS's "
            "Simplify or ogr2ogr -simplify",
        )
        return None
    errors: list[tuple[Loc, str]] = []
    coords = coordinates(value, DEPTH[kind], loc, altitude, errors)
    if errors:
        reader.add_coordinate_errors(errors, loc)
        return None
    before = len(reader.problems)
    if kind is GeometryType.LINE and len(coords) < 2:
        reader.add(loc, f"a line needs at least 2 points; got {len(coords)}")
    elif kind is GeometryType.POLYGON:
        _check_polygon(reader, coords, loc)
    elif kind is GeometryType.MULTIPOLYGON:
        if not coords:
            reader.add(loc, "a MultiPolygon needs at least one polygon")
        for k, polygon in enumerate(coords):
            _check_polygon(reader, polygon, (*loc, k))
        if len(reader.problems) == before:
            _check_parts(reader, coords, loc)
    if len(reader.problems) > before:
        return None
    return Geometry.model_validate({"type": kind, "coordinates": coords})


def _check_polygon(reader: Reader, rings: list[list[tuple[float, float]]], loc: Loc) -> None:
    """Rings closed and of 4 points or more, then the polygon valid (shapely)."""
    if not rings:
        reader.add(loc, "a polygon needs an outer ring: a closed list of [longitude, latitude]")
        return
    closed = True
    for r, ring in enumerate(rings):
        if len(ring) < 4:
            reader.add(
                (*loc, r),
                f"a ring needs at least 4 points (3 corners, then the first again); got "
                f"{len(ring)}",
            )
            closed = False
        elif ring[0] != ring[-1]:
            reader.add(
                (*loc, r),
                f"the ring is not closed: it ends at {format_point(ring[-1])}, not at its first "
                f"point {format_point(ring[0])}; repeat the first point at the end",
            )
            closed = False
    if not closed:
        return
    polygon = _shapely_polygon(rings)
    if not polygon.is_valid:
        import shapely

        _invalid(reader, shapely.is_valid_reason(polygon), [rings], loc, multi=False)


def _shapely_polygon(rings: list[list[tuple[float, float]]]) -> Any:
    """A shapely Polygon of checked rings (through numpy: 8x faster than from tuples)."""
    import numpy as np
    import shapely

    shell, *holes = (np.asarray(ring, dtype=np.float64) for ring in rings)
    return shapely.Polygon(shell, holes)


def _check_parts(reader: Reader, polygons: list[Any], loc: Loc) -> None:
    """A MultiPolygon's parts, each valid, may touch at points but not overlap."""
    import shapely

    multi = shapely.MultiPolygon([_shapely_polygon(p) for p in polygons])
    if not multi.is_valid:
        _invalid(reader, shapely.is_valid_reason(multi), polygons, loc, multi=True)


def _invalid(reader: Reader, reason: str, polygons: list[Any], loc: Loc, multi: bool) -> None:
    """Say why a polygon (one, or the parts of a MultiPolygon together) is not valid and
    where: the point shapely's explanation names, and the vertex nearest it (whose location
    in the file the problem gives)."""
    what = "MultiPolygon" if multi else "polygon"
    match = re.fullmatch(r"(.*)\[(\S+) (\S+)\]", reason)
    if match is None:
        reader.add(loc, f"not a valid {what}: {reason}")
        return
    why, x, y = match.group(1).strip(), float(match.group(2)), float(match.group(3))
    best: tuple[float, Loc] | None = None
    for k, polygon in enumerate(polygons):
        for r, ring in enumerate(polygon):
            for i, (px, py) in enumerate(ring):
                d = (px - x) ** 2 + (py - y) ** 2
                if best is None or d < best[0]:
                    best = (d, (k, r, i) if multi else (r, i))
    assert best is not None
    at = best[1]
    near = f"point {at[-1]} of ring {at[-2]}" + (f" of polygon {at[0]}" if len(at) == 3 else "")
    reader.add(
        (*loc, *at),
        f"not a valid {what}: {why.lower()} at {format_point((x, y))}, near {near}; edges must not "
        "cross or overlap, and holes must lie inside the outer ring",
    )


# --- YAML --------------------------------------------------------------------------------


def _yaml_zones(reader: Reader, data: Any) -> None:
    if not isinstance(data, dict):
        found = "nothing" if data is None else type(data).__name__
        reader.add((), f"expected a mapping with a `zones:` list; found {found}")
        return
    reader.unknown_keys(data, ["zones"], ())
    if "zones" not in data:
        reader.add((), "required field `zones` is missing: the list of zones")
        return
    entries = data["zones"]
    if entries is None:
        return
    if not isinstance(entries, list):
        reader.add(("zones",), f"expected a list of zones; found {type(entries).__name__}")
        return
    if len(entries) > MAX_ZONES:
        reader.add(("zones",), f"{len(entries):,} zones; a zone file holds at most {MAX_ZONES:,}")
        return
    for i, entry in enumerate(entries):
        draft = _yaml_entry(reader, entry, ("zones", i))
        if draft is not None:
            finish_zone(reader, draft)


def _yaml_entry(reader: Reader, entry: Any, loc: Loc) -> ZoneDraft | None:
    if not isinstance(entry, dict):
        reader.add(
            loc,
            "expected a zone: a mapping with id, name and one of "
            f"{', '.join(SHAPES)}; found {type(entry).__name__}",
        )
        return None
    before = len(reader.problems)
    reader.unknown_keys(entry, ENTRY_KEYS, loc)
    identity = reader.validate(
        Identity, {k: entry[k] for k in Identity.model_fields if k in entry}, loc
    )
    draft = ZoneDraft(loc, (*loc, "id"), identity)
    shapes = [k for k in SHAPES if k in entry]
    if len(shapes) != 1:
        got = "none" if not shapes else " and ".join(shapes)
        reader.add(loc, f"a zone takes exactly one shape, one of {', '.join(SHAPES)}; got {got}")
        draft.ok = False
        return draft
    shape = shapes[0]
    value, sloc = entry[shape], (*loc, shape)
    if "within_km" in entry:
        if shape in ("polygon", "sea_area"):
            draft.within_km = _within(reader, entry["within_km"], (*loc, "within_km"))
        else:
            own = {"circle": "circle.radius_km", "corridor": "corridor.width_km"}
            reader.add(
                (*loc, "within_km"),
                f"within_km widens a polygon or a sea area; a {shape}'s band is its "
                f"{own.get(shape, 'hotspot.within_km')}",
            )
    if shape == "circle":
        circle = _submodel(reader, Circle, value, sloc)
        draft.geometry = _part(reader, GeometryType.POINT, value, "center", sloc)
        draft.within_km = circle.radius_km if circle is not None else 0.0
    elif shape == "corridor":
        corridor = _submodel(reader, Corridor, value, sloc)
        draft.geometry = _part(reader, GeometryType.LINE, value, "line", sloc)
        draft.within_km = corridor.width_km if corridor is not None else 0.0
    elif shape == "polygon":
        draft.geometry = read_geometry(reader, GeometryType.POLYGON, value, sloc, altitude=False)
    elif shape == "sea_area":
        draft.sea_area, draft.sea_loc = _sea_name(reader, value, sloc), sloc
    else:
        _yaml_hotspot(reader, draft, value, sloc)
    if len(reader.problems) > before or (draft.geometry is None and draft.sea_area is None):
        draft.ok = False
    return draft


def _part(reader: Reader, kind: GeometryType, value: Any, key: str, loc: Loc) -> Any:
    """The geometry under `key` of a shape's mapping (checked whether or not the mapping's
    other fields are right, so that all problems are reported at once)."""
    if not isinstance(value, dict) or value.get(key) is None:
        return None  # reported by the mapping's model
    return read_geometry(reader, kind, value[key], (*loc, key), altitude=False)


def _submodel(reader: Reader, model: type[BaseModel], value: Any, loc: Loc) -> Any:
    """A shape's mapping as its model, or None after adding its problems."""
    if not isinstance(value, dict):
        reader.add(
            loc,
            f"expected a mapping of {', '.join(model.model_fields)}; got {describe_input(value)}",
        )
        return None
    return reader.validate(model, value, loc)


def _yaml_hotspot(reader: Reader, draft: ZoneDraft, value: Any, loc: Loc) -> None:
    hotspot = _submodel(reader, Hotspot, value, loc)
    if not isinstance(value, dict):
        return
    given = [k for k in HOTSPOT_SHAPES if value.get(k) is not None]
    if len(given) != 1:
        got = "none" if not given else " and ".join(given)
        reader.add(
            loc,
            f"a hotspot takes exactly one of {', '.join(HOTSPOT_SHAPES)}; got {got}",
        )
        return
    shape = given[0]
    if shape == "sea_area":
        sloc = (*loc, shape)
        draft.sea_area, draft.sea_loc = _sea_name(reader, value[shape], sloc), sloc
    else:
        draft.geometry = _part(reader, SHAPE_OF[shape], value, shape, loc)
    if hotspot is None:
        return
    draft.within_km = hotspot.within_km
    draft.decay = Decay(kernel=hotspot.kernel, distance_km=hotspot.distance_km)


def _within(reader: Reader, value: Any, loc: Loc) -> float:
    try:
        within: float = TypeAdapter(Kilometres).validate_python(value)
    except ValidationError as exc:
        reader.add_errors(exc, loc)
        return 0.0
    return within


def _sea_name(reader: Reader, value: Any, loc: Loc) -> str | None:
    if not isinstance(value, str) or not value:
        reader.add(
            loc,
            f"expected the id of a shipped sea area, such as baltic_sea; got "
            f"{describe_input(value)}",
        )
        return None
    return value


# --- both --------------------------------------------------------------------------------


def _check_id(reader: Reader, draft: ZoneDraft) -> None:
    """The id is no country code, no shipped sea area's and given once in the file."""
    if draft.identity is None:
        return
    zone_id = draft.identity.id
    if len(zone_id) == 3 and zone_id.upper() in iso_alpha3_codes():
        code = zone_id.upper()
        reader.add(
            draft.id_loc,
            f"zone id {zone_id!r} is the ISO 3166-1 alpha-3 code of {country_name(code)} "
            f"({code}), by which targets name countries: pick another id",
        )
    elif zone_id in sea_area_ids():
        shipped = sea_area(zone_id)
        if draft.sea_area == zone_id:
            band = f"{draft.within_km:g}km".replace(".", "_") if draft.within_km else "zone"
            reader.add(
                draft.id_loc,
                f"zone id {zone_id!r} is the shipped sea area's own id; a zone made of it "
                f"needs an id of its own: pick another, such as '{zone_id}_{band}'",
            )
        else:
            reader.add(
                draft.id_loc,
                f"zone id {zone_id!r} is the id of a shipped sea area ({shipped.name}): pick "
                "another id (targets may name the shipped sea area itself)",
            )
    first = reader.first_of.get(zone_id)
    if first is not None:
        reader.add(
            draft.id_loc,
            f"zone id {zone_id!r} is defined more than once (first at {reader.where(first)})",
        )
    else:
        reader.first_of[zone_id] = draft.id_loc


def finish_zone(reader: Reader, draft: ZoneDraft) -> None:
    """Check the draft's id, look its sea area up and, all being well, make its Zone."""
    _check_id(reader, draft)
    source = ""
    if draft.sea_area is not None:
        if draft.sea_area not in sea_area_ids():
            hint = did_you_mean(draft.sea_area.strip().lower().replace(" ", "_"), sea_area_ids())
            reader.add(
                draft.sea_loc,
                f"unknown sea area {draft.sea_area!r}; {hint}riskapp ships "
                f"{len(sea_area_ids())} sea areas, listed in riskapp/resources/geo/SOURCES.md",
            )
            return
        shipped = sea_area(draft.sea_area)
        draft.geometry = shipped.geometry
        source = f"sea area {shipped.id}: {shipped.source}"
    if not draft.ok or draft.identity is None or draft.geometry is None or reader.problems:
        return
    if looks_like_subdivision(draft.identity.id) and (
        draft.geometry.type not in (GeometryType.POLYGON, GeometryType.MULTIPOLYGON)
        or draft.within_km
        or draft.decay is not None
    ):
        reader.add(
            draft.id_loc,
            f"zone id {draft.identity.id!r} is an ISO 3166-2 subdivision "
            f"({subdivision_name(draft.identity.id)}): give it its boundary as a polygon, "
            "without within_km or a decay (or give the zone a lower-case id)",
        )
        return
    try:
        zone = Zone(
            **draft.identity.model_dump(),
            geometry=draft.geometry,
            within_km=draft.within_km,
            decay=draft.decay,
            source=source,
        )
    except ValidationError as exc:
        reader.add_errors(exc, draft.loc, Zone)
        return
    reader.zones.append(zone)


def load_zone_file(path: Path, label: str | None = None) -> tuple[ZoneCatalogue, LineMap | None]:
    """A workspace's own zones from a YAML or GeoJSON file (see the module's docstring), and
    the YAML's line map (None for GeoJSON); InputError with every problem of the file."""
    data, reader, lines = open_geo_file(path, label, "zone")
    if lines is not None:
        _yaml_zones(reader, data)
    else:
        from riskapp.io.zones_geojson import geojson_zones

        geojson_zones(reader, data)
    if reader.problems:
        raise InputError(reader.problems)
    return ZoneCatalogue(zones=reader.zones), lines
