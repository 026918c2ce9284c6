"""The vectorised half of reading a register: Arrow compute kernels (RE2 patterns, casts,
set membership) decide which rows are plainly valid and convert them, all in C.

The patterns are narrower than (or equal to) what the `Asset` model accepts, so a row they pass
is one the model would read the same way; a row they refuse is not wrong, only handed to the
model, which decides and words the problem. Around a cell only spaces and tabs are allowed
here (`str.strip` takes Unicode white space too: such cells go to the model).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskapp.domain.assets import ASSET_COLUMNS
from riskapp.domain.common import iso_alpha3_codes, subdivision_countries
from riskapp.domain.routes import MAX_ROUTE_TEXT

_W = r"[ \t]*"
_ID = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}"
SLUG = r"[a-z][a-z0-9_]{0,47}"
_BIDI = r"\x{202a}-\x{202e}\x{2066}-\x{2069}"
# inside text: printable characters, tabs and line breaks (the model's PRINTABLE)
_INNER = rf"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f{_BIDI}]"
# at either end of text: neither a control character nor anything `str.strip` removes
_EDGE = (
    r"[^\x00-\x20\x7f\x85\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}"
    rf"\x{{3000}}{_BIDI}]"
)
_TEXT = rf"{_EDGE}(?:{_INNER}*{_EDGE})?"  # lengths are checked apart: RE2 is slow on {0,198}
DECIMAL = r"[0-9]{1,30}(?:\.[0-9]{1,30})?"
ID_ANY = r"[A-Za-z0-9][A-Za-z0-9_.\-]*"


def whole(pattern: str, optional: bool = False) -> str:
    """A pattern for a whole cell: `pattern` (or nothing, if `optional`) between spaces or tabs."""
    body = f"(?:{pattern})?" if optional else f"(?:{pattern})"
    return f"^{_W}{body}{_W}$"


PATTERNS: dict[str, str] = {
    "id": whole(ID_ANY),
    "name": whole(_TEXT),
    "type": whole(SLUG),
    "country": whole("[A-Za-z]{3}"),
    "lat": whole(f"-?{DECIMAL}", optional=True),
    "lon": whole(f"-?{DECIMAL}", optional=True),
    "replacement_value": whole(DECIMAL),
    "annual_revenue_at_stake": whole(DECIMAL, optional=True),
    "currency": whole("[A-Z]{3}", optional=True),
    "criticality": whole("[1-5]", optional=True),
    "tags": whole(f"{SLUG}(?:;{SLUG})*", optional=True),
    "owner": whole(_TEXT, optional=True),
    "depends_on": whole(f"{ID_ANY}(?:;{ID_ANY})*", optional=True),
    "subdivision": whole("[A-Z]{2}-[A-Z0-9]{1,3}", optional=True),
    "route": whole(_TEXT, optional=True),  # its line is checked with the workspace
}
# longest cell once stripped (characters); for lists, the longest part
LONGEST = {"id": 64, "name": 200, "owner": 200, "route": MAX_ROUTE_TEXT}
LONGEST_PART = {"depends_on": 64}
# columns with few distinct values: checked once per value
FEW = {"type", "country", "currency", "criticality", "tags", "owner", "subdivision"}
BOUNDS = {"lat": 90.0, "lon": 180.0}
DEFAULTS = {"annual_revenue_at_stake": "0", "currency": "EUR", "criticality": "3"}


@dataclass(frozen=True)
class Accepted:
    """Which rows are plainly valid (`ok`), and those rows converted as the model converts
    them (`frame`, indexed by row position)."""

    ok: np.ndarray
    frame: pd.DataFrame


def _few(distinct: int, n: int) -> bool:
    """Whether a column of `n` cells with `distinct` values is worth handling once per value
    (checked, split) rather than cell by cell."""
    return distinct <= max(64, n // 8)


def _mask(values: Any) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def accept(header: list[str], table: pa.Table) -> Accepted:
    """The rows of `table` (string columns named as `header`) the model surely accepts, and
    their converted values."""
    n = table.num_rows
    ok = np.ones(n, dtype=bool)
    column = {col: table.column(i) for i, col in enumerate(header)}
    trimmed: dict[str, Any] = {}
    for col in PATTERNS:
        if col not in column:
            continue
        passed, trimmed[col] = _checked(col, column[col], n)
        ok &= passed
    numbers: dict[str, np.ndarray] = {}
    for col in ("lat", "lon", "replacement_value", "annual_revenue_at_stake"):
        if col not in trimmed:
            continue
        usable = pc.and_(pa.array(ok), pc.not_equal(trimmed[col], ""))
        text = pc.if_else(usable, trimmed[col], pa.scalar(None, pa.string()))
        values = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
        numbers[col] = values
        if col in BOUNDS:
            blank = np.isnan(values)
            ok &= blank | (np.abs(values) <= BOUNDS[col])
    # lat and lon: both given or neither
    lat = numbers.get("lat", np.full(n, np.nan))
    lon = numbers.get("lon", np.full(n, np.nan))
    ok &= np.isnan(lat) == np.isnan(lon)
    if "subdivision" in trimmed:
        ok &= _in_own_country(trimmed["subdivision"], trimmed.get("country"), n)
    if "depends_on" in trimmed and "id" in trimmed:
        ok &= ~_depends_on_itself(trimmed["id"], trimmed["depends_on"], ok)
    rows = np.flatnonzero(ok)
    return Accepted(ok, _convert(trimmed, numbers, rows, n))


def _checked(col: str, values: Any, n: int) -> tuple[np.ndarray, Any]:
    """Which cells of one column pass, and the cells stripped (country codes upper-cased); a
    column of few distinct values is checked once per value."""
    if col in FEW:
        encoded = pc.dictionary_encode(values).combine_chunks()
        if _few(len(encoded.dictionary), n):
            passed, stripped = _check_cells(col, encoded.dictionary)
            indices = encoded.indices
            rows = np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.int64)
            if pc.all(pc.equal(stripped, encoded.dictionary)).as_py() is not False:
                # no value had spaces to strip (or a code to upper-case): the column as it
                # is, not a copy of a million cells put together from the distinct values
                return passed[rows], values
            return passed[rows], pc.take(stripped, indices)
    return _check_cells(col, values)


def _check_cells(col: str, values: Any) -> tuple[np.ndarray, Any]:
    passed = _mask(pc.match_substring_regex(values, PATTERNS[col]))
    stripped = pc.utf8_trim(values, " \t")
    if col in LONGEST:
        passed &= _mask(pc.less_equal(pc.utf8_length(stripped), LONGEST[col]))
    if col in LONGEST_PART:
        limit = LONGEST_PART[col]
        long = np.flatnonzero(passed & _mask(pc.greater(pc.utf8_length(stripped), limit)))
        if len(long):
            parts = pc.split_pattern(pc.take(stripped, pa.array(long)), ";")
            too_long = _mask(pc.greater(pc.utf8_length(pc.list_flatten(parts)), limit))
            parents = np.asarray(pc.list_parent_indices(parts).to_numpy())
            passed[long[np.unique(parents[too_long])]] = False
    if col == "country":
        stripped = pc.utf8_upper(stripped)
        passed &= _mask(pc.is_in(stripped, value_set=pa.array(sorted(iso_alpha3_codes()))))
    if col == "subdivision":
        known = pc.is_in(stripped, value_set=pa.array(sorted(subdivision_countries())))
        passed &= _mask(pc.or_(known, pc.equal(stripped, "")))
    return passed, stripped


def _in_own_country(subdivisions: Any, countries: Any, n: int) -> np.ndarray:
    """Rows whose subdivision is empty or a code of the row's (upper-cased) country."""
    codes = subdivision_countries()
    keys = pa.array(list(codes))
    owners = pa.array(list(codes.values()))
    owner = pc.take(owners, pc.index_in(subdivisions, value_set=keys))
    if countries is None:
        countries = pa.array([""] * n, pa.string())
    same = pc.equal(owner, countries)
    return _mask(pc.or_(pc.equal(subdivisions, ""), pc.fill_null(same, False)))


