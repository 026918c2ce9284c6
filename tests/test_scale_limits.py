"""Shocks that hit the 0-10 scale's limit, on every surface (issue 12, item 4).

A copy of the tiny workspace gets a scenario whose shocks run past the scale: `add 7` to the
north group (alpha: NOR 2 -> 9, FIN 4 -> 11, held at 10, one asset in FIN) and `add -2` to
DEU's beta (0 -> -2, held at 0, one asset in DEU). `riskapp validate` warns (exit code 0),
`riskapp score` notes it, the Scenarios page warns with a table, every report carries the rows.
The headroom op `toward_max` on the same shock clamps nothing.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from riskapp.assessment import assess
from riskapp.assessment.scale import clamp_lines, clamp_summary
from riskapp.cli import app
from riskapp.domain.scenarios import Shock
from riskapp.reporting import build_report
from riskapp.reporting.deck import build_deck
from riskapp.reporting.html import render_html
from riskapp.reporting.options import ReportOptions
from riskapp.reporting.pdf import report_html
from riskapp.reporting.xlsx import write_workbook
from tests.conftest import ROOT, TINY

runner = CliRunner()
APP = str(ROOT / "riskapp" / "dashboard" / "app.py")
HOT = """id: hot
title: Hot north
frequency: 0.05
warning_time_days: 10
shocks:
  - {target: north, factor: alpha, op: add, value: 7}
  - {target: DEU, factor: beta, op: add, value: -2}
