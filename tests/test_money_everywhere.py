"""One amount, the same text on every surface: the CLI, the dashboard's cards and tables, a
chart's hover and tick text, and the four report formats read back (XLSX cell and number
format, HTML text, PDF through pdftotext, PPTX text), in English and in German.

The amounts: the demo's expected annual loss, and the rounding edges 999,999 (reads 1.0m,
never 1000k) and 1,000,000,000. Each is made the expected annual loss of a copy of the tiny
workspace by scaling its asset values (expected annual loss is linear in them)."""

from __future__ import annotations

import csv
import math
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from riskapp.assessment.core import Assessment, assess, key_figures
from riskapp.charts.history import TREND_FIGURES, trend_chart
from riskapp.cli import app
from riskapp.dashboard.format import money_table
from riskapp.format import NumberFormat
from riskapp.reporting import Branding, ReportOptions, build_report
from riskapp.reporting.model import Report
from riskapp.reporting.registry import render
from tests.conftest import DEMO, TINY

NOW = datetime(2025, 11, 30, 12, 0, 0, tzinfo=UTC)
EDGES = {"999,999": 999_999.0, "1bn": 1_000_000_000.0}


@pytest.fixture(scope="module")
def demo_eal() -> float:
    return assess(DEMO).result.expected_annual_loss()


def scaled_tiny(folder: Path, target: float) -> Path:
    """A copy of the tiny workspace whose expected annual loss is `target`."""
    ws = folder / "ws"
    shutil.copytree(TINY, ws)
    k = target / assess(TINY).result.expected_annual_loss()
    path = ws / "assets.csv"
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        for col in ("replacement_value", "annual_revenue_at_stake"):
            row[col] = repr(float(row[col]) * k)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return ws


