"""Assets: the register, filtered and sorted, and one asset's drill-down."""

from __future__ import annotations

import functools
from typing import Any

import pandas as pd
import streamlit as st

from riskapp.assessment.core import largest_first
from riskapp.assessment.headline import eal_definition
from riskapp.assessment.tables import (
    asset_curves,
    asset_factor_loss,
    asset_facts,
    asset_intensity_marks,
    dependents,
    depends_on,
    filter_options,
    filter_register,
    register,
    scenario_titles,
    worst_scenario,
)
from riskapp.charts.assets import curve_chart, factor_loss_bars
from riskapp.charts.common import PLOTLY_CONFIG
from riskapp.dashboard import state
from riskapp.dashboard.format import money_table, plain
from riskapp.domain import country_name
from riskapp.domain.common import subdivision_name
from riskapp.io.export import neutralise_formulas

MAX_ROWS = 2_000  # rows of the register table; the rest are counted and downloadable
RANKINGS = {
    "eal": "Expected annual loss",
    "scenario_loss": "Loss in the scenario",
    "exposed_value": "Exposed value",
    "criticality": "Criticality",
}
TABLE_COLUMNS = [
    "id",
    "name",
    "type",
    "country_name",
    "exposed_value",
    "scenario_loss",
    "eal",
    "dominant_factor_name",
    "criticality",
    "owner",
    "tags",
]
MONEY_COLUMNS = ["exposed_value", "scenario_loss", "eal"]


def _csv(frame: pd.DataFrame) -> str:
    return str(neutralise_formulas(frame).to_csv(index=False))


a = state.assessment()
fmt = a.fmt
cur = fmt.currency
titles = scenario_titles(a.ws)

st.title("Assets")
st.caption(
    "The asset register with what each asset stands to lose, and one asset at a time: which "
    f"factors drive its loss, its vulnerability curves and its dependencies. Money in {cur}."
)

# -- register -------------------------------------------------------------------------------
ids = a.result.scenario_ids
scenario = st.selectbox(
    "Scenario for the loss column",
    ids,
    index=ids.index(worst_scenario(a)),
    format_func=titles.__getitem__,
    key="ast_scenario",
    help="Defaults to the scenario with the largest portfolio loss.",
)
reg = register(a, scenario)
options = filter_options(reg)
cols = st.columns(4)
chosen_type = cols[0].multiselect("Type", options["type"], key="ast_filter_type")
chosen_country = cols[1].multiselect(
    "Country",
    options["country"],
    format_func=lambda c: f"{country_name(c)} ({c})",
    key="ast_filter_country",
)
chosen_tag = cols[2].multiselect("Tag", options["tag"], key="ast_filter_tag")
chosen_owner = cols[3].multiselect("Owner", options["owner"], key="ast_filter_owner")
shown = filter_register(reg, chosen_type, chosen_country, chosen_tag, chosen_owner)
if shown.empty:
    st.caption(
        f"0 of {len(reg):,} assets. Within a filter any choice matches; filters combine. "
        "Click a column header to sort."
    )
    st.info("No asset matches these filters - clear a filter.", icon=":material/filter_alt_off:")
    st.stop()

# a browser table of tens of thousands of rows, each money cell written by the one number
# format, costs the server seconds on every run and nobody reads it: past MAX_ROWS the table
# lists the largest MAX_ROWS by a measure the user picks; every matching row downloads as CSV
ranked_by = "eal"
if len(shown) > MAX_ROWS:
    ranked_by = st.selectbox(
        f"The table lists the {MAX_ROWS:,} assets with the largest",
        list(RANKINGS),
        format_func=RANKINGS.__getitem__,
        key="ast_rank",
    )
shown = largest_first(shown)
table = (shown if ranked_by == "eal" else largest_first(shown, ranked_by)).head(MAX_ROWS)
st.caption(
    f"{len(shown):,} of {len(reg):,} assets"
    + (
        f"; the {MAX_ROWS:,} with the largest {RANKINGS[ranked_by].lower()} are listed (narrow "
        "the filters, or download the whole list)"
        if len(shown) > MAX_ROWS
        else ""
    )
    + ". Within a filter any choice matches; filters combine. Click a column header to sort."
)
st.dataframe(
    money_table(table[TABLE_COLUMNS], a.fmt, MONEY_COLUMNS),
    hide_index=True,
    column_config={
        "id": "Asset",
        "name": st.column_config.TextColumn("Name", width="medium"),
        "type": "Type",
        "country_name": "Country",
        "tags": "Tags",
        "owner": "Owner",
        "criticality": st.column_config.NumberColumn(
            "Criticality", format="%d", help="1 to 5; 5 = most critical to the business."
        ),
        "exposed_value": st.column_config.Column(
            "Exposed value",
            help="Replacement value plus one year of revenue at stake.",
        ),
        "scenario_loss": st.column_config.Column(
            "Loss in scenario",
            help="Loss in the scenario chosen above.",
        ),
        "eal": st.column_config.Column(
            "Expected annual loss (a year)",
            help=eal_definition(a.result.basis),
        ),
        "dominant_factor_name": "Main factor",
    },
    key="ast_register",
)
st.download_button(
    f"Download the {len(shown):,} assets the filters select (CSV)",
    # written when the button is clicked: amounts as plain numbers in the reporting currency
    functools.partial(_csv, shown[TABLE_COLUMNS]),
    file_name="assets.csv",
    mime="text/csv",
    on_click="ignore",
    key="ast_download",
)

