"""Locations resolved offline, before a register's rows are checked: the one step every reading
of a register takes (workspace files and store imports: `riskapp.io.columnar.table_frame`;
`riskapp validate`'s stream: `riskapp.io.register_check`; the row-wise model reading:
`riskapp.io.tables.asset_rows`).

- `country`: an alpha-3 code, or an alpha-2 or numeric code, or a name in one of several
  languages (`riskapp.io.countrynames`); certain readings are converted and reported as notes,
  uncertain ones are problems listing the candidates.
- `country` empty with `lat`/`lon` given: the country the point lies in (Natural Earth's
  outlines, `riskapp.engine.countries`, within 12 nautical miles of its coast); a point farther
  out at sea is a problem naming the sea area it lies in (`riskapp.io.sea_areas`) and the
  nearest country.
- `city` (a column read, not kept): where `lat` and `lon` are empty, the city's GeoNames centre
  (`riskapp.io.gazetteer`), marked approximate; it also gives an empty `country`.

Each distinct value is read once and the reading mapped back to the rows (a million rows
naming a few dozen countries cost a few dozen readings).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskapp.domain.common import iso_alpha3_codes
from riskapp.engine.routes import TERRITORIAL_SEA_KM
from riskapp.io.countrynames import candidates_text, read_country
from riskapp.io.errors import Problem
from riskapp.io.gazetteer import GAZETTEER_SOURCE, near_towns, read_city

CITY = "city"  # an input column (riskapp.domain.assets.INPUT_COLUMNS): it places the row
# 12 nautical miles: a point this near a country's coast is in its waters
COAST_KM = TERRITORIAL_SEA_KM
NEAREST_KM = 400.0  # how far the nearest country is looked for, for a point at sea
MAX_LISTED = 20  # rows listed for one uncertain value, before the rest are counted
MAX_NEAR = 50  # distinct unknown country cells of one reading for which close names are sought
MAX_PROBLEMS = 200  # problems of one reading (as riskapp.io.tables.MAX_PROBLEMS)
SHOWN_ROWS = 5


def _rows_text(lines: Sequence[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:SHOWN_ROWS])
    more = len(lines) - SHOWN_ROWS
    return (
        f"rows {shown} and {more} more"
        if more > 0
        else f"row{'s' if len(lines) > 1 else ''} {shown}"
    )


@dataclass
class LocationNotes:
    """What was read beyond the plain codes, counted over a whole register (chunks add up)."""

    converted: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # text, code, how
    from_points: Counter[str] = field(default_factory=Counter)  # code
    from_city: dict[str, list[int]] = field(default_factory=dict)  # city label -> rows
    subdivisions: int = 0  # rows whose subdivision was read from their point

    def add(self, other: LocationNotes) -> None:
        self.converted.update(other.converted)
        self.from_points.update(other.from_points)
        for label, rows in other.from_city.items():
            self.from_city.setdefault(label, []).extend(rows)
        self.subdivisions += other.subdivisions

    def lines(self, name: str) -> list[str]:
        """The notes as sentences, each naming the file."""
        from riskapp.domain.common import country_name

        out = []
        for (text, code, how), count in sorted(self.converted.items()):
            rows = "1 row names its" if count == 1 else f"{count} rows name their"
            kind = f" (an {how})" if how != "name" else ""
            out.append(f"{name}: {rows} country as {text!r}{kind}, read as {code}")
        if self.from_points:
            parts = ", ".join(
                f"{code} ({country_name(code)}) for {n}"
                for code, n in sorted(self.from_points.items())
            )
            total = sum(self.from_points.values())
            rows = (
                "1 row gives no country; read from its"
                if total == 1
                else (f"{total} rows give no country; read from their")
            )
            out.append(f"{name}: {rows} coordinates (Natural Earth 1:110m outlines): {parts}")
        if self.subdivisions:
            rows = "1 row's" if self.subdivisions == 1 else f"{self.subdivisions:,} rows'"
            from riskapp.io.subdivisions import SOURCE_NOTE

            out.append(f"{name}: {rows} subdivision read from their coordinates ({SOURCE_NOTE})")
        cities = sorted(self.from_city.items())
        for label, lines in cities[:MAX_LISTED]:
            verb = "gives" if len(lines) == 1 else "give"
            out.append(
                f"{name}: {_rows_text(sorted(lines))} {verb} no coordinates; placed approximately "
                f"at the centre of the city {label} ({GAZETTEER_SOURCE})"
            )
        if len(cities) > MAX_LISTED:
            rest = sum(len(lines) for _, lines in cities[MAX_LISTED:])
            out.append(
                f"{name}: {rest} more rows placed approximately at the centre of "
                f"{len(cities) - MAX_LISTED} more cities ({GAZETTEER_SOURCE})"
            )
        return out


@dataclass
class Located:
    """A register's columns with their locations read: what to put in place of the cells."""

    header: list[str]  # the header the rest of the reading sees (no `city`; lat/lon added)
    source: list[str]  # the header as read
    filled: dict[str, np.ndarray]  # column -> its new cells (object arrays), for all rows
    problems: list[Problem]
    flagged: set[tuple[int, str]]  # (row, field) already worded here
    notes: LocationNotes
    approximate: np.ndarray  # rows whose coordinates come from their city
    subdivided: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # rows
    # whose subdivision was read from their point (empty: none)

    @property
    def changed(self) -> bool:
        return bool(self.filled) or self.header != self.source

    def cells(self, cells: Sequence[Any], i: int) -> list[Any]:
        """Row i's cells (in the source header's order) as the new header reads them."""
        row = dict(
            zip(self.source, list(cells) + [""] * (len(self.source) - len(cells)), strict=False)
        )
        for col, new in self.filled.items():
            row[col] = new[i]
        return [row.get(col, "") for col in self.header]

    def keep(self, problem: Problem) -> bool:
        """Whether a later problem is new (not one already worded here for its row and field)."""
        return (problem.line or 0, problem.field) not in self.flagged


