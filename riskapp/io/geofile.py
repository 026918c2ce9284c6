"""Reading geographic input files, shared by zones (riskapp.io.zones) and routes
(riskapp.io.routes): positions and nested coordinates with what is wrong with them, a bounded
and strict JSON reader, a GeoJSON FeatureCollection's features, and a `Reader` that collects
every problem of a file by line (YAML) or feature (GeoJSON, counted from 1) and field."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from riskapp.domain.zones import Zone
from riskapp.io.errors import (
    InputError,
    Problem,
    describe_input,
    did_you_mean,
    loc_to_field,
    pydantic_message,
)
from riskapp.io.yamlfile import LineMap, load_yaml, read_text

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

YAML_SUFFIXES = (".yaml", ".yml")


GEOJSON_SUFFIXES = (".geojson", ".json")


MAX_GEOJSON_BYTES = 20_000_000


MAX_COORDINATE_PROBLEMS = 10  # per geometry: a shape of bad positions is one mistake


Loc = tuple[str | int, ...]


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


FEATURE_MEMBERS = ("type", "geometry", "properties", "id", "bbox")


GEOMETRY_MEMBERS = ("type", "coordinates", "bbox")


COLLECTION_MEMBERS = ("type", "features", "bbox", "name", "crs")


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


def feature_number(loc: Loc) -> int | None:
    if len(loc) >= 2 and loc[0] == "features" and isinstance(loc[1], int):
        return loc[1] + 1
    return None


def feature_field(loc: Loc) -> str:
    return loc_to_field(loc[2:] if feature_number(loc) is not None else loc)


def open_geo_file(path: Path, label: str | None, what: str) -> tuple[Any, Reader, LineMap | None]:
    """A `what` file's data (YAML or GeoJSON, by its suffix), the Reader collecting its
    problems and the YAML's line map (None for GeoJSON); InputError for another suffix."""
    name = label or str(path)
    suffix = path.suffix.lower()
    if suffix in YAML_SUFFIXES:
        data, lines = load_yaml(path, name)
        return data, Reader(name, "line", lines.line, loc_to_field), lines
    if suffix in GEOJSON_SUFFIXES:
        data = read_json(path, name)
        return data, Reader(name, "feature", feature_number, feature_field), None
    got = f"a {suffix} file" if suffix else "a file without an extension"
    raise InputError(
        [
            Problem(
                name,
                None,
                "",
                f"expected a {what} file in YAML (.yaml, .yml) or GeoJSON (.geojson, .json); "
                f"got {got} (a shapefile or KML converts to GeoJSON, e.g. with QGIS or "
                "ogr2ogr)",
            )
        ]
    )
