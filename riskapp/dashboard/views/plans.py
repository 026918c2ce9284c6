"""Contingency plans: which fire where, whether they are ready in time, what they avert."""

from __future__ import annotations

import streamlit as st

from riskapp.assessment.plan_checks import WARNING, plan_flags
from riskapp.assessment.tables import (
    LATE,
    action_timeline,
    plan_register,
    scenario_titles,
    trigger_matrix,
    waterfall_steps,
    worst_scenario,
)
from riskapp.charts.common import PLOTLY_CONFIG
from riskapp.charts.plans import (
    action_gantt,
    cost_benefit,
    loss_waterfall,
    trigger_heatmap,
)
from riskapp.dashboard import state
from riskapp.dashboard.columns import PLANS
from riskapp.dashboard.format import money_table, plain

a = state.assessment()
fmt = a.fmt
cur = fmt.currency
ws = a.ws
titles = scenario_titles(ws)

st.title("Contingency plans")
st.caption(
    "Which plans fire in which scenario, whether their actions can be ready before the "
    f"scenario hits, how much loss they avert and at what cost. Money in {cur}."
)
if not ws.plans.plans:
    st.info(
        "This workspace has no contingency plans. Add them to plans.yaml in the workspace "
        "folder (the README shows the format) and reload the page."
    )
    st.stop()

flags = plan_flags(a)
if len(flags):
    st.subheader("Plan sanity flags")
    st.caption(
        "Check these before quoting a plan's figures; the reviewer checklist in every report "
        "lists them too (thresholds: see the Methodology page)."
    )
    for row in flags.itertuples(index=False):
        show = st.warning if row.severity == WARNING else st.info
        show(f"**{plain(str(row.plan_title))}**: {plain(str(row.message))}")

ids = a.result.scenario_ids
scenario = st.selectbox(
    "Scenario",
    ids,
    index=ids.index(worst_scenario(a)),
    format_func=titles.__getitem__,
    key="pln_scenario",
    help="Defaults to the scenario with the largest portfolio loss. The trigger matrix covers "
    "every scenario; the timeline, waterfall and table below follow this choice.",
)
sc = ws.scenario(scenario)
readiness = (
    "a plan not in place whose slowest action outlasts the warning time averts nothing"
    if ws.settings.require_readiness
    else "readiness is not required: late plans still count (set require_readiness to change)"
)
st.caption(
    plain(
        f"{sc.title}: warning time {sc.warning_time_days:.0f} days, annual probability "
        f"{sc.frequency:.0%}; {readiness}."
    )
)

# -- trigger matrix -------------------------------------------------------------------------
st.subheader("Trigger matrix")
st.plotly_chart(
    trigger_heatmap(trigger_matrix(a), fmt, chosen=scenario),
    config=PLOTLY_CONFIG,
    key="pln_matrix",
)
st.caption(
    "Each cell: the plan's state in the scenario; 'N d late' = days its slowest action needs "
    "beyond the scenario's warning time. The chosen scenario is outlined."
)

# -- action timeline ------------------------------------------------------------------------
st.subheader("Action timeline")
only = st.toggle("Only plans triggered in this scenario", value=True, key="pln_triggered_only")
timeline = action_timeline(a, scenario, triggered_only=only)
if timeline.empty:
    st.info(
        "No plan is triggered in this scenario - switch off 'Only plans triggered' to see "
        "every plan's actions, or choose another scenario."
    )
else:
    st.plotly_chart(
        action_gantt(timeline, float(sc.warning_time_days), fmt),
        config=PLOTLY_CONFIG,
        key="pln_gantt",
    )
    late = timeline[timeline["bar_state"] == LATE]
    if late.empty:
        st.caption(
            "Every action of these plans is ready within the warning time or already in place."
        )
    else:
        st.caption(
            f"{len(late)} action(s) of {late['plan_id'].nunique()} plan(s) end after the "
            "warning time: such a plan cannot be ready when the scenario hits unless it is put "
            "in place beforehand (status ready or active)."
        )

# -- waterfall ------------------------------------------------------------------------------
st.subheader("From gross to residual loss")
steps = waterfall_steps(a, scenario)
st.plotly_chart(loss_waterfall(steps, fmt), config=PLOTLY_CONFIG, key="pln_waterfall")
if len(steps) == 2:
    st.caption("No plan is effective in this scenario: the residual loss equals the gross.")
else:
    st.caption(
        "Each step is what a plan averts on top of the plans above it (plan-book order), so "
        "the steps add up to the gap between gross and residual loss."
    )

# -- cost against benefit -------------------------------------------------------------------
plans = plan_register(a, scenario)
years = ws.settings.plan_horizon_years
st.subheader("Cost against averted loss")
st.plotly_chart(cost_benefit(plans, fmt, years), config=PLOTLY_CONFIG, key="pln_bubbles")
st.caption(
    "Numbers: plans as numbered in the table below. "
    f"Net present values over {years} years at {ws.settings.discount_rate:.0%}. Bubble size: "
    "benefit-cost ratio (capped at 10; free plans drawn at the cap). Above the dashed line a "
    "plan averts more than it costs. Each plan is measured on its own, other plans off."
)

# -- owners and status ----------------------------------------------------------------------
st.subheader("Plans, owners and status")
st.dataframe(
    money_table(plans[PLANS.order], a.fmt, [c.key for c in PLANS.columns if c.kind == "styled"]),
    hide_index=True,
    column_order=PLANS.order,
    column_config=PLANS.config(
        cost_npv={"help": f"One-off cost plus annual cost over {years} years, discounted."},
        bcr={"format": "%.1fx"},
    ),
    key="pln_table",
)

with st.expander("Every action, with its owner, lead time and costs"):
    every = action_timeline(a, scenario)
    st.dataframe(
        money_table(
            every[
                [
                    "plan_title",
                    "action",
                    "owner",
                    "lead_time_days",
                    "late_days",
                    "one_off_cost",
                    "annual_cost",
                    "bar_state",
                ]
            ],
            a.fmt,
            ["one_off_cost", "annual_cost"],
        ),
        hide_index=True,
        column_config={
            "plan_title": "Plan",
            "action": "Action",
            "owner": "Owner",
            "lead_time_days": st.column_config.NumberColumn("Lead time (days)", format="%d"),
            "late_days": st.column_config.NumberColumn("Beyond warning time (days)", format="%d"),
            "one_off_cost": st.column_config.Column("One-off cost"),
            "annual_cost": st.column_config.Column("Annual cost (a year)"),
            "bar_state": "Timing in this scenario",
        },
        key="pln_actions",
    )
