"""Entry script of the dashboard: routing only."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from riskapp.dashboard import state

HERE = Path(__file__).resolve().parent / "views"

# a local icon: a Material icon or an emoji would be fetched from a CDN, which is not reachable
st.set_page_config(
    page_title="riskapp", page_icon=str(HERE.parent / "static" / "favicon.png"), layout="wide"
)

pages = [
    st.Page(HERE / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page(HERE / "scenarios.py", title="Scenarios", icon=":material/storm:"),
    st.Page(HERE / "risk.py", title="Risk distribution", icon=":material/bar_chart:"),
    st.Page(HERE / "assets.py", title="Assets", icon=":material/factory:"),
    st.Page(HERE / "plans.py", title="Contingency plans", icon=":material/checklist:"),
    st.Page(HERE / "reports.py", title="Reports", icon=":material/description:"),
    st.Page(HERE / "baseline.py", title="Baseline data", icon=":material/database:"),
    st.Page(HERE / "methodology.py", title="Methodology", icon=":material/functions:"),
]
navigation = st.navigation(pages)
state.sidebar()
navigation.run()
