"""The floor for bench_startup.py's dashboard case: a one-chart Streamlit page.

A heading and one Plotly bar chart: what any Streamlit page that draws a Plotly chart costs
from `streamlit run` to the chart on screen (the server starting, the browser loading
Streamlit's front end and plotly.js, one script run). The dashboard's time to its first chart
is measured against it.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

st.title("Floor")
st.plotly_chart(go.Figure(go.Bar(x=["a", "b", "c"], y=[3, 1, 2])))
