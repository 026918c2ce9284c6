"""Routes from a workspace's routes file: the line each cable, pipeline or shipping lane follows.

In YAML (.yaml, .yml): a list of routes, each with the `asset_id` of an asset of the register,
its line as a list of [longitude, latitude] positions (`line:`, in that order, as GeoJSON
writes them) or as a WKT LineString (`wkt:`, `longitude latitude` pairs), and optionally a
`rule` (any_cut or length_weighted; riskapp.domain.routes says what each does).

    routes:
      - asset_id: CBL-BAL-02
        line: [[24.93, 60.15], [22.9, 59.6], [19.5, 57.5], [14.5, 55.0], [12.1, 54.18]]
      - asset_id: SHP-EG-01
        rule: length_weighted
        line: [[32.3, 31.3], [32.55, 29.9], [33.5, 27.5]]
      - asset_id: PIP-X
        wkt: "LINESTRING (24.05 59.35, 24.5 59.7, 24.3 60.1)"

In GeoJSON (.geojson, .json): a FeatureCollection in longitude/latitude (WGS 84, as RFC 7946
has it), one Feature per route. Its geometry is a LineString (a third coordinate, an altitude,
is ignored) or a MultiLineString whose parts follow one from another, each starting where the
one before it ends: they are joined into one line. Properties: `asset_id` (the Feature's own
`id` serves when the properties have none) and optionally `rule`.

A route runs from one end to the other through at least 2 distinct points and at most
MAX_ROUTE_POINTS. Consecutive points are at most MAX_STEP_KM apart along the earth: a longer
step is nearly always a position whose longitude and latitude are swapped. An asset has one
route at most.

Problems name the file, where and the field: in YAML the line and the path of the field
(routes[2].line[4]); in GeoJSON the feature, counted from 1 in the order of `features`, and the
field within it (properties.rule, geometry.coordinates[3]). Every problem of the file is
reported at once (InputError), and nothing is returned unless the whole file is right. WKT is
parsed by GEOS (shapely), never evaluated.
"""

from __future__ import annotations

import bisect
import functools
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from riskapp.domain.common import Identifier
from riskapp.domain.routes import MAX_ROUTE_POINTS, MAX_ROUTE_TEXT, Route, RouteBook, RouteRule
from riskapp.io.errors import (
    InputError,
    Problem,
    describe_input,
    did_you_mean,
    pydantic_message,
)
from riskapp.io.geofile import (
    FEATURE_MEMBERS,
    GEOMETRY_MEMBERS,
    MAX_COORDINATE_PROBLEMS,
    Loc,
    Reader,
    coordinates,
    count_positions,
    feature_list,
    format_point,
    open_geo_file,
    position,
)
from riskapp.io.yamlfile import LineMap

MAX_ROUTES = 100_000  # per file: one a line asset
MAX_WKT_CHARS = MAX_ROUTE_TEXT  # per wkt value; longer lines belong in a GeoJSON file
MAX_STEP_KM = 5_000.0  # between consecutive points of a line
RULES = tuple(r.value for r in RouteRule)
RULE_MEANINGS = {
    RouteRule.ANY_CUT: "a cut anywhere cuts the whole route",
    RouteRule.LENGTH_WEIGHTED: "each place damages its share of the length",
}
ENTRY_KEYS = ("asset_id", "rule", "line", "wkt")
FEATURE_PROPERTIES = ("asset_id", "rule")
WKT_EXAMPLE = "LINESTRING (24.05 59.35, 24.5 59.7)"
LONLAT = "positions are [longitude, latitude], as GeoJSON writes them"
WKT_LONLAT = "WKT positions are `longitude latitude`"

Position = tuple[float, float]
ASSET_ID: TypeAdapter[str] = TypeAdapter(Identifier)


@dataclass
class _Line:
    """A route's positions as read, and where they are in the file."""

    points: list[Position]
    loc: Loc  # the whole line's
    locate: Callable[[int], Loc]  # point i's
    order: str  # how its positions are written, for the hint of a jump


@dataclass
class _Draft:
    """One route as read, before its asset id and its steps are checked."""

    loc: Loc
    id_loc: Loc
    asset_id: str | None = None
    rule: RouteRule | None = None
    line: _Line | None = None


