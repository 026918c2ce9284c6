"""An asset register read into columns and validated column by column.

A register of a million rows must load in about a second, not a minute: it is read by pandas'
C reader (CSV), pyarrow (Parquet) or openpyxl (XLSX) into text columns; a vectorised pass
(`register_check.plainly_valid`) accepts the cells that are plainly valid; only the rows it does
not accept are given to the `Asset` model, one by one, so every problem is the model's own,
with its file, row and field. The accepted rows are converted column-wise into the portfolio's
table, exactly as the model would have read them (a property test holds the two readings
equal). Anything unusual about the file itself (a quoted cell over several lines, a row wider
than the header, a lone carriage return) sends it to the streaming reader of
`riskapp.io.tables`, which words the problem.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from riskapp.domain.assets import ASSET_COLUMNS, Asset, find_cycle
from riskapp.io.errors import InputError, Problem, pydantic_message
from riskapp.io.register_check import plainly_valid
from riskapp.io.tables import (
    ASSET_REQUIRED,
    MAX_CSV_BYTES,
    MAX_PROBLEMS,
    MAX_ROWS,
    TEXT_COLUMNS,
    _utf8_problem,
    asset_record,
    check_header,
    iter_rows,
)
from riskapp.io.yamlfile import check_file, utf16_problem

MAX_PARQUET_UNPACKED = 2_000_000_000  # bytes a Parquet file may inflate to
PLAIN_LIST = re.compile(r"[^\s;]+(?:;[^\s;]+)*(?:\n[^\s;]+(?:;[^\s;]+)*)*")

Columns = list[list[Any]]


def read_columns(path: Path, name: str) -> tuple[list[str], Columns, np.ndarray]:
    """The header, the non-blank rows column by column (in header order) and each row's number
    (a spreadsheet's: the header is row 1) of a CSV, XLSX or Parquet file."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _parquet_columns(path, name)
    if suffix in {".csv", ".txt"}:
        fast = _csv_columns(path, name)
        if fast is not None:
            return fast
    header, rows = iter_rows(path, name)
    numbered = list(rows)
    width = len(header)
    lines = np.fromiter((n for n, _ in numbered), dtype=np.int64, count=len(numbered))
    cells = [_fit(r, width) for _, r in numbered]
    columns = [list(c) for c in zip(*cells, strict=True)] if cells else [[] for _ in header]
    if width and any(len(r) > width for _, r in numbered):
        columns.append([r[width:] for _, r in numbered])  # the caller reports wide rows
    return header, columns, lines


def _fit(cells: list[Any], width: int) -> list[Any]:
    return list(cells[:width]) + [""] * (width - len(cells))


def _csv_columns(path: Path, name: str) -> tuple[list[str], Columns, np.ndarray] | None:
    """A CSV file read by pandas' C reader when each record is one line; None when it is not
    (or the file is odd in another way) and the streaming reader must find and word why."""
    check_file(path, MAX_CSV_BYTES, name)
    with path.open("rb") as fh:
        raw = fh.read(MAX_CSV_BYTES + 1)
    if len(raw) > MAX_CSV_BYTES:
        return None
    problem = utf16_problem(raw[:2], name, "row")
    if problem is not None:
        raise problem
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _utf8_problem(path, name) from None
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    if not raw.strip() or raw.count(b"\r") != raw.count(b"\r\n") or raw[:1] in (b"\n", b"\r"):
        return None
    if b"\x00" in raw:
        return None
    lines_in_file = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
    if lines_in_file - 1 > MAX_ROWS:
        return None
    try:
        frame = pd.read_csv(
            io.BytesIO(raw),
            header=None,
            dtype=object,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            encoding="utf-8",
        )
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError):
        return None
    if len(frame) != lines_in_file:  # a quoted cell holds a line break: not one line a record
        return None
    del raw
    limit = csv.field_size_limit()
    texts = [frame[c].to_numpy(dtype=object) for c in frame.columns]
    del frame
    if any(max(map(len, t)) > limit for t in texts):
        return None
    header = [str(t[0]).strip() for t in texts]
    body = [t[1:] for t in texts]
    # a blank row holds nothing but white space in every cell; such rows are rare, so only rows
    # whose first cell is blank are looked at whole
    candidates: list[int] = (
        np.flatnonzero(np.char.strip(body[0].astype(str)) == "").tolist() if body else []
    )
    keep = np.ones(lines_in_file - 1, dtype=bool)
    for i in candidates:
        keep[i] = any(str(t[i]).strip() for t in body)
    lines = np.arange(2, lines_in_file + 1, dtype=np.int64)
    if keep.all():
        return header, [t.tolist() for t in body], lines
    return header, [t[keep].tolist() for t in body], lines[keep]


