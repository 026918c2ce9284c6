"""Tied rows in one order on every surface: assets with the same expected annual loss are
listed largest first, then by id, by the CLI, the Overview, the Assets page and the reports
(`riskapp.assessment.core.largest_first`)."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from riskapp.assessment.core import assess, largest_first, largest_total_first
from riskapp.cli import app
from riskapp.reporting import Branding, ReportOptions, build_report
from tests.conftest import TINY

APP = str(Path(__file__).resolve().parents[1] / "riskapp" / "dashboard" / "app.py")
TWINS = ["A0", "P1", "Z9"]  # P1 of the tiny workspace and two copies: the same loss


@pytest.fixture
def tied(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(TINY, ws)
    path = ws / "assets.csv"
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    p1 = next(r for r in rows if r["id"] == "P1")
    rows += [{**p1, "id": "Z9", "name": "Plant twin Z"}, {**p1, "id": "A0", "name": "Plant twin A"}]
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return ws


def twins_in(ids: list[str]) -> list[str]:
    return [i for i in ids if i in TWINS]


def test_the_twins_tie(tied: Path) -> None:
    a = assess(tied)
    eal = dict(zip(a.ws.portfolio.series("id"), a.result.asset_eal(), strict=True))
    assert eal["A0"] == eal["P1"] == eal["Z9"] > 0


def test_cli_lists_tied_assets_by_id(tied: Path) -> None:
    out = CliRunner().invoke(app, ["score", str(tied), "--top", "10"])
    assert out.exit_code == 0, out.output
    listed = re.findall(r"\b(A0|P1|Z9) Plant", out.output)
    assert listed == TWINS


def test_report_lists_tied_assets_by_id(tied: Path) -> None:
    report = build_report(tied, ReportOptions(top_n=10), Branding())
    assert twins_in(report.tables.top_assets.frame["id"].tolist()) == TWINS
    assert twins_in(report.tables.assets.frame["id"].tolist()) == TWINS


@pytest.mark.parametrize("page", ["views/overview.py", "views/assets.py"])
def test_dashboard_lists_tied_assets_by_id(
    monkeypatch: pytest.MonkeyPatch, tied: Path, page: str
) -> None:
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(tied))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    if page != "views/overview.py":
        at.switch_page(page).run()
    assert not at.exception, at.exception
    tables = [df.value for df in at.dataframe]
    listed = [
        twins_in([str(v) for v in t[c].tolist()])
        for t in tables
        for c in ("id", "Asset")
        if c in t.columns
    ]
    assert TWINS in listed, listed


@given(
    st.lists(
        st.tuples(st.sampled_from([0.0, 1.0, 2.5, float("nan")]), st.text("abc", max_size=3)),
        max_size=40,
    ),
    st.integers(0, 12),
)
def test_the_top_rows_are_the_first_rows_of_the_whole_order(rows, top) -> None:  # type: ignore[no-untyped-def]
    frame = pd.DataFrame({"eal": [v for v, _ in rows], "id": [i for _, i in rows]}, dtype=object)
    frame["eal"] = frame["eal"].astype(float)
    whole = largest_first(frame)
    assert largest_first(frame, top=top).equals(whole.head(top))
    known = whole["eal"].dropna().to_numpy()
    assert (np.diff(known) <= 0).all()  # largest first, blanks last
    for _, same in whole.dropna().groupby("eal"):
        assert same["id"].tolist() == sorted(same["id"].tolist())


def test_heat_rows_with_equal_totals_keep_the_tables_order() -> None:
    # 40 rows, many equal totals: an unstable sort would reorder them
    rng = np.random.default_rng(0)
    table = pd.DataFrame(
        {"f1": rng.integers(0, 3, 40).astype(float), "f2": np.zeros(40)},
        index=[f"r{k:02d}" for k in range(40)],
    )
    rows = largest_total_first(table)
    totals = rows.sum(axis=1)
    assert (np.diff(totals.to_numpy()) <= 0).all()
    for _, same in totals.groupby(totals):
        assert same.index.tolist() == sorted(same.index.tolist())  # the table's own order


def test_overview_heat_rows_are_the_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from tests.conftest import DEMO

    monkeypatch.setenv("RISKAPP_WORKSPACE", str(DEMO))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.radio(key="overview_heat_rows").set_value("region group").run()
    assert not at.exception, at.exception
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    heat = next(t for c in charts for t in c["data"] if t["type"] == "heatmap")
    report = build_report(DEMO, ReportOptions(), Branding())
    assert list(heat["y"]) == report.tables.region_factor.frame["region_id"].tolist()


def test_a_capped_map_marks_the_tied_assets_the_tables_list_first(tied: Path) -> None:
    from riskapp.assessment.core import asset_table
    from riskapp.charts.maps import overview_map

    a = assess(tied)
    assets = asset_table(a)
    located = assets.dropna(subset=["lat", "lon"])
    twin_eal = float(located.loc[located["id"] == "P1", "eal"].iloc[0])
    cap = int((located["eal"] > twin_eal).sum()) + 1  # room for one of the three twins
    figure = overview_map(a, max_markers=cap, assets=assets).figure
    marked = {
        str(row[0])
        for t in figure.data
        if t.type == "scattergeo" and t.customdata is not None and t.legendgroup is None
        for row in t.customdata
    }
    twins = {"Plant twin A", "Plant north", "Plant twin Z"}
    assert marked & twins == {"Plant twin A"}  # A0: the first of the three by id
