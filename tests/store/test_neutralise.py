"""No export leaves a live spreadsheet formula, whatever hides in front of it (a carriage return,
a tab, blanks, NUL): `score --out`, `plans --out`, the Register and plan-status downloads, the
audit export and `export-workspace --files` all go through one routine, on SQLite and PostgreSQL.
Every file is read back with the csv module, as a spreadsheet import would split it."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pandas as pd
import pytest
import typer
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from riskapp.cli import app as main_app
from riskapp.cli.store import register
from riskapp.io.export import formula_like, neutralise, neutralise_formulas
from riskapp.store import Actor, Store
from riskapp.store.exports import audit_csv, plan_table_csv
from riskapp.store.validation import asset_table_csv
from tests.store.conftest import TINY

ADMIN = Actor.local()  # no user accounts: the local demo, where everyone may edit
HOSTILE = [
    '\r=HYPERLINK("http://example.invalid","x")',
    " \t@SUM(A1:A9)",
    "\x00+cmd|' /C calc'!A0",
    "-2+3",
    "\uff1d1+1",  # fullwidth equals sign
]
runner = CliRunner()
store_app = typer.Typer()
register(store_app)


def number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def live_formulas(text: str) -> list[str]:
    """Cells of a CSV text that a spreadsheet would run (numbers such as -3.7 are numbers)."""
    return [
        cell
        for row in csv.reader(io.StringIO(text))
        for cell in row
        if formula_like(cell) and not number(cell)
    ]


@given(st.text())
def test_neutralised_text_is_never_a_formula(text: str) -> None:
    out = neutralise(text)
    assert not formula_like(out)
    if not formula_like(text):
        assert out == text  # ordinary text is left exactly as it is
    else:
        assert out.startswith("'") and out[1:] in text


def test_frames_neutralise_text_cells_only() -> None:
    frame = pd.DataFrame({"name": [*HOSTILE, "plain", None], "value": [-1.5, 2, 3, 4, 5, 6, 7]})
    out = neutralise_formulas(frame)
    assert [formula_like(v) for v in out["name"].dropna()] == [False] * 6
    assert out["name"].iloc[5] == "plain" and out["value"].tolist() == frame["value"].tolist()


@pytest.fixture
def hostile_ws(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    shutil.copytree(TINY, ws)
    assets = pd.read_csv(ws / "assets.csv", dtype=str, keep_default_na=False)
    # files refuse control characters in a cell (a CSV cell with a carriage return is refused
    # on load); those reach the register through edits, below
    in_files = [h for h in HOSTILE if h[0] not in "\r\x00"]
    assets.loc[: len(in_files) - 1, "name"] = in_files[: len(assets)]
    assets.loc[0, "owner"] = HOSTILE[1]
    assets.to_csv(ws / "assets.csv", index=False)
    plans = yaml.safe_load((ws / "plans.yaml").read_text(encoding="utf-8"))
    first = plans["plans"][0]
    first["title"], first["owner"] = HOSTILE[0], HOSTILE[1]
    (ws / "plans.yaml").write_text(yaml.safe_dump(plans, allow_unicode=True), encoding="utf-8")
    return ws


def test_score_and_plans_out_hold_no_live_formula(hostile_ws: Path, tmp_path: Path) -> None:
    for command, kept in (("score", "'@SUM(A1:A9)"), ("plans", "'=HYPERLINK(")):
        out = tmp_path / f"{command}.csv"
        result = runner.invoke(main_app, [command, str(hostile_ws), "--out", str(out)])
        assert result.exit_code == 0, result.output
        text = out.read_text(encoding="utf-8")
        assert live_formulas(text) == []
        assert kept in text  # the name is still there, as text


def test_store_downloads_and_files_hold_no_live_formula(
    hostile_ws: Path, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RISKAPP_DATABASE_URL", db_url)
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(hostile_ws))
    monkeypatch.setenv("RISKAPP_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    for path in (hostile_ws / "assets.csv", hostile_ws / "plans.yaml"):
        result = runner.invoke(store_app, ["import", str(path)])
        assert result.exit_code == 0, result.output
    result = runner.invoke(
        store_app, ["export-workspace", str(tmp_path / "b.json"), "--files", str(tmp_path / "f")]
    )
    assert result.exit_code == 0, result.output
    for name in ("assets.csv", "plan_status.csv"):
        assert live_formulas((tmp_path / "f" / name).read_text(encoding="utf-8")) == [], name
    assert not list((tmp_path / "f").glob(".*.part"))

    store = Store.open(url=db_url, files=hostile_ws, seed=False)
    try:
        first = store.register()[0]
        stored = store.asset(first.id)
        store.update_asset(first.id, {"name": HOSTILE[0]}, stored.version, ADMIN)
        downloads = {
            "register": asset_table_csv(store.register()),
            "plan status": plan_table_csv(store.plans()),
            "audit": audit_csv(store.audit()),
        }
    finally:
        store.close()
    for what, text in downloads.items():
        assert live_formulas(text) == [], what
    assert "'=HYPERLINK(" in downloads["register"]  # the edited name, kept as text


@pytest.mark.parametrize("where", ["csv", "yaml", "yaml-binary"])
def test_nul_bytes_are_refused_with_file_row_and_field_and_nothing_is_stored(
    where: str, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A NUL byte in a cell or a YAML value (also as `!!binary`) is named where it is; the
    import writes nothing (PostgreSQL cannot store NUL: it used to fail with a traceback)."""
    ws = tmp_path / "bad"
    shutil.copytree(TINY, ws)
    monkeypatch.setenv("RISKAPP_DATABASE_URL", db_url)
    monkeypatch.setenv(
        "RISKAPP_WORKSPACE", str(TINY)
    )  # seeds the database; the bad copy is imported
    monkeypatch.setenv("RISKAPP_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    if where == "csv":
        path = ws / "assets.csv"
        path.write_text(path.read_text(encoding="utf-8").replace("Ops", "O\x00ps", 1))
        expected = "assets.csv, row 2 [owner]"
    else:
        path = ws / "plans.yaml"
        text = path.read_text(encoding="utf-8")
        value = '"CS\\0O"' if where == "yaml" else "!!binary Q1MAbw=="
        path.write_text(text.replace("owner: CSO", f"owner: {value}", 1), encoding="utf-8")
        expected = "plans.yaml, line 21 [plans[1].owner]"
    for args in (["validate", str(ws)], ["import", str(path), "--dry-run"], ["import", str(path)]):
        app_ = main_app if args[0] == "validate" else store_app
        result = runner.invoke(app_, args)
        assert result.exit_code == 1, (args, result.output)
        assert "U+0000" in result.output and expected in result.output, result.output
        assert "Traceback" not in result.output
    store = Store.open(url=db_url, files=TINY, seed=False)
    try:
        assert all("\x00" not in (a.owner + a.name) for a in store.register())
        assert all("\x00" not in p.plan.owner for p in store.plans())
    finally:
        store.close()
