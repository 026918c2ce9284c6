"""The signpost board on indicators kept in the team database (issue 11, item 2): the demo's
GPR signposts read from the published values it ships (demo/indicators.csv), and a revision
that crosses a threshold turns a signpost red."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from riskapp.assessment.signposts import NO_DATA, NO_SERIES, board, counts
from riskapp.io import load_workspace
from riskapp.io.indicators import read_series
from riskapp.resources import DEMO
from riskapp.store import Store
from tests.store.conftest import SYSTEM as ADMIN


def _expected(values: pd.Series, threshold: float, band: float) -> str:
    last = float(values.iloc[-1])
    return "red" if last >= threshold else "amber" if last >= threshold - band else "green"


def test_demo_board_from_the_published_values(store: Store, tmp_path: Path) -> None:
    store.import_series(read_series(DEMO / "indicators.csv"), ADMIN, "demo")
    ws = load_workspace(DEMO)
    statuses = board(ws, store)
    linked = {s.signpost.series: s for s in statuses if s.signpost.series}
    assert set(linked) == {"gpr_global", "gpr_russia"}
    raw = pd.read_csv(DEMO / "indicators.csv")
    for series, s in linked.items():
        values = raw[raw["indicator"] == series].sort_values("period")["value"]
        assert s.value == float(values.iloc[-1])
        assert s.period == raw[raw["indicator"] == series]["period"].max()
        assert s.state == _expected(values, s.signpost.threshold, s.signpost.amber_band)
    n = counts(statuses)
    assert n[NO_SERIES] == len(statuses) - 2 and n[NO_DATA] == 0
    # a later month above the threshold: red since that month
    text = (
        "indicator,name,unit,frequency,period,value\n"
        "gpr_global,Geopolitical risk index (GPR) global,index,monthly,2026-01,180.5\n"
    )
    (tmp_path / "jan.csv").write_text(text)
    store.import_series(read_series(tmp_path / "jan.csv"), ADMIN, "file jan.csv")
    after = {s.signpost.series: s for s in board(ws, store) if s.signpost.series}
    assert after["gpr_global"].state == "red"
    assert after["gpr_global"].since == "2026-01" and after["gpr_global"].value == 180.5


def test_a_signpost_without_values_says_so(store: Store) -> None:
    ws = load_workspace(DEMO)
    linked = [s for s in board(ws, store) if s.signpost.series]
    assert {s.state for s in linked} == {NO_DATA}


def test_command_line() -> None:
    from riskapp.cli import app

    result = CliRunner().invoke(app, ["signposts", "demo"])  # seeds the demo's indicators
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "1.62 (2025-12)" in flat and "127.3 (2025-12)" in flat  # the GPR values shipped
    assert flat.endswith("2 amber, 29 not linked")
