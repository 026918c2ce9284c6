"""The user's own indicator tables (`source: file` in a method): reading one table in long form
(country, indicator, period, value) with every problem named by file, row and column, and
loading the tables of every `source: file` indicator of a method, checked against the indicators
that use them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from riskapp.baseline.indicators import (
    DATA_COLUMNS,
    SourceData,
    empty_frame,
    file_series,
    month_period,
    period_label,
)
from riskapp.baseline.method import Frequency, Indicator, Source
from riskapp.baseline.source_text import MAX_PROBLEMS, MISSING_MARKERS
from riskapp.domain.common import iso_alpha3_codes
from riskapp.io.errors import InputError, Problem

TABLE_FILE_COLUMNS = ["country", "indicator", "period", "value"]
_YEAR = re.compile(r"^(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def table_period(cell: object) -> tuple[Frequency, int] | str:
    """(frequency, period number) of a period cell, or what is wrong with it."""
    if isinstance(cell, bool):
        return "expected a year (2023) or a month (2023-05); got a true/false cell"
    if isinstance(cell, dt.datetime | dt.date):
        return Frequency.MONTH, month_period(cell.year, cell.month)
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    text = str(cell).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    year = _YEAR.match(text)
    month = _MONTH.match(text)
    if year is not None:
        y, m = int(year.group(1)), 1
        freq = Frequency.YEAR
    elif month is not None:
        y, m = int(month.group(1)), int(month.group(2))
        freq = Frequency.MONTH
    else:
        return f"expected a year (2023) or a month (2023-05); got {text[:40]!r}"
    if not 1800 <= y <= 2200 or not 1 <= m <= 12:
        return f"expected a year between 1800 and 2200 and a month 1-12; got {text!r}"
    return freq, (y if freq is Frequency.YEAR else month_period(y, m))


def table_value(cell: object) -> float | str | None:
    """A cell's number, None for an empty or 'not available' cell, or what is wrong."""
    if isinstance(cell, bool):
        return "expected a number; got a true/false cell"
    if isinstance(cell, int | float):
        value = float(cell)
    else:
        text = str(cell).strip()
        if text in MISSING_MARKERS:
            return None
        try:
            value = float(text)
        except ValueError:
            return (
                "expected a number with a decimal point (no thousands separators), or an "
                f"empty cell for no value; got {text[:40]!r}"
            )
    if not np.isfinite(value) or abs(value) > 1e12:
        return f"expected a finite number up to 1e12 in size; got {cell!r}"
    return value


