"""The command line as a user runs it: exit codes, summaries and files written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from riskapp.cli import app
from tests.conftest import TINY

runner = CliRunner()


def test_validate_ok() -> None:
    result = runner.invoke(app, ["validate", str(TINY), str(TINY / "scenarios" / "s1.yaml")])
    assert result.exit_code == 0, result.output
    assert "ok" in result.output and "workspace" in result.output and "scenario" in result.output


def test_score_summary_shows_key_figures() -> None:
    result = runner.invoke(app, ["score", str(TINY)])
    assert result.exit_code == 0, result.output
    assert "Expected annual loss" in result.output
    # 160 + 0.1 x 145 + 0.01 x 100 = 175.5, worked out by hand (status quo counted once;
    # was EUR 193 = 193.1, which counted it again inside s1 and s2)
    assert "EUR 176" in result.output
    worst = next(x for x in result.output.splitlines() if "Largest single-scenario loss" in x)
    assert "EUR 305" in worst and "Northern escalation" in worst, worst
    # the tail is read from simulated years, and the footnote says how many and which seed
    assert "Value at risk 99 %" in result.output and "Expected shortfall 99 %" in result.output
    assert "10,000 simulated years (seed 0)" in result.output
    assert "not a return-period loss" not in result.output  # definitions only on request
    explained = runner.invoke(app, ["score", str(TINY), "--definitions"], env={"COLUMNS": "300"})
    assert explained.exit_code == 0, explained.output
    assert "Largest single-scenario loss: The loss of a year" in explained.output
    assert "not a return-period loss" in explained.output


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_score_writes_loss_table(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"losses{suffix}"
    result = runner.invoke(app, ["score", str(TINY), "--out", str(out)])
    assert result.exit_code == 0, result.output
    if suffix == ".csv":
        table = pd.read_csv(out)
    elif suffix == ".parquet":
        table = pd.read_parquet(out)
    else:
        table = pd.DataFrame(json.loads(out.read_text()))
    assert len(table) == 9  # 3 assets x 3 scenarios
    s1 = table[table["scenario_id"] == "s1"].set_index("asset_id")
    assert s1.loc["P2", "loss"] == pytest.approx(220.0)
    assert s1.loc["P2", "loss_alpha"] + s1.loc["P2", "loss_beta"] == pytest.approx(220.0)
    assert not list(tmp_path.glob(".*")), "no temporary files left behind"


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".json"])
def test_loss_table_streamed_by_scenario_equals_the_whole_table(
    tmp_path: Path, suffix: str
) -> None:
    """`score --out` writes the long table one scenario at a time: the file holds what writing
    the whole table at once gives, row for row."""
    from riskapp.engine import score
    from riskapp.engine.aggregate import loss_table, loss_table_parts
    from riskapp.io.export import write_table, write_table_parts
    from riskapp.io.workspace import load_workspace

    ws = load_workspace(TINY)
    result = score(ws)
    whole, streamed = tmp_path / f"whole{suffix}", tmp_path / f"streamed{suffix}"
    write_table(loss_table(ws, result), whole)
    write_table_parts(loss_table_parts(ws, result), streamed)
    assert streamed.read_bytes() == whole.read_bytes() or suffix == ".parquet"
    if suffix == ".parquet":
        pd.testing.assert_frame_equal(pd.read_parquet(streamed), pd.read_parquet(whole))
    assert len(list(loss_table_parts(ws, result))) == len(ws.scenarios)


def test_score_subset_and_unknown_scenario() -> None:
    result = runner.invoke(app, ["score", str(TINY), "-s", "s2"])
    assert result.exit_code == 0 and "EUR 260" in result.output
    result = runner.invoke(app, ["score", str(TINY), "-s", "nope"])
    assert result.exit_code == 2
    assert "unknown scenario 'nope'" in result.output
    assert "Traceback" not in result.output


def test_score_rejects_unknown_output_format(tmp_path: Path) -> None:
    result = runner.invoke(app, ["score", str(TINY), "--out", str(tmp_path / "x.docx")])
    assert result.exit_code == 2
    assert "unsupported output format" in result.output
    assert not (tmp_path / "x.docx").exists()


def test_incremental_basis_option() -> None:
    result = runner.invoke(app, ["score", str(TINY), "--basis", "incremental"])
    assert result.exit_code == 0
    assert "losses are incremental" in result.output
    assert "EUR 15" in result.output  # EAL 0.1 * 145 + 0.01 * 100 = 15.5


def test_plans_summary_and_table(tmp_path: Path) -> None:
    out = tmp_path / "plans.csv"
    result = runner.invoke(app, ["plans", str(TINY), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "shield" in result.output and "30 d" in result.output
    table = pd.read_csv(out).set_index("plan_id")
    assert table.loc["armor", "not_ready_in"] == "s1"
    assert table.loc["shield", "averted_eal"] == pytest.approx(9.0)


def test_user_text_is_not_markup_nor_a_live_formula(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(TINY, ws)
    assets = (ws / "assets.csv").read_text().replace("Plant Finland", "[red]=HYPERLINK(1)")
    (ws / "assets.csv").write_text(assets)
    result = runner.invoke(app, ["score", str(ws), "--out", str(tmp_path / "l.csv")])
    assert result.exit_code == 0, result.output
    assert "[red]=HYPERLINK(1)" in result.output  # shown literally, not as colour markup
    raw = (tmp_path / "l.csv").read_text()
    name = "'[red]=HYPERLINK(1)"  # starts with '[' so it is no formula; kept as given
    assert name[1:] in raw
    assets = (ws / "assets.csv").read_text().replace("[red]=HYPERLINK(1)", "=HYPERLINK(1)")
    (ws / "assets.csv").write_text(assets)
    runner.invoke(app, ["score", str(ws), "--out", str(tmp_path / "l.csv")])
    table = pd.read_csv(tmp_path / "l.csv")
    assert "'=HYPERLINK(1)" in set(table["asset_name"])
    assert "=HYPERLINK(1)" not in set(table["asset_name"])


def test_schema_files_validate_the_examples(tmp_path: Path) -> None:
    import yaml

    result = runner.invoke(app, ["schema", "--out", str(tmp_path)])
    assert result.exit_code == 0
    names = sorted(p.name for p in tmp_path.glob("*.schema.json"))
    assert "scenario.schema.json" in names and "plans.schema.json" in names
    schema = json.loads((tmp_path / "scenario.schema.json").read_text())
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) >= {"id", "title", "frequency", "warning_time_days"}
    jsonschema = pytest.importorskip("jsonschema")
    for f in (TINY / "scenarios").glob("*.yaml"):
        jsonschema.validate(yaml.safe_load(f.read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"id": "x", "title": "x", "frequncy": 1}, schema)


def test_methodology_covers_every_key_figure() -> None:
    result = runner.invoke(app, ["methodology"])
    assert result.exit_code == 0
    text = result.output
    for term in (
        "exposed value",
        "1 - (1 - d1) \N{MULTIPLICATION SIGN} (1 - d2)",
        "annual probability",
        "return period",
        "benefit-cost ratio",
        "lead time",
        "incremental",
        "group of countries are applied first",
    ):
        assert term in text, term


def test_demo_names_the_bundled_demo_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After `pip install`, README commands like `riskapp score demo` work from any directory;
    a folder named demo in the working directory still wins."""
    from riskapp.cli.common import bundled_demo
    from riskapp.resources import DEMO

    monkeypatch.chdir(tmp_path)
    assert bundled_demo(Path("demo")) == DEMO
    result = runner.invoke(app, ["score", "demo", "--top", "1"])
    assert result.exit_code == 0, result.output
    assert str(DEMO) in " ".join(result.output.split())
    # validate takes it too, beside other paths
    result = runner.invoke(app, ["validate", "demo"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    assert f"ok {DEMO} (workspace)" in result.output
    (tmp_path / "demo").mkdir()
    assert bundled_demo(Path("demo")) == Path("demo")
    assert bundled_demo(Path("other")) == Path("other")


def test_plans_prints_and_exports_the_sanity_flags(tmp_path: Path) -> None:

    from tests.reporting import flagged_workspace

    ws = flagged_workspace(tmp_path)
    out = tmp_path / "plans.csv"
    result = runner.invoke(
        app, ["plans", str(ws), "--source", "files", "--out", str(out)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Plan sanity flags" in text
    assert "cheap (warning): Extreme benefit-cost ratio" in text
    assert "fires in 7 of 10 scenarios" in text
    flags = pd.read_csv(out, keep_default_na=False).set_index("plan_id")["flags"]
    assert flags["cheap"] == "extreme benefit-cost ratio; fires in most scenarios"
    assert flags["shield"] == ""
