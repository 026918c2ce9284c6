"""`riskapp baseline` as a user runs it (the sub-app on its own, via typer's runner)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from riskapp.baseline.build import DEFAULT_METHOD
from riskapp.cli.baseline import baseline_app
from riskapp.io.tables import load_baseline

runner = CliRunner()


def test_build_writes_a_baseline_the_workspace_loader_accepts(tmp_path: Path) -> None:
    out = tmp_path / "baseline.csv"
    details = tmp_path / "details.csv"
    result = runner.invoke(
        baseline_app,
        ["build", "--out", str(out), "--as-of", "2025-12-31", "--details", str(details)],
    )
    assert result.exit_code == 0, result.output
    assert "as of 2025-12-31" in result.output
    assert "energy_weaponization" in result.output
    entries, rows = load_baseline(out)
    assert len(entries) > 1500 and rows[0] == 2
    by_key = {(e.country, e.factor): e for e in entries}
    hun = by_key[("HUN", "energy_weaponization")]
    esp = by_key[("ESP", "energy_weaponization")]
    assert hun.intensity > esp.intensity
    assert esp.source.startswith("Eurostat natural_gas_share_russia 2018..2020")
    assert hun.source.startswith("gas_russia_share dated adjustment as of 2025-01-01")
    table = pd.read_csv(details)
    assert {"path", "weight", "coverage", "reliability", "period"} <= set(table.columns)
    assert not list(tmp_path.glob(".*")), "no temporary files left behind"


def test_build_refuses_other_formats_before_work(tmp_path: Path) -> None:
    result = runner.invoke(baseline_app, ["build", "--out", str(tmp_path / "b.xlsx")])
    assert result.exit_code == 2
    assert "written as .csv" in result.output
    result = runner.invoke(
        baseline_app,
        ["build", "--out", str(tmp_path / "b.csv"), "--details", str(tmp_path / "d.txt")],
    )
    assert result.exit_code == 2 and "unsupported output format" in result.output
    assert not (tmp_path / "b.csv").exists()


def test_bad_method_file_names_file_line_and_field(tmp_path: Path) -> None:
    text = DEFAULT_METHOD.read_text(encoding="utf-8").replace(
        "    aggregation: complement_product", "    aggregation: complement"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "aggregation: complement" in t)
    result = runner.invoke(
        baseline_app, ["build", "--method", str(bad), "--out", str(tmp_path / "b.csv")]
    )
    assert result.exit_code == 1
    assert f"bad.yaml, line {line} [factors[2].aggregation]" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "b.csv").exists()


def test_missing_data_folder_is_reported(tmp_path: Path) -> None:
    result = runner.invoke(
        baseline_app, ["build", "--data", str(tmp_path), "--out", str(tmp_path / "b.csv")]
    )
    assert result.exit_code == 1
    assert "file not found" in result.output and "WGIData_full.csv" in result.output


def test_bad_as_of_date() -> None:
    result = runner.invoke(baseline_app, ["build", "--out", "x.csv", "--as-of", "31/12/2025"])
    assert result.exit_code == 2


def test_explain_shows_the_tree() -> None:
    result = runner.invoke(
        baseline_app, ["explain", "aut", "-f", "energy_weaponization", "--as-of", "2025-12-31"]
    )
    assert result.exit_code == 0, result.output
    assert "gas_russia_share" in result.output
    assert "austria_gas_neighbours" in result.output
    result = runner.invoke(baseline_app, ["explain", "XXX"])
    assert result.exit_code == 2 and "'XXX' is not an ISO 3166-1 alpha-3" in result.output
    result = runner.invoke(baseline_app, ["explain", "ATA", "--as-of", "2025-12-31"])
    assert result.exit_code == 2 and "no baseline for ATA" in result.output
    result = runner.invoke(baseline_app, ["explain", "FIN", "-f", "nope"])
    assert result.exit_code == 2 and "unknown factor" in result.output


@pytest.mark.parametrize("sub", ["schema"])
def test_schema(tmp_path: Path, sub: str) -> None:
    result = runner.invoke(baseline_app, [sub, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    schema = json.loads((tmp_path / "methodology.schema.json").read_text(encoding="utf-8"))
    assert "factors" in schema["properties"]


def test_explain_shows_the_date_and_source_of_a_post_2022_figure() -> None:
    args = ["explain", "FIN", "-f", "energy_weaponization"]
    result = runner.invoke(baseline_app, [*args, "--as-of", "2025-12-31"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "as of 2022-05-21: 0" in text  # the date is the period behind the value
    assert "source: Gasum press release, 20-21 May 2022" in text
    assert "stopped importing Russian pipeline gas in May 2022" in text
    # before its date the figure does not apply: the 2018-2020 Eurostat share is used
    result = runner.invoke(baseline_app, [*args, "--as-of", "2021-12-31"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "2018..2020" in text and "Gasum" not in text
