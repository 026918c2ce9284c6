"""Scenarios: read one, compare two or three, see how often losses recur, test what-ifs."""

from __future__ import annotations

import streamlit as st

from riskapp.assessment.core import Assessment
from riskapp.assessment.scale import SHOWN_CLAMP_COLUMNS
from riskapp.assessment.whatif import (
    ALL_COUNTRIES,
    COMPARE_DIMENSIONS,
    DELTA_MAX,
    DELTA_MIN,
    DELTA_STEP,
    compare_table,
    default_comparison,
    exceedance_line,
    exceedance_points,
    markdown_safe,
    region_label,
    region_options,
    return_period_text,
    scenario_facts,
    shock_table,
    signpost_table,
    what_if,
)
from riskapp.charts.common import PLOTLY_CONFIG
from riskapp.charts.scenarios import compare_chart, exceedance_chart, whatif_factor_chart
from riskapp.dashboard import state
from riskapp.dashboard.format import money_table, plain
from riskapp.domain import LossBasis, country_name

a = state.assessment()
ws = a.ws
basis_text = (
    "above today's baseline" if a.result.basis is LossBasis.INCREMENTAL else "at scenario intensity"
)
st.title("Scenarios")
st.caption(
    "Read each scenario, compare their losses, see how often losses recur and test what-if "
    f"changes to factor intensities. Money in {a.currency}; losses are {basis_text} (change in "
    "the sidebar)."
)

if not ws.scenarios:
    st.info(
        "This workspace has no scenarios. Add one YAML file per scenario to its scenarios "
        "folder (the README's 'scenarios/*.yaml' section shows the format; `riskapp validate` "
        "checks it), then reload the page."
    )
    st.stop()

titles = {s.id: s.title for s in ws.scenarios}
ids = [s.id for s in ws.scenarios]
if len(a.clamps):
    clamp_ids = list(dict.fromkeys(a.clamps["scenario_id"]))
    st.warning(
        f"Shocks hit the scale's limit in {len(clamp_ids)} scenario"
        f"{'' if len(clamp_ids) == 1 else 's'}: "
        + plain(", ".join(titles[c] for c in clamp_ids))
        + ". Pick one below to see where and by how much.",
        icon=":material/warning:",
    )

# -- one scenario ------------------------------------------------------------------------------
sid = st.selectbox("Scenario", ids, format_func=titles.__getitem__, key="scn_pick")
scenario = ws.scenario(sid)
facts = scenario_facts(a, sid)

cols = st.columns(4)
cols[0].metric(
    "Loss if it happens",
    a.fmt.money(facts.loss),
    help=f"Portfolio loss in this scenario, in {a.currency}; rank {facts.rank} of "
    f"{facts.count} scenarios by loss.",
    border=True,
)
cols[1].metric(
    "Annual probability",
    f"{facts.frequency:.0%}" if facts.frequency >= 0.01 else f"{facts.frequency:.2%}",
    help=f"Chance that the scenario occurs in a given year: {return_period_text(facts.frequency)}.",
    border=True,
)
cols[2].metric(
    "Expected loss per year",
    a.fmt.money(facts.eal_contribution),
    help="Annual probability x the loss above the status quo (floored at 0 per asset): this "
    f"scenario's contribution to the portfolio's expected "
    f"annual loss of {a.fmt.money(a.result.expected_annual_loss())} ({facts.eal_share:.0%}).",
    border=True,
)
cols[3].metric(
    "Warning time",
    f"{scenario.warning_time_days:g} days",
    help="Days of notice a company can expect before the scenario hits; plans that take "
    "longer to prepare are not ready in time.",
    border=True,
)

st.subheader("Narrative")
if scenario.narrative.strip():
    st.markdown(plain(scenario.narrative))
else:
    st.info("No narrative yet: add a `narrative:` paragraph to this scenario's YAML file.")
details = [
    f"lasts about {scenario.horizon_years:g} years",
    return_period_text(facts.frequency),
]
if scenario.tags:
    details.append("tags: " + ", ".join(scenario.tags))
st.caption(plain("; ".join(details).capitalize() + "."))

st.subheader("Shocks")
shocks = shock_table(ws, scenario)
if shocks.empty:
    st.info(
        "No shocks: this scenario keeps today's baseline intensities. Add `shocks:` to its "
        "YAML file to change factor intensities."
    )