"""
FIN_LINE = (
    "hot, shock 1 (add +7 to north): FIN alpha 4 -> 11, held at 10 (1 point lost; 1 asset there)"
)
DEU_LINE = (
    "hot, shock 2 (add -2 to DEU): DEU beta 0 -> -2, held at 0 (2 points lost; 1 asset there)"
)


def _workspace(folder: Path, scenario: str = HOT) -> Path:
    ws = folder / "tiny"
    shutil.copytree(TINY, ws)
    (ws / "scenarios" / "hot.yaml").write_text(scenario, encoding="utf-8")
    return ws


@pytest.fixture
def hot(tmp_path: Path) -> Path:
    return _workspace(tmp_path)


def test_the_assessment_carries_the_clamps(hot: Path) -> None:
    clamps = assess(hot).clamps
    assert clamps[
        ["scenario_id", "country", "factor_id", "before", "unclamped", "clamped"]
    ].values.tolist() == [
        ["hot", "DEU", "beta", 0.0, -2.0, 0.0],
        ["hot", "FIN", "alpha", 4.0, 11.0, 10.0],
    ]
    assert clamps["lost"].tolist() == [-2.0, 1.0]
    # restricted to other scenarios, nothing clamps
    assert len(assess(hot, scenarios=["s1", "s2"]).clamps) == 0


def test_a_headroom_shock_clamps_nothing(tmp_path: Path) -> None:
    """The same place shocked half the way to 10: FIN 4 -> 7, NOR 2 -> 6; no clamp."""
    folder = _workspace(
        tmp_path,
        HOT.replace("op: add, value: 7", "op: toward_max, value: 0.5").replace(
            "op: add, value: -2", "op: toward_min, value: 1"
        ),
    )
    a = assess(folder)
    assert len(a.clamps) == 0
    r = a.result
    s, alpha = r.scenario_ids.index("hot"), r.factor_ids.index("alpha")
    assert r.intensities[s, r.countries.index("FIN"), alpha] == 7.0
    assert r.intensities[s, r.countries.index("NOR"), alpha] == 6.0
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output


@pytest.mark.parametrize(
    ("op", "value", "message"),
    [
        ("toward_max", 1.5, "a 'toward_max' shock takes values from 0 to 1; got 1.5"),
        ("toward_min", -0.1, "a 'toward_min' shock takes values from 0 to 1; got -0.1"),
    ],
)
def test_a_headroom_fraction_outside_0_1_is_refused(op: str, value: float, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        Shock(target="NOR", factor="alpha", op=op, value=value)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=re.escape("takes values from 0 to 1; got 1.2")):
        Shock.model_validate(
            {
                "target": "NOR",
                "factor": "alpha",
                "op": op,
                "value": 0.5,
                "range": {"low": 0.2, "mode": 0.5, "high": 1.2},
            }
        )


def test_validate_warns_but_passes(hot: Path) -> None:
    result = runner.invoke(app, ["validate", str(hot)])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert f"ok {hot} (workspace)" in out
    assert "warning (not an error): 2 shocked intensities ran past the 0-10 scale" in out
    assert f"clamped {DEU_LINE}" in out
    assert f"clamped {FIN_LINE}" in out
    # the shipped tiny workspace has no clamp: no warning
    plain = runner.invoke(app, ["validate", str(TINY)])
    assert plain.exit_code == 0 and "warning" not in plain.output


def test_validate_still_fails_on_errors_without_clamp_noise(hot: Path) -> None:
    (hot / "scenarios" / "bad.yaml").write_text(
        HOT.replace("id: hot", "id: bad").replace("value: 7", "value: 12"), encoding="utf-8"
    )
    result = runner.invoke(app, ["validate", str(hot)])
    assert result.exit_code != 0
    assert "takes values from -10 to 10; got 12" in " ".join(result.output.split())
    assert "warning (not an error)" not in result.output


def test_score_notes_the_clamps(hot: Path) -> None:
    result = runner.invoke(app, ["score", str(hot)])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert (
        "note: 2 shocked intensities ran past the 0-10 scale and were clamped, in 1 scenario (hot)"
        in out
    )
    assert "the largest: 2 points of beta in DEU (hot)" in out
    assert "note:" not in runner.invoke(app, ["score", str(TINY)]).output


def test_every_report_format_carries_the_clamp_rows(hot: Path, tmp_path: Path) -> None:
    report = build_report(hot, ReportOptions(include_figures=False))
    t = report.tables.clamps
    assert t.title == "Shocks that hit the scale's limit"
    assert t.frame[["scenario", "shock_text", "country_name", "factor"]].values.tolist() == [
        ["Hot north", "2. add -2 to DEU", "Germany", "Beta factor"],
        ["Hot north", "1. add +7 to north", "Finland", "Alpha factor"],
    ]
    assert "never clamps" in t.note

    path = tmp_path / "r.xlsx"
    write_workbook(report, path)
    sheet = openpyxl.load_workbook(path)["Scale limits"]
    rows = [r for r in sheet.iter_rows(values_only=True) if any(v is not None for v in r)]
    assert rows[0][:4] == ("Scenario", "Shock", "Country", "Factor")
    assert rows[1][:9] == (
        "Hot north",
        "2. add -2 to DEU",
        "Germany",
        "Beta factor",
        0,
        -2,
        0,
        -2,
        1,
    )
    assert rows[2][:9] == (
        "Hot north",
        "1. add +7 to north",
        "Finland",
        "Alpha factor",
        4,
        11,
        10,
        1,
        1,
    )

    html = render_html(report)
    assert 'data-table="clamps"' in html
    assert "1. add +7 to north" in html and "Finland" in html

    pdf_html = report_html(report, {})
    assert "Shocks that hit the scale&#39;s limit" in pdf_html
    assert "2. add -2 to DEU" in pdf_html

    deck = build_deck(report, {})
    buffer = io.BytesIO()
    deck.save(buffer)
    texts = [
        shape.text_frame.text
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_text_frame
    ]
    assert "2 shocked intensities hit the scale's limit, 2 where assets are" in texts


def test_a_report_without_clamps_says_so(tmp_path: Path) -> None:
    report = build_report(TINY, ReportOptions(include_figures=False))
    assert len(report.tables.clamps) == 0
    assert "No shock ran past the 0-10 intensity scale" in render_html(report)
    assert "No shock ran past the 0-10 intensity scale" in report_html(report, {})
    path = tmp_path / "r.xlsx"
    write_workbook(report, path)
    sheet = openpyxl.load_workbook(path)["Scale limits"]
    assert any(
        "No shock ran past" in str(v) for r in sheet.iter_rows(values_only=True) for v in r if v
    )


def test_the_scenarios_page_warns_with_a_table(hot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(hot))
    at = AppTest.from_file(APP, default_timeout=30)
    at.switch_page("views/scenarios.py")
    at.run()
    assert not at.exception, at.exception
    assert any(
        "Shocks hit the scale's limit in 1 scenario: Hot north" in w.value for w in at.warning
    )
    assert not [d for d in at.dataframe if "lost" in d.value.columns]  # not picked yet
    at.selectbox(key="scn_pick").set_value("hot").run()
    assert any(
        w.value.startswith("2 shocked intensities in this scenario ran past the 0-10 scale")
        for w in at.warning
    )
    frames = [d for d in at.dataframe if "lost" in d.value.columns]
    assert len(frames) == 1
    shown = frames[0].value
    assert shown["country"].tolist() == ["DEU", "FIN"]
    assert shown["lost"].tolist() == [-2.0, 1.0]


def test_clamps_at_the_ends_of_uncertainty_ranges_are_reported(tmp_path: Path) -> None:
    """add 5 (range 4-7) to the north's alpha: FIN 4 + 5 = 9 stays on the scale, but the
    Monte Carlo may draw 7: 4 + 7 = 11, held at 10. A second shock whose range ends at its
    value (add 10 to NOR's beta, range 9-10) clamps at the value, 1 + 10 = 11: reported once,
    not again for its range high."""
    ranged = """id: hot
title: Hot north
frequency: 0.05
warning_time_days: 10
shocks:
  - {target: north, factor: alpha, op: add, value: 5, range: {low: 4, mode: 5, high: 7}}
  - {target: NOR, factor: beta, op: add, value: 10, range: {low: 9, mode: 10, high: 10}}
"""
    a = assess(_workspace(tmp_path, ranged))
    t = a.clamps
    assert t[["shock", "at", "country", "factor_id", "value", "unclamped"]].values.tolist() == [
        [2, "value", "NOR", "beta", 10.0, 11.0],  # 1 + 10; its range high repeats it: once
        [1, "range high", "FIN", "alpha", 7.0, 11.0],
    ]
    summary = clamp_summary(t)
    assert "(1 at the shocks' values, 1 only at the ends of their uncertainty ranges" in summary
    lines = clamp_lines(t)
    assert lines[1] == (
        "hot, shock 1 at its range high (add +7 to north): FIN alpha 4 -> 11, held at 10 "
        "(1 point lost; 1 asset there)"
    )
    report = build_report(a, ReportOptions(include_figures=False))
    assert report.tables.clamps.frame["shock_text"].tolist() == [
        "2. add +10 to NOR",
        "1. add +7 to north (range high)",
    ]