def _parquet_columns(path: Path, name: str) -> tuple[list[str], Columns, np.ndarray]:
    """A Parquet file's columns as the cells a CSV would hold (numbers as their text, nulls as
    empty cells), bounded in rows and unpacked size before anything is read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    check_file(path, MAX_CSV_BYTES, name)
    try:
        meta = pq.ParquetFile(path).metadata
    except (pa.ArrowException, OSError) as exc:
        raise InputError([Problem(name, None, "", f"not a readable Parquet file: {exc}")]) from None
    unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if meta.num_rows > MAX_ROWS or unpacked > MAX_PARQUET_UNPACKED:
        raise InputError(
            [
                Problem(
                    name,
                    None,
                    "",
                    f"the file holds {meta.num_rows:,} rows unpacking to {unpacked / 1e6:,.0f} "
                    f"MB; the limits are {MAX_ROWS:,} rows and "
                    f"{MAX_PARQUET_UNPACKED / 1e6:,.0f} MB",
                )
            ]
        )
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError([Problem(name, None, "", f"not a readable Parquet file: {exc}")]) from None
    header = [str(c).strip() for c in table.column_names]
    columns = [_parquet_cells(table.column(i), header[i]) for i in range(table.num_columns)]
    return header, columns, np.arange(2, table.num_rows + 2, dtype=np.int64)


def _parquet_cells(column: Any, field: str) -> list[Any]:
    import pyarrow as pa

    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return [("" if v is None else v) for v in column.to_pylist()]
    if pa.types.is_integer(kind):
        return [("" if v is None else str(v)) for v in column.to_pylist()]
    if pa.types.is_floating(kind):
        return [_number_text(v, field) for v in column.to_pylist()]
    return [("" if v is None else v) for v in column.to_pylist()]  # the model words the rest


def _number_text(value: float | None, field: str) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if field in TEXT_COLUMNS and float(value).is_integer():
        return str(int(value))  # an id stored as a number, as a spreadsheet stores it
    return repr(float(value)) if math.isfinite(value) else value


def _as_text(cells: list[Any], field: str) -> list[Any]:
    """Spreadsheet numbers as the text a CSV would hold (what the vectorised checks read);
    booleans, dates and other cells stay as they are, for the model to word."""
    out = []
    for v in cells:
        if type(v) is int:
            out.append(str(v))
        elif type(v) is float:
            out.append(_number_text(v, field))
        else:
            out.append(v)
    return out


def asset_frame(
    header: list[str], columns: Columns, lines: np.ndarray, name: str
) -> tuple[pd.DataFrame, list[Problem]]:
    """The register's table (ASSET_COLUMNS, one row per asset, as `Portfolio` holds it) from
    its columns, or every problem with its row, field and reason: the ones the `Asset` model
    reports for the same rows, in the same order."""
    problems = check_header(header, ASSET_COLUMNS, ASSET_REQUIRED, name)
    if problems:
        return pd.DataFrame(columns=ASSET_COLUMNS), problems
    width = len(header)
    if len(columns) > width:  # rows wider than the header, with text past it
        extra = columns[width]
        wide = [
            Problem(
                name,
                int(lines[i]),
                "",
                f"row has {width + len(x)} cells; the header has {width}",
                "row",
            )
            for i, x in enumerate(extra)
            if len(x) and any(str(c).strip() for c in x)
        ]
        if wide:
            return pd.DataFrame(columns=ASSET_COLUMNS), wide
        columns = columns[:width]
    n = len(lines)
    if any(set(map(type, col)) - {str} for col in columns):
        columns = [_as_text(col, field) for col, field in zip(columns, header, strict=True)]
    ok = plainly_valid(header, columns, n)
    to_model = np.flatnonzero(~ok)
    checked: list[dict[str, Any]] = []
    for i in to_model.tolist():
        cells = [col[i] for col in columns]
        try:
            asset = Asset.model_validate(asset_record(header, cells))
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(p) for p in tuple(err["loc"])[:1])
                problems.append(Problem(name, int(lines[i]), field, pydantic_message(err), "row"))
                if len(problems) >= MAX_PROBLEMS:
                    problems.append(Problem(name, None, "", "more problems not shown", "row"))
                    return pd.DataFrame(columns=ASSET_COLUMNS), problems
            continue
        checked.append(asset.model_dump())
    if problems:
        return pd.DataFrame(columns=ASSET_COLUMNS), problems
    keep = np.flatnonzero(ok)
    plain = _convert(header, columns, keep)
    if len(to_model):
        modelled = pd.DataFrame.from_records(checked, columns=ASSET_COLUMNS, index=to_model)
        frame = pd.concat([plain, modelled]).sort_index(kind="stable")
        frame = _typed(frame)
    else:
        frame = plain
    return frame.reset_index(drop=True), []


def _convert(header: list[str], columns: Columns, rows: np.ndarray) -> pd.DataFrame:
    """Columns of plainly valid rows, converted as the `Asset` model converts them."""
    at = {col: i for i, col in enumerate(header)}
    n = len(rows)
    everything = bool(columns) and n == len(columns[0])
    picked = rows.tolist()

    def text(col: str, default: str) -> list[str]:
        if col not in at:
            return [default] * n
        values = columns[at[col]]
        if not everything:
            values = [values[i] for i in picked]
        values = _stripped(values)
        if default:
            values = [v or default for v in values]
        return values

    def number(col: str, default: str) -> np.ndarray:
        values = text(col, default)
        return np.array([v or "nan" for v in values] if not default else values, dtype=float)

    out: dict[str, Any] = {
        "id": text("id", ""),
        "name": text("name", ""),
        "type": text("type", ""),
        "country": [v.upper() for v in text("country", "")],
        "lat": number("lat", ""),
        "lon": number("lon", ""),
        "replacement_value": number("replacement_value", ""),
        "annual_revenue_at_stake": number("annual_revenue_at_stake", "0"),
        "currency": text("currency", "EUR"),
        "criticality": np.array(text("criticality", "3"), dtype=np.int64),
        "tags": _lists(text("tags", ""), n),
        "depends_on": _lists(text("depends_on", ""), n),
        "owner": text("owner", ""),
    }
    frame = pd.DataFrame(out, index=rows)[ASSET_COLUMNS]
    return _typed(frame)


SPACE_AFTER = re.compile(r"\x00\s")  # a literal first: searched at C speed


def _stripped(values: list[Any]) -> list[Any]:
    """The cells without white space around them (only rewritten when some cell has any)."""
    joined = "\x00" + "\x00".join(values) + "\x00"
    if SPACE_AFTER.search(joined) is None and SPACE_AFTER.search(joined[::-1]) is None:
        return values
    return [v.strip() for v in values]


def _lists(cells: list[str], n: int) -> np.ndarray:
    """';'-separated cells as lists (an empty cell: an empty list)."""
    filled = [i for i, c in enumerate(cells) if c]
    cut = [cells[i] for i in filled]
    values: list[list[str]] = [[] for _ in range(n)]
    if PLAIN_LIST.fullmatch("\n".join(cut)) is not None:  # no white space, no empty part
        for i, cell in zip(filled, cut, strict=True):
            values[i] = cell.split(";")
    else:
        for i, cell in zip(filled, cut, strict=True):
            values[i] = [p.strip() for p in cell.split(";") if p.strip()]
    series = pd.Series(index=range(n), dtype=object)
    series[:] = values
    return series.to_numpy()


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The dtypes `Portfolio.frame_of` gives (text, floats, int criticality, list columns)."""
    return frame.astype(
        {
            "id": "str",
            "name": "str",
            "type": "str",
            "country": "str",
            "lat": float,
            "lon": float,
            "replacement_value": float,
            "annual_revenue_at_stake": float,
            "currency": "str",
            "criticality": "int64",
            "owner": "str",
        }
    )


