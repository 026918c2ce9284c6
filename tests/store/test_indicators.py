"""Indicator series in the team database (issue 11, item 1): imported from CSV, XLSX or JSON,
every revision kept as a vintage, all or nothing, audited, in backups; on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from riskapp.io.errors import InputError
from riskapp.io.indicators import read_series
from riskapp.store import AccessDenied, Store
from tests.store.conftest import ADMIN, ANALYST

TTF = (
    "indicator,name,unit,frequency,source,period,value,published_at\n"
    "ttf_front_month,Dutch TTF front-month gas price,EUR/MWh,monthly,ICE Endex,2026-01,34.1,"
    "2026-02-01\n"
    "ttf_front_month,,,,,2026-02,38.9,2026-03-01\n"
    "ttf_front_month,,,,,2026-03,52.5,2026-04-01\n"
    "baltic_incidents,Baltic subsea incidents (90 days),count,quarterly,analyst log,2026-Q1,"
    "3,\n"
)


def _csv(tmp_path: Path, text: str = TTF, name: str = "ind.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_then_revision_kept(team: Store, tmp_path: Path) -> None:
    first = team.import_series(read_series(_csv(tmp_path)), ADMIN, "file ind.csv")
    assert (first.added, first.revised, first.unchanged) == (4, 0, 0)
    assert set(first.indicators_added) == {"ttf_front_month", "baltic_incidents"}
    again = team.import_series(read_series(_csv(tmp_path)), ADMIN, "file ind.csv")
    assert (again.added, again.revised, again.unchanged) == (0, 0, 4)
    # the publisher revises February and adds April: February's first value stays, as vintage 1
    revised = TTF.replace("2026-02,38.9", "2026-02,39.4") + (
        "ttf_front_month,,,,,2026-04,61.0,2026-05-01\n"
    )
    third = team.import_series(read_series(_csv(tmp_path, revised)), ADMIN, "file ind.csv")
    assert (third.added, third.revised, third.unchanged) == (1, 1, 3)
    latest = team.observations("ttf_front_month")
    assert latest["period"].tolist() == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert latest.set_index("period").loc["2026-02", "value"] == 39.4
    every = team.observations("ttf_front_month", vintages=True)
    feb = every[every["period"] == "2026-02"]
    assert feb[["vintage", "value"]].values.tolist() == [[1, 38.9], [2, 39.4]]
    info = {i.indicator.id: i for i in team.indicators()}
    assert info["ttf_front_month"].latest_period == "2026-04"
    assert info["ttf_front_month"].latest_value == 61.0
    assert info["baltic_incidents"].indicator.frequency.value == "quarterly"
    entries = [e for e in team.audit() if e.entity == "indicators"]
    assert len(entries) == 3 and all(e.action == "import" for e in entries)


def test_bad_rows_are_named_and_nothing_is_stored(team: Store, tmp_path: Path) -> None:
    bad = TTF.replace("2026-02,38.9", "2026-2,38.9").replace("2026-03,52.5", "2026-03,lots")
    bad += "ttf_front_month,Other name,,,,2026-05,1,\nmystery,,,,,2026-01,1,\n"
    with pytest.raises(InputError) as exc:
        read_series(_csv(tmp_path, bad))
    found = [str(p) for p in exc.value.problems]
    assert any("row 3 [period]" in p and "a month such as 2026-03" in p for p in found), found
    assert any("row 4 [value]" in p for p in found), found
    assert any("row 6 [name]" in p and "row 2 says" in p for p in found), found
    assert any("row 7 [name]" in p and "'mystery'" in p for p in found), found
    assert team.indicators() == []
    with pytest.raises(InputError):
        read_series(_csv(tmp_path, "indicator,period\n"))


def test_json_and_xlsx_read_alike(tmp_path: Path) -> None:
    from_csv = read_series(_csv(tmp_path))
    doc = {
        "indicators": [i.model_dump(mode="json") for i in from_csv.indicators],
        "observations": [o.model_dump(mode="json") for o in from_csv.observations],
    }
    (tmp_path / "ind.json").write_text(json.dumps(doc))
    assert read_series(tmp_path / "ind.json") == from_csv
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for line in TTF.splitlines():
        sheet.append(line.split(","))
    book.save(tmp_path / "ind.xlsx")
    assert read_series(tmp_path / "ind.xlsx") == from_csv
    (tmp_path / "bad.json").write_text('{"indicators": [], "observations": [{"indicator": 1}]}')
    with pytest.raises(InputError) as exc:
        read_series(tmp_path / "bad.json")
    assert all(p.file == "bad.json" for p in exc.value.problems)


def test_only_importers_import(team: Store, tmp_path: Path) -> None:
    with pytest.raises(AccessDenied):
        team.import_series(read_series(_csv(tmp_path)), ANALYST, "file ind.csv")
    assert team.indicators() == []


def test_backups_carry_the_series(team: Store, tmp_path: Path, open_store: object) -> None:
    team.import_series(read_series(_csv(tmp_path)), ADMIN, "file ind.csv")
    backup = team.export_workspace(ADMIN)
    assert len(backup["tables"]["observations"]) == 4
    assert len(backup["tables"]["indicators"]) == 2


def test_command_line(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from riskapp.cli import app
    from tests.store.conftest import TINY

    monkeypatch.setenv("RISKAPP_DATABASE_URL", db_url)
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(TINY))
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["indicators", "import", str(_csv(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "4 value(s) added" in result.output
    listed = runner.invoke(app, ["indicators", "list"])
    assert "ttf_front_month" in listed.output and "52.5" in listed.output
    shown = runner.invoke(app, ["indicators", "show", "ttf_front_month", "--vintages"])
    assert shown.exit_code == 0 and "2026-03" in shown.output
    missing = runner.invoke(app, ["indicators", "show", "nope"])
    assert missing.exit_code == 1 and "no indicator 'nope'" in missing.output
