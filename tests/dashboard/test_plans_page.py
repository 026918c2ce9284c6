"""Contingency plans page (AppTest on the demo) and its figures built without Streamlit."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from riskapp.assessment.core import Assessment, assess
from riskapp.assessment.tables import (
    LATE,
    TRIGGER_STATES,
    action_timeline,
    plan_register,
    trigger_matrix,
    waterfall_steps,
)
from riskapp.charts.plans import (
    STATE_COLOURS,
    action_gantt,
    cost_benefit,
    loss_waterfall,
    trigger_heatmap,
)
from riskapp.domain import PlanBook, PlanStatus
from riskapp.engine import evaluate_plans
from riskapp.format import NumberFormat
from tests.conftest import DEMO, TINY

APP = str(Path(__file__).resolve().parents[2] / "riskapp" / "dashboard" / "app.py")


def values(data: Any) -> list[Any]:
    """Plotly 7 sends numeric arrays as base64 typed arrays; decode them to a list."""
    if isinstance(data, dict) and "bdata" in data:
        return np.frombuffer(base64.b64decode(data["bdata"]), dtype=data["dtype"]).tolist()
    return list(data)


def chart(at: AppTest, key: str) -> dict[str, Any]:
    for el in at.get("plotly_chart"):
        if el.proto.id.endswith(f"-{key}"):
            spec: dict[str, Any] = json.loads(el.proto.spec)
            return spec
    raise AssertionError(f"no chart with key {key}")


def warning_line(spec: dict[str, Any]) -> float:
    lines = [s for s in spec["layout"]["shapes"] if s.get("type") == "line"]
    assert len(lines) == 1
    return float(lines[0]["x0"])


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.delenv("RISKAPP_WORKSPACE", raising=False)  # the bundled demo
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    app.switch_page("views/plans.py").run()
    assert not app.exception, [e.value for e in app.exception]
    return app


@pytest.fixture(scope="module")
def demo_a() -> Assessment:
    return assess(DEMO)


@pytest.fixture(scope="module")
def tiny_a() -> Assessment:
    return assess(TINY)


# -- the page in AppTest --------------------------------------------------------------------
def test_renders_on_the_demo(at: AppTest, demo_a: Assessment) -> None:
    assert at.title[0].value == "Contingency plans"
    assert "Money in EUR" in at.caption[0].value
    keys = {el.proto.id.rsplit("-", 1)[-1] for el in at.get("plotly_chart")}
    assert keys == {"pln_matrix", "pln_gantt", "pln_waterfall", "pln_bubbles"}
    table = at.dataframe[0].value
    assert len(table) == len(demo_a.ws.plans.plans)
    assert {"owner", "status", "lead_time_days", "cost_npv", "averted_eal", "bcr"} <= set(
        table.columns
    )


def test_views_follow_the_chosen_scenario(at: AppTest, demo_a: Assessment) -> None:
    ev = demo_a.plans
    # two scenarios with different warning times that both trigger plans
    fired = [
        (s.warning_time_days, s.id)
        for i, s in enumerate(demo_a.ws.scenarios)
        if ev.triggered[i].any()
    ]
    (w1, s1), (w2, s2) = min(fired), max(fired)
    assert w1 != w2
    firsts = {}
    for warning, sid in [(w1, s1), (w2, s2)]:
        at.selectbox(key="pln_scenario").set_value(sid).run()
        assert not at.exception
        assert warning_line(chart(at, "pln_gantt")) == warning
        bars = chart(at, "pln_waterfall")["data"][0]
        firsts[sid] = values(bars["x"])[0]
        s = ev.scenario_ids.index(sid)
        unit = chart(at, "pln_waterfall")["layout"]["xaxis"]["title"]["text"]
        divisor = 1e6 if unit.endswith("(EUR m)") else 1e9 if unit.endswith("(EUR bn)") else 1.0
        assert firsts[sid] * divisor == pytest.approx(ev.gross_loss[s])
    assert firsts[s1] != firsts[s2]


def test_a_scenario_without_triggers_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    # every demo scenario triggers some plan; in the tiny workspace 'base' triggers none
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(TINY))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("views/plans.py").run()
    assert not at.exception
    assert at.selectbox(key="pln_scenario").value == "s1"  # the worst scenario by default
    at.selectbox(key="pln_scenario").set_value("base").run()
    assert any("No plan is triggered in this scenario" in i.value for i in at.info)
    assert any("No plan is effective in this scenario" in c.value for c in at.caption)
    at.toggle(key="pln_triggered_only").set_value(False).run()
    assert "pln_gantt" in {el.proto.id.rsplit("-", 1)[-1] for el in at.get("plotly_chart")}


def test_a_workspace_without_plans_says_what_to_do(
    at: AppTest, demo_a: Assessment, monkeypatch: pytest.MonkeyPatch
) -> None:
    from riskapp.dashboard import state

    ws = replace(demo_a.ws, plans=PlanBook(plans=[]))
    empty = replace(demo_a, ws=ws, plans=evaluate_plans(ws, demo_a.result))
    monkeypatch.setattr(state, "assessment", lambda: empty)
    at.run()
    assert not at.exception
    assert any("no contingency plans" in i.value for i in at.info)


# -- figures without Streamlit --------------------------------------------------------------
def test_trigger_heatmap_states_legend_and_hover(demo_a: Assessment) -> None:
    matrix = trigger_matrix(demo_a)
    fig = trigger_heatmap(matrix, NumberFormat(), chosen="energy_winter")
    heat = fig.data[0]
    ev = demo_a.plans
    z = np.asarray(heat.z)
    assert z.shape == (len(ev.scenario_ids), len(ev.plans))
    assert ((z == TRIGGER_STATES.index("triggered and effective")) == ev.effective).all()
    legend = [t for t in fig.data[1:] if t.showlegend is not False]
    assert [t.name for t in legend] == TRIGGER_STATES
    assert [t.marker.color for t in legend] == [STATE_COLOURS[s] for s in TRIGGER_STATES]
    assert heat.hovertemplate and heat.customdata is not None
    # the chosen scenario's row is outlined
    row = ev.scenario_ids.index("energy_winter")
    (rect,) = fig.layout.shapes
    assert (rect.y0, rect.y1) == (row - 0.5, row + 0.5)


def test_gantt_highlights_actions_that_end_after_the_warning(tiny_a: Assessment) -> None:
    timeline = action_timeline(tiny_a, "s1")
    fig = action_gantt(timeline, 30.0, NumberFormat())
    late = [t for t in fig.data if t.name == LATE]
    assert len(late) == 1 and list(late[0].x) == [60.0]
    assert late[0].marker.color == "#D55E00"
    assert fig.layout.shapes[0].x0 == 30.0  # warning-time line
    assert "Days" in fig.layout.xaxis.title.text
    assert all(t.hovertemplate for t in fig.data)
    # y categories: one header row per plan, then its actions, in order
    assert list(fig.layout.yaxis.categoryarray) == [
        "plan:shield",
        "action:shield:0",
        "plan:armor",
        "action:armor:0",
        "action:armor:1",
    ]
    assert "<b>Shield the northern plants</b>" in fig.layout.yaxis.ticktext


def test_waterfall_chart_measures_and_labels(tiny_a: Assessment) -> None:
    fig = loss_waterfall(waterfall_steps(tiny_a, "s1"), NumberFormat())
    w = fig.data[0]
    assert list(w.measure) == ["absolute", "relative", "total"]
    assert list(w.x) == pytest.approx([305.0, -90.0, 215.0])
    assert list(w.text) == ["EUR 305", "-EUR 90", "EUR 215"]
    assert fig.layout.xaxis.title.text == "Loss in the scenario (EUR)"


def test_cost_benefit_bubbles_and_break_even(demo_a: Assessment) -> None:
    plans = plan_register(demo_a, "energy_winter")
    fig = cost_benefit(plans, NumberFormat(), 5)
    line, *bubbles = fig.data
    assert list(line.x) == list(line.y)  # the break-even diagonal
    assert {t.name for t in bubbles} == set(plans["status"])
    assert sum(len(t.x) for t in bubbles) == len(plans)
    for t in bubbles:
        assert all(12.0 <= s <= 48.0 for s in t.marker.size)
        assert t.hovertemplate
    assert "NPV over 5 years (EUR m)" in fig.layout.xaxis.title.text


def test_free_plans_are_drawn_at_the_cap(tiny_a: Assessment) -> None:
    free = [
        p.model_copy(
            update={
                "actions": [
                    a.model_copy(update={"one_off_cost": 0.0, "annual_cost": 0.0})
                    for a in p.actions
                ],
                "status": PlanStatus.READY,
            }
        )
        for p in tiny_a.ws.plans.plans
    ]
    ws = replace(tiny_a.ws, plans=PlanBook(plans=free))
    a = replace(tiny_a, ws=ws, plans=evaluate_plans(ws, tiny_a.result))
    plans = plan_register(a, "s1")
    assert np.isinf(plans["bcr"]).all()
    assert plans["bcr_label"].tolist() == ["free", "free"]
    fig = cost_benefit(plans, NumberFormat(), 5)
    sizes = [s for t in fig.data[1:] for s in t.marker.size]
    assert sizes == [48.0, 48.0]


def test_the_plans_page_shows_sanity_flags(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tests.reporting import CHEAP_PLAN, flagged_workspace

    monkeypatch.setenv("RISKAPP_WORKSPACE", str(flagged_workspace(tmp_path)))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("views/plans.py").run()
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert any(CHEAP_PLAN in w and "7 of 10 scenarios" in w for w in warnings)
    assert any("Group trigger" in i.value and "North" in i.value for i in at.info)
    table = next(d.value for d in at.dataframe if "flags" in d.value.columns)
    flags = dict(zip(table["title"], table["flags"], strict=True))
    assert flags[CHEAP_PLAN] == "extreme benefit-cost ratio; fires in most scenarios"
