"""The floor for bench_dashboard.py: a trivial one-widget Streamlit page.

A rerun of this page costs only Streamlit's own work (run the script, diff and send one widget
and one line of text); the dashboard's what-if rerun is measured against it.
"""

from __future__ import annotations

import streamlit as st

value = st.slider("Intensity", min_value=0, max_value=10, value=5, key="floor")
st.write(f"Intensity: {value}")
