"""How old the baseline data is (issue 11, item 7): the vintage of each value, per factor, in
every report format, with a warning past RISKAPP_MAX_DATA_AGE_MONTHS."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from pptx import Presentation

from riskapp.assessment.core import assess
from riskapp.assessment.freshness import assessment_vintages, factor_vintages, vintage_of
from riskapp.domain.baseline import BaselineEntry
from riskapp.reporting import registry
from riskapp.reporting.model import ReportOptions, build_report
from riskapp.settings import get_settings
from tests.conftest import DEMO, TINY

NOW = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("source", "label", "end"),
    [
        ("analyst judgement 2025-Q4 (demo values)", "2025-Q4", dt.date(2025, 12, 31)),
        ("Eurostat natural_gas_share_russia 2018..2020 w1.00", "2020", dt.date(2020, 12, 31)),
        (
            "Eurostat x 2018..2020 w0.50; GPR GPRC 2023-01..2025-11 w0.50; "
            "method default v1, as of 2026-01-15",  # the build date is not the data's age
            "2025-11",
            dt.date(2025, 11, 30),
        ),
        ("gas_russia_share dated adjustment as of 2025-01-01 w1.00", "2025-01-01", None),
        ("WGI PV.EST 2022 w0.20; raw 0.1039", "2022", dt.date(2022, 12, 31)),
    ],
)
def test_vintage_is_the_newest_period_named(source: str, label: str, end: dt.date | None) -> None:
    v = vintage_of(source)
    assert v is not None and v.label == label
    assert v.end == (end or dt.date.fromisoformat(label))


def test_undated_and_impossible_periods() -> None:
    assert vintage_of("") is None
    assert vintage_of("expert view, no date; 2025-13") is None


def test_factor_vintage_warns_past_the_maximum_age() -> None:
    entries = [
        BaselineEntry(country="FIN", factor="a", intensity=1, source="Eurostat 2018..2020"),
        BaselineEntry(country="DEU", factor="a", intensity=1, source="judgement 2025-Q4"),
        BaselineEntry(country="FIN", factor="b", intensity=1, source="judgement 2025-Q4"),
        BaselineEntry(country="DEU", factor="b", intensity=1, source="no date"),
    ]
    a, b = factor_vintages(entries, dt.date(2026, 12, 6), 36, {"a": "Alpha", "b": "Beta"})
    assert (a.name, a.vintage, a.stale, a.undated) == ("Alpha", "2020 to 2025-Q4", 1, 0)
    assert "older than 36 months (oldest: 2020)" in a.warning
    assert (b.vintage, b.stale, b.undated) == ("2025-Q4", 0, 1)
    assert "1 of 2 values do not say how old they are" in b.warning
    (only_deu,) = factor_vintages(entries[:2], dt.date(2026, 12, 6), 36, countries=["DEU"])
    assert only_deu.warning == "" and only_deu.text == "2025-Q4"
    # 72 months old, allowed 80: no warning
    (a80,) = factor_vintages(entries[:2], dt.date(2026, 12, 6), 80)
    assert a80.stale == 0 and a80.warning == ""


def old_and_new(folder: Path) -> Path:
    """The tiny workspace with factor alpha from 2018-2020 data and beta judged in 2025-Q4."""
    ws = folder / "ws"
    shutil.copytree(TINY, ws)
    lines = (ws / "baseline.csv").read_text(encoding="utf-8").splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        country, factor, value, _ = line.split(",")
        source = "Eurostat gas 2018..2020" if factor == "alpha" else "analyst judgement 2025-Q4"
        out.append(f"{country},{factor},{value},{source}")
    (ws / "baseline.csv").write_text("\n".join(out) + "\n", encoding="utf-8")
    return ws


def test_every_report_format_shows_the_vintage_per_factor_and_warns(tmp_path: Path) -> None:
    ws = old_and_new(tmp_path)
    report = build_report(ws, ReportOptions(include_figures=False), now=NOW)
    assert report.provenance.vintages == (
        (
            "Alpha factor",
            "2020. WARNING: the newest data behind 3 of 3 values are older than 36 months "
            "(oldest: 2020)",
        ),
        ("Beta factor", "2025-Q4"),
    )
    book = openpyxl.load_workbook(registry.render(report, "xlsx", tmp_path / "r.xlsx"))
    prov = {row[0].value: row[1].value for row in book["Provenance"].iter_rows(min_row=2)}
    assert prov["Data vintage: Alpha factor"].startswith("2020. WARNING: the newest data")
    assert prov["Data vintage: Beta factor"] == "2025-Q4"
    html = registry.render(report, "html", tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Data vintage: Alpha factor" in html and "older than 36 months" in html
    deck = Presentation(str(registry.render(report, "pptx", tmp_path / "r.pptx")))
    texts = [
        cell.text
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_table
        for row in shape.table.rows
        for cell in row.cells
    ]
    vintage = texts[texts.index("Data vintage by factor") + 1]
    assert "Alpha factor: 2020. WARNING" in vintage and "Beta factor: 2025-Q4" in vintage
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: the PDF is not read back")
    pdf = registry.render(report, "pdf", tmp_path / "r.pdf")
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    assert "Data vintage: Alpha factor" in flat and "Data vintage: Beta factor" in flat
    assert "older than 36 months" in flat


def test_the_maximum_age_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKAPP_MAX_DATA_AGE_MONTHS", "100")
    get_settings.cache_clear()
    report = build_report(old_and_new(tmp_path), ReportOptions(include_figures=False), now=NOW)
    assert dict(report.provenance.vintages)["Alpha factor"] == "2020"


def test_demo_baseline_reads_as_its_judgement_date() -> None:
    vintages = assessment_vintages(assess(DEMO), NOW.date(), 36)
    assert len(vintages) == 8
    assert {v.vintage for v in vintages} == {"2025-Q4"}
    assert all(v.warning == "" for v in vintages)
