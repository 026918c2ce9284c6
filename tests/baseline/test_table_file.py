"""Indicators from the user's own table (`source: file`): CSV or XLSX, long form."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from riskapp.baseline.build import compute, load_method, load_sources_for
from riskapp.baseline.method import Frequency
from riskapp.baseline.table_source import load_table_file
from riskapp.cli.baseline import baseline_app
from riskapp.io.errors import InputError
from riskapp.io.tables import load_baseline
from riskapp.io.validate import validate_path

GOOD = """\
country,indicator,period,value
FIN,gdp_risk,2022,3.5
fin,gdp_risk,2023,4.5
SWE,gdp_risk,2023,..
SWE,gdp_risk,2022,2
NOR,gdp_risk,2023,
DEU,other,2023,7
"""

METHOD = """\
id: own
version: "1"
title: From my own table
indicators:
  - id: risk
    name: Risk from my table
    source: file
    file: {file}
    series: gdp_risk
    window: {{unit: {unit}, last: 2, statistic: mean}}
    normalise: {{method: identity}}
factors:
  - id: own_factor
    aggregation: mean
    children: [{{indicator: risk}}]
"""


def test_a_csv_table_loads_in_long_form(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(GOOD, encoding="utf-8")
    frame, freq = load_table_file(path)
    assert freq is Frequency.YEAR
    rows = {(r.series, r.country, r.period): r.value for r in frame.itertuples()}
    # lower-case codes are read as codes; '..' and an empty value are no observation
    assert rows == {
        ("gdp_risk", "FIN", 2022): 3.5,
        ("gdp_risk", "FIN", 2023): 4.5,
        ("gdp_risk", "SWE", 2022): 2.0,
        ("other", "DEU", 2023): 7.0,
    }


def test_an_xlsx_table_with_monthly_dates_loads(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["country", "indicator", "period", "value"])
    sheet.append(["FIN", "tension", dt.datetime(2024, 5, 1), 2.5])
    sheet.append(["FIN", "tension", "2024-06", 3])
    path = tmp_path / "t.xlsx"
    book.save(path)
    frame, freq = load_table_file(path)
    assert freq is Frequency.MONTH
    assert frame["period"].tolist() == [2024 * 12 + 4, 2024 * 12 + 5]
    assert frame["value"].tolist() == [2.5, 3.0]


def test_bad_rows_are_all_named_with_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "country,indicator,period,value\n"
        "FIN,x,2023,1\n"
        "Finland,x,2023,1\n"  # row 3: a name, not a code
        "SWE,x,23,1\n"  # row 4: not a year
        "NOR,x,2023,high\n"  # row 5: not a number
        "FIN,x,2023,2\n"  # row 6: second row for FIN / x / 2023
        "DNK,x,2023,1,extra\n",  # row 7: one cell too many
        encoding="utf-8",
    )
    with pytest.raises(InputError) as exc:
        load_table_file(path, "bad.csv")
    got = [(p.file, p.line, p.field) for p in exc.value.problems]
    assert got == [
        ("bad.csv", 3, "country"),
        ("bad.csv", 4, "period"),
        ("bad.csv", 5, "value"),
        ("bad.csv", 6, "period"),
        ("bad.csv", 7, ""),
    ]
    messages = [p.message for p in exc.value.problems]
    assert "'Finland'" in messages[0] and "alpha-3" in messages[0]
    assert "first on row 2" in messages[3]
    assert all(p.unit == "row" for p in exc.value.problems)


@pytest.mark.parametrize(
    ("text", "line", "field", "fragment"),
    [
        ("country,indicator,year,value\nFIN,x,2023,1\n", 1, "year", "unknown column"),
        ("country,indicator,period\nFIN,x,2023\n", 1, "value", "required column"),
        ("country,indicator,period,value\n", None, "", "no rows"),
        (
            "country,indicator,period,value\nFIN,x,2023,1\nFIN,x,2023-05,1\n",
            3,
            "period",
            "one kind of period",
        ),
        ("country,indicator,period,value\nFIN,x,2023,inf\n", 2, "value", "finite"),
        ('country,indicator,period,value\nFIN,x,2023,"1,5"\n', 2, "value", "decimal point"),
    ],
)
def test_table_problems(
    tmp_path: Path, text: str, line: int | None, field: str, fragment: str
) -> None:
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_table_file(path, "t.csv")
    problem = exc.value.problems[0]
    assert (problem.line, problem.field) == (line, field)
    assert fragment in problem.message


def test_a_method_reads_its_table_next_to_it(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "t.csv").write_text(GOOD, encoding="utf-8")
    method_path = tmp_path / "own.yaml"
    method_path.write_text(METHOD.format(file="data/t.csv", unit="year"), encoding="utf-8")
    method = load_method(method_path)
    result = compute(method, load_sources_for(method), dt.date(2023, 12, 31))
    scores = result.factor_scores()["own_factor"]
    # FIN: mean of 2022 and 2023 = 4.0; SWE: 2022 only = 2.0; DEU is in the table for another
    # indicator only; NOR has no value at all, so it is not among the countries covered
    assert result.countries == ["DEU", "FIN", "SWE"]
    assert scores["FIN"] == 4.0 and scores["SWE"] == 2.0 and pd.isna(scores["DEU"])
    baseline = result.baseline().set_index("country")
    assert baseline.loc["FIN", "source"].startswith("own table gdp_risk 2022..2023")
    assert "t.csv" in result.citations["file"]


def test_method_problems_with_its_table(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(GOOD, encoding="utf-8")
    path = tmp_path / "own.yaml"
    # a file that is not there: named on the method's line
    path.write_text(METHOD.format(file="missing.csv", unit="year"), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_method(path)
    (problem,) = exc.value.problems
    assert problem.line == 8 and problem.field == "indicators[0].file"
    assert "missing.csv" in problem.message
    # the series is not in the table, and the window's unit is not the table's
    path.write_text(
        METHOD.format(file="t.csv", unit="month").replace("series: gdp_risk", "series: gpd"),
        encoding="utf-8",
    )
    method = load_method(path)
    with pytest.raises(InputError) as exc:
        load_sources_for(method)
    messages = [p.message for p in exc.value.problems]
    assert "no rows for indicator 'gpd'" in messages[0] and "gdp_risk, other" in messages[0]
    assert "set unit: year" in messages[1]
    assert all(p.file.endswith("t.csv") for p in exc.value.problems)


def test_cli_builds_a_baseline_from_an_own_table(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(GOOD, encoding="utf-8")
    method = tmp_path / "own.yaml"
    method.write_text(METHOD.format(file="t.csv", unit="year"), encoding="utf-8")
    out = tmp_path / "baseline.csv"
    result = CliRunner().invoke(
        baseline_app,
        ["build", "--method", str(method), "--out", str(out), "--as-of", "2023-12-31"],
    )
    assert result.exit_code == 0, result.output
    entries, _ = load_baseline(out)
    assert {(e.country, e.intensity) for e in entries} == {("FIN", 4.0), ("SWE", 2.0)}
    bad = tmp_path / "bad.csv"
    bad.write_text("country,indicator,period,value\nXXX,gdp_risk,2023,1\n", encoding="utf-8")
    method.write_text(METHOD.format(file="bad.csv", unit="year"), encoding="utf-8")
    result = CliRunner().invoke(baseline_app, ["build", "--method", str(method), "--out", str(out)])
    assert result.exit_code != 0
    text = " ".join(result.output.split())
    assert "bad.csv, row 2 [country]" in text and "Traceback" not in text


def test_validate_reads_a_methods_own_tables(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text(GOOD, encoding="utf-8")
    method = tmp_path / "own.yaml"
    method.write_text(METHOD.format(file="t.csv", unit="year"), encoding="utf-8")
    assert validate_path(method) == ("methodology", [])
    (tmp_path / "t.csv").write_text(GOOD + "FIN,gdp_risk,2024,lots\n", encoding="utf-8")
    _, problems = validate_path(method)
    assert [(p.line, p.field) for p in problems] == [(8, "value")]
