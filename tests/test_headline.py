"""The one headline set (issue 12 item 1): the exact expected annual loss with its simulated
check, the simulated tail, the largest single-scenario loss, the same on every surface."""

from __future__ import annotations

import shutil
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import riskapp
from riskapp.assessment.core import Assessment, assess, key_figures
from riskapp.assessment.headline import CHECK_SE, check_note, footnote
from riskapp.cli import app
from riskapp.engine.montecarlo import prepare_simulation, run
from riskapp.format import NumberFormat
from riskapp.reporting.model import build_report
from riskapp.reporting.options import Branding, ReportOptions
from tests.conftest import DEMO, TINY
from tests.test_methodology import EXAMPLE_WORKSPACE


@pytest.fixture(scope="module")
def demo() -> Assessment:
    return assess(DEMO)


def test_the_check_agrees_and_the_parts_add_up(demo: Assessment) -> None:
    h = demo.headline
    assert h.trials == demo.ws.settings.simulation_years == 10_000
    assert h.eal == pytest.approx(demo.result.expected_annual_loss())
    assert h.agrees and h.check_z <= CHECK_SE
    assert h.check_se > 0
    # the simulated mean = the exact model's mean + what ranges and cascades add, year by year
    assert h.mean == pytest.approx(h.check_mean + h.range_effect + h.cascade_effect)
    assert h.cascades and h.cascade_effect > 0  # the demo has dependency links
    assert h.es["99"] >= h.var["99"] >= h.var["95"]
    assert h.es["95"] >= h.var["95"]
    # VaR 99 % and the 1-in-100-year loss are the same quantile of the same years
    hundred = h.loss_at(100.0)
    assert hundred is not None and hundred.loss == h.var["99"]
    assert hundred.lower <= hundred.loss <= hundred.upper
    losses = demo.result.scenario_loss()
    assert h.worst_scenario_loss == pytest.approx(float(losses.max()))
    assert h.worst_scenario_title == demo.ws.scenarios[int(np.argmax(losses))].title


def test_the_simulation_is_the_one_riskapp_simulate_runs(demo: Assessment) -> None:
    sim = prepare_simulation(demo.ws, links=list(demo.links), basis=demo.result.basis)
    again = run(sim, demo.ws.settings.simulation_years, demo.ws.settings.simulation_seed)
    assert np.array_equal(again.loss, demo.simulation.result.loss)


def test_without_ranges_or_cascades_the_simulated_mean_is_the_check(tmp_path: Path) -> None:
    for name, content in EXAMPLE_WORKSPACE.items():  # the methodology's worked example
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content), encoding="utf-8")
    a = assess(tmp_path)  # no dependency file, no ranged shock
    h = a.headline
    assert not h.cascades and not h.ranged
    assert h.mean == pytest.approx(h.check_mean, rel=1e-12)
    assert h.range_effect == pytest.approx(0.0, abs=1e-9) and h.cascade_effect == 0.0
    mean = next(f for f in key_figures(a) if f.key == "simulated_mean")
    assert "No ranges or cascades" in mean.note


def test_a_check_that_fails_says_so(demo: Assessment) -> None:
    h = demo.headline
    off = replace(h, check_mean=h.eal + 4 * h.check_se)
    assert not off.agrees and off.check_z == pytest.approx(4.0)
    fmt = NumberFormat()
    assert "FAILED" in check_note(off, fmt) and "4.0 standard errors" in check_note(off, fmt)
    assert "within 3 standard errors" in check_note(h, fmt)


def test_every_figure_has_a_definition_and_a_key(demo: Assessment) -> None:
    figures = key_figures(demo)
    keys = [f.key for f in figures]
    assert len(set(keys)) == len(keys)
    assert {"expected_annual_loss", "simulated_mean", "var_95", "var_99", "es_95", "es_99"} <= set(
        keys
    )
    assert [k for k in keys if k.startswith("loss_at_")] == [
        f"loss_at_{rp:g}y" for rp in demo.ws.settings.return_periods
    ]
    for f in figures:
        assert f.definition.endswith(".") and len(f.definition) > 40, f.key
    worst = next(f for f in figures if f.key == "worst_scenario_loss")
    assert worst.label == "Largest single-scenario loss"
    assert "not a return-period loss" in worst.definition


def test_a_locale_writes_the_same_figures(demo: Assessment) -> None:
    de = demo.with_locale("de")
    assert de.simulation is demo.simulation  # not simulated again
    assert [f.value for f in key_figures(de)] == [f.value for f in key_figures(demo)]
    eal = next(f for f in key_figures(de) if f.key == "expected_annual_loss")
    assert eal.text == NumberFormat(currency="EUR", locale="de").money(demo.headline.eal)


def test_years_and_seed_come_from_the_workspace(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(TINY, ws)
    manifest = ws / "workspace.yaml"
    text = manifest.read_text(encoding="utf-8").replace(
        "return_periods: [5, 10, 100]", "return_periods: [5, 10, 5000]"
    )
    manifest.write_text(text + "simulation_years: 2000\nsimulation_seed: 7\n", encoding="utf-8")
    a = assess(ws)
    h = a.headline
    assert (h.trials, h.seed) == (2_000, 7)
    # 5,000 years cannot be read from 2,000: left out, and the footnote says so
    assert [rp.years for rp in h.return_periods] == [5.0, 10.0]
    assert h.beyond_trials == (5000.0,)
    assert "2,000 simulated years (seed 7)" in footnote(h) and "5000" in footnote(h)
    other = assess(TINY).headline
    assert (other.trials, other.seed) == (10_000, 0)


def test_same_figures_on_cli_api_and_report(demo: Assessment, tmp_path: Path) -> None:
    """One truth: `riskapp score`, the Python API and the report model show the same text."""
    figures = riskapp.key_figures(riskapp.assess(DEMO))
    assert [(f.key, f.text, f.note) for f in figures] == [
        (f.key, f.text, f.note) for f in key_figures(demo)
    ]
    result = CliRunner().invoke(
        app, ["score", str(DEMO), "--source", "files"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    for f in figures:
        assert f.label in flat and f.text in flat, f.key
    report = build_report(DEMO, ReportOptions(include_figures=False), Branding())
    assert [(k.key, k.text, k.note, k.definition) for k in report.key_figures] == [
        (f.key, f.text, f.note, f.definition) for f in figures
    ]
    assert report.headline == demo.headline
    rps = report.tables.return_periods.frame.set_index("return_period_years")
    for rp in demo.headline.return_periods:
        assert rps.loc[rp.years, "loss"] == rp.loss and rps.loc[rp.years, "upper"] == rp.upper