def load_route_file(path: Path, label: str | None = None) -> tuple[RouteBook, LineMap | None]:
    """A workspace's routes from a YAML or GeoJSON file (see the module's docstring), and the
    YAML's line map (None for GeoJSON); InputError with every problem of the file."""
    data, reader, lines = open_geo_file(path, label, "routes")
    drafts = _yaml_routes(reader, data) if lines is not None else _geojson_routes(reader, data)
    _check_steps(reader, [d.line for d in drafts if d.line is not None])
    if reader.problems:
        raise InputError(reader.problems)
    routes = []
    for draft in drafts:
        assert draft.line is not None  # else a problem was added
        try:
            routes.append(Route(asset_id=draft.asset_id, line=draft.line.points, rule=draft.rule))
        except ValidationError as exc:  # checked above already; kept should the model grow
            reader.add_errors(exc, draft.loc, Route)
    if reader.problems:
        raise InputError(reader.problems)
    return RouteBook(routes=routes), lines


def _checked(reader: Reader, drafts: Iterable[_Draft | None]) -> list[_Draft]:
    """The routes read, in the file's order, each asset's second route a problem naming both."""
    out = []
    for draft in drafts:
        if draft is None:
            continue
        out.append(draft)
        if draft.asset_id is None:
            continue
        first = reader.first_of.get(draft.asset_id)
        if first is None:
            reader.first_of[draft.asset_id] = draft.id_loc
            continue
        reader.add(
            draft.id_loc,
            f"asset {draft.asset_id!r} has two routes, at {reader.where(first)} and at "
            f"{reader.where(draft.id_loc)}: an asset has one route; keep one of them",
        )
    return out


# --- the register's route column -----------------------------------------------------------


def register_routes(
    ids: Sequence[str],
    cells: Sequence[str],
    rows: Sequence[int | None] | None,
    name: str,
    book: RouteBook,
    book_name: str,
) -> tuple[RouteBook, list[Problem]]:
    """The workspace's routes: the routes file's (`book`) and those the register's `route`
    column gives (a WKT LINESTRING, or a JSON list of [longitude, latitude] positions, as a
    routes file's `wkt` and `line`), with the problems of the column's cells. Each problem
    names the register (`name`), the asset's row (`rows`, when read from a file; else the
    asset) and the field `route`. A route with a problem is left out; an asset given a route
    in both places is a problem."""
    import numpy as np

    given = np.flatnonzero(np.fromiter(map(bool, cells), dtype=bool, count=len(cells)))
    if not len(given):
        return book, []
    in_file = set(book.asset_ids)
    problems: list[Problem] = []
    added: list[Route] = []
    for i in given.tolist():
        asset_id, text = ids[i], cells[i].strip()
        row = rows[i] if rows is not None else None
        prefix = "" if rows is not None else f"asset {asset_id!r}: "
        reader = Reader(name, "row", functools.partial(_cell_row, row), _cell_field)
        line = _cell_line(reader, text)
        if line is not None:
            _check_steps(reader, [line])
        if asset_id in in_file:
            reader.add(
                (),
                f"{asset_id!r} also has a route in {book_name}: an asset has one route; keep "
                "one of them",
            )
        if reader.problems:
            problems += [
                Problem(p.file, p.line, p.field, prefix + p.message, p.unit)
                for p in reader.problems
            ]
            continue
        assert line is not None
        added.append(Route(asset_id=asset_id, line=line.points))
    return RouteBook(routes=[*book.routes, *added]), problems


def _cell_row(row: int | None, loc: Loc) -> int | None:
    return row


def _cell_field(loc: Loc) -> str:
    """The field of a problem in a route cell: route, or route[3] for its fourth position."""
    return "route" + "".join(f"[{p}]" for p in loc)


def _cell_line(reader: Reader, text: str) -> _Line | None:
    """A register cell's line: JSON positions when it opens with '[', else WKT."""
    if not text.startswith("["):
        return _wkt(reader, text, ())
    import json

    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        why = str(exc) if isinstance(exc, ValueError) else "nested too deep"
        reader.add(
            (),
            f"not a JSON list of positions ({why}); expected [[longitude, latitude], ...] "
            f'such as [[24.05, 59.35], [24.5, 59.7]], or a WKT such as "{WKT_EXAMPLE}"',
        )
        return None
    points = _line(reader, value, (), altitude=False)
    if points is None or not _check_line(reader, points, ()):
        return None
    return _Line(points, (), lambda i: (i,), LONLAT)


# --- YAML --------------------------------------------------------------------------------


