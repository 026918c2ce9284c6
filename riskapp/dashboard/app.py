"""Entry script of the dashboard: routing only."""

from __future__ import annotations

import contextlib
from pathlib import Path

import streamlit as st

from riskapp.dashboard import server

server.tune_collector()
server.skip_repl_check()
# under `riskapp serve` the server imports what this page needs while the browser loads the
# front end: a run that starts meanwhile waits for that rather than importing the same modules
server.wait()

from riskapp.dashboard import state, store_view  # noqa: E402
from riskapp.io import InputError  # noqa: E402
from riskapp.io.yamlfile import parse_once  # noqa: E402
from riskapp.store import StoreBusyError  # noqa: E402

HERE = Path(__file__).resolve().parent / "views"

# a local icon: a Material icon or an emoji would be fetched from a CDN, which is not reachable
st.set_page_config(
    page_title="riskapp", page_icon=str(HERE.parent / "static" / "favicon.png"), layout="wide"
)

pages = [
    st.Page(HERE / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page(HERE / "scenarios.py", title="Scenarios", icon=":material/storm:"),
    st.Page(HERE / "signposts.py", title="Signposts", icon=":material/traffic:"),
    st.Page(HERE / "alerts.py", title="Alerts", icon=":material/notifications:"),
    st.Page(HERE / "risk.py", title="Risk distribution", icon=":material/bar_chart:"),
    st.Page(HERE / "assets.py", title="Assets", icon=":material/factory:"),
    st.Page(HERE / "plans.py", title="Contingency plans", icon=":material/checklist:"),
    st.Page(HERE / "reports.py", title="Reports", icon=":material/description:"),
    st.Page(HERE / "register.py", title="Register", icon=":material/edit_note:"),
    st.Page(HERE / "scenario_editor.py", title="Edit scenario", icon=":material/edit_document:"),
    st.Page(HERE / "history.py", title="History", icon=":material/history:"),
    st.Page(HERE / "audit.py", title="Audit trail", icon=":material/policy:"),
    st.Page(HERE / "baseline.py", title="Baseline data", icon=":material/database:"),
    st.Page(HERE / "methodology.py", title="Methodology", icon=":material/functions:"),
]
navigation = st.navigation(pages, expanded=True)  # every page listed, no "view more"
# within a run each YAML file is parsed once: the store's model files, the files' own reading
# the sidebar compares with the database and the default loss basis all read the same files
with parse_once():
    # a workspace whose files have problems cannot open its database; the page lists the
    # problems (state.assessment) and shows no data
    with contextlib.suppress(InputError):
        store_view.login_gate()
    state.sidebar()
    try:
        navigation.run()
    except StoreBusyError as exc:  # pages handle it where they save; this is the safety net
        st.warning(str(exc))