def by_row(problems: list[Problem]) -> list[Problem]:
    """Problems in row order (the reading's and the model's merged); unplaced ones last."""
    return sorted(problems, key=lambda p: (p.line is None, p.line or 0))


def unchanged(header: list[str], n: int) -> Located:
    return Located(list(header), list(header), {}, [], set(), LocationNotes(), np.zeros(n, bool))


def plain_codes(header: list[str], country: Callable[[], Any]) -> bool:
    """True when nothing is to be read: no `city` column and every country cell a code (the
    usual register; `country()` gives the distinct cells)."""
    if CITY in header or "country" not in header:
        return CITY not in header
    return all(type(v) is str and read_country(v).kind == "code" for v in country())


def locate(
    header: list[str], column: Callable[[int], Sequence[Any]], lines: np.ndarray, name: str
) -> Located:
    """The locations of a register's rows (`column(i)`: the cells of header column i)."""
    n = len(lines)
    if "country" not in header or header.count(CITY) > 1 or header.count("country") > 1:
        return unchanged(header, n)  # the header's check words it
    at = {col: i for i, col in enumerate(header)}
    out = unchanged(header, n)
    out.header = [c for c in header if c != CITY]
    country = _countries(np.asarray(column(at["country"]), dtype=object), lines, name, out)
    blank = _blank(country)
    no_country = blank.copy()  # rows a city or a point may place
    # coordinates are read only where they may place a row: no country, or a city named
    wanted = blank | _named(column(at[CITY])) if CITY in at else blank
    lat = _numbers(column(at["lat"]) if "lat" in at else None, wanted)
    lon = _numbers(column(at["lon"]) if "lon" in at else None, wanted)
    if CITY in at:
        cities = np.asarray(column(at[CITY]), dtype=object)
        lat_text, lon_text = _by_city(cities, country, blank, lat, lon, lines, name, out)
        if lat_text is None or lon_text is None:
            lat_text = lon_text = np.full(n, None, dtype=object)
        # with a city column the header always holds lat and lon (each chunk of a stream alike)
        placed = out.approximate
        if placed.any() or "lat" not in at or "lon" not in at:
            out.filled["lat"] = _merged(
                column(at["lat"]) if "lat" in at else None, lat_text, placed
            )
            out.filled["lon"] = _merged(
                column(at["lon"]) if "lon" in at else None, lon_text, placed
            )
            for col in ("lat", "lon"):
                if col not in out.header:
                    out.header.append(col)
            lat = _numbers(out.filled["lat"], wanted)
            lon = _numbers(out.filled["lon"], wanted)
            blank = _blank(country)
    _by_points(country, blank, lat, lon, lines, name, out)
    if out.notes.converted or out.notes.from_points or out.notes.from_city:
        out.filled["country"] = country
    placed = no_country & ~_blank(country)  # rows whose country was read from their place
    if placed.any():
        _subdivisions(
            column(at["subdivision"]) if "subdivision" in at else None,
            country,
            placed,
            lat,
            lon,
            out,
        )
    if len(out.problems) > MAX_PROBLEMS:
        out.problems = by_row(out.problems)[:MAX_PROBLEMS]
        out.problems.append(Problem(name, None, "", "more problems not shown", "row"))
    return out


