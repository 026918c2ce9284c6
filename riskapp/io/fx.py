"""Dated exchange rates: a workspace's rates file (`fx.csv`), and the European Central Bank's
euro foreign exchange reference rates it can be filled from (`riskapp fx import`).

`fx.csv` holds one row per (date, currency): `date, base, currency, rate, source`, where
`rate` is the units of `base` (the workspace currency) for one unit of `currency`, the same
convention as `fx_rates` in workspace.yaml. Rates of several dates may be kept; an assessment
takes each currency's latest rate on or before the workspace's `fx_date` (the file's latest
date if none is set), and says which date and source it used on every surface.

The ECB publishes its rates as units of each currency for one euro, in two CSV layouts: the
day's rates (`eurofxref.csv`: `Date, USD, JPY, ...` and one row dated like `13 April 2026`)
and the history since 1999 (`eurofxref-hist.csv`: a row per working day, newest first, dates
like `2026-04-13`, `N/A` where a currency had no rate), each also served zipped.
"""

from __future__ import annotations

import math
import os
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from riskapp.io.errors import InputError, Problem

if TYPE_CHECKING:
    from riskapp.domain.workspace import WorkspaceSettings

FX_FILE = "fx.csv"
FX_COLUMNS = ["date", "base", "currency", "rate", "source"]
ECB_SOURCE = "ECB euro foreign exchange reference rates"
MAX_ZIP_BYTES = 20_000_000  # the ECB's whole history zipped is about 0.6 MB
MAX_UNPACKED = 50_000_000  # and about 1.9 MB unpacked
MAX_RATIO = 50
MAX_RATE = 1e9
SIGNIFICANT = ".10g"  # digits of a rate in the rates file


@dataclass(frozen=True)
class Rate:
    """One exchange rate: units of `base` for one unit of `currency` on `day`."""

    day: date
    base: str
    currency: str
    rate: float
    source: str


def _parse_day(text: str) -> date | None:
    for layout in ("%Y-%m-%d", "%d %B %Y"):
        try:
            return datetime.strptime(text.strip(), layout).date()
        except ValueError:
            continue
    return None


def _currency_problem(code: str) -> str | None:
    from riskapp.domain.assets import check_currency

    try:
        check_currency(code)
    except ValueError as exc:
        return str(exc)
    return None