@pytest.fixture(scope="module", params=["demo", *EDGES])
def workspace(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = (
        assess(DEMO).result.expected_annual_loss()
        if request.param == "demo"
        else EDGES[request.param]
    )
    return scaled_tiny(tmp_path_factory.mktemp(f"money-{request.param}"), target)


@pytest.fixture(scope="module", params=["en", "de"])
def locale(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def assessed(workspace: Path, locale: str) -> Assessment:
    return assess(workspace).with_locale(locale)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def expected(assessed: Assessment) -> str:
    return assessed.fmt.money(assessed.result.expected_annual_loss())


@pytest.fixture(scope="module")
def report(assessed: Assessment, locale: str) -> Report:
    return build_report(
        assessed,
        ReportOptions(include_figures=False),
        Branding(locale=locale),  # type: ignore[arg-type]
        now=NOW,
    )


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_the_amounts_read_as_the_rule_says(
    workspace: Path, assessed: Assessment, expected: str, demo_eal: float
) -> None:
    eal = assessed.result.expected_annual_loss()
    de = assessed.locale == "de"
    if math.isclose(eal, 999_999, rel_tol=1e-9):
        assert expected == ("1,0 Mio. EUR" if de else "EUR 1.0m")
    elif math.isclose(eal, 1e9, rel_tol=1e-9):
        assert expected == ("1,00 Mrd. EUR" if de else "EUR 1.00bn")
    else:
        assert math.isclose(eal, demo_eal, rel_tol=1e-9)
    assert "1000" not in expected


def test_cli(workspace: Path, locale: str, expected: str) -> None:
    result = CliRunner().invoke(
        app, ["score", str(workspace), "--source", "files", "--locale", locale]
    )
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "Expected annual loss" in x)
    assert expected in line


def test_dashboard_card_and_table(assessed: Assessment, expected: str) -> None:
    cards = {k.label: k.text for k in key_figures(assessed)}
    assert cards["Expected annual loss"] == expected
    frame = pd.DataFrame({"name": ["all"], "eal": [assessed.result.expected_annual_loss()]})
    shown = money_table(frame, assessed.fmt, ["eal"]).to_html()
    assert f">{expected}<" in shown
    assert frame["eal"].dtype.kind == "f"  # the cell stays a number: columns sort by value


def test_chart_hover_and_ticks(assessed: Assessment, expected: str) -> None:
    eal = assessed.result.expected_annual_loss()
    trend = pd.DataFrame({"as_of": [NOW], "label": ["now"], **{f: [eal] for f in TREND_FIGURES}})
    fig = trend_chart(trend, assessed.fmt)
    assert list(fig.data[0].customdata) == [expected]
    y = fig.layout.yaxis
    assert (list(y.tickvals), list(y.ticktext)) == assessed.fmt.money_ticks(0.0, eal)
    assert all(assessed.fmt.currency not in t for t in y.ticktext)
    assert fig.layout.separators == (",." if assessed.locale == "de" else ".,")
    if assessed.locale == "de":
        assert all("m" not in t and "bn" not in t for t in y.ticktext)


def test_html(report: Report, expected: str, tmp_path: Path) -> None:
    path = render(report, "html", tmp_path / "r.html")
    assert expected in flat(re.sub(r"<[^>]+>", " ", path.read_text()))


def test_pdf(report: Report, expected: str, tmp_path: Path) -> None:
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext (poppler-utils) is needed to read the PDF back")
    path = render(report, "pdf", tmp_path / "r.pdf")
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert expected in flat(text)


def test_pptx(report: Report, expected: str, tmp_path: Path) -> None:
    from pptx import Presentation

    deck = Presentation(str(render(report, "pptx", tmp_path / "r.pptx")))
    texts = [
        shape.text_frame.text
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_text_frame
    ]
    assert any(expected in flat(t) for t in texts)


def test_xlsx(report: Report, expected: str, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    book = load_workbook(render(report, "xlsx", tmp_path / "r.xlsx"))
    summary = book["Summary"]
    values = {row[0].value: row[1].value for row in summary.iter_rows() if row[0].value is not None}
    assert values["Expected annual loss"] == expected
    sheet = book["Scenarios"]
    header = [c.value for c in sheet[1]]
    col = next(i for i, h in enumerate(header, 1) if str(h).startswith("Gross loss"))
    cell = sheet.cell(row=2, column=col)
    # a number, not text (openpyxl reads a whole number back as int: with the tiny workspace
    # scaled to 999,999 (175.5 x 5698), the largest gross loss is 305 x 5698 = 1,737,890)
    assert isinstance(cell.value, int | float) and not isinstance(cell.value, bool)
    assert cell.number_format == report.fmt.excel_money


# -- the rule on its own ------------------------------------------------------------------------
EN, DE = NumberFormat(), NumberFormat(locale="de")


@pytest.mark.parametrize(
    ("value", "en", "de"),
    [
        (999_999, "EUR 1.0m", "1,0 Mio. EUR"),
        (999_949, "EUR 1.0m", "1,0 Mio. EUR"),
        (999_499, "EUR 999k", "999 Tsd. EUR"),
        (1_000_000_000, "EUR 1.00bn", "1,00 Mrd. EUR"),
        (999_950_000, "EUR 1.00bn", "1,00 Mrd. EUR"),
        (999_949_999, "EUR 999.9m", "999,9 Mio. EUR"),
        (5_678_000_000, "EUR 5.68bn", "5,68 Mrd. EUR"),
        (543_300_000, "EUR 543.3m", "543,3 Mio. EUR"),
        (-0.4, "EUR 0", "0 EUR"),
        (float("nan"), "n/a", "n/a"),
        (None, "n/a", "n/a"),
    ],
)
def test_money_boundaries(value: float | None, en: str, de: str) -> None:
    assert EN.money(value) == en
    assert DE.money(value) == de


def test_full_money_and_excel_format() -> None:
    assert EN.money_full(1_234_567.4) == "EUR 1,234,567"
    assert DE.money_full(1_234_567.4) == "1.234.567 EUR"
    assert EN.money_full(-999.6) == "-EUR 1,000"
    assert EN.excel_money.startswith('"EUR "#,##0')
    assert DE.excel_money.startswith('#,##0" EUR"')


def test_ticks_are_round_and_written_as_money() -> None:
    vals, text = DE.money_ticks(0, 9_000_000)
    assert vals[0] == 0 and text[0] == "0"
    assert text[1] == "2 Mio." and vals[1] == 2_000_000  # round ticks drop ",0"
    assert EN.money_ticks(0, 9_000_000)[1][1] == "2m"
    assert EN.money_ticks(0, 1.2e9)[1][1:3] == ["250.0m", "500.0m"]  # 1.25bn needs them
    assert NumberFormat().days(1) == "1 day" and DE.days(1200) == "1.200 days"


def _parse(text: str, fmt: NumberFormat) -> float:
    """The amount a compact money text stands for."""
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("-").replace(fmt.currency, "").strip()
    units = {"bn": 1e9, "m": 1e6, "k": 1e3, "Mrd.": 1e9, "Mio.": 1e6, "Tsd.": 1e3}
    scale = 1.0
    for unit, size in units.items():
        if body.endswith(unit):
            body, scale = body[: -len(unit)].strip(), size
            break
    if fmt.locale == "de":
        body = body.replace(".", "").replace(",", ".")
    return sign * float(body.replace(",", "")) * scale


@given(st.floats(min_value=-1e13, max_value=1e13, allow_nan=False))
def test_money_stays_below_1000_units_and_reads_back_close(value: float) -> None:
    for fmt in (EN, DE):
        text = fmt.money(value)
        number = text.lstrip("-").replace(fmt.currency, "").strip().split(" ")[0]
        digits = re.sub(r"[^0-9]", "", number.split(fmt.decimal)[0])
        # the integer part stays below 1000 unless above 1000bn (no larger unit)
        assert int(digits) < 1000 or abs(value) >= 999.995e9, text
        back = _parse(text, fmt)
        size = 1e9 if abs(value) >= 999.995e6 else 1e6 if abs(value) >= 999.95e3 else 1e3
        tolerance = 0.5 * (0.01 * 1e9 if size == 1e9 else 0.1 * 1e6 if size == 1e6 else 1e3)
        assert abs(back - value) <= max(tolerance, 0.5) + 1e-6 * abs(value), text
        assert not text.startswith("-") or back < 0


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False))
def test_english_and_german_differ_only_in_separators_and_units(value: float) -> None:
    en, de = EN.money(value), DE.money(value)
    assert math.isclose(_parse(en, EN), _parse(de, DE), rel_tol=1e-12, abs_tol=1e-9)


def test_colour_bars_write_money_in_the_locale() -> None:
    from riskapp.charts.overview import factor_heatmap

    a = assess(DEMO)
    from riskapp.assessment.core import country_factor_eal

    table = country_factor_eal(a)
    for fmt in (a.fmt, a.with_locale("de").fmt):
        bar = factor_heatmap(table, a.ws.factors, fmt, "country").data[0].colorbar
        assert list(bar.ticktext) and all(
            t.endswith(" Mio.") or t == "0" for t in bar.ticktext
        ) == (fmt.locale == "de")
        assert all(fmt.currency not in t and not t.endswith("M") for t in bar.ticktext)
