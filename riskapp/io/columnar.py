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
import math
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import ValidationError

from riskapp.domain.assets import ASSET_COLUMNS, REGISTER_COLUMNS, Asset, find_cycle, pack_rows
from riskapp.io.arrowcheck import accept
from riskapp.io.errors import InputError, Problem, pydantic_message
from riskapp.io.locations import by_row, locate_arrow
from riskapp.io.tables import (
    ASSET_REQUIRED,
    MAX_CSV_BYTES,
    MAX_PROBLEMS,
    MAX_ROWS,
    TEXT_COLUMNS,
    asset_record,
    check_header,
    check_parquet,
    iter_rows,
    parquet_text,
)
from riskapp.io.yamlfile import check_file, utf16_problem

NOT_BLANK = re.compile(rb"\S")

Columns = list[list[Any]]


def read_columns(path: Path, name: str) -> tuple[list[str], Columns, np.ndarray]:
    """The header, the non-blank rows column by column (in header order) and each row's number
    (a spreadsheet's: the header is row 1) of a CSV, XLSX or Parquet file."""
    header, rows = iter_rows(path, name)
    return columns_of_rows(header, list(rows))


def columns_of_rows(
    header: list[str], numbered: Sequence[tuple[int, list[Any]]]
) -> tuple[list[str], Columns, np.ndarray]:
    """Numbered rows (a file's, an upload's, an edited grid's) as `asset_frame` takes them:
    columns in header order, short rows padded, and for rows wider than the header an extra
    last column with the cells past it."""
    width = len(header)
    numbers, rows = zip(*numbered, strict=True) if len(numbered) else ((), ())
    lines = np.fromiter(numbers, dtype=np.int64, count=len(numbers))
    widths = set(map(len, rows))
    if widths == {width}:  # every row as wide as the header (a plain file): no padding
        return header, [list(c) for c in zip(*rows, strict=True)], lines
    cells = [_fit(r, width) for r in rows]
    columns = [list(c) for c in zip(*cells, strict=True)] if cells else [[] for _ in header]
    if width and max(widths, default=0) > width:
        columns.append([r[width:] for r in rows])  # the caller reports wide rows
    return header, columns, lines


def _fit(cells: list[Any], width: int) -> list[Any]:
    return list(cells[:width]) + [""] * (width - len(cells))


def _csv_table(path: Path, name: str) -> tuple[list[str], pa.Table, np.ndarray] | None:
    """A CSV file read by Arrow's C++ reader, every cell as text, when each record is one line
    and no line is blank; None otherwise (or when the file is odd in another way): the
    streaming reader then finds and words why."""
    import pyarrow.csv as pcsv

    check_file(path, MAX_CSV_BYTES, name)
    with path.open("rb") as fh:
        raw = fh.read(MAX_CSV_BYTES + 1)
    if len(raw) > MAX_CSV_BYTES:
        return None
    problem = utf16_problem(raw[:2], name, "row")
    if problem is not None:
        raise problem
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    # (Arrow checks the text is UTF-8; when it is not, the streaming reader finds the byte)
    if NOT_BLANK.search(raw) is None or raw[:1] in (b"\n", b"\r") or b"\x00" in raw:
        return None
    if b"\r" in raw and raw.count(b"\r") != raw.count(b"\r\n"):
        return None  # a lone carriage return: the streaming reader's
    # a blank line ("\n\n", "\n\r\n"): the streaming reader skips it and keeps the numbering.
    # Found from the line breaks' positions (one pass over the bytes in numpy, where two
    # substring searches took 0.2 s over a 130 MB register)
    text = np.frombuffer(raw, dtype=np.uint8)
    breaks = np.flatnonzero(text == 10)
    gaps = np.diff(breaks)
    if (gaps == 1).any() or ((gaps == 2) & (text[breaks[:-1] + 1] == 13)).any():
        return None
    del text, gaps
    lines_in_file = len(breaks) + (0 if raw.endswith(b"\n") else 1)
    if lines_in_file - 1 > MAX_ROWS:
        return None
    end = raw.find(b"\n")
    try:
        first = raw[: end if end >= 0 else len(raw)].decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        return None
    width = len(next(csv.reader([first]), []))
    names = [f"c{i}" for i in range(width)]
    try:
        table = pcsv.read_csv(
            pa.BufferReader(raw),
            read_options=pcsv.ReadOptions(column_names=names),
            parse_options=pcsv.ParseOptions(newlines_in_values=False, ignore_empty_lines=False),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None  # not UTF-8, a row wider than the header...: the streaming reader words it
    del raw
    if table.num_rows != lines_in_file:  # a quoted cell holds a line break
        return None
    limit = csv.field_size_limit()
    # a cell of at most `limit` bytes has at most `limit` characters: the bytes are read from
    # the column's offsets, the characters counted only in a column with a longer cell
    if any(
        (pc.max(pc.binary_length(c)).as_py() or 0) > limit
        and (pc.max(pc.utf8_length(c)).as_py() or 0) > limit
        for c in table.columns
    ):
        return None
    header = [str(v).strip() for v in table.slice(0, 1).to_pylist()[0].values()]
    body = table.slice(1)
    lines = np.arange(2, lines_in_file + 1, dtype=np.int64)
    # a row of nothing but white space is skipped as a blank row (rare: looked at one by one)
    if body.num_columns:
        empty = pc.equal(pc.utf8_trim_whitespace(body.column(0)), "")
        candidates = np.flatnonzero(np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool))
        if len(candidates):
            rows = body.take(pa.array(candidates)).to_pylist()
            blank = [
                i for i, r in zip(candidates, rows, strict=True) if not "".join(r.values()).strip()
            ]
            if blank:
                keep = np.ones(body.num_rows, dtype=bool)
                keep[blank] = False
                body = body.filter(pa.array(keep))
                lines = lines[keep]
    return header, body, lines


