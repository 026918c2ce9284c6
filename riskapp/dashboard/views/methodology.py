"""Methodology: how every figure is computed, in plain words with worked examples."""

from __future__ import annotations

import streamlit as st

from riskapp.dashboard import state
from riskapp.dashboard.format import plain
from riskapp.methodology import client_methodology

a = state.assessment()
s = a.ws.settings
text = client_methodology()
title, _, body = text.partition("\n")
st.title(title.lstrip("# "))
st.caption(
    "How every number in riskapp is computed: what it means, its formula, a worked example "
    "and its limits. The same text is the methodology appendix of every report."
)
with st.container(border=True):
    st.markdown(f"**Settings of this workspace** ({plain(s.name)})")
    st.markdown(
        f"- Reporting currency: {s.currency}; exchange rates: "
        + (", ".join(f"1 {c} = {r:g} {s.currency}" for c, r in s.fx_rates.items()) or "none")
        + (f" ({plain(s.fx_provenance())})" if s.fx_rates else "")
        + f"\n- Losses: **{a.result.basis.value}** (switch in the sidebar)"
        + f"\n- Plans: discount rate {s.discount_rate:.1%}, horizon {s.plan_horizon_years} years; "
        + ("readiness required" if s.require_readiness else "readiness not required")
        + "\n- Return periods reported: "
        + ", ".join(f"{rp:g} years" for rp in s.return_periods)
        + f"\n- {len(a.ws.scenarios)} scenarios, {len(a.ws.factors.factors)} factors, "
        f"{len(a.ws.portfolio)} assets, {len(a.ws.plans.plans)} plans"
    )
st.markdown(body)
