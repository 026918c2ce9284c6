"""Signposts: each scenario's signposts against the latest values of the indicators they
watch (green, amber, red, since when), and each linked one's history."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from riskapp.assessment import signposts as sp
from riskapp.charts.common import PLOTLY_CONFIG
from riskapp.charts.signposts import STATE_COLOURS, signpost_chart
from riskapp.dashboard import store_view as sv
from riskapp.dashboard.format import plain
from riskapp.dashboard.state import assessment

sv.login_gate(sidebar=False)  # app.py shows who is signed in
store = sv.get_store()
a = assessment()

st.title("Signposts")
st.caption(
    "Each scenario's signposts against the latest value of the indicator series it watches "
    "(riskapp indicators import, or fetch): red once the threshold is crossed, amber within "
    "the amber band before it, green otherwise. A signpost without a series is watched by hand."
)
statuses = list(a.signposts if a.signposts is not None else sp.board(a.ws, store))
n = sp.counts(statuses)
cols = st.columns(5)
for box, state in zip(cols, sp.STATE_ORDER, strict=True):
    box.metric(state.capitalize(), n[state])
for info, days in sp.stale_series(statuses, store, datetime.now(UTC).date()):
    st.warning(
        f"{info.indicator.name}: the latest value is for {info.latest_period}, which ended "
        f"{days} days ago; the signposts on it may be out of date. Fetch or import newer values "
        "(riskapp indicators fetch / import).",
        icon=":material/schedule:",
    )


def _colour(value: object) -> str:
    colour = STATE_COLOURS.get(str(value))
    return f"color: {colour}; font-weight: 600" if colour else "color: #888"


frame = sp.board_frame(statuses)
for col in ("value", "threshold", "amber band", "ratio"):  # as text: no "None", no trailing zeros
    frame[col] = [("" if pd.isna(v) else f"{v:,.4g}") for v in frame[col]]
worst = frame.groupby("scenario", sort=False)["state"].agg(
    lambda states: min(states, key=lambda s: sp.STATE_ORDER[s])
)
for scenario in sorted(worst.index, key=lambda sc: sp.STATE_ORDER[worst[sc]]):  # red first
    part = frame[frame["scenario"] == scenario].drop(columns=["scenario"])
    st.subheader(plain(scenario))
    st.caption(f"Worst state: {worst[scenario]}")
    st.dataframe(
        part.style.map(_colour, subset=["state"]),
        hide_index=True,
        width="stretch",
        key=f"sig_{scenario}",
    )

st.header("Scenario probabilities: prior and current")
st.caption(
    "Current = the prior odds times the likelihood ratio of each signpost that is red, turned "
    f"back into a probability and capped at {a.ws.settings.probability_cap:.0%}; a scenario on "
    "an escalation ladder follows its parent. Choose which every figure uses in the sidebar."
)
updates = list(a.probability_updates) or sp.probability_updates(a.ws, statuses)
table = pd.DataFrame(
    [
        {
            "scenario": next(s.title for s in a.ws.scenarios if s.id == u.scenario_id),
            "prior": f"{u.prior:.2%}",
            "current": f"{u.current:.2%}",
            "because": "; ".join(f"{n} red since {since} (x{r:g})" for n, r, since in u.reasons),
        }
        for u in updates
    ]
)
st.dataframe(table, hide_index=True, width="stretch", key="sig_probabilities")

linked = [s for s in statuses if s.signpost.series]
if linked:
    st.header("History of the linked signposts")
    for i, s in enumerate(linked):
        with st.expander(f"{s.scenario}: {s.signpost.name} ({s.state})", expanded=i == 0):
            h = sp.history(store, s.signpost)
            if not len(h):
                st.caption("No values stored for this series yet.")
                continue
            st.plotly_chart(
                signpost_chart(h, s.signpost),
                config=PLOTLY_CONFIG,
                key=f"sig_chart_{i}",
            )
            st.caption(
                f"Series {s.signpost.series}; latest {s.period}: {s.value:,.4g}; in this state "
                f"since {s.since}. " + plain(s.signpost.description)
            )