else:
    st.table(
        markdown_safe(
            shocks,
            {
                "target": "Target",
                "factor": "Factor",
                "op": "Operation",
                "value": "Value",
                "range": "Uncertainty range",
                "countries": "Countries",
                "note": "Note",
            },
        ),
        hide_index=True,
        border="horizontal",
    )
    st.caption(
        "Values are intensity points on the 0-10 scale (a factor for 'multiply by', a fraction "
        "of the distance to 10 or 0 for 'move toward'). Group shocks apply first, then country "
        "shocks, each in file order; intensities are clamped to 0-10 after each shock, and "
        "every clamp is listed below."
    )
    clamped = a.clamps[a.clamps["scenario_id"] == sid]
    if len(clamped):
        st.warning(
            f"{len(clamped)} shocked intensit{'y' if len(clamped) == 1 else 'ies'} in this "
            "scenario ran past the 0-10 scale and "
            f"{'was' if len(clamped) == 1 else 'were'} clamped: the scenario gives these "
            "places less than it says (a country already at 10 gains nothing from adding "
            "points). 'At' says whether at the shock's value, which the figures above use, or "
            "only at an end of its uncertainty range, which the Monte Carlo draws. Where that "
            "misleads, use op `toward_max` or `toward_min` in the scenario file: a fraction of "
            "the distance to the scale's end, which never clamps.",
            icon=":material/warning:",
        )
        st.dataframe(
            money_table(clamped, a.fmt, ["exposed_value"]),
            column_order=SHOWN_CLAMP_COLUMNS,
            hide_index=True,
            column_config={
                "shock": st.column_config.NumberColumn("Shock no.", format="%d"),
                "at": "At",
                "target": "Target",
                "country_name": "Country",
                "factor": "Factor",
                "op": "Operation",
                "value": st.column_config.NumberColumn("Value", format="%g"),
                "before": st.column_config.NumberColumn("Before the shock", format="%.2f"),
                "unclamped": st.column_config.NumberColumn("Shock asked for", format="%.2f"),
                "clamped": st.column_config.NumberColumn("Used (clamped)", format="%.2f"),
                "lost": st.column_config.NumberColumn("Lost to the clamp", format="%+.2f"),
                "assets": st.column_config.NumberColumn("Assets there", format="%d"),
                "exposed_value": st.column_config.Column("Exposed value there"),
            },
            key="scn_clamps",
        )

st.subheader("Signposts")
signposts = signpost_table(scenario)
if signposts.empty:
    st.info(
        "No signposts: add `signposts:` (indicator, threshold, direction) to the scenario's "
        "YAML file to know what to watch."
    )
else:
    st.table(
        markdown_safe(
            signposts,
            {
                "name": "Signpost",
                "indicator": "Indicator",
                "watch_for": "Watch for",
                "description": "Description",
            },
        ),
        hide_index=True,
        border="horizontal",
    )

# -- comparison --------------------------------------------------------------------------------
st.subheader("Compare scenarios")
chosen = st.multiselect(
    "Scenarios to compare (two or three)",
    ids,
    default=default_comparison(a, 2),
    format_func=titles.__getitem__,
    max_selections=3,
    key="scn_compare",
)
dimension = st.radio(
    "Loss by",
    list(COMPARE_DIMENSIONS),
    format_func=COMPARE_DIMENSIONS.__getitem__,
    horizontal=True,
    key="scn_compare_by",
)
if len(chosen) < 2:
    st.info("Pick two or three scenarios above to see their losses side by side.")
else:
    table = compare_table(a, chosen, dimension)
    if table.empty:
        st.info(
            "None of the chosen scenarios causes a loss on this basis. Pick other scenarios, or "
            "switch the sidebar to absolute losses."
        )
    else:
        st.plotly_chart(
            compare_chart(table, titles, COMPARE_DIMENSIONS[dimension], a.fmt, fast=True),
            config=PLOTLY_CONFIG,
            key="scn_compare_chart",
        )
        if dimension == "region_group":
            st.caption(
                "Region groups overlap (a country can be Nordic and Arctic): bars do not add up. "
                "Groups with no loss in any chosen scenario are left out."
            )
        else:
            st.caption("Rows with no loss in any chosen scenario are left out.")

# -- exceedance --------------------------------------------------------------------------------
st.subheader("How often each scenario's loss is reached")
points = exceedance_points(a)
if points.empty:
    st.info(
        "No scenario has an annual probability above zero, so there is no exceedance curve. "
        "Give the scenarios a `frequency:` in their YAML files."
    )
else:
    st.plotly_chart(
        exceedance_chart(points, exceedance_line(a), None, a.fmt, fast=True),
        config=PLOTLY_CONFIG,
        key="scn_exceedance",
    )
    st.caption(
        "Each dot is a scenario: its loss and how often a loss that large or larger occurs "
        "(return period = 1 / the summed annual probability of it and every larger-loss "
        "scenario), one scenario at a time; the line is held at the largest scenario loss "
        "beyond the rarest one. The headline return-period losses (Overview, Risk "
        "distribution, reports) are annual losses read from simulated years, in which several "
        "scenarios can occur together, so they can exceed any single scenario's loss."
    )


# -- what-if -----------------------------------------------------------------------------------
def _reset(factor_ids: list[str]) -> None:
    for fid in factor_ids:
        st.session_state[f"scn_whatif_{fid}"] = 0.0
    st.session_state["scn_whatif_region"] = ALL_COUNTRIES