def _yaml_routes(reader: Reader, data: Any) -> list[_Draft]:
    if not isinstance(data, dict):
        found = "nothing" if data is None else type(data).__name__
        reader.add((), f"expected a mapping with a `routes:` list; found {found}")
        return []
    reader.unknown_keys(data, ["routes"], ())
    if "routes" not in data:
        reader.add((), "required field `routes` is missing: the list of routes")
        return []
    entries = data["routes"]
    if entries is None:
        return []
    if not isinstance(entries, list):
        reader.add(("routes",), f"expected a list of routes; found {type(entries).__name__}")
        return []
    if len(entries) > MAX_ROUTES:
        reader.add(
            ("routes",), f"{len(entries):,} routes; a routes file holds at most {MAX_ROUTES:,}"
        )
        return []
    drafts = (_yaml_entry(reader, entry, ("routes", i)) for i, entry in enumerate(entries))
    return _checked(reader, drafts)


def _yaml_entry(reader: Reader, entry: Any, loc: Loc) -> _Draft | None:
    if not isinstance(entry, dict):
        reader.add(
            loc,
            "expected a route: a mapping with asset_id and line (or wkt); found "
            f"{describe_input(entry)}",
        )
        return None
    reader.unknown_keys(entry, ENTRY_KEYS, loc)
    draft = _Draft(loc, (*loc, "asset_id"))
    if "asset_id" in entry:
        draft.asset_id = _asset_id(reader, entry["asset_id"], draft.id_loc)
    else:
        reader.add(draft.id_loc, "required field is missing: the id of the asset in the register")
    draft.rule = _rule(reader, entry.get("rule"), (*loc, "rule"))
    given = [k for k in ("line", "wkt") if k in entry]
    if len(given) != 1:
        got = "neither" if not given else "both"
        reader.add(
            loc,
            "a route takes its line as `line` (a list of [longitude, latitude]) or as `wkt` "
            f'(such as "{WKT_EXAMPLE}"): one of them; got {got}',
        )
    elif given == ["line"]:
        lloc: Loc = (*loc, "line")
        points = _line(reader, entry["line"], lloc, altitude=False)
        if points is not None and _check_line(reader, points, lloc):
            draft.line = _Line(points, lloc, lambda i: (*lloc, i), LONLAT)
    else:
        draft.line = _wkt(reader, entry["wkt"], (*loc, "wkt"))
    return draft


def _wkt(reader: Reader, value: Any, loc: Loc) -> _Line | None:
    """A WKT LINESTRING's positions (an altitude dropped), or None after adding its problems."""
    if not isinstance(value, str):
        reader.add(
            loc, f'expected a WKT LineString such as "{WKT_EXAMPLE}"; got {describe_input(value)}'
        )
        return None
    if len(value) > MAX_WKT_CHARS:
        reader.add(
            loc,
            f"{len(value):,} characters; a wkt value takes at most {MAX_WKT_CHARS:,}: give a "
            "line this long in a GeoJSON file",
        )
        return None
    import shapely
    import shapely.errors
    import shapely.wkt

    try:
        with warnings.catch_warnings():  # GEOS reads nan and 1e999: position() refuses them
            warnings.simplefilter("ignore", RuntimeWarning)
            geom = shapely.wkt.loads(value)
    except (shapely.errors.ShapelyError, ValueError) as exc:
        why = str(exc).removeprefix("ParseException: ").strip()
        reader.add(loc, f'not valid WKT: {why}; expected a LineString such as "{WKT_EXAMPLE}"')
        return None
    if geom.geom_type != "LineString":
        hint = ": join its parts into one LINESTRING" if geom.geom_type == "MultiLineString" else ""
        reader.add(loc, f"expected a WKT LINESTRING; got a {geom.geom_type.upper()}{hint}")
        return None
    points = shapely.get_coordinates(geom).tolist()  # x, y: the altitude is dropped
    if len(points) > MAX_ROUTE_POINTS:
        reader.add(loc, _too_many(len(points)))
        return None
    errors: list[tuple[Loc, str]] = []
    line: list[Position] = []
    for i, point in enumerate(points):
        try:
            line.append(position(point, altitude=False))
        except ValueError as exc:
            errors.append((loc, f"point {i + 1} of the WKT: {exc}"))
    if errors:
        reader.add_coordinate_errors(errors, loc)
        return None
    if not _check_line(reader, line, loc):
        return None
    return _Line(line, loc, lambda i: loc, WKT_LONLAT)


# --- GeoJSON -----------------------------------------------------------------------------


def _geojson_routes(reader: Reader, data: Any) -> list[_Draft]:
    features = feature_list(reader, data, MAX_ROUTES, "routes")
    drafts = (_feature(reader, f, ("features", i)) for i, f in enumerate(features or []))
    return _checked(reader, drafts)


