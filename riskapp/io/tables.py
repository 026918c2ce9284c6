"""Tabular inputs (CSV and XLSX): the asset register and the baseline.

Rows are numbered as a spreadsheet numbers them (header = row 1). Every problem in every row
is collected before anything is returned; nothing is half-loaded.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Generator, Hashable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from riskapp.domain.assets import LIST_COLUMNS, REGISTER_COLUMNS, Asset, find_cycle
from riskapp.domain.assets import TEXT_COLUMNS as ASSET_TEXT_COLUMNS
from riskapp.domain.baseline import BaselineEntry
from riskapp.io.errors import InputError, Problem, pydantic_message
from riskapp.io.yamlfile import check_file, utf16_problem

MAX_CSV_BYTES = 512_000_000
MAX_XLSX_BYTES = 100_000_000
MAX_XLSX_UNPACKED = 400_000_000  # what openpyxl may inflate
MAX_XLSX_MEMBERS = 1_000
MAX_RATIO = 100  # unpacked : packed; real workbooks stay near 10:1
MAX_LISTED = 20  # problems of one kind listed before the rest are counted
MAX_PROBLEMS = 200
MAX_ROWS = 5_000_000  # rows of one table file

LIST_FIELDS = set(LIST_COLUMNS)
OPTIONAL_FIELDS = {"lat", "lon"}
BASELINE_COLUMNS = ["country", "factor", "intensity", "source"]


def read_rows(
    path: Path, label: str | None = None
) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """Header and (row number, cells) of a CSV or XLSX file."""
    header, rows = iter_rows(path, label)
    return header, list(rows)


Rows = Generator[tuple[int, list[Any]], None, None]


def iter_rows(path: Path, label: str | None = None) -> tuple[list[str], Rows]:
    """Header and an iterator of (row number, cells) of a CSV or XLSX file, read as a stream:
    memory holds one block of the file, never the whole of it. Problems of the file itself (not
    UTF-8, a quoted cell running over lines, a formula, more than MAX_ROWS rows) are raised as
    InputError while iterating; close the iterator to stop reading early."""
    name = label or str(path)
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        records = _xlsx_records(path, name)
    elif suffix in {".csv", ".txt"}:
        records = _csv_records(path, name)
    elif suffix == ".parquet":
        records = _parquet_records(path, name)
    else:
        raise InputError([Problem(name, None, "", "expected a .csv, .xlsx or .parquet file")])
    first = next(records)
    return [str(h) for h in first[1]], _counted(records, name)


def _counted(records: Rows, name: str) -> Rows:
    count = 0
    try:
        for record in records:
            count += 1
            if count > MAX_ROWS:
                raise InputError(
                    [
                        Problem(
                            name,
                            record[0],
                            "",
                            f"the table has more than {MAX_ROWS:,} rows, the limit for one file",
                            "row",
                        )
                    ]
                )
            yield record
    finally:
        records.close()


class _Bounded(io.RawIOBase):
    """A binary file that refuses to give more than `limit` bytes (it may grow while read)."""

    def __init__(self, fh: io.BufferedReader, limit: int, name: str) -> None:
        self.fh, self.left, self.limit, self.name = fh, limit, limit, name

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.fh.close()
        super().close()

    def readinto(self, buffer: Any) -> int:
        got: int = self.fh.readinto(buffer)
        self.left -= got
        if self.left < 0:
            raise InputError(
                [Problem(self.name, None, "", f"file is larger than {self.limit / 1e6:.0f} MB")]
            )
        return got


def _open_text(path: Path, name: str) -> io.TextIOWrapper:
    """A CSV file as a text stream (UTF-8, optional BOM, newlines kept for the csv module),
    after the checks of `read_text`: exists, a regular file, within MAX_CSV_BYTES."""
    check_file(path, MAX_CSV_BYTES, name)
    raw = _Bounded(path.open("rb"), MAX_CSV_BYTES, name)
    return io.TextIOWrapper(io.BufferedReader(raw, 1 << 20), encoding="utf-8-sig", newline="")


def _utf8_problem(path: Path, name: str) -> InputError:
    """The first byte that is not UTF-8, with its line and offset (the file is read again in
    blocks: the streaming decoder does not say where it stopped)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, lines = 0, 0  # bytes after the BOM and line breaks before the current block
    with path.open("rb") as fh:
        first = True
        while block := fh.read(1 << 20):
            if first and (utf16 := utf16_problem(block[:2], name, "row")) is not None:
                return utf16
            if first and block.startswith(codecs.BOM_UTF8):
                block = block[3:]
            first = False
            pending = len(decoder.getstate()[0])  # bytes of a character begun in the last block
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                data, start = exc.object, exc.start
                return InputError(
                    [
                        Problem(
                            name,
                            lines + data[:start].count(b"\n") + 1,
                            "",
                            f"not UTF-8 text (byte 0x{data[start]:02x} at offset "
                            f"{offset - pending + start}); save the file as UTF-8",
                            "row",
                        )
                    ]
                )
            offset += len(block)
            lines += block.count(b"\n")
    return InputError([Problem(name, None, "", "not UTF-8 text; save the file as UTF-8")])