@st.fragment
def what_if_section(a: Assessment, sid: str, regions: dict[str, str]) -> None:
    """Reruns on its own when a slider moves: only this scenario is rescored. What does not
    change with the sliders (the heading, the region choices and their labels) is made by the
    page run, not by every slider move."""
    ws = a.ws
    factor_ids = ws.factors.ids
    top, button = st.columns([4, 1], vertical_alignment="bottom")
    region = top.selectbox(
        "Apply the changes to",
        list(regions),
        format_func=regions.__getitem__,
        key="scn_whatif_region",
        help="All countries, a region group, or one country that holds assets.",
    )
    button.button(
        "Reset",
        on_click=_reset,
        args=(factor_ids,),
        key="scn_whatif_reset",
        help="Set every slider back to 0 and the region to all countries.",
        width="stretch",
    )
    deltas: dict[str, float] = {}
    slider_cols = st.columns(4)
    for i, factor in enumerate(ws.factors.factors):
        key = f"scn_whatif_{factor.id}"
        st.session_state.setdefault(key, 0.0)  # the start value; Reset writes it back
        deltas[factor.id] = slider_cols[i % 4].slider(
            f"{plain(factor.name)} (intensity points)",
            min_value=DELTA_MIN,
            max_value=DELTA_MAX,
            step=DELTA_STEP,
            format="%+.1f",
            key=key,
        )
    result = what_if(a, sid, deltas, region or None)

    m = st.columns(3)
    m[0].metric(
        "Scenario loss, what-if",
        a.fmt.money(result.loss),
        delta=a.fmt.money_change(result.loss_change),
        delta_color="inverse" if result.active else "off",
        delta_arrow="auto" if result.active else "off",
        help=f"Portfolio loss in this scenario with the changes; unmodified: "
        f"{a.fmt.money(result.base_loss)}.",
        border=True,
    )
    m[1].metric(
        "Contribution to expected annual loss",
        a.fmt.money(result.eal_contribution),
        delta=a.fmt.money_change(result.eal_change),
        delta_color="inverse" if result.active else "off",
        delta_arrow="auto" if result.active else "off",
        help=f"Annual probability ({result.frequency:.1%}) x the what-if loss; unmodified: "
        f"{a.fmt.money(result.base_eal_contribution)}.",
        border=True,
    )
    m[2].metric(
        "Portfolio expected annual loss",
        a.fmt.money(result.portfolio_eal),
        delta=a.fmt.money_change(result.eal_change),
        delta_color="inverse" if result.active else "off",
        delta_arrow="auto" if result.active else "off",
        help=f"All scenarios, with this one changed; unmodified: "
        f"{a.fmt.money(result.portfolio_eal_base)}.",
        border=True,
    )
    notes = []
    if a.result.basis is LossBasis.INCREMENTAL:
        notes.append(
            "Losses are counted above today's baseline, so lowering intensities below it "
            "saves nothing."
        )
    if result.active:
        notes.append(
            "Factors share an asset's combined loss, so raising one factor can shift a little "
            "of the loss attributed to the others."
        )
    else:
        notes.append("Move a slider to see its effect.")
    if notes:
        st.caption(" ".join(notes))

    st.plotly_chart(
        whatif_factor_chart(result.by_factor, ws.factors, a.fmt, order=factor_ids, fast=True),
        config=PLOTLY_CONFIG,
        key="scn_whatif_chart",
    )
    # drawn only while open (a closed expander's table would be built on every slider move);
    # its label stays the same so that it stays open while the sliders move
    by_country = st.expander("Loss by country", key="scn_whatif_by_country", on_change="rerun")
    if by_country.open:
        changed = result.by_country[result.by_country["change"].abs() >= 0.5]
        by_country.caption(
            f"{len(changed)} countr{'y' if len(changed) == 1 else 'ies'} changed"
            + (" (listed)." if len(changed) else "; every country holding assets is listed.")
        )
        shown = (changed if len(changed) else result.by_country).sort_values(
            "what_if", ascending=False
        )
        by_country.dataframe(
            money_table(
                shown.assign(country=[country_name(c) for c in shown.index]),
                a.fmt,
                ["base", "what_if", "change"],
            ),
            column_order=["country", "base", "what_if", "change"],
            hide_index=True,
            column_config={
                "country": "Country",
                "base": st.column_config.Column("Unmodified"),
                "what_if": st.column_config.Column("What-if"),
                "change": st.column_config.Column("Change"),
            },
            key="scn_whatif_countries",
        )


st.subheader("What if")
st.caption(
    plain(f"Shift factor intensities in “{scenario.title}”")
    + " (0-10 scale; results are clamped to 0-10) and see the loss change at once. Only "
    "this scenario is rescored; the figures above stay unmodified."
)
what_if_section(a, sid, {r: region_label(ws, r) for r in region_options(a)})
