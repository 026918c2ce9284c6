"""Methodology: how every figure is computed, from the engine's own documentation."""

from __future__ import annotations

import streamlit as st

from riskapp.methodology import methodology_markdown

st.caption(
    "How every number in riskapp is computed. The text is generated from the documentation of "
    "the functions that compute the figures, so it cannot drift from the code."
)
st.markdown(methodology_markdown())
