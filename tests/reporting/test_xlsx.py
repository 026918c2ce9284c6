"""The Excel workbook read back with openpyxl: sheets, headers, frozen panes, filters, number
formats, heat map, charts, provenance, and text that is never a formula."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.workbook.workbook import Workbook

from riskapp.format import NumberFormat
from riskapp.reporting import registry
from riskapp.reporting.model import ReportOptions, build_report
from tests.conftest import DEMO
from tests.reporting import CLIENT, FORMULA_NAME, PLAN_TITLE, SCRIPT_NAME, check_golden

NOW = datetime(2025, 11, 30, 12, 0, 0, tzinfo=UTC)
TABLE_SHEETS = [
    "Scenarios",
    "Return periods",
    "Tail by factor",
    "Tail by asset",
    "Factors",
    "Regions",
    "Countries",
    "Region x factor",
    "Assets",
    "Plans",
    "Plan BCR (simulated)",
    "Readiness gaps",
    "Waterfall",
    "Inputs",
]


@pytest.fixture(scope="module")
def demo_book(tmp_path_factory: pytest.TempPathFactory) -> Workbook:
    report = build_report(DEMO, ReportOptions(include_figures=False), now=NOW)
    path = registry.render(report, "xlsx", tmp_path_factory.mktemp("xlsx") / "demo.xlsx")
    return openpyxl.load_workbook(path)


@pytest.fixture(scope="module")
def hostile_book(tmp_path_factory: pytest.TempPathFactory) -> Workbook:
    from tests.reporting import hostile_workspace

    folder = tmp_path_factory.mktemp("hostile")
    ws = hostile_workspace(folder)
    report = build_report(ws, ReportOptions(include_figures=False), now=NOW)
    return openpyxl.load_workbook(registry.render(report, "xlsx", folder / "hostile.xlsx"))


def test_sheet_names_and_header_rows_golden(demo_book: Workbook) -> None:
    headers = {
        name: [c.value for c in next(demo_book[name].iter_rows(max_row=1))] for name in TABLE_SHEETS
    }
    content = {"sheets": demo_book.sheetnames, "headers": headers}
    check_golden("xlsx_demo_structure.json", json.dumps(content, indent=1) + "\n")


def test_table_sheets_have_frozen_headers_and_filters(demo_book: Workbook) -> None:
    for name in TABLE_SHEETS:
        ws = demo_book[name]
        assert ws.freeze_panes in ("A2", "C2"), name
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), name
        assert ws["A1"].font.b, name


def test_every_asset_is_a_row_with_number_formats(demo_book: Workbook) -> None:
    ws = demo_book["Assets"]
    header = [c.value for c in ws[1]]
    assert ws.max_row == 1 + 75
    eal = header.index("Expected annual loss (EUR)") + 1
    share = header.index("Share of EAL") + 1
    cell = ws.cell(row=2, column=eal)
    assert isinstance(cell.value, float) and cell.value > 0
    assert cell.number_format == NumberFormat(currency="EUR").excel_money
    assert ws.cell(row=2, column=share).number_format == "0.0%"
    values = [ws.cell(row=r, column=eal).value for r in range(2, ws.max_row + 1)]
    assert values == sorted(values, reverse=True)
    plans = demo_book["Plans"]
    bcr = [c.value for c in plans[1]].index("Benefit-cost ratio") + 1
    assert plans.cell(row=2, column=bcr).number_format == '0.0"x"'


def test_heat_map_and_data_bars(demo_book: Workbook) -> None:
    rules = [
        r.type for rng in demo_book["Region x factor"].conditional_formatting for r in rng.rules
    ]
    assert "colorScale" in rules
    scale = next(
        r
        for rng in demo_book["Region x factor"].conditional_formatting
        for r in rng.rules
        if r.type == "colorScale"
    )
    assert len(scale.colorScale.color) == 3
    assert any(
        r.type == "dataBar" for rng in demo_book["Assets"].conditional_formatting for r in rng.rules
    )


def test_native_charts(demo_book: Workbook) -> None:
    (chart,) = demo_book["Scenarios"]._charts
    assert chart.tagname == "barChart"
    assert len(chart.series) == 2  # gross and residual loss
    assert len(demo_book["Factors"]._charts) == 1
    (tail,) = demo_book["Tail by factor"]._charts
    assert tail.tagname == "barChart"
    (curve,) = demo_book["Return periods"]._charts
    assert curve.tagname == "scatterChart"
    assert len(curve.series) == 3  # the loss and its band's two edges


def test_key_figures_and_monte_carlo_sheets_are_the_reports(demo_book: Workbook) -> None:
    """Every key figure with its value, note and definition; the Monte Carlo tables as
    numbers equal to the report's."""
    report = build_report(DEMO, ReportOptions(include_figures=False), now=NOW)
    rows = [[c.value for c in row] for row in demo_book["Summary"].iter_rows()]
    start = next(i for i, r in enumerate(rows) if r[0] == "Figure")
    shown = rows[start + 1 : start + 1 + len(report.key_figures)]
    assert [(r[0], r[1], r[2] or "", r[3]) for r in shown] == [
        (k.label, k.text, k.note, k.definition) for k in report.key_figures
    ]
    assert rows[start + 1 + len(report.key_figures)][0] == report.headline_note
    for sheet, table in (
        ("Return periods", report.tables.return_periods),
        ("Tail by factor", report.tables.factor_tail),
        ("Tail by asset", report.tables.asset_tail),
        ("Plan BCR (simulated)", report.tables.plan_bcr),
    ):
        ws = demo_book[sheet]
        header = [c.value for c in next(ws.iter_rows(max_row=1))]
        assert len(header) == len(table.columns), sheet
        body = [[c.value for c in r] for r in ws.iter_rows(min_row=2, max_row=len(table) + 1)]
        assert len(body) == len(table) > 0, sheet
        for col, column in enumerate(table.columns):
            values = list(table.frame[column.key])
            if column.kind == "text":
                assert [r[col] for r in body] == [str(v) for v in values], (sheet, column.key)
            else:
                assert [r[col] for r in body] == pytest.approx(
                    [float(v) for v in values], nan_ok=True
                ), (sheet, column.key)


