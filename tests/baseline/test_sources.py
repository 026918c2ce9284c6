"""Source loaders and their quirks; the Gleditsch-Ward to ISO3 table."""

from __future__ import annotations

import codecs
import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pycountry
import pytest

from riskapp.baseline.gwcodes import GW_HISTORICAL, GW_TO_ISO3, gw_to_iso3, parse_gw_list
from riskapp.baseline.indicators import (
    SourceData,
    as_of_period,
    extract,
    month_period,
    period_label,
)
from riskapp.baseline.method import Frequency, Indicator, Source
from riskapp.baseline.source_text import decode, to_number_columns, to_numbers
from riskapp.baseline.sources import (
    EUROSTAT_GEO,
    load_eurostat_gas,
    load_gpr,
    load_sources,
    load_ucdp,
    load_wgi,
)
from riskapp.domain.common import iso_alpha3_codes
from riskapp.io.errors import InputError
from tests.baseline.conftest import DATA

# ---------------------------------------------------------------------------- text and numbers


def test_decode_handles_bom_utf8_and_latin1() -> None:
    assert decode(codecs.BOM_UTF8 + b"month,GPR") == ("month,GPR", "utf-8-sig")
    assert decode("Côte d'Ivoire".encode()) == ("Côte d'Ivoire", "utf-8")
    text, encoding = decode("Côte d'Ivoire".encode("latin-1"))
    assert text == "Côte d'Ivoire" and encoding in {"cp1252", "latin-1"}


def test_missing_markers_and_flags() -> None:
    cells = pd.Series(["1.5", ":", "x", "..", "", " 2,", "12.5 p", ": c", "-3"])
    with pytest.raises(InputError) as info:
        to_numbers(cells, "f.csv", "2020")
    (problem,) = info.value.problems
    assert str(problem) == "f.csv, row 7 [2020]: expected a number, ':' or 'x'; got '2,'"
    good = to_numbers(cells.drop(index=5).reset_index(drop=True), "f.csv", "2020")
    assert good[0] == 1.5 and good[5] == 12.5 and good[7] == -3
    assert np.isnan(good[[1, 2, 3, 4, 6]]).all()


def test_columns_read_at_once_as_one_by_one() -> None:
    """to_number_columns: the cells of many columns in one pass, the values and, when a cell
    is not a number, the problems (first bad column's, named by it) of to_numbers per column."""
    frame = pd.DataFrame(
        {
            "a": ["1.5", ":", "12.5 p", "x"],
            "b": ["", "-3", "1e3", ".. c"],
            "c": ["7", "8 e", "n/a", "9"],
        }
    )
    rows = np.array([5, 6, 8, 9])
    together = to_number_columns(frame, ["a", "b", "c"], "f.csv", rows)
    apart = np.column_stack([to_numbers(frame[c], "f.csv", c, rows) for c in "abc"])
    np.testing.assert_array_equal(together, apart)
    assert together.shape == (4, 3) and together[2, 0] == 12.5 and together[2, 1] == 1000.0
    bad = frame.assign(b=["1", "2,", "3", "4"], c=["oops", "1", "2", "3"])
    with pytest.raises(InputError) as info:
        to_number_columns(bad, ["a", "b", "c"], "f.csv", rows)
    assert [str(p) for p in info.value.problems] == [
        "f.csv, row 6 [b]: expected a number, ':' or 'x'; got '2,'"
    ]
    assert to_number_columns(frame, [], "f.csv", rows).shape == (4, 0)


# ---------------------------------------------------------------------------- GPR


def test_gpr_synthetic_file_with_bom_and_label_columns(tmp_path: Path) -> None:
    path = tmp_path / "gpr.csv"
    path.write_bytes(
        codecs.BOM_UTF8
        + (
            b"month,GPR,GPRC_FIN,GPRHC_FIN,GPRC_XXQ,var_name,var_label\n"
            b"01/01/2022,100,0.10,0.20,1,month,Date (year/month)\n"
            b"01/02/2022,110,:,0.30,1,GPR,Recent GPR\n"
        )
    )
    src = load_gpr(path)
    assert src.frequency is Frequency.MONTH
    fin = src.data[(src.data["series"] == "GPRC") & (src.data["country"] == "FIN")]
    assert fin["value"].tolist() == [0.10]  # ':' is not a value
    assert fin["period"].tolist() == [month_period(2022, 1)]
    assert set(src.data["country"]) == {"FIN"}  # XXQ is no ISO country: set apart
    assert set(src.aggregates["series"]) == {"GPR", "GPRC_XXQ"}
    assert "var_name" not in set(src.aggregates["series"])