def load_table_file(path: Path, name: str | None = None) -> tuple[pd.DataFrame, Frequency]:
    """A user's own indicator table (CSV or XLSX, first sheet), in long form: one row per
    country, indicator and period, with the columns

        country    ISO 3166-1 alpha-3 code (FIN; case does not matter)
        indicator  the indicator's name in the table; a method's `series` names it
        period     a year (2023) or a month (2023-05); one kind per table
        value      the raw value (a number); an empty cell, '..', ':' or 'x' means none

    Read with the same bounds and checks as the asset register (size limits, no formulas).
    Every problem names the file, the row (header = row 1) and the column: an unknown country
    code, a period or value that is not one, a second row for the same country, indicator and
    period. Returns (series, country, period, value) rows, without the empty values, and the
    table's frequency."""
    from riskapp.io.tables import check_header, read_rows

    label = name or str(path)
    header, rows = read_rows(path, label)
    problems = check_header(header, TABLE_FILE_COLUMNS, set(TABLE_FILE_COLUMNS), label)
    if problems:
        raise InputError(problems)
    if not rows:
        raise InputError([Problem(label, None, "", "the table has a header but no rows", "row")])
    col = {c: header.index(c) for c in TABLE_FILE_COLUMNS}
    known = iso_alpha3_codes()
    out: list[tuple[str, str, int, float]] = []
    kinds: dict[Frequency, int] = {}
    seen: dict[tuple[str, str, int], int] = {}

    def problem(row: int, field: str, message: str) -> None:
        if len(problems) < MAX_PROBLEMS:
            problems.append(Problem(label, row, field, message, "row"))

    for line, cells in rows:
        if len(cells) > len(header) and any(str(c).strip() for c in cells[len(header) :]):
            problem(line, "", f"row has {len(cells)} cells; the header has {len(header)}")
            continue
        padded = list(cells) + [""] * (len(header) - len(cells))
        country = str(padded[col["country"]]).strip().upper()
        indicator = str(padded[col["indicator"]]).strip()
        period = table_period(padded[col["period"]])
        value = table_value(padded[col["value"]])
        ok = True
        if country not in known:
            shown = str(padded[col["country"]]).strip()[:40]
            problem(line, "country", f"expected an ISO 3166-1 alpha-3 code (FIN); got {shown!r}")
            ok = False
        if not indicator or len(indicator) > 64:
            problem(line, "indicator", "expected the indicator's name (1 to 64 characters)")
            ok = False
        if isinstance(period, str):
            problem(line, "period", period)
            ok = False
        if isinstance(value, str):
            problem(line, "value", value)
            ok = False
        if not ok or isinstance(period, str) or value is None or isinstance(value, str):
            continue
        freq, number = period
        first_kind = kinds.setdefault(freq, line)
        other = [k for k in kinds if k is not freq]
        if other:
            if first_kind == line:
                kind = "years" if other[0] is Frequency.YEAR else "months"
                problem(
                    line,
                    "period",
                    f"this table's periods are {kind} (from row {kinds[other[0]]}); "
                    "use one kind of period per table",
                )
            continue
        key = (indicator, country, number)
        if key in seen:
            problem(
                line,
                "period",
                f"second row for {country} / {indicator} / {period_label(number, freq)} "
                f"(first on row {seen[key]})",
            )
            continue
        seen[key] = line
        out.append((indicator, country, number, value))
    if problems:
        raise InputError(problems)
    frequency = next(iter(kinds), Frequency.YEAR)
    frame = pd.DataFrame(out, columns=DATA_COLUMNS)
    frame["period"] = frame["period"].astype("int64")
    frame["value"] = frame["value"].astype(float)
    return frame, frequency


def load_file_sources(indicators: Iterable[Indicator]) -> SourceData | None:
    """The tables of every `source: file` indicator, read once each and checked against the
    indicators that use them: the series must be in the table, the window's unit must be the
    table's kind of period, and all tables of one method must use the same kind. Series are
    keyed by file (`file_series`) so that two tables may use the same indicator names."""
    users: dict[str, list[Indicator]] = {}
    for ind in indicators:
        if ind.source is Source.FILE:
            users.setdefault(ind.file, []).append(ind)
    if not users:
        return None
    frames: list[pd.DataFrame] = []
    problems: list[Problem] = []
    frequencies: dict[Frequency, str] = {}
    for file, inds in users.items():
        try:
            frame, freq = load_table_file(Path(file), file)
        except InputError as exc:
            problems.extend(exc.problems)
            continue
        frequencies.setdefault(freq, file)
        listed = sorted(frame["series"].unique().tolist())
        for ind in inds:
            if ind.series not in listed:
                shown = ", ".join(listed[:12]) + (" ..." if len(listed) > 12 else "")
                problems.append(
                    Problem(
                        file,
                        None,
                        "indicator",
                        f"no rows for indicator {ind.series!r} (used by the method's indicator "
                        f"{ind.id!r}); the table lists: {shown or '(nothing)'}",
                        "row",
                    )
                )
            assert ind.window is not None
            if ind.window.unit is not freq:
                problems.append(
                    Problem(
                        file,
                        None,
                        "period",
                        f"the table's periods are {freq.value}s; the method's indicator "
                        f"{ind.id!r} has window unit {ind.window.unit.value}: set unit: "
                        f"{freq.value}",
                        "row",
                    )
                )
        frame["series"] = [file_series(file, s) for s in frame["series"]]
        frames.append(frame)
    if len(frequencies) > 1:
        problems.append(
            Problem(
                frequencies[Frequency.MONTH],
                None,
                "period",
                f"monthly periods, while {frequencies[Frequency.YEAR]} has years; the indicator "
                "tables of one method use one kind of period",
                "row",
            )
        )
    if problems:
        raise InputError(problems)
    data = pd.concat(frames, ignore_index=True) if frames else empty_frame()
    names = ", ".join(Path(f).name for f in users)
    return SourceData(
        source=Source.FILE,
        frequency=next(iter(frequencies)),
        data=data,
        path=names,
        citation=f"the user's own indicator table(s): {names}",
    )