def test_summary_and_provenance(demo_book: Workbook) -> None:
    summary = [c.value for row in demo_book["Summary"].iter_rows() for c in row if c.value]
    assert "Expected annual loss" in summary
    assert "EUR 86.2m" in summary  # 71.8m before the demo had zones and routes (issue 16)
    assert "Three things to act on" in summary
    prov = {row[0].value: row[1].value for row in demo_book["Provenance"].iter_rows(min_row=2)}
    assert prov["riskapp version"]
    assert len(prov["Input hash (SHA-256 of files)"]) == 64
    assert prov["Generated at (UTC)"] == "2025-11-30 12:00:00"
    assert "energy_winter" in prov["Scenarios"]
    assert prov["Baseline data source"].startswith("analyst judgement")
    assert "Reference data" in prov
    assert prov["Exchange rates"] == "ECB euro foreign exchange reference rates, 2026-04-13"
    assert prov["Scenario probabilities"] == "prior: as written in the scenarios"


def test_no_cell_is_a_formula(demo_book: Workbook, hostile_book: Workbook) -> None:
    for book in (demo_book, hostile_book):
        for ws in book.worksheets:
            for row in ws.iter_rows():
                for c in row:
                    assert c.data_type != "f", (ws.title, c.coordinate, c.value)


def test_user_text_stays_text(hostile_book: Workbook) -> None:
    ws = hostile_book["Assets"]
    names = {
        c.value: c for c in (row[1] for row in ws.iter_rows(min_row=2))
    }  # column B: asset name
    formula = names[FORMULA_NAME]
    assert formula.data_type == "s"
    assert formula.quotePrefix  # Excel keeps it text even when the cell is edited
    assert names[SCRIPT_NAME].data_type == "s"
    plans = hostile_book["Plans"]
    assert PLAN_TITLE in [c.value for row in plans.iter_rows(min_row=2) for c in row]
    client = [row[1] for row in hostile_book["Summary"].iter_rows() if row[0].value == "Client"]
    assert client[0].value == CLIENT
    assert client[0].quotePrefix is False  # starts with "<", not a formula character


def test_workspace_without_plans(tmp_path: Path) -> None:
    import shutil

    from tests.conftest import TINY

    ws = tmp_path / "noplans"
    shutil.copytree(TINY, ws)
    (ws / "plans.yaml").unlink()
    report = build_report(ws, ReportOptions(include_figures=False), now=NOW)
    book = openpyxl.load_workbook(registry.render(report, "xlsx", tmp_path / "x.xlsx"))
    assert book["Plans"].max_row == 1  # the header only
    assert book["Readiness gaps"]["A1"].value == "Plan id"
    html = registry.render(report, "html", tmp_path / "x.html").read_text(encoding="utf-8")
    assert "Every triggered plan can be ready within the warning time." in html


def test_unavailable_format_is_refused_before_writing(tmp_path: Path) -> None:
    report = build_report(DEMO, ReportOptions(include_figures=False), now=NOW)
    registry.register("nothing", "riskapp.reporting.no_such_module:render")
    try:
        with pytest.raises(registry.FormatUnavailable, match="not available"):
            registry.render(report, "nothing", tmp_path / "x.nothing")
        assert "nothing" not in registry.available()
        assert not list(tmp_path.iterdir())
    finally:
        del registry.FORMATS["nothing"]
    assert "xlsx" in registry.available() and "html" in registry.available()


def test_download_for_the_page(tmp_path: Path) -> None:
    from riskapp.assessment.core import assess
    from riskapp.reporting.model import Branding

    d = registry.download(assess(DEMO), ReportOptions(), Branding(client="ACME SE"), "xlsx")
    assert d.data[:2] == b"PK"
    assert d.file_name.startswith("acme-se-risk-report-") and d.file_name.endswith(".xlsx")
    assert d.media_type.endswith("spreadsheetml.sheet")
    (tmp_path / "d.xlsx").write_bytes(d.data)
    assert "Assets" in openpyxl.load_workbook(tmp_path / "d.xlsx").sheetnames
