"""The public Python API: `riskapp.__all__` is sorted, complete and honest, the package is
typed, and the API computes what the CLI computes."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import riskapp
from tests.conftest import TINY


def test_all_is_sorted_and_every_name_exists() -> None:
    names = riskapp.__all__
    assert names == sorted(names)
    assert len(set(names)) == len(names)
    for name in names:
        assert hasattr(riskapp, name), name


def test_every_public_function_and_class_is_in_all() -> None:
    public = {
        name
        for name, value in vars(riskapp).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and name not in {"Path", "annotations"}
    }
    assert public <= set(riskapp.__all__), public - set(riskapp.__all__)


def test_the_package_is_typed() -> None:
    assert (Path(riskapp.__file__).parent / "py.typed").is_file()


def test_api_assess_simulate_and_report_agree() -> None:
    a = riskapp.assess(TINY)
    assert a.source.kind == "files"
    sim = riskapp.simulate(a, trials=2_000, seed=5)
    again = riskapp.simulate(TINY, trials=2_000, seed=5)  # a path is assessed first
    assert sim.trials == 2_000
    assert float(sim.loss.mean()) == pytest.approx(float(again.loss.mean()), rel=1e-12)
    report = riskapp.build_report(a)
    assert report.provenance.input_hash == a.source.fingerprint
    eal = {k.label: k.value for k in report.key_figures}["Expected annual loss"]
    assert eal == pytest.approx(a.result.expected_annual_loss())


def test_render_report_writes_the_file(tmp_path: Path) -> None:
    report = riskapp.build_report(riskapp.assess(TINY))
    path = riskapp.render_report(report, "xlsx", tmp_path / "r.xlsx")
    assert path.stat().st_size > 1000
    from riskapp.reporting.registry import FormatUnavailable

    with pytest.raises(FormatUnavailable, match="unknown report format 'docx'"):
        riskapp.render_report(report, "docx", tmp_path / "r.docx")