def _countries(cells: np.ndarray, lines: np.ndarray, name: str, out: Located) -> np.ndarray:
    """The country cells with the certain readings put in; uncertain ones become problems."""
    codes, distinct = pd.factorize(cells, use_na_sentinel=False)
    new = _distinct_countries(codes, distinct.tolist(), lines, name, out)
    result: np.ndarray = new[codes]
    return result


def _distinct_countries(
    codes: np.ndarray, distinct: list[Any], lines: np.ndarray, name: str, out: Located
) -> np.ndarray:
    """The distinct country cells (each row's index into them: `codes`) with the certain
    readings put in; uncertain ones become problems naming their rows."""
    counts = np.bincount(codes, minlength=len(distinct))
    groups: dict[int, np.ndarray] | None = None  # each distinct cell's rows, when needed
    new = np.empty(len(distinct), dtype=object)
    new[:] = distinct
    looked = 0  # distinct cells whose close names were looked for
    for j, value in enumerate(distinct):
        if type(value) is not str:
            continue
        reading = read_country(value, near=looked < MAX_NEAR)
        looked += reading.kind not in {"code", "converted"}
        if reading.kind == "converted":
            new[j] = reading.code
            out.notes.converted[(value.strip(), reading.code, reading.how)] += int(counts[j])
        elif reading.kind == "uncertain":
            groups = _groups(codes) if groups is None else groups
            rows = lines[groups[j]].tolist()
            what = (
                "a name several countries answer to"
                if reading.how == "shared name"
                else "not a country name or code riskapp knows"
            )
            message = (
                f"{value.strip()!r} is {what}: did you mean {candidates_text(reading.candidates)}? "
                "Write its ISO 3166-1 alpha-3 code to confirm"
            )
            for row in rows[:MAX_LISTED]:
                out.problems.append(Problem(name, int(row), "country", message, "row"))
                out.flagged.add((int(row), "country"))
            if len(rows) > MAX_LISTED:
                out.problems.append(
                    Problem(
                        name,
                        None,
                        "country",
                        f"{len(rows) - MAX_LISTED} more rows name their country as "
                        f"{value.strip()!r}",
                        "row",
                    )
                )
                out.flagged.update((int(r), "country") for r in rows)
    return new


def _blank(cells: np.ndarray) -> np.ndarray:
    """Which cells are empty text (each distinct cell looked at once)."""
    codes, distinct = pd.factorize(cells, use_na_sentinel=False)
    empty = np.array([type(v) is str and not v.strip() for v in distinct.tolist()], dtype=bool)
    return empty[codes] if len(distinct) else np.zeros(len(cells), dtype=bool)