def _positive(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and 0 < value <= MAX_RATE else None


# --- the workspace's rates file ----------------------------------------------------------------


def load_rates(path: Path, name: str) -> list[Rate]:
    """Read a rates file (CSV or XLSX with `FX_COLUMNS`); raise InputError listing every
    problem with its row and field."""
    from riskapp.io.tables import read_rows

    header, rows = read_rows(path, name)
    header = [h.strip() for h in header]
    problems = [
        Problem(name, 1, col, "required column is missing", "row")
        for col in FX_COLUMNS
        if col not in header
    ]
    problems += [
        Problem(name, 1, col, f"unknown column; expected {', '.join(FX_COLUMNS)}", "row")
        for col in header
        if col and col not in FX_COLUMNS
    ]
    if problems:
        raise InputError(problems)
    at = {col: header.index(col) for col in FX_COLUMNS}
    rates: list[Rate] = []
    seen: dict[tuple[date, str], int] = {}
    for line, cells in rows:
        cell = {
            col: str(cells[i]).strip() if i < len(cells) and cells[i] is not None else ""
            for col, i in at.items()
        }
        bad = len(problems)
        day = _parse_day(cell["date"])
        if day is None:
            problems.append(
                Problem(
                    name,
                    line,
                    "date",
                    f"expected a date such as 2026-04-13; got {cell['date']!r}",
                    "row",
                )
            )
        for col in ("base", "currency"):
            wrong = _currency_problem(cell[col])
            if wrong:
                problems.append(Problem(name, line, col, wrong, "row"))
        rate = _positive(cell["rate"])
        if rate is None:
            problems.append(
                Problem(
                    name,
                    line,
                    "rate",
                    f"expected a positive number of {cell['base'] or 'base'}"
                    f" per {cell['currency'] or 'currency'} unit; got {cell['rate']!r}",
                    "row",
                )
            )
        if len(cell["source"]) > 200:
            problems.append(Problem(name, line, "source", "expected at most 200 characters", "row"))
        if len(problems) > bad or day is None or rate is None:
            continue
        key = (day, cell["currency"])
        if key in seen:
            problems.append(
                Problem(
                    name,
                    line,
                    "currency",
                    f"a second rate for {cell['currency']} on "
                    f"{day.isoformat()} (the first on row {seen[key]})",
                    "row",
                )
            )
            continue
        seen[key] = line
        rates.append(Rate(day, cell["base"], cell["currency"], rate, cell["source"]))
    if problems:
        raise InputError(problems)
    return rates


def write_rates(path: Path, rates: list[Rate]) -> None:
    """Write a rates file, newest date first, whole or not at all (a temporary file in the
    same folder, then renamed over the old one)."""
    import csv

    ordered = sorted(rates, key=lambda r: (-r.day.toordinal(), r.currency))
    fd, tmp = tempfile.mkstemp(prefix=".fx-", suffix=".csv", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(FX_COLUMNS)
            for r in ordered:
                writer.writerow(
                    [r.day.isoformat(), r.base, r.currency, format(r.rate, SIGNIFICANT), r.source]
                )
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def merge_rates(old: list[Rate], new: list[Rate]) -> tuple[list[Rate], int, int]:
    """The rates of `old` with those of `new` added; a (date, currency) already there takes
    the new rate. Returns the rates, how many were added and how many changed."""
    merged = {(r.day, r.currency): r for r in old}
    added = changed = 0
    for r in new:
        before = merged.get((r.day, r.currency))
        if before is None:
            added += 1
        elif before != r:
            changed += 1
        merged[(r.day, r.currency)] = r
    return list(merged.values()), added, changed


def rates_as_of(
    rates: list[Rate], base: str, as_of: date | None, name: str, manifest: str
) -> tuple[dict[str, float], dict[str, date], date, str]:
    """Each currency's latest rate on or before `as_of` (the latest date if None): the rates,
    their dates, the date used and the sources, in words."""
    wrong = [r for r in rates if r.base != base]
    if wrong:
        raise InputError(
            [
                Problem(
                    name,
                    None,
                    "base",
                    f"rates are quoted in {wrong[0].base}, but the workspace currency is "
                    f"{base} ({manifest}); import them again for {base} (riskapp fx import)",
                )
            ]
        )
    day = as_of or max((r.day for r in rates), default=None)
    chosen: dict[str, Rate] = {}
    for r in rates:
        if day is not None and r.day <= day:
            best = chosen.get(r.currency)
            if best is None or r.day > best.day:
                chosen[r.currency] = r
    if day is None or not chosen:
        when = f" on or before {day.isoformat()} (fx_date in {manifest})" if day else ""
        raise InputError([Problem(name, None, "date", f"no exchange rate{when}")])
    chosen.pop(base, None)
    sources = "; ".join(sorted({r.source for r in chosen.values() if r.source}))
    return (
        {c: r.rate for c, r in sorted(chosen.items())},
        {c: r.day for c, r in sorted(chosen.items())},
        day,
        sources,
    )


def with_rates_file(
    settings: WorkspaceSettings, path: Path, name: str, manifest: str
) -> WorkspaceSettings:
    """The workspace settings with the exchange rates of its rates file, if it has one."""
    if not path.exists():
        return settings
    if settings.fx_rates:
        raise InputError(
            [
                Problem(
                    manifest,
                    None,
                    "fx_rates",
                    f"exchange rates are given both here and in {name}; keep one: the rates "
                    f"file has dates and a source (riskapp fx import), fx_rates has neither",
                )
            ]
        )
    rates, dates, day, source = rates_as_of(
        load_rates(path, name), settings.currency, settings.fx_date, name, manifest
    )
    return type(settings).model_validate(
        {
            **settings.model_dump(),
            "fx_rates": rates,
            "fx_rate_dates": dates,
            "fx_date": day,
            "fx_source": source[:200],
        }
    )


# --- the ECB's reference rates -----------------------------------------------------------------


def _unzipped(path: Path, name: str, folder: Path) -> Path:
    """The one CSV inside an ECB zip, unpacked into `folder` within bounds."""
    if path.stat().st_size > MAX_ZIP_BYTES:
        raise InputError([Problem(name, None, "", f"larger than {MAX_ZIP_BYTES:,} bytes")])
    try:
        with zipfile.ZipFile(path) as z:
            members = [m for m in z.infolist() if not m.is_dir()]
            if len(members) != 1 or not members[0].filename.lower().endswith(".csv"):
                raise InputError(
                    [Problem(name, None, "", "expected a zip holding one CSV file (the ECB's)")]
                )
            m = members[0]
            if m.file_size > MAX_UNPACKED or m.file_size > MAX_RATIO * max(m.compress_size, 1):
                raise InputError(
                    [
                        Problem(
                            name,
                            None,
                            "",
                            f"{m.filename} unpacks to {m.file_size:,} bytes: "
                            f"too large for an exchange-rate file",
                        )
                    ]
                )
            target = folder / "rates.csv"
            with z.open(m) as src, target.open("wb") as dst:
                left = MAX_UNPACKED
                while chunk := src.read(1 << 20):
                    left -= len(chunk)
                    if left < 0:
                        raise InputError([Problem(name, None, "", "unpacks beyond its size")])
                    dst.write(chunk)
            return target
    except zipfile.BadZipFile as exc:
        raise InputError([Problem(name, None, "", f"not a readable zip file ({exc})")]) from None


def read_ecb(path: Path, name: str) -> list[tuple[date, str, float]]:
    """(date, currency, units per euro) of an ECB reference-rate file: the day's or the
    history, CSV or zipped; `N/A` and empty cells are no rate. Every problem is raised with
    its row and column."""
    from riskapp.io.tables import read_rows

    with tempfile.TemporaryDirectory(prefix="riskapp-ecb-") as folder:
        source = _unzipped(path, name, Path(folder)) if path.suffix.lower() == ".zip" else path
        header, rows = read_rows(source, name)
    header = [h.strip() for h in header]
    if not header or header[0] != "Date":
        raise InputError(
            [
                Problem(
                    name,
                    1,
                    header[0] if header else "",
                    "expected the ECB's layout: a "
                    "first column `Date`, then one column per currency",
                    "row",
                )
            ]
        )
    problems: list[Problem] = []
    columns: list[tuple[int, str]] = []
    for i, code in enumerate(header[1:], start=1):
        if not code:
            continue  # the ECB's rows end with a comma
        wrong = _currency_problem(code)
        if wrong:
            problems.append(Problem(name, 1, code, wrong, "row"))
        else:
            columns.append((i, code))
    out: list[tuple[date, str, float]] = []
    for line, cells in rows:
        text = str(cells[0]).strip() if cells and cells[0] is not None else ""
        day = _parse_day(text)
        if day is None:
            problems.append(
                Problem(
                    name,
                    line,
                    "Date",
                    f"expected a date such as 2026-04-13 or 13 April 2026; got {text!r}",
                    "row",
                )
            )
            continue
        for i, code in columns:
            cell = str(cells[i]).strip() if i < len(cells) and cells[i] is not None else ""
            if cell in ("", "N/A"):
                continue
            value = _positive(cell)
            if value is None:
                problems.append(
                    Problem(
                        name,
                        line,
                        code,
                        f"expected {code} per euro (a positive number) or N/A; got {cell!r}",
                        "row",
                    )
                )
            else:
                out.append((day, code, value))
        if len(problems) > 200:
            break
    if problems:
        raise InputError(problems)
    if not out:
        raise InputError([Problem(name, None, "", "no exchange rates in the file")])
    return out


def ecb_rates(
    per_euro: list[tuple[date, str, float]],
    base: str,
    since: date | None = None,
    currencies: set[str] | None = None,
    name: str = "",
) -> list[Rate]:
    """ECB rates (units per euro) as rates in `base`: for one unit of c, base_per_euro / c_per_euro
    (the euro itself: base_per_euro). Dates from `since` on (only the latest date if None),
    currencies in `currencies` (all if None)."""
    latest = max(d for d, _, _ in per_euro)
    first = since or latest
    by_day: dict[date, dict[str, float]] = {}
    for day, code, value in per_euro:
        if day >= first:
            by_day.setdefault(day, {})[code] = value
    by_day = {d: {**v, "EUR": 1.0} for d, v in by_day.items()}
    out: list[Rate] = []
    missing: list[date] = []
    for day, quotes in by_day.items():
        if base not in quotes:
            missing.append(day)
            continue
        for code, value in quotes.items():
            if code == base or (currencies is not None and code not in currencies):
                continue
            # as the rates file holds it (10 significant digits), so a second import of the
            # same file changes nothing
            rate = float(format(quotes[base] / value, SIGNIFICANT))
            out.append(Rate(day, base, code, rate, ECB_SOURCE))
    if not out:
        why = f"no rate for {base} on " + ", ".join(d.isoformat() for d in sorted(missing)[:3])
        raise InputError([Problem(name, None, base, why if missing else "no rates to import")])
    return out


@dataclass(frozen=True)
class RatesImport:
    """What `import_ecb` did: the rates file, the rates added and changed, the dates."""

    path: Path
    added: int
    changed: int
    first: date
    last: date
    currencies: tuple[str, ...]


def import_ecb(
    workspace: Path,
    file: Path,
    since: date | None = None,
    currencies: set[str] | None = None,
) -> RatesImport:
    """Import an ECB reference-rate file into a workspace's rates file, in the workspace
    currency; rates already there for other dates are kept. All or nothing: any problem and
    the rates file is left as it was."""
    from riskapp.io.workspace import display, load_manifest, manifest_path

    mpath = manifest_path(workspace)
    manifest, _ = load_manifest(mpath)
    target = mpath.parent / manifest.paths.fx
    if manifest.fx_rates:
        raise InputError(
            [
                Problem(
                    display(mpath),
                    None,
                    "fx_rates",
                    f"remove fx_rates from workspace.yaml first: the rates file "
                    f"({display(target)}) replaces them (one source of exchange rates)",
                )
            ]
        )
    new = ecb_rates(read_ecb(file, str(file)), manifest.currency, since, currencies, name=str(file))
    old = load_rates(target, display(target)) if target.exists() else []
    merged, added, changed = merge_rates(old, new)
    write_rates(target, merged)
    days = sorted({r.day for r in new})
    return RatesImport(
        target, added, changed, days[0], days[-1], tuple(sorted({r.currency for r in new}))
    )
