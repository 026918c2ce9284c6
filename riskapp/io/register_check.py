"""Validate an asset register of any size in bounded memory (`riskapp validate assets.csv`).

The file is read as a stream (`iter_rows`) in chunks of CHUNK rows. A vectorised pass over each
chunk's columns accepts the cells that are plainly valid (a plain decimal number in range, a
known country code, an identifier of the allowed characters...); the rows it does not accept go
to the real `Asset` model, so every message is the model's own. Between rows only what the
register checks need is kept: each id once (duplicates, dangling dependencies) and the
dependency edges as integer arrays (cycles). The problems are the ones `load_assets` reports for
the same file, in the same order, capped at MAX_PROBLEMS of each kind.
"""

from __future__ import annotations

import gc
import math
import operator
import re
from array import array
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from riskapp.domain.assets import REGISTER_COLUMNS, Asset
from riskapp.domain.common import iso_alpha3_codes, subdivision_countries
from riskapp.domain.routes import MAX_ROUTE_TEXT
from riskapp.io.errors import CONTROL, InputError, Problem, pydantic_message
from riskapp.io.locations import LocationNotes, by_row, locate_rows
from riskapp.io.tables import (
    ASSET_REQUIRED,
    MAX_PROBLEMS,
    asset_record,
    check_header,
    iter_rows,
)

CHUNK = 50_000