def text_table(path: Path, name: str) -> tuple[list[str], pa.Table, np.ndarray] | None:
    """A plain CSV or Parquet file as Arrow text columns (header, table, each row's number),
    or None when the file needs the streaming reader (XLSX, or anything odd it words)."""
    suffix = path.suffix.lower()
    if suffix in {".csv", ".txt"}:
        return _csv_table(path, name)
    if suffix == ".parquet":
        return _parquet_table(path, name)
    return None


def _parquet_table(path: Path, name: str) -> tuple[list[str], pa.Table, np.ndarray] | None:
    """A Parquet file's columns as the text a CSV would hold (`parquet_text`), bounded in
    rows and unpacked size before anything is read; None when a column holds other types
    (booleans, dates): the streaming reader then hands those cells to the model to word."""
    import pyarrow.parquet as pq

    check_parquet(path, name)
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError([Problem(name, None, "", f"not a readable Parquet file: {exc}")]) from None
    columns = [parquet_text(c) for c in table.columns]
    if not all(pa.types.is_string(c.type) or pa.types.is_large_string(c.type) for c in columns):
        return None
    header = [str(c).strip() for c in table.column_names]
    text = pa.table({str(i): c for i, c in enumerate(columns)})
    return header, text, np.arange(2, table.num_rows + 2, dtype=np.int64)


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
    header: list[str],
    columns: Columns,
    lines: np.ndarray,
    name: str,
    partial: bool = False,
    limit: int | None = MAX_PROBLEMS,
) -> tuple[pd.DataFrame, list[Problem]]:
    """The register's table (ASSET_COLUMNS, one row per asset, as `Portfolio` holds it) from
    its columns (lists of cells, header order, an extra last column with the cells past the
    header's width), or every problem with its row, field and reason: the ones the `Asset`
    model reports for the same rows, in the same order."""
    problems = check_header(header, REGISTER_COLUMNS, ASSET_REQUIRED, name)
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
    plain = [_all_text(col) for col in columns]
    if not all(plain):
        columns = [
            col if text else _as_text(col, field)
            for col, field, text in zip(columns, header, plain, strict=True)
        ]
    # a cell that is not text (a boolean, a date) fails every pattern: the model words it
    table = pa.table(
        {
            str(i): pa.array(
                col if text else [v if type(v) is str else NOT_TEXT for v in col], pa.string()
            )
            for i, (col, text) in enumerate(zip(columns, plain, strict=True))
        }
    )
    return table_frame(
        header,
        table,
        lines,
        name,
        lambda i: [col[i] for col in columns],
        partial=partial,
        limit=limit,
    )


NOT_TEXT = "\x00"


def _all_text(cells: list[Any]) -> bool:
    """Whether every cell is text (joining them is the quickest test)."""
    try:
        "".join(cells)
    except TypeError:
        return False
    return True


