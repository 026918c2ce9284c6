"""History: saved assessments, what changed between two and why, the trend of key figures,
and plan reviews that are overdue."""

from __future__ import annotations

from datetime import date

import streamlit as st

from riskapp.assessment import register as rv
from riskapp.charts import history as history_charts
from riskapp.charts.common import PLOTLY_CONFIG
from riskapp.dashboard import store_view as sv
from riskapp.dashboard.format import money_table, plain
from riskapp.format import NumberFormat
from riskapp.io import InputError
from riskapp.store import AccessDenied, Permission, StoreBusyError
from riskapp.store.assessments import trend

actor = sv.login_gate(sidebar=False)  # app.py shows who is signed in
store = sv.get_store()

st.title("History")
st.caption(
    "Save the current assessment (label, date, a hash of every input, the results) and compare "
    "any two: which figures moved by asset, country and factor, and which inputs changed."
)

# -- overdue reviews ---------------------------------------------------------------------------
today = date.today()
overdue = rv.overdue_reviews(store.plans(), today)
if len(overdue):
    st.warning(f"{len(overdue)} contingency plan(s) are past their review date.")
    st.dataframe(overdue, hide_index=True, width="stretch", key="his_overdue")
else:
    st.caption("No plan review is overdue.")

# -- save --------------------------------------------------------------------------------------
if store.check(actor, Permission.SAVE_ASSESSMENT):
    with st.form("his_save"):
        st.subheader("Save the current assessment")
        left, middle, right = st.columns([3, 2, 2])
        label = left.text_input("Label", placeholder="e.g. Q4 2025 board review", key="his_label")
        as_of = middle.date_input("Date", value=today, key="his_date")
        basis = right.radio("Losses", ["absolute", "incremental"], key="his_basis", horizontal=True)
        chances = right.radio(
            "Scenario probabilities",
            ["prior", "current"],
            key="his_probabilities",
            horizontal=True,
            help="Current: as the crossed signposts make them (Signposts page).",
        )
        if st.form_submit_button("Save assessment", type="primary"):
            try:
                from riskapp.assessment.history import save
                from riskapp.domain import LossBasis

                current = sv.store_assessment(LossBasis(basis), chances)
                saved = save(current, store, label, as_of, actor)
            except InputError as exc:
                st.error("Not saved:")
                st.dataframe(rv.problems_frame(exc.problems), hide_index=True)
            except AccessDenied as exc:
                st.error(str(exc))
            except StoreBusyError as exc:
                st.warning(str(exc))
            else:
                st.success(f"Saved '{plain(saved.label)}' ({saved.as_of}).")
else:
    st.info(f"Saving assessments needs the analyst role; yours is {actor.role.value}.")

saved_list = store.assessments()
if not saved_list:
    st.info("No saved assessments yet.")
    st.stop()

# -- trend -------------------------------------------------------------------------------------
currency = str(sv.saved_assessment(saved_list[-1]).results.get("currency", ""))
table = trend(saved_list)
st.plotly_chart(
    history_charts.trend_chart(table, NumberFormat(currency=currency or "EUR")),
    config=PLOTLY_CONFIG,
    width="stretch",
    key="his_trend",
)
st.dataframe(table.drop(columns=["id"]), hide_index=True, width="stretch", key="his_list")

# -- compare -----------------------------------------------------------------------------------
if len(saved_list) < 2:
    st.info("Save a second assessment to compare two.")
    st.stop()
st.subheader("Compare two assessments")
names = {s.id: f"{s.as_of} - {s.label} (#{s.id})" for s in saved_list}
summaries = {s.id: s for s in saved_list}
ids = list(names)
left, right = st.columns(2)
before_id = left.selectbox(
    "Before", ids, index=len(ids) - 2, format_func=names.__getitem__, key="his_before"
)
after_id = right.selectbox(
    "After", ids, index=len(ids) - 1, format_func=names.__getitem__, key="his_after"
)
# saved assessments never change: each is read, and each pair compared, once per server
comparison = sv.comparison(summaries[before_id], summaries[after_id])
if comparison.same_inputs:
    st.caption("Both assessments were made from identical inputs (same hash).")
money = NumberFormat(currency=currency or "EUR")
st.dataframe(
    money_table(rv.key_figure_table(comparison), money, ["before", "after", "change"]),
    hide_index=True,
    width="stretch",
    key="his_figures",
)
dimension = st.radio(
    "Changes by",
    ["asset", "country", "factor", "asset_type", "scenario"],
    horizontal=True,
    key="his_dimension",
)
movers = rv.comparison_table(comparison, dimension)
if movers.empty:
    st.caption(f"No {dimension} moved.")
else:
    st.dataframe(
        money_table(movers, money, ["before", "after", "change"]),
        hide_index=True,
        width="stretch",
        key="his_movers",
    )
st.markdown(f"**Inputs that changed ({len(comparison.changes)})**")
if comparison.changes:
    st.dataframe(
        [{"input": c.part, "id": c.key, "change": c.what} for c in comparison.changes],
        hide_index=True,
        width="stretch",
        key="his_changes",
    )
else:
    st.caption("None.")
