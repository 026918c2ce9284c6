"""Indicator files (`riskapp indicators import`): a table (CSV or XLSX) of one observation per
row, or JSON, read into a `Series` with every problem named by its row and field.

Table columns: indicator, period, value (required); name, unit, frequency, source, published_at
(an indicator's name and frequency are needed on at least one of its rows; where several rows
give them they must agree). JSON: {"indicators": [{id, name, unit, frequency, source}, ...],
"observations": [{indicator, period, value, published_at}, ...]}."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from riskapp.domain.indicators import Frequency, Indicator, Observation, Series, period_problem
from riskapp.io.errors import InputError, Problem, pydantic_message

TABLE_COLUMNS = (
    "indicator",
    "period",
    "value",
    "name",
    "unit",
    "frequency",
    "source",
    "published_at",
)
META = ("name", "unit", "frequency", "source")
MAX_JSON_BYTES = 50_000_000
MAX_PROBLEMS = 200


def _when(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read_series(path: Path, name: str | None = None) -> Series:
    """An indicator file read whole; InputError with every problem, nothing half-read."""
    label = name or path.name
    if path.suffix.lower() == ".json":
        return _json_series(path, label)
    return _table_series(path, label)


def _json_series(path: Path, name: str) -> Series:
    if path.stat().st_size > MAX_JSON_BYTES:
        raise InputError([Problem(name, None, "", f"larger than {MAX_JSON_BYTES:,} bytes")])
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError([Problem(name, None, "", f"not JSON: {exc}")]) from None
    try:
        return Series.model_validate(data)
    except ValidationError as exc:
        raise InputError(
            [
                Problem(name, None, ".".join(str(p) for p in e["loc"]), pydantic_message(e))
                for e in exc.errors()[:MAX_PROBLEMS]
            ]
        ) from None


def _table_series(path: Path, name: str) -> Series:
    from riskapp.io.tables import read_rows

    header, rows = read_rows(path, name)
    header = [h.strip() for h in header]
    problems = [
        Problem(name, 1, col, "required column is missing", "row")
        for col in TABLE_COLUMNS[:3]
        if col not in header
    ] + [
        Problem(name, 1, col, f"unknown column; expected {', '.join(TABLE_COLUMNS)}", "row")
        for col in header
        if col and col not in TABLE_COLUMNS
    ]
    if problems:
        raise InputError(problems)
    at = {c: header.index(c) for c in TABLE_COLUMNS if c in header}
    meta: dict[str, dict[str, tuple[str, int]]] = {}  # indicator -> field -> (value, row)
    records: list[tuple[int, dict[str, str]]] = []
    for line, cells in rows:
        cell = {
            c: str(cells[i]).strip() if i < len(cells) and cells[i] is not None else ""
            for c, i in at.items()
        }
        records.append((line, cell))
        ind = cell["indicator"]
        for field in META:
            value = cell.get(field, "")
            if not value:
                continue
            seen = meta.setdefault(ind, {}).get(field)
            if seen is None:
                meta[ind][field] = (value, line)
            elif seen[0] != value:
                problems.append(
                    Problem(
                        name,
                        line,
                        field,
                        f"{value!r} for {ind!r}, but row {seen[1]} says {seen[0]!r}",
                        "row",
                    )
                )
    indicators: dict[str, Indicator] = {}
    for key, fields in meta.items():
        first_row = min(r for _, r in fields.values())
        try:
            indicators[key] = Indicator(id=key, **{f: v for f, (v, _) in fields.items()})
        except ValidationError as exc:
            for e in exc.errors():
                field = str(e["loc"][0]) if e["loc"] else ""
                problems.append(Problem(name, first_row, field, pydantic_message(e), "row"))
    observations: list[Observation] = []
    for line, cell in records:
        found = indicators.get(cell["indicator"])
        if found is None and cell["indicator"] not in meta:
            problems.append(
                Problem(
                    name,
                    line,
                    "name",
                    f"no row gives indicator {cell['indicator']!r} a name and frequency",
                    "row",
                )
            )
            continue
        record: dict[str, Any] = {
            "indicator": cell["indicator"],
            "period": cell["period"],
            "value": cell["value"],
        }
        try:
            if cell.get("published_at"):
                record["published_at"] = _when(cell["published_at"])
        except ValueError:
            problems.append(
                Problem(
                    name,
                    line,
                    "published_at",
                    "expected a date or time such as "
                    f"2026-04-01T09:00; got {cell['published_at']!r}",
                    "row",
                )
            )
            continue
        try:
            o = Observation.model_validate(record)
        except ValidationError as exc:
            for e in exc.errors():
                field = str(e["loc"][0]) if e["loc"] else ""
                problems.append(Problem(name, line, field, pydantic_message(e), "row"))
            continue
        wrong = period_problem(o.period, found.frequency) if found is not None else None
        if wrong:
            problems.append(Problem(name, line, "period", wrong, "row"))
            continue
        observations.append(o)
        if len(problems) > MAX_PROBLEMS:
            break
    if problems:
        raise InputError(problems[:MAX_PROBLEMS])
    if not observations:
        raise InputError([Problem(name, None, "", "no observations in the file")])
    return Series(indicators=list(indicators.values()), observations=observations)


__all__ = ["Frequency", "read_series"]