def _numbers(cells: Sequence[Any] | np.ndarray | None, wanted: np.ndarray) -> np.ndarray:
    """The `wanted` cells as numbers (NaN where empty, not a plain number, or not wanted)."""
    out = np.full(len(wanted), np.nan)
    rows = np.flatnonzero(wanted)
    if cells is None or not len(rows):
        return out
    picked = pd.Series(np.asarray(cells, dtype=object)[rows], dtype=object)
    text = picked.str.strip().fillna(picked)  # cells that are not text (numbers) as they are
    out[rows] = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return out


def _named(cells: Sequence[Any] | np.ndarray) -> np.ndarray:
    """Which cells hold text other than white space (each distinct cell looked at once)."""
    codes, distinct = pd.factorize(np.asarray(cells, dtype=object), use_na_sentinel=False)
    named = np.array([type(v) is str and bool(v.strip()) for v in distinct.tolist()], dtype=bool)
    return named[codes] if len(distinct) else np.zeros(len(codes), dtype=bool)


def _merged(cells: Sequence[Any] | None, filled: np.ndarray, where: np.ndarray) -> np.ndarray:
    """A column's cells with the filled ones (rows `where`) put in."""
    base = (
        np.full(len(filled), "", dtype=object)
        if cells is None
        else np.asarray(cells, dtype=object).copy()
    )
    base[where] = filled[where]
    return base


def _groups(codes: np.ndarray) -> dict[int, np.ndarray]:
    """Each code's positions (ascending), from one sort (not one pass over all rows a code)."""
    if not len(codes):
        return {}
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(codes)]
    return {int(ordered[a]): order[a:b] for a, b in zip(starts, ends, strict=True)}