# Narrower than (or equal to) what the model accepts: a cell they pass is valid for the model;
# a cell they refuse goes to the model, which decides and words the message.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")
_SLUG = re.compile(r"[a-z][a-z0-9_]{0,47}")
_NUMBER = re.compile(r"-?[0-9]{1,30}(?:\.[0-9]{1,30})?")
_AMOUNT = re.compile(r"[0-9]{1,30}(?:\.[0-9]{1,30})?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_CRITICALITY = frozenset("12345")


def _text(v: Any, least: int) -> bool:
    if type(v) is not str:
        return False
    s = v.strip()
    return least <= len(s) <= 200 and CONTROL.search(s) is None


def _amount(v: Any) -> bool:
    if type(v) is not str:
        return False
    s = v.strip()
    return _AMOUNT.fullmatch(s) is not None and math.isfinite(float(s))


def _optional(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: type(v) is str and (not v.strip() or check(v))


def _list_of(pattern: re.Pattern[str]) -> Callable[[Any], bool]:
    def check(v: Any) -> bool:
        if type(v) is not str:
            return False
        return all(pattern.fullmatch(p.strip()) for p in v.split(";") if p.strip())

    return check


def _coordinate(bound: float) -> Callable[[Any], bool]:
    def check(v: Any) -> bool:
        if type(v) is not str:
            return False
        s = v.strip()
        return _NUMBER.fullmatch(s) is not None and -bound <= float(s) <= bound

    return check


_CODES = iso_alpha3_codes()
CHECKS: dict[str, Callable[[Any], bool]] = {
    "id": lambda v: type(v) is str and _ID.fullmatch(v.strip()) is not None,
    "name": lambda v: _text(v, 1),
    "type": lambda v: type(v) is str and _SLUG.fullmatch(v.strip()) is not None,
    "country": lambda v: type(v) is str and v.strip().upper() in _CODES,
    "replacement_value": _amount,
    "annual_revenue_at_stake": _optional(_amount),
    "currency": _optional(lambda v: _CURRENCY.fullmatch(v.strip()) is not None),
    "criticality": _optional(lambda v: v.strip() in _CRITICALITY),
    "tags": _list_of(_SLUG),
    "owner": lambda v: _text(v, 0),
    "depends_on": _list_of(_ID),
    "subdivision": _optional(lambda v: v.strip() in subdivision_countries()),
    # any printable text in bounds: its line is read and checked with the workspace
    "route": lambda v: (
        type(v) is str and len(v.strip()) <= MAX_ROUTE_TEXT and CONTROL.search(v.strip()) is None
    ),
}


def _blank(v: Any) -> bool:
    return type(v) is str and not v.strip()


_SEP = "\x00"  # never in a valid cell: text refuses control characters


def _joined(pattern: str, optional: bool = False) -> re.Pattern[str]:
    """A pattern that matches a whole column joined with _SEP when each cell matches `pattern`
    exactly (no white space around it): one scan in C instead of a call per cell."""
    cell = f"(?:{pattern})" + ("?" if optional else "")
    return re.compile(f"{cell}(?:{_SEP}{cell})*")


def _matches(values: Sequence[Any], joined: re.Pattern[str]) -> bool:
    try:
        text = _SEP.join(values)
    except TypeError:  # a spreadsheet cell that is not text
        return False
    return text.count(_SEP) == len(values) - 1 and joined.fullmatch(text) is not None


def _few(values: Sequence[Any], check: Callable[[Any], bool], n: int) -> np.ndarray | None:
    """Check each distinct value once when a column holds few (countries, types, currencies)."""
    distinct = set(values)
    if len(distinct) > max(64, n // 8):
        return None
    good = {v for v in distinct if check(v)}
    if len(good) == len(distinct):
        return np.ones(n, dtype=bool)
    return np.fromiter(map(good.__contains__, values), dtype=bool, count=n)


_ID_TEXT = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}"
_SLUG_TEXT = r"[a-z][a-z0-9_]{0,47}"
JOINED = {  # columns a pattern decides alone (not country: its codes are a list)
    "id": _joined(_ID_TEXT),
    "type": _joined(_SLUG_TEXT),
    "currency": _joined("[A-Z]{3}", optional=True),
    "criticality": _joined("[1-5]", optional=True),
    "tags": _joined(f"{_SLUG_TEXT}(?:;{_SLUG_TEXT})*", optional=True),
    "depends_on": _joined(f"{_ID_TEXT}(?:;{_ID_TEXT})*", optional=True),
}
NUMBERS = {
    "replacement_value": (0.0, math.inf),
    "annual_revenue_at_stake": (0.0, math.inf),
    "lat": (-90.0, 90.0),
    "lon": (-180.0, 180.0),
}
FEW = {"type", "country", "currency", "criticality", "tags", "owner", "subdivision"}


_NUMBER_CHARS = str.maketrans("", "", "0123456789.-" + _SEP)
_AMOUNT_CHARS = str.maketrans("", "", "0123456789." + _SEP)


def _numbers(col: str, values: Sequence[Any], n: int) -> np.ndarray | None:
    """Plain decimals (digits, one point inside, a minus for coordinates) in range, or empty;
    None when some cell is anything else (the caller asks cell by cell)."""
    try:
        text = _SEP.join(values)
    except TypeError:
        return None
    chars = _NUMBER_CHARS if col in {"lat", "lon"} else _AMOUNT_CHARS
    if text.count(_SEP) != n - 1 or text.translate(chars):
        return None
    text = f"{_SEP}{text}{_SEP}"
    if any(bad in text for bad in (f"{_SEP}.", f".{_SEP}", "-.", ".-", "..")):
        return None
    blank = np.fromiter(map(operator.not_, values), dtype=bool, count=n)
    try:
        if blank.any():
            numbers = np.fromiter((float(v) if v else 0.0 for v in values), dtype=float, count=n)
        else:
            numbers = np.fromiter(map(float, values), dtype=float, count=n)
    except ValueError:  # '1-2', '1.2.3', '-'
        return None
    low, high = NUMBERS[col]
    fits: np.ndarray = np.isfinite(numbers) & (numbers >= low) & (numbers <= high)
    if col == "replacement_value":  # required: an empty cell is the model's to word
        fits &= ~blank
    else:
        fits |= blank
    return fits


def _texts(values: Sequence[Any], n: int, least: int) -> np.ndarray | None:
    """Text without control characters or white space around it, `least` to 200 characters;
    None when some cell is anything else."""
    try:
        text = _SEP.join(values)
    except TypeError:
        return None
    if text.count(_SEP) != n - 1 or CONTROL.search(text.replace(_SEP, "")) is not None:
        return None
    if list(map(str.strip, values)) != list(values):
        return None
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=n)
    return (lengths >= least) & (lengths <= 200)


def _column(col: str, values: Sequence[Any], n: int) -> np.ndarray:
    """Cells of one column the model surely accepts (lat and lon: in range or empty)."""
    check = CHECKS.get(col) or _optional(_coordinate(NUMBERS[col][1]))
    fast: np.ndarray | None = None
    if col in FEW:
        fast = _few(values, check, n)
    if fast is None:
        if col in NUMBERS:
            fast = _numbers(col, values, n)
        elif col in {"name", "owner"}:
            fast = _texts(values, n, 1 if col == "name" else 0)
        elif col in JOINED and _matches(values, JOINED[col]):
            fast = np.ones(n, dtype=bool)
    if fast is not None:
        return fast
    return np.fromiter(map(check, values), dtype=bool, count=n)


def plainly_valid(header: list[str], columns: Sequence[Sequence[Any]], n: int) -> np.ndarray:
    """Which of n rows (given column by column, in header order) the Asset model surely
    accepts; False means 'ask the model', not 'wrong'."""
    ok = np.ones(n, dtype=bool)
    at = {col: i for i, col in enumerate(header)}
    for col in CHECKS:
        if col in at:
            ok &= _column(col, columns[at[col]], n)
    # lat and lon: both empty, or both numbers in range
    blanks, goods = [], []
    for col in ("lat", "lon"):
        if col in at:
            values = columns[at[col]]
            fine = _column(col, values, n)
            blank = np.array(values, dtype=object) == ""
            blanks.append(blank)
            goods.append(fine & ~blank)
        else:
            blanks.append(np.ones(n, dtype=bool))
            goods.append(np.zeros(n, dtype=bool))
    ok &= (blanks[0] & blanks[1]) | (goods[0] & goods[1])
    if "subdivision" in at:  # a subdivision of the row's own country
        countries = columns[at["country"]] if "country" in at else [""] * n
        ok &= _in_own_country(columns[at["subdivision"]], countries, n)
    if "id" in at and "depends_on" in at:  # an asset cannot depend on itself
        ids, deps = columns[at["id"]], columns[at["depends_on"]]
        some = np.flatnonzero(np.array(deps, dtype=object) != "")
        for i in some.tolist():
            ok[i] &= _not_itself(ids[i], deps[i])
    return ok


def _in_own_country(subdivisions: Sequence[Any], countries: Sequence[Any], n: int) -> np.ndarray:
    """Rows whose subdivision cell is empty or a code of the row's country (each distinct pair
    checked once); a cell that is not text is its own check's to refuse."""
    if not any(subdivisions):  # an empty column (the usual case): nothing to pair
        return np.ones(n, dtype=bool)
    of = subdivision_countries()

    def fits(pair: tuple[Any, Any]) -> bool:
        sub, country = pair
        if type(sub) is not str or not sub.strip():
            return True
        return type(country) is str and of.get(sub.strip()) == country.strip().upper()

    pairs = list(zip(subdivisions, countries, strict=True))
    good = {p for p in set(pairs) if fits(p)}
    return np.fromiter(map(good.__contains__, pairs), dtype=bool, count=n)


def _not_itself(asset_id: Any, deps: Any) -> bool:
    if type(asset_id) is not str or type(deps) is not str or not deps.strip():
        return True  # a cell of another type is refused by its own check
    return asset_id.strip() not in _parts(deps)


def _parts(cell: str) -> list[str]:
    return [p.strip() for p in cell.split(";") if p.strip()]


class _Capped:
    """Problems of one kind: the first MAX_PROBLEMS, then one line saying more were left out."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.full = False

    def add(self, problem: Problem) -> None:
        if self.full:
            return
        self.items.append(problem)
        if len(self.items) >= MAX_PROBLEMS:
            self.items.append(Problem(problem.file, None, "", "more problems not shown", "row"))
            self.full = True


class RegisterCheck:
    """The running state of one register's validation, fed chunk by chunk."""

    def __init__(self, header: list[str], name: str) -> None:
        self.header, self.name = header, name
        self.notes = LocationNotes()  # what the locations' reading converted (all chunks)
        self.rows = 0
        self.width = _Capped()  # rows wider than the header
        self.cells = _Capped()  # the model's problems with cells
        self.register = _Capped()  # duplicate ids and dangling dependencies
        self.code: dict[str, int] = {}  # every id seen (as an asset or a dependency) -> code
        self.names: list[str] = []  # code -> id
        self.row_of = array("q")  # code -> its asset's row (0: no asset has that id yet)
        self.edge_from, self.edge_to, self.edge_row = array("q"), array("q"), array("q")

    def _intern(self, asset_id: str) -> int:
        code = self.code.get(asset_id)
        if code is None:
            code = self.code[asset_id] = len(self.names)
            self.names.append(asset_id)
            self.row_of.append(0)
        return code

    def _keep(self, lines: list[int], ids: list[str]) -> None:
        """Remember each id with its row; a repeated id is a problem on its second row."""
        code, names, row_of = self.code, self.names, self.row_of
        for line, asset_id in zip(lines, ids, strict=True):
            known = code.get(asset_id)
            if known is None:
                code[asset_id] = len(names)
                names.append(asset_id)
                row_of.append(line)
            elif row_of[known]:
                self.register.add(
                    Problem(
                        self.name,
                        line,
                        "id",
                        f"duplicate id {asset_id!r} (first on row {row_of[known]})",
                        "row",
                    )
                )
            else:
                row_of[known] = line

    def _edges(self, line: int, asset_id: str, deps: list[str]) -> None:
        source = self.code[asset_id]
        for dep in deps:
            self.edge_from.append(source)
            self.edge_to.append(self._intern(dep))
            self.edge_row.append(line)

    def _forget(self) -> None:
        """The register checks run only on a register without cell problems: free their data."""
        self.code, self.names = {}, []
        self.row_of, self.edge_from, self.edge_to, self.edge_row = (array("q") for _ in range(4))

    def add(self, chunk: list[tuple[int, list[Any]]]) -> None:
        self.rows += len(chunk)
        width = len(self.header)
        numbered, cut = zip(*chunk, strict=True)
        lines, rows = list(numbered), list(cut)
        if set(map(len, rows)) != {width}:
            rows = self._fit(chunk)  # with no row too wide, each row keeps its place
        if self.width.items or self.cells.full:
            self._forget()
            return  # only wrong widths are reported now, or enough cell problems are listed
        header, rows, located = locate_rows(self.header, rows, lines, self.name)
        self.notes.add(located.notes)
        columns = list(zip(*rows, strict=True)) if rows else []
        ok = plainly_valid(header, columns, len(rows))
        checked: dict[int, tuple[str, list[str]]] = {}  # rows the model accepted: id, deps
        found: list[Problem] = list(located.problems)
        for i in np.flatnonzero(~ok).tolist():
            try:
                asset = Asset.model_validate(asset_record(header, rows[i]))
            except ValidationError as exc:
                for err in exc.errors():
                    field = ".".join(str(p) for p in tuple(err["loc"])[:1])
                    problem = Problem(self.name, lines[i], field, pydantic_message(err), "row")
                    if located.keep(problem):
                        found.append(problem)
                if len(found) >= MAX_PROBLEMS:
                    break
                continue
            checked[i] = (asset.id, list(asset.depends_on))
        for problem in by_row(found):
            self.cells.add(problem)
        if self.cells.items:
            self._forget()
            return
        at = {col: i for i, col in enumerate(header)}
        ids = [v.strip() if type(v) is str else v for v in columns[at["id"]]] if rows else []
        for i, (asset_id, _) in checked.items():
            ids[i] = asset_id
        self._keep(lines, ids)
        if "depends_on" in at and rows:
            deps = columns[at["depends_on"]]
            for i in np.flatnonzero(np.array(deps, dtype=object) != "").tolist():
                parts = checked[i][1] if i in checked else _parts(deps[i])
                self._edges(lines[i], ids[i], parts)

    def _wide(self, cells: list[Any]) -> bool:
        width = len(self.header)
        return len(cells) > width and any(str(c).strip() for c in cells[width:])

    def _fit(self, chunk: list[tuple[int, list[Any]]]) -> list[list[Any]]:
        """The chunk's rows cut or padded to the header's width; rows wider than the header
        (with text past it) are problems of their own."""
        width = len(self.header)
        rows = []
        for line, cells in chunk:
            if self._wide(cells):
                self.width.add(
                    Problem(
                        self.name,
                        line,
                        "",
                        f"row has {len(cells)} cells; the header has {width}",
                        "row",
                    )
                )
            elif not self.width.items:
                cut = cells[:width]
                rows.append(cut + [""] * (width - len(cut)))
        return rows

    def problems(self, references: bool = True) -> list[Problem]:
        """The problems found; without `references`, only those of the rows themselves (cells,
        widths, duplicate ids), for a file that may depend on assets stored elsewhere."""
        if self.width.items:
            return self.width.items
        if self.cells.items:
            return self.cells.items
        if not self.rows:
            return [Problem(self.name, None, "", "the register has a header but no assets")]
        if not references:
            return self.register.items
        for code, line in zip(self.edge_to, self.edge_row, strict=True):
            if not self.row_of[code]:
                self.register.add(
                    Problem(
                        self.name,
                        line,
                        "depends_on",
                        f"no asset {self.names[code]!r} in the register",
                        "row",
                    )
                )
        if self.register.items:
            return self.register.items
        cycle = self._cycle()
        if cycle:
            return [
                Problem(
                    self.name,
                    self.row_of[cycle[0]],
                    "depends_on",
                    "dependency cycle: " + " -> ".join(self.names[c] for c in cycle),
                    "row",
                )
            ]
        return []

    def _cycle(self) -> list[int] | None:
        """`find_cycle` on the integer edges: the same walk, so the same cycle."""
        n = len(self.names)
        source, target = self.edge_from.tolist(), self.edge_to.tolist()
        begin, end = [0] * n, [0] * n
        keys: list[int] = []
        for i, s in enumerate(source):
            if not keys or keys[-1] != s:
                keys.append(s)
                begin[s] = i
            end[s] = i + 1
        white, grey, black = 1, 2, 3
        colour = bytearray(n)  # 0: not a key of the edges, walked past as black
        for k in keys:
            colour[k] = white
        for start in keys:
            if colour[start] != white:
                continue
            stack = [(start, begin[start])]
            path = [start]
            colour[start] = grey
            while stack:
                node, idx = stack[-1]
                if idx < end[node]:
                    stack[-1] = (node, idx + 1)
                    nxt = target[idx]
                    state = colour[nxt]
                    if state == grey:
                        return [*path[path.index(nxt) :], nxt]
                    if state == white:
                        colour[nxt] = grey
                        stack.append((nxt, begin[nxt]))
                        path.append(nxt)
                else:
                    colour[node] = black
                    stack.pop()
                    path.pop()
        return None


def _chunks(
    rows: Iterator[tuple[int, list[Any]]], size: int
) -> Iterator[list[tuple[int, list[Any]]]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def register_problems(
    path: Path,
    label: str | None = None,
    chunk: int = CHUNK,
    *,
    references: bool = True,
    notes: list[str] | None = None,
) -> list[Problem]:
    """Every problem of an asset register file (CSV or XLSX), as `load_assets` reports them,
    read in chunks: memory holds one chunk and the ids and dependency edges, never the rows.
    Without `references` dangling dependencies and cycles are not checked (a merge import's
    file may depend on assets already stored). Locations are read as every reading of a
    register reads them (`riskapp.io.locations`); `notes` is given what that converted."""
    name = label or str(path)
    try:
        header, rows = iter_rows(path, name)
    except InputError as exc:
        return exc.problems
    try:
        problems = check_header(header, REGISTER_COLUMNS, ASSET_REQUIRED, name)
        if problems:
            for _ in rows:  # the file's own problems (encoding, quotes) come first
                pass
            return problems
        check = RegisterCheck(header, name)
        collecting = gc.isenabled()
        # Rows are lists of strings, which hold no reference cycles; the cyclic collector would
        # walk every chunk again and again as it is built (40 % of the time), to find nothing.
        gc.disable()
        try:
            for rows_of_chunk in _chunks(rows, chunk):
                check.add(rows_of_chunk)
        finally:
            if collecting:
                gc.enable()
    except InputError as exc:
        return exc.problems
    finally:
        rows.close()
    if notes is not None:  # what the locations' reading converted, for the caller to show
        notes.extend(check.notes.lines(name))
    return check.problems(references)
