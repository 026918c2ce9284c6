"""Loaders for the shipped reference data, one per source, each handling its file's quirks.
Reading helpers (encodings, CSV text, numbers) are in riskapp/baseline/source_text.py; the
user's own indicator tables (`source: file`) in riskapp/baseline/table_source.py.

Every loader returns a `SourceData`: country rows keyed by ISO 3166-1 alpha-3 code, with
aggregates (EU27, euro area, the world) kept apart, and notes on what was left out and why.
Problems name the file, the row (header = row 1) and the column, like every riskapp input.

Quirks handled (see data/refdata/SOURCES.md):
- text files may start with a UTF-8 byte-order mark (GPR, WGI) or be latin-1 / cp1252 encoded
  (older World Bank bulk files); both are read;
- `:` (Eurostat), `x`, `..` and empty cells mean "not available"; Eurostat flags after a value
  (`123.4 p`) are dropped;
- GPR carries a label dictionary in its last two columns (var_name, var_label) down the rows,
  which is not data; its months are dd/mm/yyyy;
- WGI rows whose code is not an ISO 3166-1 country (Kosovo XKX, Netherlands Antilles ANT,
  World Bank aggregates) and a trailing empty column are set apart;
- Eurostat reporters are labels, not codes; EU27/EU28/EA19 are aggregates; Georgia is left out
  (outside the EU, EFTA and candidate set the extract is meant for) and Kosovo has no ISO code;
- UCDP locates conflicts by Gleditsch-Ward numbers, several per cell ("365, 369"); a year with
  no conflict row is a year without conflict (0), not a missing value.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from riskapp.baseline.gwcodes import GW_HISTORICAL, GW_TO_ISO3, gw_to_iso3, parse_gw_list
from riskapp.baseline.indicators import (
    DATA_COLUMNS,
    SourceData,
    empty_frame,
    month_period,
)
from riskapp.baseline.method import Frequency, Source
from riskapp.baseline.source_text import (
    MAX_PROBLEMS,
    long_frame,
    read_bytes,
    read_csv_text,
    require_columns,
    to_number_columns,
    to_numbers,
)
from riskapp.domain.common import iso_alpha3_codes
from riskapp.io.errors import InputError, Problem

SOURCE_FILES: dict[Source, str] = {
    Source.GPR: "gpr/data_gpr_export_2025-12.csv",
    Source.WGI: "wgi/WGIData_full.csv",
    Source.EUROSTAT_GAS: "energy/eurostat_nrg_ti_gas_custom_2428849.xlsx",
    Source.UCDP: "ucdp/UcdpPrioConflict_v23_1.csv",
}
"""Where each source is found under the data folder (data/refdata in the project)."""

CITATIONS: dict[Source, str] = {
    Source.GPR: "Caldara, D. and Iacoviello, M. (2022), Measuring Geopolitical Risk, American "
    "Economic Review 112(4); data matteoiacoviello.com/gpr.htm",
    Source.WGI: "Kaufmann, D. and Kraay, A. (2023), Worldwide Governance Indicators, 2023 Update "
    "(World Bank, CC BY 4.0)",
    Source.EUROSTAT_GAS: "Eurostat, nrg_ti_gas, imports of natural gas by partner country "
    "(extract of 2022-04-05); shares computed by riskapp",
    Source.UCDP: "UCDP/PRIO Armed Conflict Dataset v23.1 (CC BY 4.0): Davies, Pettersson and "
    "Oberg (2023), Journal of Peace Research; Gleditsch et al. (2002)",
}


# --------------------------------------------------------------------------------------------
# GPR
# --------------------------------------------------------------------------------------------

_GPR_COUNTRY = re.compile(r"^(GPRC|GPRHC)_([A-Z]{3})$")
GPR_LABEL_COLUMNS = ("var_name", "var_label")


def load_gpr(path: Path, name: str | None = None) -> SourceData:
    """Caldara-Iacoviello GPR export: monthly, country series GPRC_<ISO3> and GPRHC_<ISO3>;
    the global columns (GPR, GPRT, GPRA, ...) go to the aggregates as country 'WORLD'."""
    name = name or str(path)
    frame, encoding = read_csv_text(path, name)
    require_columns(frame, ["month"], name)
    frame = frame.drop(columns=[c for c in GPR_LABEL_COLUMNS if c in frame.columns])
    frame = frame[frame["month"] != ""]
    rows = frame.index.to_numpy() + 2
    months = pd.to_datetime(frame["month"], format="%d/%m/%Y", errors="coerce")
    bad = np.flatnonzero(months.isna().to_numpy())
    if bad.size:
        raise InputError(
            [
                Problem(
                    name,
                    int(rows[i]),
                    "month",
                    f"expected a date dd/mm/yyyy; got {frame['month'].iloc[i]!r}",
                    "row",
                )
                for i in bad[:MAX_PROBLEMS]
            ]
        )
    period = (months.dt.year * 12 + months.dt.month - 1).to_numpy(dtype="int64")
    parts, agg_parts = [], []
    iso = iso_alpha3_codes()
    notes = []
    if encoding != "utf-8-sig":
        notes.append(f"read as {encoding}")
    columns = [col for col in frame.columns if col != "month" and col]
    values = to_number_columns(frame, columns, name, rows)  # (months, columns), one pass
    n = len(frame)
    for col, matrix in ((c, values[:, i]) for i, c in enumerate(columns)):
        match = _GPR_COUNTRY.match(col)
        if match and match.group(2) in iso:
            parts.append((match.group(1), match.group(2), matrix))
        else:
            agg_parts.append((col, "WORLD", matrix))

    def stacked(kept: list[tuple[str, str, np.ndarray]]) -> pd.DataFrame:
        """The columns' long frames one after the other (as concatenating them would)."""
        if not kept:
            return empty_frame()
        return long_frame(
            np.repeat(np.array([k[0] for k in kept], dtype=object), n),
            np.repeat(np.array([k[1] for k in kept], dtype=object), n),
            np.tile(period, len(kept)),
            np.concatenate([k[2] for k in kept]),
        )

    data = stacked(parts)
    aggregates = stacked(agg_parts)
    return SourceData(
        Source.GPR, Frequency.MONTH, data, aggregates, name, CITATIONS[Source.GPR], tuple(notes)
    )


