"""Overview: what is at risk, where, from what."""

from __future__ import annotations

import streamlit as st

from riskapp.assessment.actions import three_actions
from riskapp.assessment.core import (
    asset_table,
    country_factor_eal,
    group_factor_eal,
    key_figures,
    largest_first,
    largest_total_first,
)
from riskapp.assessment.headline import nothing_to_count
from riskapp.charts.common import PLOTLY_CONFIG
from riskapp.charts.maps import overview_map
from riskapp.charts.overview import factor_heatmap
from riskapp.dashboard import state
from riskapp.dashboard.cards import headline_cards
from riskapp.dashboard.format import money_table, plain

MAP_MARKERS = 2_000  # asset markers on the map: a browser draws 20,000 slowly and unreadably
MAP_FLOWS = 500  # dependency lines on the map: those with the most value at stake

a = state.assessment()
st.title("Overview")
st.caption(
    f"{plain(a.ws.settings.name)} — what the portfolio stands to lose to geopolitical factors, "
    f"where and from what. Money in {a.currency}; losses are "
    f"{a.result.basis.value} (change in the sidebar)."
)
nothing = nothing_to_count(a)
if nothing is not None:  # a new workspace: say why every figure is 0 (as `riskapp score` does)
    st.info(nothing[0].upper() + nothing[1:] + ".", icon=":material/info:")

# the headline cards stay on top but are filled last: their value at risk needs the headline
# simulation (a second or so on the first visit), and the charts below need nothing of it, so
# they are drawn meanwhile instead of waiting for it
cards = st.container()

st.subheader("Three things to act on")
for i, action in enumerate(three_actions(a), 1):
    st.markdown(f"**{i}. {plain(action.title)}**  \n{plain(action.detail)}")
st.caption(
    "Chosen from the numbers by the rule every report uses (see Methodology): the best plan "
    "not yet in place, the largest readiness gap, the asset with the largest expected annual "
    "loss."
)

# -- since the last refresh (riskapp refresh / watch keep each refresh in the history) -------
changes = a.refresh_changes
with st.expander(
    "Since the last refresh"
    + (f" ({changes.at:%Y-%m-%d %H:%M} UTC)" if changes is not None else ": no refresh yet"),
    expanded=changes is not None,
):
    if changes is None:
        st.caption(
            "`riskapp refresh` (or `riskapp watch` on a schedule) fetches the indicators, "
            "rescores and raises alerts; what each refresh changed is shown here."
        )
    else:
        left, middle, right, far = st.columns(4)
        if changes.eal_change is not None and changes.eal_before is not None:
            left.metric(
                "Expected annual loss",
                a.fmt.money(changes.eal_after),
                delta=a.fmt.money(changes.eal_change),
                delta_color="inverse",
            )
        else:
            left.metric("Expected annual loss", a.fmt.money(changes.eal_after))
        middle.metric("Signposts crossed", len(changes.crossed))
        right.metric("Probabilities moved", len(changes.moved))
        far.metric("Plans triggered", len(changes.triggered))
        for label, items in (
            ("Signposts crossed", changes.crossed),
            ("Probabilities moved", changes.moved),
            ("Plans triggered", changes.triggered),
        ):
            if items:
                st.text(f"{label}: " + "; ".join(x.title for x in items))
        moved = changes.by_scenario
        if len(moved) and (moved["change"].abs() > 0).any():
            st.caption("The change in expected annual loss by scenario, and why")
            st.dataframe(
                money_table(
                    moved[moved["change"].abs() > 0].head(10), a.fmt, ["before", "after", "change"]
                ),
                hide_index=True,
                width="stretch",
                key="overview_changes",
            )

assets = asset_table(a)
st.subheader("Where the loss is")
measure = st.radio(
    "Colour countries by",
    ["eal", "exposed_value"],
    format_func={"eal": "Expected annual loss", "exposed_value": "Exposed value"}.get,
    horizontal=True,
    key="overview_measure",
)
world = overview_map(
    a, measure, max_markers=MAP_MARKERS, max_flows=MAP_FLOWS, fast=True, assets=assets
)
st.plotly_chart(world.figure, config=PLOTLY_CONFIG, key="overview_map")
st.caption(world.caption)

st.subheader("Which factors, where")
rows = st.radio("Rows", ["country", "region group"], horizontal=True, key="overview_heat_rows")
table = country_factor_eal(a) if rows == "country" else group_factor_eal(a)
table = largest_total_first(table)
st.plotly_chart(
    factor_heatmap(table, a.ws.factors, a.fmt, rows),
    config=PLOTLY_CONFIG,
    key="overview_heatmap",
)
st.caption(
    f"Expected annual loss ({a.currency}) by {rows} and factor."
    + (
        " Region groups overlap (a country can be Nordic and Arctic): rows do not add up."
        if rows == "region group"
        else ""
    )
)

st.subheader("Top assets at risk")
names = {f.id: f.name for f in a.ws.factors.factors}
top = largest_first(assets, top=15)
st.dataframe(
    money_table(
        top.assign(dominant_factor=top["dominant_factor"].map(lambda f: names.get(f, "-")))[
            [
                "id",
                "name",
                "type",
                "country_name",
                "exposed_value",
                "eal",
                "dominant_factor",
                "owner",
            ]
        ],
        a.fmt,
        ["exposed_value", "eal"],
    ),
    hide_index=True,
    column_config={
        "id": "Asset",
        "name": "Name",
        "type": "Type",
        "country_name": "Country",
        "exposed_value": "Exposed value",
        "eal": "Expected annual loss",
        "dominant_factor": "Main factor",
        "owner": "Owner",
    },
)

with cards, st.spinner("Simulating years for the value at risk..."):
    headline_cards(key_figures(a), a.headline)