def table_frame(
    header: list[str],
    table: pa.Table,
    lines: np.ndarray,
    name: str,
    cells_of: Callable[[int], list[Any]] | None = None,
    partial: bool = False,
    limit: int | None = MAX_PROBLEMS,
) -> tuple[pd.DataFrame, list[Problem]]:
    """The register's table from an Arrow table of text columns (in header order): plainly
    valid rows converted by Arrow kernels, the others read by the `Asset` model one by one
    (`cells_of(i)`: row i's original cells; by default the table's own).

    `partial`: with problems, the rows that read well are returned too (indexed by their
    position in the file, not renumbered), for the checks between files to run on them;
    after `limit` problems (None: no limit), only the rows the column checks accepted."""
    problems = check_header(header, REGISTER_COLUMNS, ASSET_REQUIRED, name)
    if problems:
        return pd.DataFrame(columns=ASSET_COLUMNS), problems
    source = header
    header, table, located = locate_arrow(header, table, lines, name)
    accepted = accept(header, table)
    to_model = np.flatnonzero(~accepted.ok)
    if located.changed and cells_of is not None:
        original = cells_of
        cells_of = lambda i: located.cells(original(i), i)  # noqa: E731
    if cells_of is None and len(to_model):
        rows = table.take(pa.array(to_model)).to_pylist()
        keys = table.column_names
        originals = {int(i): [r[k] for k in keys] for i, r in zip(to_model, rows, strict=True)}
        cells_of = originals.__getitem__
    problems = list(located.problems)
    checked: list[dict[str, Any]] = []
    read_well: list[int] = []
    for i in to_model.tolist():
        assert cells_of is not None
        try:
            asset = Asset.model_validate(asset_record(header, cells_of(i)))
        except ValidationError as exc:
            for err in exc.errors():
                field = ".".join(str(p) for p in tuple(err["loc"])[:1])
                found = Problem(name, int(lines[i]), field, pydantic_message(err), "row")
                if located.keep(found):
                    problems.append(found)
                if limit is not None and len(problems) >= limit:
                    problems.append(Problem(name, None, "", "more problems not shown", "row"))
                    if partial:
                        return _typed(accepted.frame), by_row(problems)
                    return pd.DataFrame(columns=ASSET_COLUMNS), by_row(problems)
            continue
        checked.append(asset.model_dump())
        read_well.append(i)
    if problems and not partial:
        return pd.DataFrame(columns=ASSET_COLUMNS), by_row(problems)
    frame = accepted.frame
    if read_well:
        modelled = pd.DataFrame.from_records(checked, columns=ASSET_COLUMNS, index=read_well)
        frame = pd.concat([frame, modelled]).sort_index(kind="stable")
    frame = _typed(frame)
    if located.changed or source != header:
        frame.attrs["location_notes"] = located.notes.lines(name)
        near = frame.index.isin(np.flatnonzero(located.approximate))
        frame.attrs["approximate"] = frame["id"][near].tolist()
        read = frame.index.isin(np.flatnonzero(located.subdivided))
        frame.attrs["subdivision_read"] = pack_rows(read)
    if partial:
        return frame, by_row(problems)
    return frame.reset_index(drop=True), []


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
            "subdivision": "str",
            "route": "str",
        }
    )


def register_problems(frame: pd.DataFrame, lines: np.ndarray, name: str) -> list[Problem]:
    """Problems between rows, as `riskapp.io.tables.check_register` words and orders them:
    duplicate ids, then dependencies on ids not in the register, then (only when there are
    none) one dependency cycle."""
    problems: list[Problem] = []
    # the register's Arrow-backed ids as they are (no Python string per row), else converted
    ids = pc.cast(pa.array(frame["id"], from_pandas=True), pa.string())
    first_row: dict[str, int] = {}
    if len(pc.unique(ids)) != len(ids):
        index = pd.Index(ids.to_pylist())
        repeated = index.duplicated(keep="first")
        first_row = dict(zip(index[~repeated], lines[~repeated].tolist(), strict=True))
        for i in np.flatnonzero(repeated).tolist():
            asset_id = index[i]
            problems.append(
                Problem(
                    name,
                    int(lines[i]),
                    "id",
                    f"duplicate id {asset_id!r} (first on row {first_row[asset_id]})",
                    "row",
                )
            )
    deps = frame["depends_on"].to_numpy(dtype=object)
    counts = np.fromiter(map(len, deps), dtype=np.int64, count=len(deps))
    has = np.flatnonzero(counts)
    edges = pa.array([d for ds in deps[has].tolist() for d in ds], pa.string())
    missing = ~np.asarray(pc.is_in(edges, value_set=ids).to_numpy(zero_copy_only=False), bool)
    if missing.any():
        rows_of = np.repeat(lines[has], counts[has])
        for line, dep in zip(
            rows_of[missing].tolist(), edges.filter(pa.array(missing)).to_pylist(), strict=True
        ):
            problems.append(
                Problem(name, int(line), "depends_on", f"no asset {dep!r} in the register", "row")
            )
    if not problems and len(has) and _may_cycle(ids, has, counts, edges):
        graph = dict(zip(frame["id"].iloc[has].tolist(), deps[has].tolist(), strict=True))
        cycle = find_cycle(graph)
        if cycle:
            row = dict(zip(frame["id"].tolist(), lines.tolist(), strict=True))[cycle[0]]
            problems.append(
                Problem(
                    name,
                    int(row),
                    "depends_on",
                    "dependency cycle: " + " -> ".join(cycle),
                    "row",
                )
            )
    return problems