def _feature(reader: Reader, feature: Any, loc: Loc) -> _Draft | None:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        reader.add(loc, f"expected a GeoJSON Feature; got {describe_input(feature)}")
        return None
    reader.unknown_keys(feature, FEATURE_MEMBERS, loc)
    ploc: Loc = (*loc, "properties")
    props = feature.get("properties")
    if props is None:
        props = {}
    elif isinstance(props, dict):
        reader.unknown_keys(props, FEATURE_PROPERTIES, ploc)
    else:
        reader.add(
            ploc, f"expected the route's properties (asset_id, rule); got {describe_input(props)}"
        )
        props = {}
    draft = _Draft(loc, (*ploc, "asset_id"))
    if "asset_id" in props:
        draft.asset_id = _asset_id(reader, props["asset_id"], draft.id_loc)
    elif "id" in feature:  # the Feature's own id serves
        draft.id_loc = (*loc, "id")
        draft.asset_id = _asset_id(
            reader, feature["id"], draft.id_loc, "the Feature's id serves as its asset_id: "
        )
    else:
        reader.add(
            draft.id_loc,
            "required field is missing: the id of the asset in the register (or give it as "
            "the Feature's own id)",
        )
    draft.rule = _rule(reader, props.get("rule"), (*ploc, "rule"))
    draft.line = _feature_line(reader, feature.get("geometry"), (*loc, "geometry"))
    return draft


def _feature_line(reader: Reader, geometry: Any, loc: Loc) -> _Line | None:
    """A LineString's positions, or a MultiLineString's parts joined into one line."""
    kinds = "LineString or MultiLineString"
    if not isinstance(geometry, dict):
        reader.add(loc, f"a route needs a geometry ({kinds}); got {describe_input(geometry)}")
        return None
    reader.unknown_keys(geometry, GEOMETRY_MEMBERS, loc)
    kind, value = geometry.get("type"), geometry.get("coordinates")
    cloc: Loc = (*loc, "coordinates")
    if kind == "LineString":
        points = _line(reader, value, cloc, altitude=True)
        if points is None or not _check_line(reader, points, cloc):
            return None
        return _Line(points, cloc, lambda i: (*cloc, i), LONLAT)
    if kind == "MultiLineString":
        return _joined(reader, value, cloc)
    hint = ": a route is a line" if kind in ("Point", "Polygon", "MultiPolygon") else ""
    reader.add(
        (*loc, "type"), f"expected a geometry of type {kinds}; got {describe_input(kind)}{hint}"
    )
    return None


def _joined(reader: Reader, value: Any, loc: Loc) -> _Line | None:
    """A MultiLineString's parts as one line: each part must start where the one before it
    ends (the shared point is kept once)."""
    if not isinstance(value, list) or not value:
        reader.add(
            loc, f"expected a list of lines (lists of positions); got {describe_input(value)}"
        )
        return None
    count = count_positions(value, 2)
    if count > MAX_ROUTE_POINTS:
        reader.add(loc, _too_many(count))
        return None
    errors: list[tuple[Loc, str]] = []
    parts = []
    for k, part in enumerate(value):
        if not isinstance(part, list) or not part:
            errors.append(
                ((*loc, k), f"expected a line: a list of positions; got {describe_input(part)}")
            )
            continue
        parts.append(coordinates(part, 1, (*loc, k), True, errors))
    if errors:
        reader.add_coordinate_errors(errors, loc)
        return None
    line: list[Position] = list(parts[0])
    starts = [0]  # where each part's first point is in the joined line
    joined = True
    for k, part in enumerate(parts[1:], start=1):
        end = line[-1]
        if part[0] != end:
            joined = False
            away = _format_km(float(_steps_km([end, part[0]])[0]))
            hint = (
                "; it ends there instead: reverse it"
                if part[-1] == end
                else ": a route is one connected line, so each part of a MultiLineString must "
                "start where the part before it ends"
            )
            reader.add(
                (*loc, k, 0),
                f"this part starts at {format_point(part[0])}, {away} from the end of the "
                f"part before it ({format_point(end)}){hint}",
            )
        starts.append(len(line) - 1)
        line.extend(part[1:])
    if not joined:
        return None

    def locate(i: int) -> Loc:  # i > 0: the end of a step
        k = bisect.bisect_left(starts, i) - 1
        return (*loc, k, i - starts[k])

    if not _check_line(reader, line, loc):
        return None
    return _Line(line, loc, locate, LONLAT)


# --- both --------------------------------------------------------------------------------


