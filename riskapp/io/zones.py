"""Zones from files: the sea areas riskapp ships, and a workspace's own zone file.

Shipped sea areas. riskapp/resources/geo/sea_areas.geojson holds 117 named seas, gulfs, bays,
straits and oceans (Natural Earth's 1:50m marine polygons, public domain; geo/SOURCES.md lists
their ids and what was changed, tools/build_sea_areas.py builds the file). `sea_area_ids()`
gives their ids and `sea_area(id)` one of them as a Zone (shipped=True, within_km 0). The file
is read once per process, on first use, and each sea area parsed and built when first asked
for (a few ms).

A workspace's zone file in YAML (.yaml, .yml): a list of zones, each with an `id` (a-z, 0-9
and _, starting with a letter; not a 3-letter country code such as `deu`, nor the id of a
shipped sea area), a `name`, an optional `description` and exactly one shape. Positions are
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

import functools
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from riskapp.domain.common import (
    NoBool,
    ShortText,
    Slug,
    Strict,
    Text,
    country_name,
    iso_alpha3_codes,
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
    Problem,
    describe_input,
    did_you_mean,
    loc_to_field,
    pydantic_message,
)
from riskapp.io.yamlfile import LineMap, load_yaml, read_text
from riskapp.resources import GEO

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

SEA_AREAS = GEO / "sea_areas.geojson"
SEA_AREA_SOURCE = "Natural Earth 1:50m marine polygons (public domain), ne_id"
YAML_SUFFIXES = (".yaml", ".yml")
GEOJSON_SUFFIXES = (".geojson", ".json")
MAX_GEOJSON_BYTES = 20_000_000
MAX_ZONES = 10_000  # per file: each zone is located against every asset
MAX_COORDINATE_PROBLEMS = 10  # per geometry: a shape of bad positions is one mistake

Loc = tuple[str | int, ...]


# --- shipped sea areas -------------------------------------------------------------------


# a feature's line in sea_areas.geojson, which holds one feature a line, its id first
FEATURE_LINE = re.compile(r'\{"type":"Feature","properties":\{"id":"([a-z][a-z0-9_]*)"')


@functools.cache
def sea_area_lines() -> dict[str, str]:
    """Each shipped sea area's GeoJSON feature, as text, by id. The file is read once and a
    feature parsed only when its sea area is asked for: parsing the whole file takes 30-45 ms,
    finding the lines 2 ms."""
    out: dict[str, str] = {}
    for line in SEA_AREAS.read_text(encoding="utf-8").splitlines():
        match = FEATURE_LINE.match(line)
        if match is not None:
            out[match.group(1)] = line.rstrip(",")
    return out


@functools.cache
def sea_area_ids() -> frozenset[str]:
    """The ids of the sea areas riskapp ships (baltic_sea, gulf_of_finland, ...)."""
    return frozenset(sea_area_lines())


@functools.cache
def sea_area_names() -> dict[str, str]:
    """Each shipped sea area's English name by id (the names alone, for pickers)."""
    names = {}
    for zone_id, line in sea_area_lines().items():
        found = _NAME.search(line)
        names[zone_id] = json.loads(found.group(1)) if found else zone_id
    return dict(sorted(names.items(), key=lambda kv: kv[1]))


_NAME = re.compile(r'"name":\s*("(?:[^"\\]|\\.)*")')


@functools.cache
def sea_area(zone_id: str) -> Zone:
    """A shipped sea area as a Zone (built once); KeyError for an id riskapp does not ship."""
    line = sea_area_lines().get(zone_id)
    if line is None:
        hint = did_you_mean(zone_id, sea_area_ids())
        raise KeyError(f"no shipped sea area {zone_id!r}; {hint}see {SEA_AREAS.parent}/SOURCES.md")
    feature = json.loads(line)
    props = feature["properties"]
    return Zone(
        id=props["id"],
        name=props["name"],
        geometry=Geometry.model_validate(feature["geometry"]),
        within_km=0.0,
        source=f"{SEA_AREA_SOURCE} {', '.join(str(i) for i in props['ne_ids'])}",
        shipped=True,
    )


