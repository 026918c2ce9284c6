"""The Baseline data page's figures, built without Streamlit, checked by hand."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from riskapp.assessment.baseline import (
    breakdown_frame,
    comparison_frame,
    country_exposure,
    default_country,
    factor_label,
    factor_map_frame,
    factor_tree,
    rebuild_factor,
    rescore_with_factor,
    short_name,
    top_level_weights,
    whatif_country_frame,
)
from riskapp.assessment.core import Assessment, assess
from riskapp.baseline import BaselineResult, Method, load_method, load_sources_for
from riskapp.baseline.build import DEFAULT_METHOD, compute
from riskapp.domain import LossBasis
from tests.conftest import DEMO, TINY

AS_OF = dt.date(2025, 12, 31)
FACTOR = "military_escalation"


@pytest.fixture(scope="module")
def built() -> tuple[Method, Any, BaselineResult]:
    method = load_method(DEFAULT_METHOD)
    sources = load_sources_for(method)
    return method, sources, compute(method, sources, AS_OF)


@pytest.fixture(scope="module")
def demo() -> Assessment:
    return assess(DEMO)


def _column(a: Assessment, factor: str) -> dict[str, float]:
    j = a.inputs.factor_ids.index(factor)
    return dict(zip(a.inputs.countries, a.inputs.baseline[:, j].tolist(), strict=True))


# -- the tree --------------------------------------------------------------------------------
def test_tree_has_the_method_weights_and_shares(built: Any) -> None:
    method = built[0]
    tree = factor_tree(method, FACTOR)
    assert tree.iloc[0]["path"] == FACTOR and tree.iloc[0]["parent"] == ""
    top = tree[tree["depth"] == 1].set_index("path")
    # weights as written in methods/default.yaml (they add up to 1 there)
    assert top["weight"].to_dict() == {
        f"{FACTOR}/tension": 0.35,
        f"{FACTOR}/wgi_pv": 0.2,
        f"{FACTOR}/armed_conflict": 0.2,
        f"{FACTOR}/frontline_exposure": 0.25,
    }
    # gpr_level: 0.35 (tension) x 0.6 / (0.6 + 0.4)
    level = tree.set_index("path").loc[f"{FACTOR}/tension/gpr_level"]
    assert level["share"] == pytest.approx(0.21)
    assert level["source"] == "GPR"
    # the leaves' shares make up the whole factor
    leaves = tree[~tree["path"].isin(set(tree["parent"]))]
    assert leaves["share"].sum() == pytest.approx(1.0)
    assert (tree["label"].str.len() > 0).all()
    assert tree.set_index("path").loc[f"{FACTOR}/frontline_exposure", "source"] == "expert table"
    with pytest.raises(KeyError):
        factor_tree(method, "no_such_factor")


def test_top_level_weights_say_what_a_weight_does(built: Any) -> None:
    method = built[0]
    choices = top_level_weights(method, FACTOR)
    assert [c.path.split("/")[-1] for c in choices] == [
        "tension",
        "wgi_pv",
        "armed_conflict",
        "frontline_exposure",
    ]
    assert all("relative" in c.meaning for c in choices)
    energy = top_level_weights(method, "energy_weaponization")
    assert all("scale factor" in c.meaning for c in energy)


def test_short_names_keep_the_head_of_long_names() -> None:
    assert short_name("Geopolitical risk attention, GPR country share, 36-month mean") == (
        "Geopolitical risk attention"
    )
    assert short_name("Political instability and violence (WGI PV, inverted)") == (
        "Political instability and violence"
    )
    assert short_name("Armed conflict (UCDP)") == "Armed conflict"
    assert short_name("War (UCDP)") == "War (UCDP)"  # too short to cut
    assert len(short_name("x" * 80)) == 42


def test_factor_label_prefers_the_workspace_name(built: Any, demo: Assessment) -> None:
    method = built[0]
    names = {f.id: f.name for f in demo.ws.factors.factors}
    assert factor_label(method, "hybrid_warfare", names) == names["hybrid_warfare"]
    assert factor_label(method, "hybrid_warfare", {}) == "Hybrid warfare and cyber attacks"


# -- by country ------------------------------------------------------------------------------
def test_map_frame_is_the_built_factor_score(built: Any) -> None:
    result = built[2]
    frame = factor_map_frame(result, FACTOR).set_index("country")
    scores = result.factor_scores()[FACTOR].dropna()
    assert set(frame.index) == set(scores.index)
    assert np.allclose(frame.loc[scores.index, "score"], scores)
    assert frame["score"].between(0, 10).all()
    assert frame["reliability"].between(0, 1).all()
    # Estonia is not in GPR: its tension component is imputed from its neighbours
    assert frame.loc["EST", "imputed"]
    assert "Geopolitical tension" in frame.loc["EST", "imputed_text"]
    assert "baltic_sea_east" in frame.loc["EST", "imputed_text"]
    # Germany is covered by every source
    assert not frame.loc["DEU", "imputed"]
    # small territories without data take the world mean, said plainly
    world = frame[frame["status"].str.contains("group world")]
    assert len(world) > 0
    assert world["imputed_text"].str.contains("mean of all countries").all()


def test_breakdown_leaves_are_the_factor_indicators(built: Any) -> None:
    method, _, result = built
    for factor in method.factor_ids:
        rows = breakdown_frame(result, "FIN", factor)
        tree = factor_tree(method, factor)
        leaves = rows[rows["kind"] == "indicator"]
        assert sorted(leaves["indicator"]) == sorted(
            tree.loc[tree["kind"] == "indicator", "indicator"]
        )
        assert rows.iloc[0]["kind"] == "factor" and rows.iloc[0]["path"] == factor
        assert rows["path"].tolist() == tree["path"].tolist()  # same order as the tree
    rows = breakdown_frame(result, "FIN", FACTOR).set_index("path")
    pv = rows.loc[f"{FACTOR}/wgi_pv"]
    assert pv["source"] == "WGI" and pv["period"] == "2022"
    assert pv["raw_text"] == f"{pv['raw']:.4g}"
    # WGI PV: -2.5 scores 10 and 1.5 scores 0, linear in between
    assert pv["score"] == pytest.approx(10 * (1.5 - pv["raw"]) / 4.0)
    assert rows.loc[FACTOR, "raw_text"] == ""  # no raw value above the indicators
    assert pv["name"].startswith("Political instability and violence")


def test_breakdown_adds_up_to_the_factor_score(built: Any) -> None:
    """The factor is a weighted mean of its four parts: recompute it from the table."""
    result = built[2]
    rows = breakdown_frame(result, "FIN", FACTOR)
    top = rows[rows["depth"] == 1]
    expected = float((top["score"] * top["weight"]).sum() / top["weight"].sum())
    assert rows.iloc[0]["score"] == pytest.approx(expected)


def test_default_country_has_the_most_exposed_value(demo: Assessment) -> None:
    exposure = country_exposure(demo)
    assert exposure.iloc[0] == exposure.max()
    assert default_country(demo, list(exposure.index)) == exposure.index[0]
    assert default_country(demo, ["ZZZ", exposure.index[3]]) == exposure.index[3]
    assert default_country(demo, ["ZZZ"]) == "ZZZ"
    assert default_country(demo, []) is None


def test_comparison_shows_workspace_and_built_values(built: Any, demo: Assessment) -> None:
    result = built[2]
    table = comparison_frame(demo, result, FACTOR).set_index("country")
    assert set(table.index) == set(demo.ws.baseline.countries)
    own = _column(demo, FACTOR)
    scores = result.factor_scores()[FACTOR]
    for c in ["DEU", "FIN", "TWN"]:
        assert table.loc[c, "workspace"] == own[c]
        assert table.loc[c, "built"] == pytest.approx(scores[c])
        assert table.loc[c, "difference"] == pytest.approx(scores[c] - own[c])
    # largest exposed value first
    assert table["exposed_value"].is_monotonic_decreasing
    assert table.index[0] == country_exposure(demo).index[0]


def test_comparison_is_empty_when_the_workspace_lacks_the_factor(built: Any) -> None:
    tiny = assess(TINY)
    table = comparison_frame(tiny, built[2], FACTOR)
    assert table.empty
    assert "difference" in table.columns


# -- what-if ---------------------------------------------------------------------------------
def test_rebuild_with_the_method_weights_is_the_build(built: Any) -> None:
    method, sources, result = built
    for factor in ["military_escalation", "energy_weaponization", "disinformation"]:
        again = rebuild_factor(method, sources, AS_OF, factor, countries=result.countries)
        pd.testing.assert_series_equal(
            again, result.factor_scores()[factor], check_names=False, check_exact=False
        )


def test_weights_move_the_score_the_right_way(built: Any) -> None:
    """Finland: frontline exposure (7) is above its other parts, so weighting it more raises
    the score; equal weights give the plain mean of the four parts."""
    method, sources, result = built
    parts = breakdown_frame(result, "FIN", FACTOR)
    top = parts[parts["depth"] == 1].set_index("path")["score"]
    assert top[f"{FACTOR}/frontline_exposure"] > top.drop(f"{FACTOR}/frontline_exposure").max()
    equal = {p: 1.0 for p in top.index}
    scores = rebuild_factor(method, sources, AS_OF, FACTOR, equal, result.countries)
    assert scores["FIN"] == pytest.approx(top.mean())
    more = {**equal, f"{FACTOR}/frontline_exposure": 3.0}
    raised = rebuild_factor(method, sources, AS_OF, FACTOR, more, result.countries)
    assert raised["FIN"] == pytest.approx((top.sum() + 2 * top[f"{FACTOR}/frontline_exposure"]) / 6)
    assert raised["FIN"] > scores["FIN"]
    # scaled maximum: a war scale of 0 leaves only the gas dependence
    energy = rebuild_factor(
        method,
        sources,
        AS_OF,
        "energy_weaponization",
        {"energy_weaponization/ucdp_war": 0.0},
        result.countries,
    )
    gas = breakdown_frame(result, "UKR", "energy_weaponization").set_index("path")
    assert energy["UKR"] == pytest.approx(gas.loc["energy_weaponization/gas_dependence", "score"])
    assert energy["UKR"] < result.factor_scores().loc["UKR", "energy_weaponization"]
    with pytest.raises(KeyError):
        rebuild_factor(method, sources, AS_OF, "no_such_factor")


@pytest.mark.parametrize("basis", [LossBasis.ABSOLUTE, LossBasis.INCREMENTAL])
def test_rescoring_with_the_workspace_baseline_gives_its_eal(basis: LossBasis) -> None:
    a = assess(DEMO, basis)
    for factor in a.inputs.factor_ids:
        again = rescore_with_factor(a, factor, _column(a, factor))
        assert again.expected_annual_loss == pytest.approx(
            a.result.expected_annual_loss(), rel=1e-12
        )
        assert again.kept == []


def test_a_higher_baseline_costs_more(demo: Assessment) -> None:
    own = _column(demo, FACTOR)
    up = rescore_with_factor(demo, FACTOR, {c: min(10.0, v + 2) for c, v in own.items()})
    assert up.expected_annual_loss > demo.result.expected_annual_loss()
    assert np.all(up.baseline <= 10.0)


def test_countries_without_a_built_value_keep_the_workspace_value(demo: Assessment) -> None:
    own = _column(demo, FACTOR)
    top = country_exposure(demo).index[0]
    values = {c: v for c, v in own.items() if c != top}
    values["FIN"] = math.nan  # no score: keeps the workspace value too
    out = rescore_with_factor(demo, FACTOR, values)
    assert set(out.kept) == {top, "FIN"}
    assert set(out.kept_with_assets) == {top, "FIN"}
    assert out.expected_annual_loss == pytest.approx(demo.result.expected_annual_loss())
    with pytest.raises(KeyError):
        rescore_with_factor(demo, "no_such_factor", {})


def test_built_baseline_changes_the_eal_and_the_country_table(built: Any, demo: Assessment) -> None:
    method, sources, result = built
    default = rescore_with_factor(demo, FACTOR, result.factor_scores()[FACTOR].to_dict())
    assert default.kept == []
    assert default.expected_annual_loss != pytest.approx(demo.result.expected_annual_loss())
    weights = {f"{FACTOR}/frontline_exposure": 1.0}
    adjusted_scores = rebuild_factor(method, sources, AS_OF, FACTOR, weights, result.countries)
    adjusted = rescore_with_factor(demo, FACTOR, adjusted_scores.to_dict())
    frame = whatif_country_frame(demo, FACTOR, default, adjusted).set_index("country")
    assert list(frame.index) == list(country_exposure(demo).index)
    assert frame.loc["FIN", "built"] == pytest.approx(result.factor_scores().loc["FIN", FACTOR])
    assert frame.loc["FIN", "adjusted"] == pytest.approx(adjusted_scores["FIN"])
    assert frame.loc["FIN", "change"] > 0  # frontline exposure weighs more; Finland's is high
    # more weight on frontline exposure raises intensity where assets are: the EAL rises
    assert adjusted.expected_annual_loss > default.expected_annual_loss


# -- how old the data is ---------------------------------------------------------------------
def test_vintage_frame_shows_each_factor_and_flags_old_built_data(
    built: Any, demo: Assessment
) -> None:
    from riskapp.assessment.freshness import vintage_frame

    result = built[2]
    frame = vintage_frame(demo, result.baseline(), dt.date(2026, 12, 6), AS_OF, 36)
    assert list(frame["factor"]) == [f.id for f in demo.ws.factors.factors]
    # the demo's own baseline is analyst judgement dated 2025-Q4: no warning in 36 months
    assert set(frame["workspace_vintage"]) == {"2025-Q4"}
    assert set(frame["workspace_warning"]) == {""}
    by = frame.set_index("factor")
    # built as of 2025-12-31: Eurostat 2018-2020 shares for some asset countries are 5 years old
    energy = by.loc["energy_weaponization"]
    assert energy["built_vintage"].startswith("2020 to ")
    assert "older than 36 months (oldest: 2020)" in energy["built_warning"]
    assert by.loc["military_escalation", "built_vintage"] == "2025-12"  # GPR to 2025-12
    assert by.loc["military_escalation", "built_warning"] == ""
    # a stricter maximum age flags the workspace's own values too
    strict = vintage_frame(demo, None, dt.date(2026, 12, 6), AS_OF, 6)
    assert all("older than 6 months" in w for w in strict["workspace_warning"])
    assert set(strict["built_vintage"]) == {""}