def _blank(path: Path, name: str) -> bool:
    """Whether a text file holds nothing but white space (read until its first other character)."""
    with _open_text(path, name) as text:
        while block := text.read(1 << 16):
            if block.strip():
                return False
    return True


def _csv_records(path: Path, name: str) -> Rows:
    """(row number, cells) of each non-blank CSV record, the header first."""
    try:
        if _blank(path, name):
            raise InputError([Problem(name, None, "", "file is empty")])
        with _open_text(path, name) as text:
            reader = csv.reader(text)
            try:
                yield 1, [h.strip() for h in next(reader)]
                previous = reader.line_num
                for cells in reader:
                    start = previous + 1
                    previous = reader.line_num
                    # a record over several lines holds a line break in a quoted cell
                    if previous > start and any("\n" in c or "\r" in c for c in cells):
                        raise InputError(
                            [
                                Problem(
                                    name,
                                    start,
                                    "",
                                    "a quoted cell runs over several lines from here: check for "
                                    'a missing closing quote (")',
                                    "row",
                                )
                            ]
                        )
                    if "".join(cells).strip():  # not a blank row
                        yield start, cells
            except csv.Error as exc:
                row = reader.line_num
                what = (
                    f"a cell holds more than {csv.field_size_limit():,} characters, the limit "
                    "for one cell (check for a missing closing quote)"
                    if "field larger" in str(exc)
                    else f"malformed CSV: {exc}"
                )
                raise InputError([Problem(name, row, "", what, "row")]) from None
    except UnicodeDecodeError:
        raise _utf8_problem(path, name) from None


def _xlsx_records(path: Path, name: str) -> Rows:
    """(row number, cells) of each non-blank row of a workbook's first sheet, the header first;
    formula cells are refused once the sheet has been read."""
    import openpyxl

    check_workbook(path, name)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for broken files
        raise InputError(
            [Problem(name, None, "", f"not a readable .xlsx workbook: {exc}")]
        ) from None
    formulas: list[Problem] = []
    try:
        sheet = book.worksheets[0]
        it = sheet.iter_rows()
        first = next(it, None)
        if first is None:
            raise InputError([Problem(name, None, "", "workbook is empty")])
        header = ["" if c.value is None else str(c.value).strip() for c in first]
        yield 1, header
        for n, cells in enumerate(it, start=2):
            values = ["" if c.value is None else c.value for c in cells]
            for i, c in enumerate(cells):
                if getattr(c, "data_type", None) == "f" and len(formulas) <= MAX_LISTED:
                    field = header[i] if i < len(header) else f"column {i + 1}"
                    formulas.append(formula_problem(name, n, field, str(c.value)))
            if any(str(v).strip() for v in values):
                yield n, values
    finally:
        book.close()
    if formulas:
        raise InputError(formulas[:MAX_LISTED])


