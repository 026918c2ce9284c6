"""Reading the shipped reference files: bytes within a size bound, the text encodings they come
in (UTF-8 with or without a byte-order mark, cp1252, latin-1), CSV cells as stripped text,
required columns, numbers among 'not available' markers, and the long (series, country, period,
value) form every source loader returns. Shared by riskapp/baseline/sources.py (one loader per
source) and riskapp/baseline/table_source.py (the user's own indicator tables).
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from riskapp.io.errors import InputError, Problem

MISSING_MARKERS = frozenset({"", ":", "x", "X", "..", "-", "n/a", "N/A", "NA", "nan"})
MAX_PROBLEMS = 50
MAX_SOURCE_BYTES = 200_000_000


def decode(raw: bytes) -> tuple[str, str]:
    """Text of a file and the encoding it was read with: UTF-8 (a byte-order mark is dropped),
    else cp1252, else latin-1 (which reads any byte)."""
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
        try:
            return raw.decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def read_bytes(path: Path, name: str) -> bytes:
    if not path.exists():
        raise InputError([Problem(name, None, "", "file not found")])
    if path.is_dir():
        raise InputError([Problem(name, None, "", "expected a file, found a directory")])
    if path.stat().st_size > MAX_SOURCE_BYTES:
        raise InputError([Problem(name, None, "", "file is too large for a reference source")])
    return path.read_bytes()


def read_csv_text(path: Path, name: str) -> tuple[pd.DataFrame, str]:
    """All cells of a CSV file as stripped text; the header's BOM and padding removed."""
    text, encoding = decode(read_bytes(path, name))
    if not text.strip():
        raise InputError([Problem(name, None, "", "file is empty")])
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError([Problem(name, None, "", f"malformed CSV: {exc}", "row")]) from None
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    frame = frame.apply(lambda col: col.str.strip())
    return frame, encoding


def require_columns(frame: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    problems = [
        Problem(name, 1, col, "required column is missing", "row")
        for col in columns
        if col not in frame.columns
    ]
    if problems:
        raise InputError(problems)


def to_numbers(
    cells: pd.Series, name: str, column: str, rows: np.ndarray | None = None
) -> np.ndarray:
    """Numbers from text cells: missing markers (`:`, `x`, `..`, empty) become NaN; a flag after
    a value (`12.5 p`) is dropped; anything else raises a problem naming the row and column.
    `rows` gives the spreadsheet row of each cell (default: position + 2)."""
    text = cells.astype(str).str.strip()
    # most cells are plain numbers or missing markers: read them whole (a text with a blank
    # inside never reads as a number, so a number read whole is its own first word); only the
    # others are split into words, which is slow, and their first word read
    values = np.array(pd.to_numeric(text, errors="coerce"), dtype=float)  # writable
    missing = np.array(text.isin(MISSING_MARKERS), dtype=bool)  # a marker is its own first word
    rest = np.flatnonzero(np.isnan(values) & ~missing)
    if rest.size:
        token = text.iloc[rest].str.split(n=1).str[0].fillna("")
        marked = token.isin(MISSING_MARKERS)
        missing[rest] = marked.to_numpy(dtype=bool)
        values[rest] = pd.to_numeric(token.where(~marked), errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(np.isnan(values) & ~missing)
    if bad.size:
        lines = rows if rows is not None else np.arange(len(cells)) + 2
        problems = [
            Problem(
                name,
                int(lines[i]),
                column,
                f"expected a number, ':' or 'x'; got {text.iloc[i]!r}",
                "row",
            )
            for i in bad[:MAX_PROBLEMS]
        ]
        raise InputError(problems)
    return values


def to_number_columns(
    frame: pd.DataFrame, columns: list[str], name: str, rows: np.ndarray
) -> np.ndarray:
    """`to_numbers` of each of `columns` at once: a (rows, columns) array. The cells are read in
    one pass; when any is not a number, the columns are read one by one so that the problems
    are the ones (and in the order) `to_numbers` column by column gives."""
    if not columns:
        return np.empty((len(frame), 0))
    cells = pd.Series(frame[columns].to_numpy(dtype=object).ravel(order="F"))
    try:
        values = to_numbers(cells, name, "", np.tile(rows, len(columns)))
    except InputError:
        for col in columns:
            to_numbers(frame[col], name, col, rows)  # raises with the column's problems
        raise
    return values.reshape((len(frame), len(columns)), order="F")


def long_frame(
    series: np.ndarray, country: np.ndarray, period: np.ndarray, value: np.ndarray
) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "series": series.astype(object),
            "country": country.astype(object),
            "period": period.astype("int64"),
            "value": value.astype(float),
        }
    )
    out: pd.DataFrame = frame[~np.isnan(frame["value"].to_numpy())].reset_index(drop=True)
    return out