# --------------------------------------------------------------------------------------------
# WGI
# --------------------------------------------------------------------------------------------


def load_wgi(path: Path, name: str | None = None) -> SourceData:
    """World Bank WGI bulk file: one row per economy and indicator code, one column per year.
    Series are the indicator codes (PV.EST, GE.PER.RNK, ...)."""
    name = name or str(path)
    frame, encoding = read_csv_text(path, name)
    require_columns(frame, ["Country Code", "Indicator Code"], name)
    frame = frame.drop(columns=[c for c in frame.columns if c == "" or c.startswith("Unnamed")])
    years = [c for c in frame.columns if c.isdigit() and len(c) == 4]
    rows = frame.index.to_numpy() + 2
    n = len(frame)
    codes = frame["Country Code"].str.upper().to_numpy()
    series = frame["Indicator Code"].to_numpy()
    values = to_number_columns(frame, years, name, rows).ravel(order="F")  # year after year
    long = long_frame(
        np.tile(series, len(years)),
        np.tile(codes, len(years)),
        np.repeat(np.array([int(y) for y in years]), n),
        values,
    )
    is_country = long["country"].isin(iso_alpha3_codes())
    others = sorted(set(codes) - iso_alpha3_codes())
    notes = []
    if others:
        notes.append("set apart (not ISO 3166-1 countries): " + ", ".join(others))
    if encoding not in {"utf-8-sig", "utf-8"}:
        notes.append(f"read as {encoding}")
    return SourceData(
        Source.WGI,
        Frequency.YEAR,
        long[is_country].reset_index(drop=True),
        long[~is_country].reset_index(drop=True),
        name,
        CITATIONS[Source.WGI],
        tuple(notes),
    )


# --------------------------------------------------------------------------------------------
# Eurostat nrg_ti_gas
# --------------------------------------------------------------------------------------------

EUROSTAT_GEO: dict[str, str] = {
    "Belgium": "BEL", "Bulgaria": "BGR", "Czechia": "CZE", "Denmark": "DNK",
    "Germany (until 1990 former territory of the FRG)": "DEU", "Germany": "DEU",
    "Estonia": "EST", "Ireland": "IRL", "Greece": "GRC", "Spain": "ESP", "France": "FRA",
    "Croatia": "HRV", "Italy": "ITA", "Cyprus": "CYP", "Latvia": "LVA", "Lithuania": "LTU",
    "Luxembourg": "LUX", "Hungary": "HUN", "Malta": "MLT", "Netherlands": "NLD",
    "Austria": "AUT", "Poland": "POL", "Portugal": "PRT", "Romania": "ROU", "Slovenia": "SVN",
    "Slovakia": "SVK", "Finland": "FIN", "Sweden": "SWE", "Iceland": "ISL",
    "Liechtenstein": "LIE", "Norway": "NOR", "Switzerland": "CHE", "United Kingdom": "GBR",
    "Montenegro": "MNE", "North Macedonia": "MKD", "Albania": "ALB", "Serbia": "SRB",
    "Turkey": "TUR", "Türkiye": "TUR", "Bosnia and Herzegovina": "BIH", "Moldova": "MDA",
    "Ukraine": "UKR", "Georgia": "GEO",
}  # fmt: skip
"""Eurostat reporter labels (as in the extract) to ISO 3166-1 alpha-3."""