def _by_city(
    cities: np.ndarray,
    country: np.ndarray,
    blank: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    lines: np.ndarray,
    name: str,
    out: Located,
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Coordinates (as cell text) from the `city` of rows without them; None where unchanged."""
    n = len(cities)
    named = _named(cities)
    flagged_rows = np.isin(lines, [r for r, f in out.flagged if f == "country"])
    todo = np.flatnonzero(named & np.isnan(lat) & np.isnan(lon) & ~flagged_rows)
    if not len(todo):
        return None, None
    named_countries = pd.Series(np.where(blank[todo], "", country[todo]), dtype=object)
    keys = pd.MultiIndex.from_arrays(
        [
            pd.Series(cities[todo], dtype=object).str.strip(),
            named_countries.str.strip().str.upper().fillna(""),
        ]
    )
    codes, distinct = keys.factorize()
    lat_text = np.full(n, None, dtype=object)
    lon_text = np.full(n, None, dtype=object)
    groups = _groups(np.asarray(codes))
    for j, (city, code) in enumerate(distinct.tolist()):
        rows = todo[groups[j]]
        reading = read_city(city, code)
        if reading.kind == "found" and reading.city is not None:
            place = reading.city
            lat_text[rows] = repr(place.lat)
            lon_text[rows] = repr(place.lon)
            out.approximate[rows] = True
            out.notes.from_city.setdefault(place.label(), []).extend(int(r) for r in lines[rows])
            country[rows[blank[rows]]] = place.country
            blank[rows] = False
            continue
        where = f" in {code}" if code else ""
        if reading.kind == "uncertain":
            listed = "; ".join(c.label() for c in reading.candidates)
            message = (
                f"{city!r} names several places{where}: {listed}; give the row's country, or "
                "lat and lon"
            )
        else:
            message = (
                f"no city named {city!r}{where} in the gazetteer ({GAZETTEER_SOURCE}); "
                "give lat and lon"
            )
        for row in lines[rows][:MAX_LISTED].tolist():
            out.problems.append(Problem(name, int(row), CITY, message, "row"))
            out.flagged.add((int(row), "country"))
    return lat_text, lon_text


def _by_points(
    country: np.ndarray,
    blank: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    lines: np.ndarray,
    name: str,
    out: Located,
) -> None:
    """An empty country read from the row's point (each distinct point located once)."""
    placed = blank & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    rows = np.flatnonzero(placed)
    if not len(rows):
        return
    from riskapp.engine.countries import country_shapes

    points, inverse = np.unique(lon[rows] + 1j * lat[rows], return_inverse=True)
    inverse = inverse.reshape(-1)
    groups = _groups(inverse)
    px, py = points.real.copy(), points.imag.copy()
    shapes = country_shapes()
    found = shapes.locate(px, py, near_km=COAST_KM)
    # a point near a town of a country too small for the outlines (Singapore, Monaco, Hong
    # Kong, Malta...) is not read for sure: the outlines would file it under a neighbour
    small = near_towns(px, py, frozenset(iso_alpha3_codes()) - frozenset(shapes.codes))
    doubt = np.flatnonzero((small != "") & (small != found))
    for p in doubt.tolist():
        from riskapp.domain.common import country_name

        where = f"in {country_name(found[p])} by the outlines" if found[p] else "at sea"
        candidates = tuple(c for c in (small[p], found[p]) if c)
        message = (
            f"no country given, and the point (lat {py[p]:g}, lon {px[p]:g}) lies {where} but "
            f"close to a town of {country_name(small[p])}, too small for Natural Earth's "
            f"1:110m outlines: did you mean {candidates_text(candidates)}? "
            "Write its ISO 3166-1 alpha-3 code to confirm"
        )
        for row in lines[rows[groups[p]]][:MAX_LISTED].tolist():
            out.problems.append(Problem(name, int(row), "country", message, "row"))
            out.flagged.add((int(row), "country"))
    found[doubt] = None  # neither read nor at sea
    sure = found[inverse]
    read = np.array([type(c) is str and c != "" for c in found], dtype=bool)[inverse]
    country[rows[read]] = sure[read]
    for code, count in Counter(sure[read].tolist()).items():
        out.notes.from_points[str(code)] += count
    at_sea = np.flatnonzero(found == "")
    if not len(at_sea):
        return
    nearest = shapes.locate(px[at_sea], py[at_sea], near_km=NEAREST_KM)
    seas = _sea_areas(px[at_sea], py[at_sea])
    for k, p in enumerate(at_sea.tolist()):
        from riskapp.domain.common import country_name

        sea = f" in {seas[k]}" if seas[k] else ""
        near = (
            f"; the nearest country is {country_name(nearest[k])} ({nearest[k]})"
            if nearest[k]
            else f"; no country lies within {NEAREST_KM:.0f} km"
        )
        message = (
            f"no country given, and the point (lat {py[p]:g}, lon {px[p]:g}) lies at sea{sea}, "
            f"more than {COAST_KM:g} km off any coast{near}: give the country the asset is "
            "filed under"
        )
        for row in lines[rows[groups[p]]][:MAX_LISTED].tolist():
            out.problems.append(Problem(name, int(row), "country", message, "row"))
            out.flagged.add((int(row), "country"))


def _subdivisions(
    cells: Sequence[Any] | None,
    country: np.ndarray,
    placed: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    out: Located,
) -> None:
    """The subdivision of the rows placed by their point (`placed`: no country given), where
    their subdivision cell is empty: the shipped boundary the point lies in, or the nearest
    within 12 nautical miles (riskapp.io.subdivisions), in the country read for the row."""
    from riskapp.io.subdivisions import subdivisions_in

    empty = _blank(np.asarray(cells, dtype=object)) if cells is not None else placed
    rows = np.flatnonzero(placed & empty)
    if not len(rows):
        return
    read = subdivisions_in(lon[rows], lat[rows], country[rows])
    keep = read != ""
    if not keep.any():
        return
    new = (
        np.asarray(cells, dtype=object).copy()
        if cells is not None
        else np.full(len(placed), "", dtype=object)
    )
    new[rows[keep]] = read[keep]
    out.filled["subdivision"] = new
    out.subdivided = np.zeros(len(placed), dtype=bool)
    out.subdivided[rows[keep]] = True
    if "subdivision" not in out.header:
        out.header.append("subdivision")
    out.notes.subdivisions += int(keep.sum())


def _sea_areas(lon: np.ndarray, lat: np.ndarray) -> list[str]:
    """The shipped sea area each point lies in ('' in none), as 'the North Sea (north_sea)'."""
    from riskapp.engine.geo import located_zones
    from riskapp.io.sea_areas import sea_area, sea_area_ids

    zones = [sea_area(z) for z in sorted(sea_area_ids())]
    weights = located_zones(lon, lat, zones).dense()
    out = []
    for row in weights:
        inside = np.flatnonzero(row >= 1.0)
        out.append(f"{zones[inside[0]].name} ({zones[inside[0]].id})" if len(inside) else "")
    return out


def locate_arrow(
    header: list[str], table: pa.Table, lines: np.ndarray, name: str
) -> tuple[list[str], pa.Table, Located]:
    """`locate` on an Arrow table of text columns: the new header, the table with the cells
    put in (and `city` dropped), and the reading. A register of codes only costs one pass over
    its distinct countries."""
    if plain_codes(header, lambda: _distinct(table, header)):
        return header, table, unchanged(header, len(lines))
    if CITY not in header and header.count("country") == 1:
        converted = _arrow_countries(header, table, lines, name)
        if converted is not None:
            return converted
    located = locate(header, lambda i: table.column(i).to_numpy(zero_copy_only=False), lines, name)
    columns = {}
    for i, col in enumerate(header):
        if col in located.header:
            columns[col] = table.column(i)
    for col, values in located.filled.items():
        text = [v if type(v) is str else NOT_TEXT for v in values.tolist()]
        columns[col] = pa.array(text, pa.string())
    out = pa.table({str(i): columns[col] for i, col in enumerate(located.header)})
    return located.header, out, located


def _arrow_countries(
    header: list[str], table: pa.Table, lines: np.ndarray, name: str
) -> tuple[list[str], pa.Table, Located] | None:
    """Only names and codes to read (no empty country cell, no city): the country column read
    once per distinct value and rebuilt by Arrow from its dictionary, without a Python object
    per row. None when some row has no country (its coordinates may place it: `locate`)."""
    at = header.index("country")
    encoded = pc.dictionary_encode(table.column(at)).combine_chunks()
    distinct = encoded.dictionary.to_pylist()
    if any(type(v) is not str or not v.strip() for v in distinct):
        return None
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    located = unchanged(header, len(lines))
    new = _distinct_countries(codes, distinct, lines, name, located)
    if located.notes.converted:
        column = pc.take(pa.array(new.tolist(), pa.string()), encoded.indices)
        table = table.set_column(at, table.column_names[at], column)
        located.filled["country"] = np.asarray(new, dtype=object)[codes]
    return header, table, located


NOT_TEXT = "\x00"  # a cell that is not text, as riskapp.io.columnar marks it


def _distinct(table: pa.Table, header: list[str]) -> list[Any]:
    distinct: list[Any] = pc.unique(table.column(header.index("country"))).to_pylist()
    return distinct


def locate_rows(
    header: list[str], rows: Sequence[Sequence[Any]], lines: Sequence[int], name: str
) -> tuple[list[str], list[list[Any]], Located]:
    """`locate` on rows of cells (a chunk of a stream, a table's rows): the new header, the
    rows as it reads them, and the reading."""
    numbers = np.asarray(lines, dtype=np.int64)
    at = header.index("country") if "country" in header else -1
    if plain_codes(header, lambda: {r[at] if at < len(r) else "" for r in rows}):
        return header, [list(r) for r in rows], unchanged(header, len(rows))
    width = len(header)
    fitted = [list(r[:width]) + [""] * (width - len(r)) for r in rows]
    columns = list(zip(*fitted, strict=True)) if fitted else [() for _ in header]
    located = locate(header, columns.__getitem__, numbers, name)
    if not located.changed:
        return header, fitted, located
    by_name = dict(zip(header, columns, strict=True))
    by_name.update({col: cells.tolist() for col, cells in located.filled.items()})
    patched = list(map(list, zip(*(by_name[col] for col in located.header), strict=True)))
    return located.header, patched, located