# --- what a zone file holds --------------------------------------------------------------


def position(value: Any, altitude: bool) -> tuple[float, float]:
    """[longitude, latitude] as a pair of floats; ValueError saying what is wrong."""
    if type(value) in (list, tuple) and len(value) == 2:  # the common case, quickly
        lon, lat = value
        if (
            type(lon) in NUMBERS
            and type(lat) in NUMBERS
            and -180 <= lon <= 180
            and -90 <= lat <= 90
        ):
            return float(lon), float(lat)
    pair = "[longitude, latitude]" + (" (an altitude may follow)" if altitude else "")
    sizes = (2, 3) if altitude else (2,)
    if (
        not isinstance(value, (list, tuple))
        or len(value) not in sizes
        or not all(type(v) in NUMBERS for v in value)
    ):
        raise ValueError(f"expected a position {pair} of numbers; got {describe_input(value)}")
    lon, lat = float(value[0]), float(value[1])
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError(f"expected finite numbers {pair}; got {describe_input(value)}")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        swapped = -90 <= lon <= 90 and -180 <= lat <= 180
        hint = (
            "; positions are [longitude, latitude], as GeoJSON writes them: are these two swapped?"
            if swapped
            else ""
        )
        raise ValueError(
            f"{describe_input(list(value))} is out of range: expected longitude -180..180 and "
            f"latitude -90..90{hint}"
        )
    return lon, lat


NUMBERS = (int, float)  # compared by type(): a YAML `yes` (bool) is no coordinate
PositiveKm = Annotated[float, NoBool, Field(gt=0, le=5_000)]

# nesting depth of a geometry's coordinates: a Point is one position, a LineString a list...
DEPTH = {
    GeometryType.POINT: 0,
    GeometryType.LINE: 1,
    GeometryType.POLYGON: 2,
    GeometryType.MULTIPOLYGON: 3,
}
NESTED = {1: "a list of positions", 2: "a list of rings", 3: "a list of polygons"}


def coordinates(
    value: Any, depth: int, loc: Loc, altitude: bool, errors: list[tuple[Loc, str]]
) -> Any:
    """Coordinates nested `depth` lists deep, positions as (lon, lat) tuples; what is wrong
    goes to `errors` as (location, message)."""
    if depth == 0:
        try:
            return position(value, altitude)
        except ValueError as exc:
            errors.append((loc, str(exc)))
            return None
    if not isinstance(value, list):
        errors.append((loc, f"expected {NESTED[depth]}; got {describe_input(value)}"))
        return None
    return [coordinates(v, depth - 1, (*loc, i), altitude, errors) for i, v in enumerate(value)]


class Identity(Strict):
    """A zone's id, name and description."""

    id: Slug
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


class FeatureExtent(Strict):
    """The distances a GeoJSON feature's properties may give."""

    radius_km: PositiveKm | None = None
    width_km: PositiveKm | None = None
    within_km: Kilometres | None = None
    kernel: Kernel | None = None
    distance_km: PositiveKm | None = None


SHAPES = ("circle", "corridor", "polygon", "hotspot", "sea_area")
HOTSPOT_SHAPES = ("point", "line", "polygon", "sea_area")
ENTRY_KEYS = ("id", "name", "description", *SHAPES, "within_km")
FEATURE_PROPERTIES = ("id", "name", "description", *FeatureExtent.model_fields)
FEATURE_MEMBERS = ("type", "geometry", "properties", "id", "bbox")
GEOMETRY_MEMBERS = ("type", "coordinates", "bbox")
COLLECTION_MEMBERS = ("type", "features", "bbox", "name", "crs")
GEOMETRY_TYPES = {t.value: t for t in GeometryType}
SHAPE_OF = {
    "point": GeometryType.POINT,
    "line": GeometryType.LINE,
    "polygon": GeometryType.POLYGON,
}


# --- reading -----------------------------------------------------------------------------