def _depends_on_itself(ids: Any, deps: Any, ok: np.ndarray) -> np.ndarray:
    """Rows whose dependencies name the row's own id."""
    out = np.zeros(len(ok), dtype=bool)
    some = np.flatnonzero(ok & _mask(pc.not_equal(deps, "")))
    if not len(some):
        return out
    picked = pa.array(some)
    parts = pc.split_pattern(pc.take(deps, picked), ";")
    owner = pc.take(pc.take(ids, picked), pc.list_parent_indices(parts))
    same = _mask(pc.equal(pc.list_flatten(parts), owner))
    if same.any():
        parents = pc.list_parent_indices(parts).to_numpy()
        out[some[np.unique(parents[same])]] = True
    return out


def _convert(
    trimmed: dict[str, Any], numbers: dict[str, np.ndarray], rows: np.ndarray, n: int
) -> pd.DataFrame:
    picked = pa.array(rows)
    m = len(rows)
    everything = m == n

    def text(col: str) -> pd.Series:
        if col not in trimmed:
            default = DEFAULTS.get(col, "")
            return pd.Series([default] * m, dtype="str", index=rows)
        values = trimmed[col] if everything else pc.take(trimmed[col], picked)
        if col in DEFAULTS:
            values = pc.if_else(pc.equal(values, ""), DEFAULTS[col], values)
        series = values.to_pandas()
        series.index = rows
        return pd.Series(series, dtype="str")

    def number(col: str, default: float) -> np.ndarray:
        values = numbers.get(col)
        if values is None:
            return np.full(m, default)
        out = values[rows]
        return np.where(np.isnan(out), default, out)

    out: dict[str, Any] = {
        "id": text("id"),
        "name": text("name"),
        "type": text("type"),
        "country": text("country"),
        "lat": number("lat", np.nan),
        "lon": number("lon", np.nan),
        "replacement_value": number("replacement_value", np.nan),
        "annual_revenue_at_stake": number("annual_revenue_at_stake", 0.0),
        "currency": text("currency"),
        "criticality": text("criticality").astype("int64"),
        "tags": _lists(trimmed.get("tags"), picked, m, everything),
        "owner": text("owner"),
        "depends_on": _lists(trimmed.get("depends_on"), picked, m, everything),
        "subdivision": text("subdivision"),
        "route": text("route"),
    }
    return pd.DataFrame(out, index=rows)[ASSET_COLUMNS]