def _may_cycle(ids: pa.Array, has: np.ndarray, counts: np.ndarray, edges: pa.Array) -> bool:
    """False when the register's dependency graph surely has no cycle (`peels_bare`); True
    means 'look with find_cycle'."""
    from riskapp.domain.assets import peels_bare

    source = np.repeat(has, counts[has])
    found = pc.fill_null(pc.index_in(edges, value_set=ids), -1)
    target = np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)
    return not peels_bare(source, target, len(ids))


def _refuse_empty(header: list[str], lines: np.ndarray, name: str, empty: bool) -> None:
    if (
        not empty
        and not len(lines)
        and not check_header(header, REGISTER_COLUMNS, ASSET_REQUIRED, name)
    ):
        raise InputError([Problem(name, None, "", "the register has a header but no assets")])


def parse_register(
    path: Path, name: str, *, empty: bool = False
) -> tuple[pd.DataFrame, np.ndarray]:
    """A register file's table and each row's number, or InputError with every problem of its
    cells (the problems between rows are `register_problems`'). With `empty`, a register with
    its header and no rows is a register of no assets (a new workspace's), not a problem."""
    with _no_cyclic_gc():
        return _parse_register(path, name, empty)


_FREEZE_PARSED = [False]  # set by `freeze_parsed_registers`


def freeze_parsed_registers() -> None:
    """For a process that reads its workspace once and exits (the command line): after a
    register is parsed, what is alive is frozen (`gc.freeze`), so the cyclic collector never
    walks the register's cells again. Their list cells (tags, depends_on) are millions of
    tracked objects at 1,000,000 assets; the collections they later trigger while the
    workspace is checked and scored cost 0.6-1 s there. A long-running process (the
    dashboard's server) leaves this off: frozen objects that end up in unreachable reference
    cycles are never freed."""
    _FREEZE_PARSED[0] = True


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
            if _FREEZE_PARSED[0]:
                gc.freeze()
            gc.enable()


def _parse_register(path: Path, name: str, empty: bool) -> tuple[pd.DataFrame, np.ndarray]:
    fast = text_table(path, name)
    if fast is not None:
        header, table, lines = fast
        _refuse_empty(header, lines, name, empty)
        frame, problems = table_frame(header, table, lines, name)
    else:
        header, columns, lines = read_columns(path, name)
        _refuse_empty(header, lines, name, empty)
        frame, problems = asset_frame(header, columns, lines, name)
    if problems:
        raise InputError(problems)
    return frame, lines


def parse_register_partial(
    path: Path, name: str
) -> tuple[pd.DataFrame, np.ndarray, list[Problem], set[str]]:
    """What a register file holds even when some rows are wrong: the table of the rows that
    read well, their row numbers, every problem of the cells, and the ids written on the rows
    that did not read (so that a reference to one of them is not called unknown). A file that
    cannot be read at all raises InputError, as `parse_register` does."""
    with _no_cyclic_gc():
        fast = text_table(path, name)
        if fast is not None:
            header, table, lines = fast
            _refuse_empty(header, lines, name, empty=True)
            frame, problems = table_frame(header, table, lines, name, partial=True)
            raw_ids = table.column(header.index("id")).to_pylist() if "id" in header else []
        else:
            header, columns, lines = read_columns(path, name)
            _refuse_empty(header, lines, name, empty=True)
            frame, problems = asset_frame(header, columns, lines, name, partial=True)
            raw_ids = columns[header.index("id")] if "id" in header else []
    if not problems:
        return frame, lines, [], set()
    if "id" not in frame.columns or not len(frame):
        frame = pd.DataFrame(columns=ASSET_COLUMNS)
        kept = np.zeros(0, dtype=np.int64)
    else:
        kept = frame.index.to_numpy(dtype=np.int64)
    missed = np.setdiff1d(np.arange(len(lines)), kept)
    others = {str(raw_ids[i]).strip() for i in missed.tolist()} if len(raw_ids) else set()
    if len(frame):
        frame = frame.reset_index(drop=True)
    return frame, lines[kept], problems, others