EUROSTAT_AGGREGATES: dict[str, str] = {
    "European Union - 27 countries (from 2020)": "EU27_2020",
    "European Union - 28 countries (2013-2020)": "EU28",
    "Euro area - 19 countries (from 2015)": "EA19",
}
"""Aggregates, kept apart from the country rows (labels with their spaces collapsed)."""

EUROSTAT_LEFT_OUT: dict[str, str] = {
    "GEO": "Georgia: outside the EU, EFTA and candidate countries this extract is meant for "
    "(SOURCES.md)",
}

_PRODUCTS = {"Natural gas": "natural_gas", "Liquefied natural gas": "lng"}
_PARTNERS = {"Russia": "russia", "Total": "total"}


def _collapse(text: object) -> str:
    return " ".join(str(text).split()) if text is not None else ""


def _sheet_numbers(
    block: list[tuple[int, str, list[str]]], where: str, problems: list[Problem]
) -> list[tuple[int, str, np.ndarray]]:
    """Each data row's cells as numbers (`to_numbers`), all rows of a sheet read in one pass;
    when a cell is not a number the rows are read one by one, each row's problems added to
    `problems` and the row left out, as reading them one by one does."""
    if not block:
        return []
    sizes = [len(cells) for _, _, cells in block]
    every = pd.Series([c for _, _, cells in block for c in cells], dtype=object)
    lines = np.repeat(np.array([line for line, _, _ in block]), sizes)
    try:
        values = to_numbers(every, where, "", lines)
    except InputError:
        out = []
        for line, label, cells in block:
            try:
                row = to_numbers(
                    pd.Series(cells, dtype=object), where, "", np.full(len(cells), line)
                )
            except InputError as exc:
                problems.extend(exc.problems)
                continue
            out.append((line, label, row))
        return out
    parts = np.split(values, np.cumsum(sizes)[:-1])
    return [(line, label, part) for (line, label, _), part in zip(block, parts, strict=True)]