@dataclass
class Reader:
    """Problems and zones of one file, in the file's order (riskapp.io.routes keeps its
    problems and ids in one too)."""

    file: str
    unit: str  # "line" (YAML) or "feature" (GeoJSON)
    line_of: Callable[[Loc], int | None]
    field_of: Callable[[Loc], str]
    problems: list[Problem] = field(default_factory=list)
    zones: list[Zone] = field(default_factory=list)
    first_of: dict[str, Loc] = field(default_factory=dict)  # id -> where it was first given

    def add(self, loc: Loc, message: str) -> None:
        self.problems.append(
            Problem(self.file, self.line_of(loc), self.field_of(loc), message, self.unit)
        )

    def add_errors(
        self, exc: ValidationError, base: Loc, model: type[BaseModel] | None = None
    ) -> None:
        errors: list[ErrorDetails] = exc.errors()
        for err in errors:
            self.add((*base, *err["loc"]), pydantic_message(err, model))

    def unknown_keys(self, given: Iterable[Any], allowed: Iterable[str], base: Loc) -> None:
        allowed = list(allowed)
        for key in given:
            if key not in allowed:
                hint = did_you_mean(str(key), allowed)
                self.add(
                    (*base, str(key)),
                    f"unknown field {key!r}; {hint}expected one of: {', '.join(allowed)}",
                )

    def validate(self, model: type[BaseModel], data: dict[str, Any], base: Loc) -> Any:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            self.add_errors(exc, base, model)
            return None

    def add_coordinate_errors(self, errors: list[tuple[Loc, str]], loc: Loc) -> None:
        """A geometry's bad positions: the first MAX_COORDINATE_PROBLEMS, then how many more."""
        for where, message in errors[:MAX_COORDINATE_PROBLEMS]:
            self.add(where, message)
        if len(errors) > MAX_COORDINATE_PROBLEMS:
            more = len(errors) - MAX_COORDINATE_PROBLEMS
            self.add(loc, f"and {more} more problem(s) with these coordinates")

    def where(self, loc: Loc) -> str:
        """'line 4' or 'feature 2', for pointing from one problem to another place."""
        line = self.line_of(loc)
        return f"{self.unit} {line}" if line is not None else self.field_of(loc)


@dataclass
class _Draft:
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


def _geometry(reader: Reader, kind: GeometryType, value: Any, loc: Loc, altitude: bool) -> Any:
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


def count_positions(value: Any, depth: int) -> int:
    """The positions of coordinates nested `depth` lists deep, counted before any is parsed
    (what is not a list counts 0), so that a huge geometry is refused cheaply."""
    if depth == 0:
        return 1
    if not isinstance(value, list):
        return 0
    if depth == 1:
        return len(value)
    return sum(count_positions(v, depth - 1) for v in value)


def format_point(p: tuple[float, float]) -> str:
    """[24.5, 60] for a position in messages."""
    return f"[{p[0]:g}, {p[1]:g}]"


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
            _finish(reader, draft)


def _yaml_entry(reader: Reader, entry: Any, loc: Loc) -> _Draft | None:
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
    draft = _Draft(loc, (*loc, "id"), identity)
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
        draft.geometry = _geometry(reader, GeometryType.POLYGON, value, sloc, altitude=False)
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
    return _geometry(reader, kind, value[key], (*loc, key), altitude=False)


def _submodel(reader: Reader, model: type[BaseModel], value: Any, loc: Loc) -> Any:
    """A shape's mapping as its model, or None after adding its problems."""
    if not isinstance(value, dict):
        reader.add(
            loc,
            f"expected a mapping of {', '.join(model.model_fields)}; got {describe_input(value)}",
        )
        return None
    return reader.validate(model, value, loc)


def _yaml_hotspot(reader: Reader, draft: _Draft, value: Any, loc: Loc) -> None:
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


# --- GeoJSON -----------------------------------------------------------------------------