MAX_PARQUET_UNPACKED = 2_000_000_000  # bytes a Parquet file may inflate to
PARQUET_BATCH = 50_000


def check_parquet(path: Path, name: str) -> Any:
    """A Parquet file's metadata, once its size, rows and unpacked size are within bounds
    (nothing is inflated before): a regular file within MAX_CSV_BYTES, at most MAX_ROWS rows
    and MAX_PARQUET_UNPACKED bytes once unpacked."""
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
    return meta


def parquet_text(column: Any) -> Any:
    """An Arrow column as the text a CSV would hold: numbers as their shortest text (an id
    stored as 1001.0 reads '1001'), nulls as empty cells; other types (booleans, dates) are
    left as they are, for the model to word."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pc.fill_null(column, "")
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return pc.fill_null(pc.cast(column, pa.string()), "")
    return column


def _parquet_records(path: Path, name: str) -> Rows:
    """(row number, cells) of each row of a Parquet file, the header first; read in batches
    (rows numbered as if the header were row 1, as in a spreadsheet)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    check_parquet(path, name)
    try:
        source = pq.ParquetFile(path)
        yield 1, [str(c).strip() for c in source.schema_arrow.names]
        line = 2
        for batch in source.iter_batches(batch_size=PARQUET_BATCH):
            columns = [parquet_text(c).to_pylist() for c in batch.columns]
            for cells in zip(*columns, strict=True):
                yield line, ["" if c is None else c for c in cells]
                line += 1
    except (pa.ArrowException, OSError) as exc:
        raise InputError([Problem(name, None, "", f"not a readable Parquet file: {exc}")]) from None


def formula_problem(name: str, row: int, field: str, formula: str) -> Problem:
    shown = formula if len(formula) <= 40 else formula[:37] + "..."
    return Problem(
        name,
        row,
        field,
        f"the cell holds a formula ({shown}); riskapp reads values, not formulas or their "
        "cached results: paste the values (Paste special > Values) and save again",
        "row",
    )