def test_gpr_bad_month_names_row(tmp_path: Path) -> None:
    path = tmp_path / "gpr.csv"
    path.write_text("month,GPRC_FIN\n01/01/2022,0.1\n2022-02,0.2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"gpr.csv, row 3 \[month\]: expected a date dd/mm/yyyy"):
        load_gpr(path)


def test_gpr_shipped_file(sources: dict[Source, SourceData]) -> None:
    gpr = sources[Source.GPR]
    assert len(gpr.data[gpr.data["series"] == "GPRC"]["country"].unique()) == 44
    assert {"DEU", "FIN", "NOR", "POL", "RUS", "UKR", "TWN", "HKG"} <= set(gpr.countries)
    last = gpr.data["period"].max()
    assert period_label(int(last), Frequency.MONTH) == "2025-12"
    ukr = gpr.data[(gpr.data["series"] == "GPRC") & (gpr.data["country"] == "UKR")]
    mar22 = ukr[ukr["period"] == month_period(2022, 3)]["value"].item()
    assert mar22 == pytest.approx(8.70)  # the 2022 invasion in the data


# ---------------------------------------------------------------------------- WGI


def test_wgi_latin1_file_with_aggregates_and_trailing_column(tmp_path: Path) -> None:
    path = tmp_path / "wgi.csv"
    path.write_bytes(
        (
            "Country Name,Country Code,Indicator Name,Indicator Code,2021,2022,\n"
            "Côte d'Ivoire,CIV,Political Stability,PV.EST,-0.9,-0.8,\n"
            "Kosovo,XKX,Political Stability,PV.EST,-0.1,..,\n"
            "World,WLD,Political Stability,PV.EST,0,0,\n"
        ).encode("latin-1")
    )
    src = load_wgi(path)
    assert src.data["country"].unique().tolist() == ["CIV"]
    assert src.data["value"].tolist() == [-0.9, -0.8]
    assert sorted(src.aggregates["country"].unique()) == ["WLD", "XKX"]
    assert any("XKX" in n for n in src.notes)
    assert any("latin-1" in n or "cp1252" in n for n in src.notes)


def test_wgi_shipped_file(sources: dict[Source, SourceData]) -> None:
    wgi = sources[Source.WGI]
    pv = wgi.data[(wgi.data["series"] == "PV.EST") & (wgi.data["period"] == 2022)]
    assert len(pv) > 190
    assert pv.set_index("country").loc["FIN", "value"] == pytest.approx(0.891492, abs=1e-6)
    assert "XKX" not in set(wgi.data["country"]) and "ANT" not in set(wgi.data["country"])
    assert wgi.data["period"].min() == 1996 and 1997 not in set(wgi.data["period"])


# ---------------------------------------------------------------------------- Eurostat


@pytest.fixture(scope="module")
def eurostat() -> SourceData:
    return load_eurostat_gas(DATA / "energy" / "eurostat_nrg_ti_gas_custom_2428849.xlsx")


def test_eurostat_aggregates_kept_apart(eurostat: SourceData) -> None:
    assert {"EU27_2020", "EU28", "EA19"} == set(eurostat.aggregates["country"])
    assert not set(eurostat.data["country"]) & {"EU27_2020", "EU28", "EA19"}
    assert "GEO" not in set(eurostat.data["country"])  # left out, as SOURCES.md advises
    assert any("Georgia" in n for n in eurostat.notes)
    assert any("Kosovo" in n for n in eurostat.notes)
    assert set(eurostat.data["country"]) <= iso_alpha3_codes()


def share(src: SourceData, country: str, year: int) -> float:
    rows = src.data[
        (src.data["series"] == "natural_gas_share_russia")
        & (src.data["country"] == country)
        & (src.data["period"] == year)
    ]
    return float(rows["value"].item()) if len(rows) else math.nan


def test_eurostat_shares_match_sources_md(eurostat: SourceData) -> None:
    # SOURCES.md, 2020 natural gas: DE 0.66, HU 0.95, SK 0.85, CZ 1.00, LV 1.00, FI 0.67, PL 0.55
    expected = {"DEU": 0.66, "HUN": 0.95, "SVK": 0.85, "CZE": 1.00, "LVA": 1.00, "FIN": 0.67,
                "POL": 0.55, "ITA": 0.43}  # fmt: skip
    for country, value in expected.items():
        assert share(eurostat, country, 2020) == pytest.approx(value, abs=0.006), country
    eu = eurostat.aggregates[
        (eurostat.aggregates["series"] == "natural_gas_share_russia")
        & (eurostat.aggregates["country"] == "EU27_2020")
        & (eurostat.aggregates["period"] == 2020)
    ]
    assert eu["value"].item() == pytest.approx(0.39, abs=0.005)


def test_eurostat_quirks(eurostat: SourceData) -> None:
    assert share(eurostat, "AUT", 2013) == pytest.approx(0.627, abs=0.001)
    assert share(eurostat, "AUT", 2020) == 0.0  # the artefact, as published
    assert share(eurostat, "CYP", 2020) == 0.0  # no imports at all: nothing to depend on
    assert math.isnan(share(eurostat, "GBR", 2020))  # ':' after Brexit
    assert share(eurostat, "GBR", 2019) == pytest.approx(123990.164 / 1864485.126)
    assert math.isnan(share(eurostat, "LIE", 2011))  # ':' in the workbook


def test_eurostat_agrees_with_derived_csv(eurostat: SourceData) -> None:
    derived = pd.read_csv(DATA / "energy" / "eurostat_nrg_ti_gas_russia_share_2011_2020.csv")
    derived = derived[(derived["siec_product"] == "Natural gas") & derived["share_russia"].notna()]
    checked = 0
    for row in derived.itertuples(index=False):
        code = EUROSTAT_GEO.get(str(row.geo_label))
        if code is None or code == "GEO":
            continue
        assert share(eurostat, code, int(row.year)) == pytest.approx(row.share_russia, abs=6e-5)
        checked += 1
    assert checked == 319  # every country-year with a share in the derived file


def test_eurostat_bad_cell_names_sheet_and_row(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Sheet 1"
    rows = [
        ["Standard international energy product classification (SIEC)", None, "Natural gas"],
        ["Geopolitical entity (partner)", None, "Russia"],
        ["TIME", "2019", "2020"],
        ["GEO (Labels)", "", ""],
        ["Hungary", 10.0, "n.a."],
    ]
    for r in rows:
        sheet.append(r)
    path = tmp_path / "gas.xlsx"
    book.save(path)
    with pytest.raises(InputError, match=r"gas.xlsx \(Sheet 1\), row 5: expected a number"):
        load_eurostat_gas(path)


# ---------------------------------------------------------------------------- UCDP and GW codes


def test_gw_table_is_valid_iso() -> None:
    iso = iso_alpha3_codes()
    assert set(GW_TO_ISO3.values()) <= iso
    assert {v for v, _ in GW_HISTORICAL.values() if v} <= iso
    assert not set(GW_TO_ISO3) & set(GW_HISTORICAL)
    # one GW state per ISO country, except Germany (255 and 260) and Serbia (340; 345 historical)
    inverse: dict[str, list[int]] = {}
    for gw, code in GW_TO_ISO3.items():
        inverse.setdefault(code, []).append(gw)
    assert {k: v for k, v in inverse.items() if len(v) > 1} == {"DEU": [255, 260]}


@pytest.mark.parametrize(
    ("gw", "iso"),
    [(365, "RUS"), (369, "UKR"), (2, "USA"), (200, "GBR"), (255, "DEU"), (260, "DEU"),
     (290, "POL"), (375, "FIN"), (385, "NOR"), (640, "TUR"), (710, "CHN"), (713, "TWN"),
     (345, "SRB"), (678, "YEM"), (680, "YEM"), (816, "VNM"), (817, "VNM"), (972, "TON"),
     (366, "EST"), (367, "LVA"), (368, "LTU"), (265, None), (347, None), (315, None)],
)  # fmt: skip
def test_gw_spot_values(gw: int, iso: str | None) -> None:
    assert gw_to_iso3(gw) == iso
    if iso is not None:
        assert pycountry.countries.get(alpha_3=iso) is not None


def test_parse_gw_list() -> None:
    assert parse_gw_list("365, 369") == [365, 369]
    assert parse_gw_list("") == []
    with pytest.raises(ValueError):
        parse_gw_list("365; 369")


def test_every_ucdp_location_maps_to_a_country() -> None:
    raw = pd.read_csv(DATA / "ucdp" / "UcdpPrioConflict_v23_1.csv", dtype=str,
                      keep_default_na=False)  # fmt: skip
    codes = {c for cell in raw["gwno_loc"] for c in parse_gw_list(cell)}
    assert {c for c in codes if gw_to_iso3(c) is None} == set()


def test_ucdp_agrees_with_derived_country_years(sources: dict[Source, SourceData]) -> None:
    ucdp = sources[Source.UCDP]
    derived = pd.read_csv(DATA / "ucdp" / "ucdp_acd_v23_1_country_year_by_gwno_loc.csv")
    mine = ucdp.data[ucdp.data["series"] == "conflicts_on_territory"].set_index(
        ["country", "period"]
    )["value"]
    mine_max = ucdp.data[ucdp.data["series"] == "max_intensity_on_territory"].set_index(
        ["country", "period"]
    )["value"]
    # where several GW codes share one ISO country (Germany, Serbia, Yemen, ...) the counts add up
    shared = {iso for iso, _ in GW_HISTORICAL.values() if iso} | {"DEU"}
    checked = 0
    for row in derived.itertuples(index=False):
        gw = int(row.gwno_loc)
        if gw in GW_HISTORICAL or GW_TO_ISO3[gw] in shared:
            continue
        key = (GW_TO_ISO3[gw], int(row.year))
        assert mine[key] == row.n_active_conflicts, key
        assert mine_max[key] == row.max_intensity_level, key
        checked += 1
    assert checked > 1800
    # years without a conflict row are 0, not missing
    assert mine[("FIN", 2022)] == 0 and mine[("UKR", 2022)] == 2
    assert mine_max[("UKR", 2022)] == 2 and mine_max[("RUS", 2022)] == 2


def test_ucdp_primary_party_leaves_out_troop_contributors(
    sources: dict[Source, SourceData],
) -> None:
    data = sources[Source.UCDP].data.set_index(["series", "country", "period"])["value"]
    assert data[("max_intensity_as_party", "DEU", 2022)] == 2  # MINUSMA in Mali
    assert data[("max_intensity_as_primary_party", "DEU", 2022)] == 0
    assert data[("max_intensity_as_primary_party", "RUS", 2022)] == 2


def test_ucdp_bad_code_names_row(tmp_path: Path) -> None:
    path = tmp_path / "ucdp.csv"
    path.write_text(
        "conflict_id,year,intensity_level,type_of_conflict,gwno_loc,gwno_a,gwno_a_2nd,gwno_b,"
        "gwno_b_2nd\n1,2022,1,3,365,365,,,\n2,2022,1,3,369;365,369,,,\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"ucdp.csv, row 3 \[gwno_loc\]: expected Gleditsch"):
        load_ucdp(path)


def test_missing_source_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_sources(tmp_path, [Source.GPR, Source.UCDP])
    assert len(info.value.problems) == 2
    assert all("file not found" in str(p) for p in info.value.problems)


# ---------------------------------------------------------------------------- windows


def test_as_of_counts_only_ended_periods() -> None:
    assert as_of_period(dt.date(2022, 12, 31), Frequency.YEAR) == 2022
    assert as_of_period(dt.date(2022, 12, 30), Frequency.YEAR) == 2021
    assert as_of_period(dt.date(2022, 3, 31), Frequency.MONTH) == month_period(2022, 3)
    assert as_of_period(dt.date(2022, 3, 15), Frequency.MONTH) == month_period(2022, 2)
    assert as_of_period(dt.date(2024, 2, 29), Frequency.MONTH) == month_period(2024, 2)


def frame(rows: list[tuple[str, int, float]]) -> SourceData:
    data = pd.DataFrame(
        [("S", c, p, v) for c, p, v in rows], columns=["series", "country", "period", "value"]
    )
    return SourceData(Source.WGI, Frequency.YEAR, data)


def indicator(**window: object) -> Indicator:
    return Indicator.model_validate(
        {"id": "x", "name": "x", "source": "wgi", "series": "S",
         "window": {"unit": "year", **window}, "normalise": {"method": "minmax"}}
    )  # fmt: skip


def test_window_statistics_and_max_age() -> None:
    src = frame([("FIN", 2018, 1), ("FIN", 2019, 2), ("FIN", 2020, 6), ("SWE", 2018, 4)])
    countries = ["FIN", "SWE", "NOR"]
    as_of = dt.date(2021, 12, 31)
    mean = extract(indicator(last=3, statistic="mean"), src, countries, as_of)
    assert mean.raw[0] == pytest.approx(3.0) and mean.raw[1] == pytest.approx(4.0)
    assert math.isnan(mean.raw[2])
    assert mean.periods[0] == "2018..2020" and mean.n_obs[0] == 3
    latest = extract(indicator(last=3, statistic="latest"), src, countries, as_of)
    assert list(latest.raw[:2]) == [6.0, 4.0] and list(latest.periods[:2]) == ["2020", "2018"]
    strict = extract(indicator(last=3, statistic="mean", min_periods=2), src, countries, as_of)
    assert math.isnan(strict.raw[1])
    stale = extract(indicator(last=3, max_age=0), src, countries, as_of)
    assert np.isnan(stale.raw).all() and "stale" in stale.warning
    early = extract(indicator(last=2, statistic="max"), src, countries, dt.date(2019, 12, 31))
    assert early.raw[0] == 2.0  # 2020 had not ended yet
    fixed = extract(indicator(last=1, year=2018), src, countries, as_of)
    assert list(fixed.raw[:2]) == [1.0, 4.0]


def test_relative_to_reference_period() -> None:
    src = frame([("FIN", 2000, 1), ("FIN", 2001, 3), ("FIN", 2020, 8)])
    got = extract(
        indicator(last=1, relative_to={"start": 2000, "end": 2001}), src, ["FIN"],
        dt.date(2020, 12, 31),
    )  # fmt: skip
    assert got.raw[0] == pytest.approx(4.0) and got.periods[0] == "2020 vs 2000-2001"


def test_adjustments_exclude_and_set() -> None:
    src = frame([("AUT", 2012, 0.6), ("AUT", 2015, 0.0), ("NOR", 2015, 0.3)])
    ind = Indicator.model_validate(
        {"id": "x", "name": "x", "source": "wgi", "series": "S",
         "window": {"unit": "year", "last": 5, "statistic": "latest"},
         "normalise": {"method": "minmax", "min": 0, "max": 1},
         "adjustments": [
             {"country": "AUT", "action": "exclude", "years": [2014, 2020], "reason": "artefact"},
             {"country": "NOR", "action": "set", "value": 0, "reliability": 0.8,
              "reason": "exporter"}]}
    )  # fmt: skip
    got = extract(ind, src, ["AUT", "NOR"], dt.date(2015, 12, 31))
    assert got.raw[0] == pytest.approx(0.6) and got.periods[0] == "2012"
    assert "excluded 2014-2020: artefact" in got.notes[0]
    assert got.raw[1] == 0 and got.reliability[1] == 0.8 and got.periods[1] == "set by method"


def test_table_indicator_groups_and_countries() -> None:
    ind = Indicator.model_validate(
        {"id": "t", "name": "t", "source": "table", "default": 1,
         "values": {"g": 3, "FIN": 7}, "period": "judgement 2025"}
    )  # fmt: skip
    got = extract(ind, None, ["FIN", "SWE", "NOR"], dt.date(2025, 1, 1), {"g": ["FIN", "SWE"]})
    assert list(got.raw) == [7.0, 3.0, 1.0]
    assert list(got.notes) == ["", "group g", "default"]
    assert got.periods[0] == "judgement 2025"