def _line(reader: Reader, value: Any, loc: Loc, altitude: bool) -> list[Position] | None:
    """A list of positions, or None after adding its problems."""
    count = count_positions(value, 1)
    if count > MAX_ROUTE_POINTS:
        reader.add(loc, _too_many(count))
        return None
    errors: list[tuple[Loc, str]] = []
    line = coordinates(value, 1, loc, altitude, errors)
    if errors:
        reader.add_coordinate_errors(errors, loc)
        return None
    return list(line)


def _check_line(reader: Reader, line: list[Position], loc: Loc) -> bool:
    """At least 2 points, and 2 distinct ones; False after adding the problem."""
    if len(line) < 2:
        reader.add(loc, f"a route needs at least 2 points, one at each end; got {len(line)}")
        return False
    if len(set(line)) < 2:
        reader.add(
            loc,
            f"{'both' if len(line) == 2 else f'all {len(line)}'} points are at "
            f"{format_point(line[0])}: a route needs at least 2 distinct points",
        )
        return False
    return True


def _check_steps(reader: Reader, lines: list[_Line]) -> None:
    """Consecutive points of each line at most MAX_STEP_KM apart: the steps of all the file's
    lines in one geodesic computation, a problem for each jump (at most MAX_COORDINATE_PROBLEMS
    a line, then how many more)."""
    if not lines:
        return
    import numpy as np

    sizes = np.array([len(line.points) for line in lines])
    ends = np.cumsum(sizes)  # a line's end: the next one's start
    steps = _steps_km([p for line in lines for p in line.points])
    steps[ends[:-1] - 1] = 0.0  # from a line's last point to the next line's first: no step
    jumps = np.flatnonzero(steps > MAX_STEP_KM)
    owners = np.searchsorted(ends, jumps, side="right")  # the line each jump's start is on
    for k in np.unique(owners).tolist():
        line, start = lines[k], int(ends[k] - sizes[k])
        mine = jumps[owners == k] - start
        for i in mine[:MAX_COORDINATE_PROBLEMS].tolist():
            reader.add(
                line.locate(i + 1),
                f"the line jumps {_format_km(float(steps[start + i]))} from "
                f"{format_point(line.points[i])} to {format_point(line.points[i + 1])}; "
                f"consecutive points may be at most {MAX_STEP_KM:,.0f} km apart: are a "
                f"longitude and a latitude swapped? ({line.order}; a route that does go that far "
                "needs points along the way)",
            )
        if len(mine) > MAX_COORDINATE_PROBLEMS:
            more = len(mine) - MAX_COORDINATE_PROBLEMS
            reader.add(line.loc, f"and {more} more jump(s) in this line")


def _steps_km(points: list[Position]) -> Any:
    """The geodesic lengths (km, WGS 84) from each point to the next, as an array."""
    import numpy as np

    lonlat = np.asarray(points, dtype=np.float64)
    lon, lat = lonlat[:, 0], lonlat[:, 1]
    _, _, metres = _geod().inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    return np.asarray(metres) / 1000.0


@functools.cache
def _geod() -> Any:
    import pyproj

    return pyproj.Geod(ellps="WGS84")


def _asset_id(reader: Reader, value: Any, loc: Loc, prefix: str = "") -> str | None:
    """An asset id, or None after adding what is wrong with it."""
    try:
        asset_id: str = ASSET_ID.validate_python(value)
    except ValidationError as exc:
        for err in exc.errors():
            reader.add(loc, prefix + pydantic_message(err))
        return None
    return asset_id


def _rule(reader: Reader, value: Any, loc: Loc) -> RouteRule | None:
    """A route's own rule (None: the workspace's for its type), or None after a problem."""
    if value is None:
        return None
    if isinstance(value, str) and value in RULES:
        return RouteRule(value)
    choices = "; ".join(f"{rule.value} ({why})" for rule, why in RULE_MEANINGS.items())
    if isinstance(value, str):
        hint = did_you_mean(value.strip().lower().replace("-", "_").replace(" ", "_"), RULES)
        reader.add(loc, f"unknown rule {value!r}; {hint}expected one of: {choices}")
    else:
        reader.add(loc, f"expected a rule, one of: {choices}; got {describe_input(value)}")
    return None


def _too_many(count: int) -> str:
    return (
        f"{count:,} points; a route takes at most {MAX_ROUTE_POINTS:,}: simplify the line, "
        "e.g. with QGIS's Simplify or ogr2ogr -simplify"
    )


def _format_km(km: float) -> str:
    return f"{km:,.0f} km" if km >= 10 else f"{km:.2g} km"