def load_eurostat_gas(path: Path, name: str | None = None) -> SourceData:
    """Eurostat nrg_ti_gas workbook: one sheet per (product, partner), reporters down, years
    across. Series `<product>_imports_<partner>_tj` (terajoules, GCV) and
    `<product>_share_russia` = imports from Russia / total imports; a reporter with no imports
    at all has share 0 (nothing to depend on), a missing figure gives a missing share."""
    import openpyxl

    name = name or str(path)
    read_bytes(path, name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Workbook contains no default style"
            book = openpyxl.load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for broken files
        raise InputError(
            [Problem(name, None, "", f"not a readable .xlsx workbook: {exc}")]
        ) from None
    records: list[tuple[str, str, int, float]] = []
    aggregates: list[tuple[str, str, int, float]] = []
    left_out: set[str] = set()
    unknown: set[str] = set()
    problems: list[Problem] = []
    try:
        for sheet in book.worksheets:
            rows = list(sheet.iter_rows(values_only=True))
            meta = {_collapse(r[0]): r[2] for r in rows if r and len(r) > 2 and r[0]}
            product = _PRODUCTS.get(
                _collapse(meta.get("Standard international energy product classification (SIEC)"))
            )
            partner = _PARTNERS.get(_collapse(meta.get("Geopolitical entity (partner)")))
            header = next((i for i, r in enumerate(rows) if r and _collapse(r[0]) == "TIME"), None)
            if product is None or partner is None or header is None:
                continue  # summary and structure sheets
            years: list[int | None] = []
            for cell in rows[header][1:]:
                text = _collapse(cell)
                years.append(int(text) if text.isdigit() else None)
            series = f"{product}_imports_{partner}_tj"
            block: list[tuple[int, str, list[str]]] = []  # (line, label, cells) of the data
            for r_i in range(header + 1, len(rows)):
                row = rows[r_i]
                label = _collapse(row[0]) if row else ""
                if label.startswith("GEO ("):
                    continue
                if not label:
                    break  # the data block ends; notes such as "Special value" follow
                cells = ["" if c is None else str(c) for c in row[1 : len(years) + 1]]
                block.append((r_i + 1, label, cells))
            where = f"{name} ({sheet.title})"
            for _line, label, values in _sheet_numbers(block, where, problems):
                code = EUROSTAT_GEO.get(label)
                target = records
                if label in EUROSTAT_AGGREGATES:
                    code, target = EUROSTAT_AGGREGATES[label], aggregates
                elif code is None:
                    if label.startswith("Kosovo"):
                        left_out.add("Kosovo (no ISO 3166-1 code)")
                    else:
                        unknown.add(label)
                    continue
                if code in EUROSTAT_LEFT_OUT:
                    left_out.add(EUROSTAT_LEFT_OUT[code])
                    continue
                for year, value in zip(years, values, strict=False):
                    if year is not None and not np.isnan(value):
                        target.append((series, code, year, float(value)))
    finally:
        book.close()
    if problems:
        raise InputError(problems[:MAX_PROBLEMS])
    if not records:
        raise InputError([Problem(name, None, "", "no Eurostat data sheet found in the workbook")])
    data = _with_shares(pd.DataFrame(records, columns=DATA_COLUMNS))
    agg = (
        _with_shares(pd.DataFrame(aggregates, columns=DATA_COLUMNS))
        if aggregates
        else (empty_frame())
    )
    notes = [f"left out: {x}" for x in sorted(left_out)]
    if unknown:
        notes.append("unknown reporter labels left out: " + ", ".join(sorted(unknown)))
    return SourceData(
        Source.EUROSTAT_GAS,
        Frequency.YEAR,
        data,
        agg,
        name,
        CITATIONS[Source.EUROSTAT_GAS],
        tuple(notes),
    )


def _with_shares(frame: pd.DataFrame) -> pd.DataFrame:
    wide = frame.pivot_table(
        index=["country", "period"], columns="series", values="value", aggfunc="last"
    )
    parts = [frame]
    for product in _PRODUCTS.values():
        rus, tot = f"{product}_imports_russia_tj", f"{product}_imports_total_tj"
        if rus not in wide.columns or tot not in wide.columns:
            continue
        r = wide[rus].to_numpy(dtype=float)
        t = wide[tot].to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(t > 0, r / np.where(t > 0, t, 1.0), np.where(t == 0, 0.0, np.nan))
        share = np.where(np.isnan(r) | np.isnan(t), np.nan, np.clip(share, 0.0, 1.0))
        idx = wide.index.to_frame(index=False)
        parts.append(
            long_frame(
                np.full(len(idx), f"{product}_share_russia"),
                idx["country"].to_numpy(),
                idx["period"].to_numpy(),
                share,
            )
        )
    return pd.concat(parts, ignore_index=True)[DATA_COLUMNS]


# --------------------------------------------------------------------------------------------
# UCDP/PRIO Armed Conflict Dataset
# --------------------------------------------------------------------------------------------

UCDP_PARTY_COLUMNS = ("gwno_a", "gwno_a_2nd", "gwno_b", "gwno_b_2nd")
UCDP_PRIMARY_COLUMNS = ("gwno_a", "gwno_b")


def load_ucdp(path: Path, name: str | None = None) -> SourceData:
    """UCDP/PRIO conflict-years to country-years, by ISO3 code, for every current state and
    every year the file covers (0 where no conflict is recorded):

    - conflicts_on_territory: conflicts located (gwno_loc) in the country that year;
    - max_intensity_on_territory: highest intensity level there (0 none, 1 = 25-999 battle
      deaths, 2 = war, 1000+);
    - war_on_territory: 1 if a war (intensity 2) was located there, else 0;
    - interstate_on_territory: interstate conflicts (type 2) located there;
    - conflicts_as_party / max_intensity_as_party: the same for conflicts in which the state was
      a primary or secondary party (gwno_a, gwno_a_2nd, gwno_b, gwno_b_2nd), wherever fought
      (secondary parties include every state that sent troops, e.g. to UN missions);
    - conflicts_as_primary_party / max_intensity_as_primary_party: as a primary party only
      (gwno_a, gwno_b).
    """
    name = name or str(path)
    frame, _ = read_csv_text(path, name)
    required = [
        "conflict_id",
        "year",
        "intensity_level",
        "type_of_conflict",
        "gwno_loc",
        *UCDP_PARTY_COLUMNS,
    ]
    require_columns(frame, required, name)
    rows = frame.index.to_numpy() + 2
    year = to_numbers(frame["year"], name, "year", rows)
    intensity = to_numbers(frame["intensity_level"], name, "intensity_level", rows)
    kind = to_numbers(frame["type_of_conflict"], name, "type_of_conflict", rows)
    problems = [
        Problem(name, int(rows[i]), "year", "year is missing", "row")
        for i in np.flatnonzero(np.isnan(year))[:MAX_PROBLEMS]
    ]
    if problems:
        raise InputError(problems)
    unmapped: set[int] = set()

    conflict_ids = frame["conflict_id"].to_numpy()

    def explode(columns: Iterable[str]) -> pd.DataFrame:
        out: list[tuple[str, int, float, float, str]] = []
        for col in columns:
            for i, cell in enumerate(frame[col].to_numpy()):
                try:
                    codes = parse_gw_list(cell)
                except ValueError:
                    raise InputError(
                        [
                            Problem(
                                name,
                                int(rows[i]),
                                col,
                                f"expected Gleditsch-Ward numbers "
                                f"separated by commas; got {cell!r}",
                                "row",
                            )
                        ]
                    ) from None
                for code in codes:
                    iso = gw_to_iso3(code)
                    if iso is None:
                        unmapped.add(code)
                        continue
                    out.append((conflict_ids[i], int(year[i]), intensity[i], kind[i], iso))
        return pd.DataFrame(out, columns=["conflict_id", "year", "intensity", "type", "country"])

    loc = explode(["gwno_loc"]).drop_duplicates()
    party = explode(UCDP_PARTY_COLUMNS).drop_duplicates(subset=["conflict_id", "year", "country"])
    primary = explode(UCDP_PRIMARY_COLUMNS).drop_duplicates(
        subset=["conflict_id", "year", "country"]
    )
    countries = sorted(set(GW_TO_ISO3.values()))
    first, last = int(np.nanmin(year)), int(np.nanmax(year))
    grid = pd.MultiIndex.from_product(
        [countries, range(first, last + 1)], names=["country", "year"]
    )
    by_loc = loc.groupby(["country", "year"])
    by_party = party.groupby(["country", "year"])
    by_primary = primary.groupby(["country", "year"])
    series = {
        "conflicts_on_territory": by_loc["conflict_id"].nunique(),
        "max_intensity_on_territory": by_loc["intensity"].max(),
        "war_on_territory": (by_loc["intensity"].max() >= 2).astype(float),
        "interstate_on_territory": loc[loc["type"] == 2]
        .groupby(["country", "year"])["conflict_id"]
        .nunique(),
        "conflicts_as_party": by_party["conflict_id"].nunique(),
        "max_intensity_as_party": by_party["intensity"].max(),
        "conflicts_as_primary_party": by_primary["conflict_id"].nunique(),
        "max_intensity_as_primary_party": by_primary["intensity"].max(),
    }
    parts = []
    for key, values in series.items():
        full = values.astype(float).reindex(grid, fill_value=0.0)
        idx = full.index.to_frame(index=False)
        parts.append(
            long_frame(
                np.full(len(full), key),
                idx["country"].to_numpy(),
                idx["year"].to_numpy(),
                full.to_numpy(dtype=float),
            )
        )
    notes = []
    if unmapped:
        described = [
            f"{c} ({GW_HISTORICAL[c][1]})" if c in GW_HISTORICAL else str(c)
            for c in sorted(unmapped)
        ]
        notes.append(
            "Gleditsch-Ward codes without an ISO3 country, left out: " + ", ".join(described)
        )
    return SourceData(
        Source.UCDP,
        Frequency.YEAR,
        pd.concat(parts, ignore_index=True),
        empty_frame(),
        name,
        CITATIONS[Source.UCDP],
        tuple(notes),
    )


LOADERS = {
    Source.GPR: load_gpr,
    Source.WGI: load_wgi,
    Source.EUROSTAT_GAS: load_eurostat_gas,
    Source.UCDP: load_ucdp,
}


def load_sources(
    data_dir: Path, sources: Iterable[Source], label: str | None = None
) -> dict[Source, SourceData]:
    """Load the given sources from a data folder laid out as SOURCE_FILES; every problem in
    every file is reported together."""
    out: dict[Source, SourceData] = {}
    problems: list[Problem] = []
    for source in sorted(set(sources) - {Source.TABLE, Source.FILE}, key=lambda s: s.value):
        path = data_dir / SOURCE_FILES[source]
        shown = f"{label}/{SOURCE_FILES[source]}" if label else str(path)
        try:
            out[source] = LOADERS[source](path, shown)
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return out


__all__ = [
    "CITATIONS",
    "SOURCE_FILES",
    "load_eurostat_gas",
    "load_gpr",
    "load_sources",
    "load_ucdp",
    "load_wgi",
    "month_period",
]