def register_problems(frame: pd.DataFrame, lines: np.ndarray, name: str) -> list[Problem]:
    """Problems between rows, as `riskapp.io.tables.check_register` words and orders them:
    duplicate ids, then dependencies on ids not in the register, then (only when there are
    none) one dependency cycle."""
    problems: list[Problem] = []
    ids = frame["id"].to_numpy(dtype=object)
    index = pd.Index(ids)
    repeated = index.duplicated(keep="first")
    first_row = pd.Series(lines[~repeated], index=index[~repeated])
    for i in np.flatnonzero(repeated).tolist():
        asset_id = ids[i]
        problems.append(
            Problem(
                name,
                int(lines[i]),
                "id",
                f"duplicate id {asset_id!r} (first on row {int(first_row[asset_id])})",
                "row",
            )
        )
    deps = frame["depends_on"]
    has = np.flatnonzero(deps.map(len).to_numpy(dtype=np.int64) > 0)
    edges = np.array([d for ds in deps.iloc[has].tolist() for d in ds], dtype=object)
    missing = first_row.index.get_indexer(pd.Index(edges)) < 0
    if missing.any():
        rows_of = np.repeat(lines[has], deps.iloc[has].map(len).to_numpy(dtype=np.int64))
        for line, dep in zip(rows_of[missing].tolist(), edges[missing].tolist(), strict=True):
            problems.append(
                Problem(name, int(line), "depends_on", f"no asset {dep!r} in the register", "row")
            )
    if not problems:
        graph = dict(zip(ids[has].tolist(), deps.iloc[has].tolist(), strict=True))
        cycle = find_cycle(graph)
        if cycle:
            problems.append(
                Problem(
                    name,
                    int(first_row[cycle[0]]),
                    "depends_on",
                    "dependency cycle: " + " -> ".join(cycle),
                    "row",
                )
            )
    return problems


def parse_register(path: Path, name: str) -> tuple[pd.DataFrame, np.ndarray]:
    """A register file's table and each row's number, or InputError with every problem of its
    cells (the problems between rows are `register_problems`')."""
    with _no_cyclic_gc():
        return _parse_register(path, name)


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Cells and lists hold no reference cycles: the cyclic collector would walk the millions of
    objects a large register makes again and again as they are built, to find nothing."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _parse_register(path: Path, name: str) -> tuple[pd.DataFrame, np.ndarray]:
    header, columns, lines = read_columns(path, name)
    if not len(lines) and not check_header(header, ASSET_COLUMNS, ASSET_REQUIRED, name):
        raise InputError([Problem(name, None, "", "the register has a header but no assets")])
    frame, problems = asset_frame(header, columns, lines, name)
    if problems:
        raise InputError(problems)
    return frame, lines