def _lists(values: Any, picked: pa.Array, m: int, everything: bool) -> np.ndarray:
    """';'-separated cells as lists of their parts (an empty cell: an empty list), each row its
    own list. Cells of a column with few distinct values (tags; depends_on where most rows
    name nothing) are split once per value and copied per row: a fifth of the time of
    converting every row's parts from Arrow one by one."""
    out = np.empty(m, dtype=object)
    if values is None:
        out[:] = [[] for _ in range(m)]
        return out
    cells = values if everything else pc.take(values, picked)
    if isinstance(cells, pa.ChunkedArray):
        cells = cells.combine_chunks()
    encoded = pc.dictionary_encode(cells)
    if _few(len(encoded.dictionary), m):
        kinds = [cell.split(";") if cell else [] for cell in encoded.dictionary.to_pylist()]
        rows = encoded.indices.to_numpy(zero_copy_only=False).tolist()
        out[:] = [kinds[i].copy() for i in rows]
        return out
    parts = pc.split_pattern(pc.if_else(pc.equal(cells, ""), None, cells), ";")
    flat = iter(pc.list_flatten(parts).to_numpy(zero_copy_only=False).tolist())
    counts = pc.fill_null(pc.list_value_length(parts), 0).to_numpy().tolist()
    out[:] = [[next(flat)] if c == 1 else list(islice(flat, c)) for c in counts]
    return out