def check_workbook(path: Path, name: str) -> None:
    """A regular file within the size limit whose zip members unpack to a bounded size at a
    plausible ratio: refuses zip bombs before openpyxl inflates anything."""
    import zipfile

    if not path.exists():
        raise InputError([Problem(name, None, "", "file not found")])
    if not path.is_file():
        raise InputError([Problem(name, None, "", "expected a regular file")])
    size = path.stat().st_size
    if size > MAX_XLSX_BYTES:
        raise InputError(
            [
                Problem(
                    name,
                    None,
                    "",
                    f"file is {size / 1e6:.1f} MB; the limit for a workbook is "
                    f"{MAX_XLSX_BYTES / 1e6:.0f} MB",
                )
            ]
        )
    try:
        with zipfile.ZipFile(path) as z:
            unpacked = sum(i.file_size for i in z.infolist())
            members = len(z.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(
            [Problem(name, None, "", f"not a readable .xlsx workbook: {exc}")]
        ) from None
    if members > MAX_XLSX_MEMBERS or unpacked > MAX_XLSX_UNPACKED or unpacked > size * MAX_RATIO:
        raise InputError(
            [
                Problem(
                    name,
                    None,
                    "",
                    f"the workbook unpacks to {unpacked / 1e6:,.0f} MB in {members} parts from "
                    f"{size / 1e6:.1f} MB; the limits are {MAX_XLSX_UNPACKED / 1e6:.0f} MB, "
                    f"{MAX_XLSX_MEMBERS} parts and a ratio of {MAX_RATIO}:1 (save it as CSV "
                    "for larger registers)",
                )
            ]
        )


def check_header(
    header: list[str], allowed: list[str], required: set[str], name: str
) -> list[Problem]:
    """Problems of a table's header: unknown, repeated and missing columns (row 1)."""
    problems = []
    for col in header:
        if col not in allowed:
            problems.append(
                Problem(
                    name, 1, col, f"unknown column; expected columns: {', '.join(allowed)}", "row"
                )
            )
    dupes = {c for c in header if header.count(c) > 1}
    for col in sorted(dupes):
        problems.append(Problem(name, 1, col, "column appears more than once", "row"))
    for col in allowed:
        if col in required and col not in header:
            problems.append(Problem(name, 1, col, "required column is missing", "row"))
    return problems


def table_records(
    header: list[str],
    rows: list[tuple[int, list[Any]]],
    convert: Callable[[str, Any], Any],
    name: str,
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Each row as {column: convert(column, cell)}; a row with more cells than the header is a
    problem and is left out."""
    records, problems = [], []
    width = len(header)
    for line, cells in rows:
        if len(cells) > width and any(str(c).strip() for c in cells[width:]):
            problems.append(
                Problem(
                    name, line, "", f"row has {len(cells)} cells; the header has {width}", "row"
                )
            )
            continue
        padded = list(cells) + [""] * (width - len(cells))
        records.append({col: convert(col, padded[i]) for i, col in enumerate(header) if col})
    return records, problems


def repeats(keys: Sequence[Hashable], lines: Sequence[int]) -> list[tuple[int, int]]:
    """(position, row of its first) of each key that repeats an earlier one."""
    first: dict[Hashable, int] = {}
    out = []
    for i, (key, line) in enumerate(zip(keys, lines, strict=True)):
        if key in first:
            out.append((i, first[key]))
        else:
            first[key] = line
    return out


def validate_rows(
    model: type[BaseModel],
    records: list[dict[str, Any]],
    lines: list[int],
    name: str,
) -> tuple[list[Any], list[Problem]]:
    """Validate the records as `model`s; each problem names the row (from `lines`) and field."""
    adapter: TypeAdapter[list[Any]] = TypeAdapter(list[model])  # type: ignore[valid-type]
    try:
        return adapter.validate_python(records), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            row = lines[loc[0]] if loc and isinstance(loc[0], int) else None
            field = ".".join(str(p) for p in loc[1:2])
            problems.append(Problem(name, row, field, pydantic_message(err), "row"))
            if len(problems) >= MAX_PROBLEMS:
                problems.append(Problem(name, None, "", "more problems not shown", "row"))
                break
        return [], problems


TEXT_COLUMNS = {*ASSET_TEXT_COLUMNS, *LIST_COLUMNS}  # cells read as text


def asset_cell(col: str, value: Any) -> Any:
    """One register cell as the Asset model reads it (spreadsheet numbers as ids, lists split
    on ';'); optional cells left empty become `_DROP` and take the model's default."""
    if isinstance(value, str):
        value = value.strip()
    elif col in TEXT_COLUMNS and isinstance(value, (int, float)) and not isinstance(value, bool):
        # a spreadsheet stores an id typed as 1001 as a number
        value = str(int(value)) if float(value).is_integer() else str(value)
    if col in LIST_FIELDS:
        if value in ("", None):
            return []
        return [v.strip() for v in str(value).split(";") if v.strip()]
    if col in OPTIONAL_FIELDS and value == "":
        return None
    if value == "" and col in DEFAULTED:
        return _DROP
    return value


_DROP = object()
# optional cells whose emptiness means the model's default
DEFAULTED = {"annual_revenue_at_stake", "currency", "criticality", "owner", "subdivision", "route"}


def asset_record(header: list[str], cells: list[Any]) -> dict[str, Any]:
    """One register row (no wider than the header) as the record the Asset model validates."""
    padded = list(cells) + [""] * (len(header) - len(cells))
    record = {col: asset_cell(col, padded[i]) for i, col in enumerate(header) if col}
    return {k: v for k, v in record.items() if v is not _DROP}


def load_assets(path: Path, label: str | None = None) -> list[Asset]:
    """Read and validate an asset register (CSV or XLSX); raise InputError listing every
    problem with its row (bad cells, duplicate ids, dangling dependencies, cycles)."""
    name = label or str(path)
    assets, lines = parse_assets(path, name)
    problems = check_register(assets, lines, name)
    if problems:
        raise InputError(problems)
    return assets


def check_register(assets: list[Asset], lines: list[int], name: str) -> list[Problem]:
    """Problems between rows of a register: duplicate ids, dangling dependencies, cycles."""
    problems = []
    seen: dict[str, int] = {}
    for asset, line in zip(assets, lines, strict=True):
        if asset.id in seen:
            problems.append(
                Problem(
                    name,
                    line,
                    "id",
                    f"duplicate id {asset.id!r} (first on row {seen[asset.id]})",
                    "row",
                )
            )
        seen.setdefault(asset.id, line)
    for asset, line in zip(assets, lines, strict=True):
        for dep in asset.depends_on:
            if dep not in seen:
                problems.append(
                    Problem(name, line, "depends_on", f"no asset {dep!r} in the register", "row")
                )
    if not problems:
        cycle = find_cycle({a.id: a.depends_on for a in assets if a.depends_on})
        if cycle:
            problems.append(
                Problem(
                    name,
                    seen[cycle[0]],
                    "depends_on",
                    "dependency cycle: " + " -> ".join(cycle),
                    "row",
                )
            )
    return problems


ASSET_REQUIRED = {"id", "name", "type", "country", "replacement_value"}


def asset_rows(
    header: list[str], rows: list[tuple[int, list[Any]]], name: str
) -> tuple[list[Asset], list[int], list[Problem]]:
    """The assets of a header and its numbered rows (a file, an upload, an edited grid) with
    their row numbers, or every problem with its row, column and reason. The one reading of a
    register row: files and the team database's imports both go through it."""
    from riskapp.io.locations import by_row, locate_rows

    problems = check_header(header, REGISTER_COLUMNS, ASSET_REQUIRED, name)
    if problems:
        return [], [], problems
    records, problems = table_records(header, rows, asset_cell, name)
    if problems:  # rows of the wrong width: the row numbers of the others no longer line up
        return [], [], problems
    lines = [line for line, _ in rows]
    header, cells, located = locate_rows(header, [c for _, c in rows], lines, name)
    if located.changed:
        records, _ = table_records(header, list(zip(lines, cells, strict=True)), asset_cell, name)
    records = [{k: v for k, v in r.items() if v is not _DROP} for r in records]
    assets, problems = validate_rows(Asset, records, lines, name)
    problems = by_row(located.problems + [p for p in problems if located.keep(p)])
    if problems:
        return [], [], problems
    return assets, lines, []


def parse_assets(path: Path, label: str | None = None) -> tuple[list[Asset], list[int]]:
    """Read and validate each row of a register; returns the assets and their row numbers."""
    name = label or str(path)
    header, rows = read_rows(path, name)
    if not rows and not check_header(header, REGISTER_COLUMNS, ASSET_REQUIRED, name):
        raise InputError([Problem(name, None, "", "the register has a header but no assets")])
    assets, lines, problems = asset_rows(header, rows, name)
    if problems:
        raise InputError(problems)
    return assets, lines


def _baseline_cell(col: str, value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def load_baseline(path: Path, label: str | None = None) -> tuple[list[BaselineEntry], list[int]]:
    """Read and validate baseline intensities; returns the entries and their row numbers."""
    name = label or str(path)
    header, rows = read_rows(path, name)
    problems = check_header(header, BASELINE_COLUMNS, {"country", "factor", "intensity"}, name)
    if problems:
        raise InputError(problems)
    records, problems = table_records(header, rows, _baseline_cell, name)
    lines = [line for line, _ in rows]
    entries, more = validate_rows(BaselineEntry, records, lines, name)
    problems += more
    if not problems:
        problems += [
            Problem(
                name,
                lines[i],
                "country",
                f"second row for {entries[i].country} / {entries[i].factor} (first on row {first})",
                "row",
            )
            for i, first in repeats([(e.country, e.factor) for e in entries], lines)
        ]
    if problems:
        raise InputError(problems)
    return entries, lines
