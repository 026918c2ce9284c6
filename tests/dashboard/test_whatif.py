"""What-if rescoring and the Scenarios page's tables, without Streamlit.

Hand-computed figures use the tiny workspace (see tests/test_engine_hand.py): P1 plant NOR
(exposed 100), P2 plant FIN (250), O1 office DEU (500); plant/alpha d = I/10, plant/beta 0 up
to I=2 then linear to 0.4 at I=6, office/alpha d = I/20. Scenario losses base 160, s1 305,
s2 260; frequencies 1, 0.1, 0.01; EAL 175.5 (the status quo 160 counted once:
160 + 0.1 x 145 + 0.01 x 100).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

import riskapp.engine.scoring
from riskapp.assessment.core import Assessment, assess
from riskapp.assessment.whatif import (
    ALL_COUNTRIES,
    DELTA_MAX,
    DELTA_MIN,
    compare_table,
    default_comparison,
    exceedance_line,
    exceedance_points,
    markdown_safe,
    region_countries,
    region_label,
    region_options,
    return_period_losses,
    return_period_text,
    scenario_facts,
    shock_table,
    signpost_table,
    what_if,
)
from riskapp.domain import LossBasis
from riskapp.format import NumberFormat
from tests.conftest import DEMO, TINY
from tests.dashboard.figures import no_empty, same_figure


@pytest.fixture(scope="module")
def tiny_a() -> Assessment:
    return assess(TINY, LossBasis.ABSOLUTE)


@pytest.fixture(scope="module")
def tiny_inc() -> Assessment:
    return assess(TINY, LossBasis.INCREMENTAL)


@pytest.fixture(scope="module")
def demo_a() -> Assessment:
    return assess(DEMO)  # the demo's own basis: incremental


def _same(a: object, b: object) -> None:
    assert np.array_equal(np.asarray(a), np.asarray(b))


# -- zero deltas -----------------------------------------------------------------------------
@pytest.mark.parametrize("workspace", ["tiny_a", "tiny_inc", "demo_a"])
def test_zero_deltas_give_exactly_the_unmodified_figures(
    workspace: str, request: pytest.FixtureRequest
) -> None:
    a: Assessment = request.getfixturevalue(workspace)
    zero = dict.fromkeys(a.result.factor_ids, 0.0)
    for s_i, sid in enumerate(a.result.scenario_ids):
        for region in (None, *[g.id for g in a.ws.regions.groups][:2]):
            wi = what_if(a, sid, zero, region)
            assert wi.loss == wi.base_loss
            assert wi.loss_change == 0.0 and wi.eal_change == 0.0
            _same(wi.intensities, wi.base_intensities)
            _same(wi.by_factor["what_if"], wi.by_factor["base"])
            _same(wi.by_country["what_if"], wi.by_country["base"])
            assert not wi.active
            # and the unmodified figures are those of the cached assessment
            assert wi.base_loss == pytest.approx(a.result.scenario_loss()[s_i], rel=1e-12)
            assert wi.by_factor["base"].to_numpy() == pytest.approx(
                a.result.scenario_factor_loss()[s_i], rel=1e-12, abs=1e-9
            )
            assert wi.portfolio_eal == pytest.approx(a.result.expected_annual_loss(), rel=1e-12)
    assert what_if(a, a.result.scenario_ids[0], {}).loss_change == 0.0


# -- direction ---------------------------------------------------------------------------------
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_a_delta_moves_the_loss_its_own_way_in_every_country(
    demo_a: Assessment, sign: float
) -> None:
    for sid in demo_a.result.scenario_ids:
        for fid in demo_a.result.factor_ids:
            wi = what_if(demo_a, sid, {fid: sign * 2.5})
            change = wi.by_country["change"].to_numpy()
            if sign > 0:
                assert wi.loss >= wi.base_loss and (change >= -1e-6).all(), (sid, fid)
            else:
                assert wi.loss <= wi.base_loss and (change <= 1e-6).all(), (sid, fid)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=hs.data(),
    sign=hs.sampled_from([1.0, -1.0]),
    basis=hs.sampled_from(["tiny_a", "tiny_inc", "demo_a"]),
)
def test_deltas_of_one_sign_never_move_the_loss_the_other_way(
    data: hs.DataObject, sign: float, basis: str, request: pytest.FixtureRequest
) -> None:
    a: Assessment = request.getfixturevalue(basis)
    sid = data.draw(hs.sampled_from(a.result.scenario_ids))
    region = data.draw(hs.sampled_from(region_options(a))) or None
    steps = hs.integers(0, int(DELTA_MAX * 2)).map(lambda k: sign * k / 2)
    deltas = {f: data.draw(steps) for f in a.result.factor_ids}
    wi = what_if(a, sid, deltas, region)
    if sign > 0:
        assert wi.loss >= wi.base_loss - 1e-6
        assert wi.eal_change >= -1e-6
    else:
        assert wi.loss <= wi.base_loss + 1e-6
        assert wi.eal_change <= 1e-6
    assert ((wi.intensities >= 0) & (wi.intensities <= 10)).all()


def test_the_largest_slider_move_stays_on_the_intensity_scale(demo_a: Assessment) -> None:
    for delta in (DELTA_MIN, DELTA_MAX):
        wi = what_if(demo_a, "energy_winter", dict.fromkeys(demo_a.result.factor_ids, delta))
        assert wi.intensities.min() >= 0.0 and wi.intensities.max() <= 10.0


# -- regions -----------------------------------------------------------------------------------
def test_a_region_restricted_delta_leaves_other_countries_unchanged(demo_a: Assessment) -> None:
    members = set(region_countries(demo_a, "baltic"))
    assert members == {"EST", "LVA", "LTU"}
    wi = what_if(
        demo_a, "baltic_north_sea_hybrid", dict.fromkeys(demo_a.result.factor_ids, 3.0), "baltic"
    )
    inside = wi.by_country.index.isin(list(members))
    _same(wi.by_country.loc[~inside, "what_if"], wi.by_country.loc[~inside, "base"])
    assert (wi.by_country.loc[inside, "change"] > 0).any()
    rows = [demo_a.result.countries.index(c) for c in members]
    others = np.setdiff1d(np.arange(len(demo_a.result.countries)), rows)
    _same(wi.intensities[others], wi.base_intensities[others])


def test_a_country_can_be_the_region(tiny_a: Assessment) -> None:
    wi = what_if(tiny_a, "s1", {"alpha": 1.0}, "NOR")
    assert wi.countries == ["NOR"]
    # only P1 moves: alpha 6 -> 7
    assert wi.by_country["change"].to_dict() == pytest.approx({"DEU": 0, "FIN": 0, "NOR": 10})


def test_region_options_and_labels(demo_a: Assessment, tiny_a: Assessment) -> None:
    options = region_options(tiny_a)
    assert options == [ALL_COUNTRIES, "north", "FIN", "DEU", "NOR"]
    assert [region_label(tiny_a.ws, r) for r in options] == [
        "All countries",
        "North (group)",
        "Finland (country)",
        "Germany (country)",
        "Norway (country)",
    ]
    # groups that hold no asset are not offered
    demo_options = region_options(demo_a)
    held = set(demo_a.ws.portfolio.series("country"))
    for g in demo_a.ws.regions.groups:
        assert (g.id in demo_options) == bool(held & set(g.members))


def test_unknown_inputs_are_refused(tiny_a: Assessment) -> None:
    with pytest.raises(ValueError, match="unknown factor"):
        what_if(tiny_a, "s1", {"gamma": 1.0})
    with pytest.raises(ValueError, match="unknown region"):
        what_if(tiny_a, "s1", {"alpha": 1.0}, "ATLANTIS")
    with pytest.raises(KeyError, match="unknown scenario"):
        what_if(tiny_a, "nope", {"alpha": 1.0})


# -- hand-computed -----------------------------------------------------------------------------
def test_hand_computed_alpha_up_everywhere(tiny_a: Assessment) -> None:
    # s1 with alpha +1 everywhere: NOR alpha 7 -> P1 0.7 -> 70; FIN alpha 9 -> 0.9 with beta 6
    # -> 0.4: P2 1 - 0.1 * 0.6 = 0.94 -> 235; DEU alpha 2 -> office 0.1 -> 50
    wi = what_if(tiny_a, "s1", {"alpha": 1.0, "beta": 0.0})
    assert wi.base_loss == pytest.approx(305.0)
    assert wi.loss == pytest.approx(70 + 235 + 50)
    assert wi.by_country["what_if"].to_dict() == pytest.approx(
        {"DEU": 50.0, "FIN": 235.0, "NOR": 70.0}
    )
    # contributions are p x increment over the status quo (P1 20, P2 115, O1 25):
    # unmodified 40 + 105 + 0 = 145 -> 14.5; what-if 50 + 120 + 25 = 195 -> 19.5
    # (were 30.5 and 35.5, p x whole loss); the EAL moves by the same 5.0 either way
    assert wi.base_eal_contribution == pytest.approx(14.5)
    assert wi.eal_contribution == pytest.approx(19.5)
    assert wi.portfolio_eal == pytest.approx(175.5 + 5.0)
    assert wi.by_factor["what_if"].sum() == pytest.approx(wi.loss)


def test_hand_computed_clamp_at_ten(tiny_a: Assessment) -> None:
    # s2 scales DEU alpha 1 x 5 = 5; +5 more = 10 (cap): office 0.5 -> 250 (was 125)
    wi = what_if(tiny_a, "s2", {"alpha": 5.0}, "DEU")
    assert wi.loss == pytest.approx(20 + 115 + 250)
    assert wi.eal_change == pytest.approx(0.01 * 125)
    deu = tiny_a.result.countries.index("DEU")
    assert wi.intensities[deu, 0] == 10.0


def test_hand_computed_clamp_at_zero(tiny_a: Assessment) -> None:
    # base with beta -5 in the north: NOR beta 1 -> 0, FIN beta 3 -> 0 (floored): P2 keeps only
    # alpha 0.4 -> 100 (was 115); P1 had no beta damage (1 < 2)
    wi = what_if(tiny_a, "base", {"beta": -5.0}, "north")
    assert wi.loss == pytest.approx(20 + 100 + 25)
    assert wi.by_factor.loc["beta", "what_if"] == pytest.approx(0.0)
    # the what-if changes the scenario `base`, not the baseline: a scenario below the status
    # quo adds nothing (its increment is floored at 0), so the EAL stays 175.5 (the old
    # 193.1 - 15.0 let a de-escalated copy of the status quo lower it)
    assert wi.portfolio_eal == pytest.approx(175.5)


def test_hand_computed_incremental_basis(tiny_inc: Assessment) -> None:
    # incremental: loss above the baseline (P1 20, P2 115, O1 25); s1 with alpha +1:
    # P1 70 - 20, P2 235 - 115, O1 50 - 25
    wi = what_if(tiny_inc, "s1", {"alpha": 1.0})
    assert wi.base_loss == pytest.approx(40 + 105)
    assert wi.loss == pytest.approx(50 + 120 + 25)
    # lowering below the baseline books no gain
    assert what_if(tiny_inc, "base", {"alpha": -3.0}).loss == 0.0


def test_what_if_reuses_the_prepared_inputs(
    demo_a: Assessment, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object) -> None:
        raise AssertionError("what_if must not prepare the workspace again")

    monkeypatch.setattr(riskapp.engine.scoring, "prepare", refuse)
    assert what_if(demo_a, "energy_winter", {"energy_weaponization": 2.0}).loss_change > 0


# -- the page's tables ---------------------------------------------------------------------------
def test_change_text() -> None:
    assert NumberFormat().money_change(1_234_567) == "+EUR 1.2m"
    assert NumberFormat().money_change(-850_000) == "-EUR 850k"
    assert NumberFormat().money_change(0.2) == "no change"


def test_shock_and_signpost_tables(tiny_a: Assessment) -> None:
    s1 = tiny_a.ws.scenario("s1")
    shocks = shock_table(tiny_a.ws, s1)
    assert shocks.to_dict("records") == [
        {
            "target": "Finland (FIN)",
            "factor": "Beta factor",
            "op": "set to",
            "value": 6.0,
            "range": "5 to 8 (most likely 6)",
            "countries": "FIN",
            "note": "",
        },
        {
            "target": "North (group)",
            "factor": "Alpha factor",
            "op": "add",
            "value": 4.0,
            "range": "",
            "countries": "NOR, FIN",
            "note": "",
        },
    ]
    assert signpost_table(s1)[["name", "watch_for"]].to_dict("records") == [
        {"name": "Alpha index", "watch_for": "above 7"}
    ]
    base = tiny_a.ws.scenario("base")
    assert shock_table(tiny_a.ws, base).empty and signpost_table(base).empty
    assert list(shock_table(tiny_a.ws, base).columns) == list(shocks.columns)


def test_markdown_safe_tables_show_user_text_literally() -> None:
    import pandas as pd

    table = pd.DataFrame(
        {"name": ["**x** | <b>y</b>", "a\nb"], "value": [2.5, 3.0], "empty": ["", ""]}
    )
    out = markdown_safe(table, {"name": "Name", "value": "Value", "empty": "Never shown"})
    assert list(out.columns) == ["Name", "Value"]
    assert out["Name"].tolist() == [r"\*\*x\*\* \| \<b\>y\</b\>", "a b"]
    assert out["Value"].tolist() == [r"2\.5", "3"]


def test_scenario_facts(tiny_a: Assessment) -> None:
    facts = scenario_facts(tiny_a, "s1")
    assert facts.loss == pytest.approx(305.0)
    # 0.1 x (305 - 160) = 14.5 of 175.5 (were 30.5 of 193.1, status quo counted twice)
    assert facts.eal_contribution == pytest.approx(14.5)
    assert facts.eal_share == pytest.approx(14.5 / 175.5)
    assert (facts.rank, facts.count) == (1, 3)
    assert return_period_text(0.1) == "about once in 10 years"
    assert return_period_text(1.0) == "every year"
    assert return_period_text(0.0) == "never (probability 0)"


def test_compare_table(tiny_a: Assessment) -> None:
    by_factor = compare_table(tiny_a, ["s2", "s1"], "factor")
    assert list(by_factor.columns) == ["label", "s2", "s1"]
    assert by_factor["label"].tolist() == ["Alpha factor", "Beta factor"]
    assert by_factor[["s2", "s1"]].sum().tolist() == pytest.approx([260.0, 305.0])
    by_type = compare_table(tiny_a, ["s1", "s2"], "asset_type")
    assert by_type["label"].tolist() == ["Plant", "Office"]  # largest first
    assert by_type.loc["office", "s2"] == pytest.approx(125.0)
    by_group = compare_table(tiny_a, ["s1", "s2"], "region_group")
    assert by_group.loc["north", "label"] == "North"
    assert by_group.loc["north", ["s1", "s2"]].to_numpy(dtype=float) == pytest.approx([280, 135])
    assert default_comparison(tiny_a, 2) == ["s1", "s2"]


def test_compare_table_leaves_out_rows_without_loss(demo_a: Assessment) -> None:
    table = compare_table(demo_a, ["baseline", "energy_winter"], "region_group")
    assert (table[["baseline", "energy_winter"]].max(axis=1) > 0).all()
    assert len(table) < len(demo_a.ws.regions.groups)


def test_exceedance_points_and_line(tiny_a: Assessment) -> None:
    points = exceedance_points(tiny_a)
    assert points["title"].tolist() == ["Status quo", "German alpha spike", "Northern escalation"]
    assert points["return_period_years"].to_numpy() == pytest.approx([1 / 1.11, 1 / 0.11, 10.0])
    curve = tiny_a.result.exceedance()
    assert points["loss"].to_numpy() == pytest.approx(curve["loss"].to_numpy())
    line = exceedance_line(tiny_a)
    # reaches the workspace's largest return period, flat beyond the rarest scenario
    assert line["return_period_years"].max() == pytest.approx(100.0)
    assert line["loss"].iloc[-1] == pytest.approx(305.0)
    assert np.all(np.diff(line["loss"]) >= 0)
    readings = return_period_losses(tiny_a)
    expected = tiny_a.result.loss_at_return_periods([5.0, 10.0, 100.0])
    assert readings["loss"].tolist() == pytest.approx(list(expected.values()))
    # the readings lie on the drawn line
    assert np.interp(
        readings["return_period_years"], line["return_period_years"], line["loss"]
    ) == pytest.approx(readings["loss"].to_numpy())


# -- the Scenarios page's charts: fast figures (plotly's checks skipped) equal checked ones ------
@pytest.mark.parametrize("locale", ["en", "de"])
def test_what_if_chart_fast_and_checked_are_the_same(demo_a: Assessment, locale: str) -> None:
    from riskapp.charts.scenarios import whatif_factor_chart

    fmt = NumberFormat(currency=demo_a.currency, locale=locale)  # type: ignore[arg-type]
    ids = demo_a.ws.factors.ids
    for deltas in ({}, {"energy_weaponization": 2.0, "sanctions": -1.5}):
        result = what_if(demo_a, "energy_winter", deltas)
        fig = same_figure(
            lambda fast, r=result: whatif_factor_chart(
                r.by_factor, demo_a.ws.factors, fmt, ids, fast
            )
        )
        assert [b.name for b in fig.data] == ["Unmodified", "What-if"]
        np.testing.assert_array_equal(fig.data[1].x, result.by_factor["what_if"].to_numpy())
        top = float(result.by_factor[["base", "what_if"]].to_numpy().max())
        assert list(fig.layout.xaxis.ticktext) == fmt.money_ticks(0.0, top)[1]


@pytest.mark.parametrize("locale", ["en", "de"])
def test_compare_and_exceedance_charts_fast_and_checked_are_the_same(
    demo_a: Assessment, locale: str
) -> None:
    import pandas as pd

    from riskapp.assessment.whatif import COMPARE_DIMENSIONS
    from riskapp.charts.scenarios import compare_chart, exceedance_chart

    fmt = NumberFormat(currency=demo_a.currency, locale=locale)  # type: ignore[arg-type]
    titles = {s.id: s.title for s in demo_a.ws.scenarios}
    chosen = default_comparison(demo_a, 3)
    for dimension, label in COMPARE_DIMENSIONS.items():
        table = compare_table(demo_a, chosen, dimension)
        fig = same_figure(lambda fast, t=table, x=label: compare_chart(t, titles, x, fmt, fast))
        assert len(fig.data) == len(chosen) == 3
    points, line = exceedance_points(demo_a), exceedance_line(demo_a)
    readings = pd.DataFrame({"return_period_years": [10.0, 100.0], "loss": [1e6, 5e6]})
    for read in (None, readings):
        fig = same_figure(lambda fast, r=read: exceedance_chart(points, line, r, fmt, fast))
        assert len(fig.data) == (2 if read is None else 3)
        np.testing.assert_array_equal(fig.data[1].y, points["loss"].to_numpy())


def test_layout_props_are_what_layout_sets() -> None:
    import plotly.graph_objects as go

    from riskapp.charts.common import layout, layout_props

    for title, height, fmt in [(None, 300, None), ("T", 500, NumberFormat(locale="de"))]:
        expected = layout(go.Figure(), title, height, fmt).to_dict()["layout"]
        expected.pop("template")
        # (an untitled checked figure keeps an empty title object, which draws nothing)
        assert layout_props(title, height, fmt) == no_empty(expected)