def read_json(path: Path, name: str) -> Any:
    """A JSON file's data: at most MAX_GEOJSON_BYTES, no NaN or Infinity, no key given twice in
    one object and nesting no deeper than Python's recursion allows, or InputError."""
    text = read_text(path, MAX_GEOJSON_BYTES, name)
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                duplicates.append(key)
            out[key] = value
        return out

    def constant(word: str) -> Any:
        raise ValueError(f"{word} is not a number JSON allows")

    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise InputError(
            [Problem(name, exc.lineno, "", f"malformed JSON: {exc.msg} (column {exc.colno})")]
        ) from None
    except ValueError as exc:
        raise InputError([Problem(name, None, "", f"malformed JSON: {exc}")]) from None
    except RecursionError:
        raise InputError([Problem(name, None, "", "JSON nested too deeply")]) from None
    if duplicates:
        raise InputError(
            [
                Problem(name, None, "", f"malformed JSON: key {key!r} given twice in one object")
                for key in dict.fromkeys(duplicates)
            ]
        )
    return data


def _geojson_zones(reader: Reader, data: Any) -> None:
    features = feature_list(reader, data, MAX_ZONES, "zone")
    for i, feature in enumerate(features or []):
        draft = _feature(reader, feature, ("features", i))
        if draft is not None:
            _finish(reader, draft)


def feature_list(reader: Reader, data: Any, limit: int, what: str) -> list[Any] | None:
    """The features of a GeoJSON FeatureCollection in WGS 84 holding at most `limit` of them
    (a `what` file's), or None after adding what is wrong with the collection."""
    kind = data.get("type") if isinstance(data, dict) else None
    if kind != "FeatureCollection":
        found = f"a {kind}" if isinstance(kind, str) else f"a JSON {type(data).__name__}"
        hint = (
            ': put it in {"type": "FeatureCollection", "features": [...]}'
            if kind == "Feature"
            else ""
        )
        reader.add((), f"expected a GeoJSON FeatureCollection; found {found}{hint}")
        return None
    reader.unknown_keys(data, COLLECTION_MEMBERS, ())
    crs = data.get("crs")
    if crs is not None and not re.search(r"CRS84|EPSG:+4326|WGS *84", json.dumps(crs)):
        props = crs.get("properties") if isinstance(crs, dict) else None
        named = props.get("name") if isinstance(props, dict) else None
        reader.add(
            ("crs",),
            "coordinates must be longitude/latitude in WGS 84 (EPSG:4326); this file's crs is "
            f"{describe_input(named or crs)}: export it again in EPSG:4326",
        )
    features = data.get("features")
    if not isinstance(features, list):
        reader.add(("features",), f"expected a list of features; got {describe_input(features)}")
        return None
    if len(features) > limit:
        reader.add(
            ("features",), f"{len(features):,} features; a {what} file holds at most {limit:,}"
        )
        return None
    return features


def _feature(reader: Reader, feature: Any, loc: Loc) -> _Draft | None:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        reader.add(loc, f"expected a GeoJSON Feature; got {describe_input(feature)}")
        return None
    before = len(reader.problems)
    reader.unknown_keys(feature, FEATURE_MEMBERS, loc)
    ploc: Loc = (*loc, "properties")
    props = feature.get("properties")
    identity = None
    if isinstance(props, dict):
        reader.unknown_keys(props, FEATURE_PROPERTIES, ploc)
        ident = {k: props[k] for k in Identity.model_fields if k in props}
        if "id" not in ident and isinstance(feature.get("id"), str):
            ident["id"] = feature["id"]
        identity = reader.validate(Identity, ident, ploc)
    else:
        reader.add(
            ploc, f"expected the zone's properties (id, name, ...); got {describe_input(props)}"
        )
        props = {}
    draft = _Draft(loc, (*ploc, "id"), identity)
    extent = reader.validate(
        FeatureExtent, {k: props[k] for k in FeatureExtent.model_fields if k in props}, ploc
    )
    geometry: Any = feature.get("geometry")
    gloc: Loc = (*loc, "geometry")
    gtype = _geometry_type(reader, geometry, gloc)
    if gtype is not None:
        draft.geometry = _geometry(
            reader, gtype, geometry.get("coordinates"), (*gloc, "coordinates"), altitude=True
        )
    if extent is not None and gtype is not None:
        _feature_extent(reader, draft, extent, gtype, ploc)
    if len(reader.problems) > before or draft.geometry is None:
        draft.ok = False
    return draft


