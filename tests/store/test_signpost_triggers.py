"""Plan triggers on signposts and on current probabilities (issue 11, item 4): a plan fires in
a scenario when its listed signpost of that scenario is red, or when the scenario's current
probability reaches a level; both read the team database's indicators, and the trigger
matrix (PlanEvaluation.triggered) shows it."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskapp.assessment import assess
from riskapp.assessment.scaffold import create_workspace
from riskapp.assessment.sources import StoreSource
from riskapp.io import load_workspace
from riskapp.io.errors import InputError
from riskapp.io.indicators import read_series
from tests.store.conftest import SYSTEM

PLAN = """
  - id: forward_stock_build
    title: Build forward stock ahead of an escalation
    owner: Supply chain director
    status: approved
    trigger:
      signposts: ["Geopolitical risk, Russia"]
      probabilities:
        - {scenario: nato_russia_accidental_escalation, at_least: 0.05}
    actions:
      - {title: Pre-position three weeks of stock, lead_time_days: 2, one_off_cost: 100000}
    coverage:
      asset_types: [plant]
    effect:
      damage_multiplier: {military_escalation: 0.8}
"""
RED = (
    "indicator,name,unit,frequency,period,value\n"
    "gpr_russia,Geopolitical risk index Russia,% of articles,monthly,2026-01,4.2\n"
)


def _workspace(tmp_path: Path, plan: str = PLAN) -> Path:
    ws = tmp_path / "ws"
    create_workspace(ws, "demo")
    with (ws / "plans.yaml").open("a", encoding="utf-8") as f:
        f.write(plan)
    return ws


def _triggered(a: object, plan_id: str) -> list[str]:
    ev = a.plans  # type: ignore[attr-defined]
    p = [p.id for p in ev.plans].index(plan_id)
    return [s for i, s in enumerate(ev.scenario_ids) if ev.triggered[i, p]]


def test_fires_when_the_signpost_turns_red(open_store: object, tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    store = open_store(files=ws)  # type: ignore[operator]
    source = StoreSource(store, ws)
    # seeded with the demo's indicators: the Russia index is amber, 3 % is below 5 %
    assert _triggered(assess(source), "forward_stock_build") == []
    (tmp_path / "jan.csv").write_text(RED)
    store.import_series(read_series(tmp_path / "jan.csv"), SYSTEM, "file jan.csv")
    fired = _triggered(assess(source), "forward_stock_build")
    assert fired == ["nato_russia_accidental_escalation"]
    # the same on the current probabilities (0.073 >= 0.05), and the plan now averts loss
    current = assess(source, probabilities="current")
    assert _triggered(current, "forward_stock_build") == fired
    ev = current.plans
    assert ev.averted_eal()[ev.plan_ids.index("forward_stock_build")] > 0


def test_probability_level_alone(open_store: object, tmp_path: Path) -> None:
    only_probability = PLAN.replace('      signposts: ["Geopolitical risk, Russia"]\n', "").replace(
        "at_least: 0.05", "at_least: 0.07"
    )
    ws = _workspace(tmp_path, only_probability)
    store = open_store(files=ws)  # type: ignore[operator]
    (tmp_path / "jan.csv").write_text(RED)
    store.import_series(read_series(tmp_path / "jan.csv"), SYSTEM, "file jan.csv")
    assert _triggered(assess(StoreSource(store, ws)), "forward_stock_build") == [
        "nato_russia_accidental_escalation"
    ]


def test_without_indicators_they_do_not_fire(tmp_path: Path) -> None:
    ws = _workspace(tmp_path)
    assert _triggered(assess(ws), "forward_stock_build") == []  # files: no indicator values


def test_an_unknown_signpost_is_named(tmp_path: Path) -> None:
    ws = _workspace(tmp_path, PLAN.replace('["Geopolitical risk, Russia"]', "[Moon phase]"))
    with pytest.raises(InputError) as exc:
        load_workspace(ws)
    assert any(
        "trigger.signposts[0]" in str(p) and "'Moon phase'" in str(p) for p in exc.value.problems
    )
