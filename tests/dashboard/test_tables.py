"""View models of the Assets and Contingency plans pages (riskapp/dashboard/tables.py).

Tiny workspace (tests/data/tiny, figures worked out in tests/test_engine_hand.py): P1 plant NOR
(exposed 100, tags arctic+critical, owner Ops), P2 plant FIN (250, critical, Ops, depends on
P1), O1 office DEU (500, no tags, Admin). Scenarios base (p=1), s1 (0.1), s2 (0.01). Plans:
shield (approved, fires in s1, 10-day action), armor (proposed, fires in s1 on FIN alpha 8,
slowest action 60 days against s1's 30-day warning).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from riskapp.assessment.core import Assessment, assess
from riskapp.assessment.tables import (
    EFFECTIVE,
    IN_PLACE,
    IN_TIME,
    LATE,
    NO_OWNER,
    NOT_READY,
    NOT_TRIGGERED,
    RETIRED,
    action_timeline,
    asset_curves,
    asset_factor_loss,
    asset_facts,
    asset_intensity_marks,
    bubble_sizes,
    dependency_edges,
    dependents,
    depends_on,
    filter_options,
    filter_register,
    plan_register,
    register,
    reverse_edges,
    trigger_matrix,
    waterfall_steps,
    worst_scenario,
)
from riskapp.domain import PlanBook, PlanStatus
from riskapp.engine import annuity_factor, evaluate_plans
from riskapp.format import NumberFormat
from tests.conftest import DEMO, TINY


@pytest.fixture(scope="module")
def tiny_a() -> Assessment:
    return assess(TINY)


@pytest.fixture(scope="module")
def demo_a() -> Assessment:
    return assess(DEMO)


def with_status(a: Assessment, plan_id: str, status: PlanStatus) -> Assessment:
    plans = [
        p.model_copy(update={"status": status}) if p.id == plan_id else p for p in a.ws.plans.plans
    ]
    ws = replace(a.ws, plans=PlanBook(plans=plans))
    return replace(a, ws=ws, plans=evaluate_plans(ws, a.result))


# -- register and filters -------------------------------------------------------------------
def test_register_has_scenario_loss_and_eal_by_hand(tiny_a: Assessment) -> None:
    reg = register(tiny_a, "s1").set_index("id")
    assert reg["scenario_loss"].to_dict() == pytest.approx({"P1": 60.0, "P2": 220.0, "O1": 25.0})
    # EAL = status quo (base) + 0.1 * (s1 - base) + 0.01 * (s2 - base), per asset
    # (was 1 * base + 0.1 * s1 + 0.01 * s2, which counted the status quo again in s1 and s2)
    assert reg["eal"].to_dict() == pytest.approx(
        {"P1": 20 + 0.1 * 40, "P2": 115 + 0.1 * 105, "O1": 25 + 0.01 * 100}
    )
    assert reg.loc["O1", "currency"] == "USD"
    assert reg.loc["O1", "replacement_value"] == 1000.0  # own currency
    assert reg.loc["O1", "exposed_value"] == 500.0  # EUR
    assert reg.loc["P1", "tag_list"] == ["arctic", "critical"]


def test_filter_options(tiny_a: Assessment) -> None:
    opts = filter_options(register(tiny_a, "base"))
    assert opts["type"] == ["office", "plant"]
    assert sorted(opts["country"]) == ["DEU", "FIN", "NOR"]
    assert opts["tag"] == ["arctic", "critical"]
    assert opts["owner"] == ["Admin", "Ops"]


def test_filters_combine_and_any_choice_within_a_filter_matches(tiny_a: Assessment) -> None:
    reg = register(tiny_a, "base")

    def ids(**kw: list[str]) -> list[str]:
        return sorted(filter_register(reg, **kw)["id"])

    assert ids() == ["O1", "P1", "P2"]
    assert ids(types=["plant"]) == ["P1", "P2"]
    assert ids(types=["plant", "office"]) == ["O1", "P1", "P2"]
    assert ids(tags=["arctic"]) == ["P1"]
    assert ids(tags=["arctic", "critical"]) == ["P1", "P2"]
    assert ids(tags=["critical"], countries=["FIN"]) == ["P2"]
    assert ids(owners=["Admin"]) == ["O1"]
    assert ids(types=["office"], tags=["critical"]) == []


def test_unowned_assets_can_be_filtered(tiny_a: Assessment) -> None:
    reg = register(tiny_a, "base")
    reg.loc[reg["id"] == "O1", "owner_label"] = NO_OWNER
    assert filter_options(reg)["owner"] == [NO_OWNER, "Ops"]
    assert filter_register(reg, owners=[NO_OWNER])["id"].tolist() == ["O1"]


def test_demo_filters_narrow_the_register(demo_a: Assessment) -> None:
    reg = register(demo_a, worst_scenario(demo_a))
    plants = filter_register(reg, types=["plant"])
    assert 0 < len(plants) < len(reg)
    assert set(plants["type"]) == {"plant"}
    frame = demo_a.ws.portfolio.frame
    assert len(plants) == int((frame["type"] == "plant").sum())


# -- dependencies ---------------------------------------------------------------------------
def test_dependencies_by_hand(tiny_a: Assessment) -> None:
    assert reverse_edges(dependency_edges(tiny_a.ws)) == {"P1": ["P2"], "P2": [], "O1": []}
    down = dependents(tiny_a, "P1")
    assert down["id"].tolist() == ["P2"]
    assert down["relation"].tolist() == ["direct"]
    assert down["eal"].tolist() == pytest.approx([115 + 0.1 * 105])  # 125.5 (was 138.15)
    assert depends_on(tiny_a, "P2")["id"].tolist() == ["P1"]
    assert dependents(tiny_a, "P2").empty
    assert depends_on(tiny_a, "O1").empty and dependents(tiny_a, "O1").empty


def test_indirect_dependents_are_labelled_with_the_path() -> None:
    from riskapp.assessment.tables import _reach

    edges = {"a": ["b"], "b": ["c", "d"], "c": ["d"], "d": []}
    reached = {node: (steps, via) for node, steps, via in _reach(edges, "a")}
    assert reached == {"b": (1, []), "c": (2, ["b"]), "d": (2, ["b"])}


def test_demo_dependents_are_the_reverse_edges(demo_a: Assessment) -> None:
    frame = demo_a.ws.portfolio.frame
    deps = dict(zip(frame["id"], frame["depends_on"], strict=True))
    for aid in frame["id"]:
        down = dependents(demo_a, aid)
        direct = set(down.loc[down["relation"] == "direct", "id"])
        assert direct == {other for other, d in deps.items() if aid in d}, aid
        up = depends_on(demo_a, aid)
        assert set(up.loc[up["relation"] == "direct", "id"]) == set(deps[aid]), aid
        # indirect ones hang off a direct one and are never listed twice
        assert not down["id"].duplicated().any()
        for _, row in down[down["relation"] == "indirect"].iterrows():
            assert row["steps"] >= 2
            assert row["via"].split(" → ")[0] in direct


# -- drill-down -----------------------------------------------------------------------------
def test_asset_facts(tiny_a: Assessment) -> None:
    facts = asset_facts(tiny_a, "P2")
    assert (facts.name, facts.type, facts.country_name) == ("Plant Finland", "plant", "Finland")
    assert facts.replacement_value == 200.0 and facts.annual_revenue == 50.0
    assert facts.exposed_value == 250.0
    assert facts.eal == pytest.approx(115 + 0.1 * 105)  # 125.5 (was 138.15, status quo twice)
    assert (facts.criticality, facts.owner, facts.tags) == (5, "Ops", ["critical"])


def test_asset_factor_loss_adds_up_to_the_asset_loss(tiny_a: Assessment) -> None:
    table = asset_factor_loss(tiny_a, "P2")
    totals = table.groupby("scenario_id")["loss"].sum().to_dict()
    assert totals == pytest.approx({"base": 115.0, "s1": 220.0, "s2": 115.0})
    s1 = table[table["scenario_id"] == "s1"].set_index("factor_id")["loss"]
    # shares of -ln(1 - d): alpha d = 0.8, beta d = 0.4
    wa, wb = -math.log(0.2), -math.log(0.6)
    assert s1["alpha"] == pytest.approx(220 * wa / (wa + wb))
    # the office has no beta curve: no beta rows at all
    assert set(asset_factor_loss(tiny_a, "O1")["factor_id"]) == {"alpha"}


def test_asset_curves_are_its_type_curves_extended_to_0_and_10(tiny_a: Assessment) -> None:
    curves = asset_curves(tiny_a, "P2")
    beta = curves[curves["factor_id"] == "beta"]
    assert beta["intensity"].tolist() == [0.0, 2.0, 6.0, 10.0]
    assert beta["damage_ratio"].tolist() == [0.0, 0.0, 0.4, 0.4]
    assert set(curves["source"]) == {"type plant"}
    assert asset_curves(tiny_a, "O1")["factor_id"].unique().tolist() == ["alpha"]


def test_asset_intensity_marks_by_hand(tiny_a: Assessment) -> None:
    marks = asset_intensity_marks(tiny_a, "P2").set_index(["factor_id", "intensity"])
    # FIN alpha: 4 at base and s2, 8 in s1; FIN beta: 3, set to 6 in s1
    assert marks.loc[("alpha", 4.0), "scenarios"] == ["Status quo", "German alpha spike"]
    assert marks.loc[("alpha", 8.0), "scenarios"] == ["Northern escalation"]
    assert marks.loc[("alpha", 8.0), "damage_ratio"] == pytest.approx(0.8)
    assert marks.loc[("beta", 3.0), "damage_ratio"] == pytest.approx(0.1)
    assert marks.loc[("beta", 6.0), "damage_ratio"] == pytest.approx(0.4)


def test_override_curves_win_over_type_curves(tiny_a: Assessment) -> None:
    from riskapp.domain import CurveSet, VulnerabilityCurve

    own = VulnerabilityCurve(asset_id="P1", factor="alpha", points=[(0, 0), (5, 1)])
    ws = replace(tiny_a.ws, curves=CurveSet(curves=[*tiny_a.ws.curves.curves, own]))
    a = replace(tiny_a, ws=ws)
    curves = asset_curves(a, "P1")
    alpha = curves[curves["factor_id"] == "alpha"]
    assert alpha["source"].unique().tolist() == ["asset override"]
    assert alpha["intensity"].tolist() == [0.0, 5.0, 10.0]
    # P2 keeps its type curve
    assert asset_curves(a, "P2")["source"].unique().tolist() == ["type plant"]


# -- plans ----------------------------------------------------------------------------------
def test_trigger_matrix_by_hand(tiny_a: Assessment) -> None:
    m = trigger_matrix(tiny_a).set_index(["scenario_id", "plan_id"])
    assert m.loc[("s1", "shield"), "state"] == EFFECTIVE
    assert m.loc[("s1", "armor"), "state"] == NOT_READY
    assert m.loc[("s1", "armor"), "gap_days"] == 30.0
    for sid in ["base", "s2"]:
        assert m.loc[(sid, "shield"), "state"] == NOT_TRIGGERED
        assert m.loc[(sid, "armor"), "state"] == NOT_TRIGGERED
    retired = trigger_matrix(with_status(tiny_a, "shield", PlanStatus.RETIRED))
    assert set(retired.loc[retired["plan_id"] == "shield", "state"]) == {RETIRED}


def test_demo_trigger_states_match_the_plan_evaluation(demo_a: Assessment) -> None:
    ev = demo_a.plans
    m = trigger_matrix(demo_a)
    states = m["state"].to_numpy().reshape(len(ev.scenario_ids), len(ev.plans))
    assert ((states == EFFECTIVE) == ev.effective).all()
    assert ((states == NOT_READY) == (ev.triggered & ~ev.effective)).all()
    assert (((states == NOT_TRIGGERED) | (states == RETIRED)) == ~ev.triggered).all()
    assert (states == NOT_READY).any() and (states == EFFECTIVE).any()  # the demo shows both


def test_action_timeline_by_hand(tiny_a: Assessment) -> None:
    t = action_timeline(tiny_a, "s1").set_index("action")
    assert t.loc["Harden sites", "bar_state"] == IN_TIME
    assert t.loc["Harden sites", "owner"] == "Site lead"
    assert t.loc["Quick fix", "bar_state"] == IN_TIME
    assert t.loc["Quick fix", "owner"] == "CSO"  # no action owner: the plan's
    assert t.loc["Slow fix", "bar_state"] == LATE
    assert t.loc["Slow fix", "late_days"] == 30.0
    assert (t["warning_days"] == 30.0).all()
    assert action_timeline(tiny_a, "base", triggered_only=True).empty
    ready = action_timeline(with_status(tiny_a, "armor", PlanStatus.READY), "s1")
    assert set(ready.loc[ready["plan_id"] == "armor", "bar_state"]) == {IN_PLACE}
    gone = action_timeline(with_status(tiny_a, "armor", PlanStatus.RETIRED), "s1")
    assert gone["plan_id"].unique().tolist() == ["shield"]


def test_waterfall_steps_by_hand(tiny_a: Assessment) -> None:
    steps = waterfall_steps(tiny_a, "s1")
    assert steps["label"].tolist() == ["Gross loss", "Shield the northern plants", "Residual loss"]
    assert steps["measure"].tolist() == ["absolute", "relative", "total"]
    assert steps["amount"].tolist() == pytest.approx([305.0, -90.0, 215.0])
    assert steps["after_step"].tolist() == pytest.approx([305.0, 215.0, 215.0])
    none = waterfall_steps(tiny_a, "base")
    assert none["amount"].tolist() == pytest.approx([160.0, 160.0])


def test_demo_waterfalls_add_up(demo_a: Assessment) -> None:
    ev = demo_a.plans
    for s, sid in enumerate(ev.scenario_ids):
        steps = waterfall_steps(demo_a, sid)
        gross, *middle, residual = steps["amount"].tolist()
        assert gross == pytest.approx(ev.gross_loss[s])
        assert residual == pytest.approx(ev.residual_loss[s])
        assert gross + sum(middle) == pytest.approx(residual)
        assert all(step <= 1e-6 for step in middle)  # a plan never raises a loss
        assert len(middle) == int(ev.effective[s].sum())


def test_plan_register_by_hand(tiny_a: Assessment) -> None:
    reg = plan_register(tiny_a, "s1").set_index("plan_id")
    ann = annuity_factor(0.05, 5)
    assert reg.loc["shield", "cost_npv"] == pytest.approx(10 + 2 * ann)
    assert reg.loc["shield", "averted_npv"] == pytest.approx(9.0 * ann)
    assert reg.loc["shield", "bcr"] == pytest.approx(9 * ann / (10 + 2 * ann))
    assert reg.loc["shield", "averted_in_scenario"] == pytest.approx(90.0)
    assert reg.loc["armor", "gap_days"] == 30.0
    assert reg.loc["armor", "state_label"] == f"{NOT_READY} (30 d late)"
    assert reg.loc["armor", "lead_time_days"] == 60.0
    assert reg["number"].tolist() == [1, 2]
    # in the base scenario nothing fires: no readiness gap to report
    assert plan_register(tiny_a, "base")["gap_days"].isna().all()


def test_bubble_sizes_clip_and_handle_free_plans() -> None:
    sizes = bubble_sizes(np.array([np.inf, np.nan, 0.0, 2.0, 20.0, 10.0]))
    assert sizes[0] == 48.0  # free plan: drawn at the cap
    assert sizes[1] == 12.0 and sizes[2] == 12.0
    assert sizes[3] == pytest.approx(12 + 36 * math.sqrt(0.2))
    assert sizes[4] == 48.0 and sizes[5] == 48.0  # capped at 10
    assert bubble_sizes(np.array([np.nan, 0.0])).tolist() == [12.0, 12.0]


def test_money_unit_of_a_numeric_axis() -> None:
    assert NumberFormat().unit([12.3e6, 1e5]) == (1e6, "EUR m")
    assert NumberFormat(currency="USD").unit([2e9]) == (1e9, "USD bn")
    assert NumberFormat().unit([-5e3]) == (1e3, "EUR k")
    assert NumberFormat().unit([305.0, np.inf]) == (1.0, "EUR")
    assert NumberFormat().unit([]) == (1.0, "EUR")


def test_worst_scenario(tiny_a: Assessment, demo_a: Assessment) -> None:
    assert worst_scenario(tiny_a) == "s1"
    losses = demo_a.result.scenario_loss()
    assert worst_scenario(demo_a) == demo_a.result.scenario_ids[int(np.argmax(losses))]