# -- drill-down -----------------------------------------------------------------------------
st.header("One asset")
names = dict(zip(shown["id"], shown["name"], strict=True))
asset_id = st.selectbox(
    "Asset (from the filtered register, largest expected annual loss first)",
    list(shown["id"]),
    format_func=lambda i: f"{names[i]} ({i})",
    key="ast_asset",
)
facts = asset_facts(a, asset_id, reg)
st.subheader(plain(facts.name))
st.caption(
    plain(
        f"{facts.id} - {facts.type} in {facts.country_name}"
        + (
            f", {subdivision_name(facts.subdivision)} ({facts.subdivision}"
            + (", read from its coordinates)" if facts.subdivision_read else ")")
            if facts.subdivision
            else ""
        )
        + (f" - tags: {', '.join(facts.tags)}" if facts.tags else "")
        + (
            " - location approximate: the centre of its city (GeoNames), from the register's "
            "city column"
            if facts.approximate
            else ""
        )
    )
)
m = [*st.columns(3), *st.columns(3)]
m[0].metric(
    "Replacement value",
    fmt.in_currency(facts.currency).money(facts.replacement_value),
    help=f"Cost to replace the asset, in its own currency ({facts.currency}).",
    border=True,
)
m[1].metric(
    "Revenue at stake",
    fmt.in_currency(facts.currency).money(facts.annual_revenue),
    help=f"Annual revenue that depends on the asset, in {facts.currency}.",
    border=True,
)
m[2].metric(
    "Exposed value",
    a.fmt.money(facts.exposed_value),
    help=f"Replacement value plus revenue at stake, converted to {cur}.",
    border=True,
)
m[3].metric(
    "Expected annual loss",
    a.fmt.money(facts.eal),
    help=eal_definition(a.result.basis),
    border=True,
)
m[4].metric("Criticality", f"{facts.criticality} of 5", border=True)
with m[5].container(border=True):  # owner text wraps, a metric would cut it off
    st.caption("Owner")
    st.markdown(plain(facts.owner) if facts.owner else "none given")

st.subheader("Loss by factor per scenario")
loss = asset_factor_loss(a, asset_id)
if loss.empty:
    st.info(
        "This asset loses nothing in any scenario: no scenario raises a factor it is "
        "vulnerable to. Its curves below show where damage starts."
    )
else:
    st.plotly_chart(
        factor_loss_bars(loss, a.ws.factors, fmt, ids),
        config=PLOTLY_CONFIG,
        key="ast_factor_loss",
    )

st.subheader("Vulnerability curves")
st.plotly_chart(
    curve_chart(asset_curves(a, asset_id), asset_intensity_marks(a, asset_id), a.ws.factors),
    config=PLOTLY_CONFIG,
    key="ast_curves",
)
st.caption(
    "Lines: damage ratio at each intensity for the factors this asset is vulnerable to (its "
    "own curve where it has one, else its type's). Dots: the intensity its country feels in "
    "each scenario before any plan; hover names the scenarios."
)

link_columns: dict[str, Any] = {
    "id": "Asset",
    "name": "Name",
    "type": "Type",
    "country_name": "Country",
    "relation": "Link",
    "steps": st.column_config.NumberColumn("Steps away", format="%d"),
    "via": "Via",
    "eal": st.column_config.Column("Expected annual loss (a year)"),
}
st.subheader("What it depends on")
upstream = depends_on(a, asset_id)
if upstream.empty:
    st.caption("This asset depends on no other asset in the register.")
else:
    direct = int((upstream["relation"] == "direct").sum())
    st.caption(
        f"{direct} direct, {len(upstream) - direct} indirect (reached through the assets in "
        "'Via'): a disruption of any of them can reach this asset."
    )
    st.dataframe(
        money_table(upstream, a.fmt, ["eal"]),
        hide_index=True,
        column_config=link_columns,
        key="ast_upstream",
    )

st.subheader("What depends on it")
downstream = dependents(a, asset_id)
if downstream.empty:
    st.caption("No asset in the register depends on this one.")
else:
    direct = int((downstream["relation"] == "direct").sum())
    st.caption(
        f"{direct} direct, {len(downstream) - direct} indirect: a disruption here can spread "
        "to these assets."
    )
    st.dataframe(
        money_table(downstream, a.fmt, ["eal"]),
        hide_index=True,
        column_config=link_columns,
        key="ast_downstream",
    )