def _geometry_type(reader: Reader, geometry: Any, loc: Loc) -> GeometryType | None:
    names = ", ".join(GEOMETRY_TYPES)
    if not isinstance(geometry, dict):
        reader.add(loc, f"a zone needs a geometry ({names}); got {describe_input(geometry)}")
        return None
    reader.unknown_keys(geometry, GEOMETRY_MEMBERS, loc)
    gtype = GEOMETRY_TYPES.get(str(geometry.get("type")))
    if gtype is None:
        reader.add(
            (*loc, "type"),
            f"expected a geometry of type {names}; got {describe_input(geometry.get('type'))}",
        )
    return gtype


def _feature_extent(
    reader: Reader, draft: _Draft, extent: FeatureExtent, gtype: GeometryType, loc: Loc
) -> None:
    """A feature's band (radius_km, width_km or within_km) and decay (kernel, distance_km)."""
    own = {"radius_km": GeometryType.POINT, "width_km": GeometryType.LINE}
    band = extent.within_km
    for key, kind in own.items():
        value = getattr(extent, key)
        if value is None:
            continue
        if gtype is not kind:
            reader.add(
                (*loc, key),
                f"{key} is a {kind.value}'s; this feature is a {gtype.value}: give within_km",
            )
        elif extent.within_km is not None:
            reader.add((*loc, "within_km"), f"give {key} or within_km, not both")
        else:
            band = value
    draft.within_km = band or 0.0
    if (extent.kernel is None) != (extent.distance_km is None):
        missing = "kernel" if extent.kernel is None else "distance_km"
        reader.add((*loc, missing), "a hotspot takes both kernel and distance_km")
        return
    if extent.kernel is not None and extent.distance_km is not None:
        draft.decay = Decay(kernel=extent.kernel, distance_km=extent.distance_km)
    elif gtype in own.values() and not band:
        size = "radius_km (a circle)" if gtype is GeometryType.POINT else "width_km (a corridor)"
        reader.add(
            loc,
            f"a {gtype.value} has no area: give {size}, within_km, or kernel and "
            "distance_km (a hotspot)",
        )


# --- both --------------------------------------------------------------------------------


def _check_id(reader: Reader, draft: _Draft) -> None:
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


def _finish(reader: Reader, draft: _Draft) -> None:
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
    name = label or str(path)
    suffix = path.suffix.lower()
    lines: LineMap | None = None
    if suffix in YAML_SUFFIXES:
        data, lines = load_yaml(path, name)
        reader = Reader(name, "line", lines.line, loc_to_field)
        _yaml_zones(reader, data)
    elif suffix in GEOJSON_SUFFIXES:
        data = read_json(path, name)
        reader = Reader(name, "feature", feature_number, feature_field)
        _geojson_zones(reader, data)
    else:
        got = f"a {suffix} file" if suffix else "a file without an extension"
        raise InputError(
            [
                Problem(
                    name,
                    None,
                    "",
                    f"expected a zone file in YAML (.yaml, .yml) or GeoJSON (.geojson, .json); "
                    f"got {got} (a shapefile or KML converts to GeoJSON, e.g. with QGIS or "
                    "ogr2ogr)",
                )
            ]
        )
    if reader.problems:
        raise InputError(reader.problems)
    return ZoneCatalogue(zones=reader.zones), lines


def feature_number(loc: Loc) -> int | None:
    if len(loc) >= 2 and loc[0] == "features" and isinstance(loc[1], int):
        return loc[1] + 1
    return None


def feature_field(loc: Loc) -> str:
    return loc_to_field(loc[2:] if feature_number(loc) is not None else loc)
