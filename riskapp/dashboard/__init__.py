"""The Streamlit dashboard: thin pages over the engine. `riskapp serve` starts it."""
