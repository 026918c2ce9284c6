"""Loading and caching for the dashboard.

The dashboard's source is the workspace's model files with the register and plans of the team
database (`riskapp.assessment.sources.StoreSource`). Its assessment is computed once per
revision of that source (the files' modification times and sizes and the database's newest
audit entry) and loss basis; every figure derived from it (the Overview's VaR, the Risk page's
simulation, tornado and Sobol indices) keys on the same revision. What-if rescoring is not
cached: the engine rescoring a scenario takes milliseconds.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import streamlit as st

from riskapp.assessment.core import NO_ASSETS, Assessment
from riskapp.dashboard import store_view
from riskapp.domain import LossBasis
from riskapp.io import InputError
from riskapp.io.workspace import load_manifest, manifest_path
from riskapp.io.yamlfile import parse_once
from riskapp.resources import DEMO

ENV_WORKSPACE = "RISKAPP_WORKSPACE"


def workspace_path() -> Path:
    """The folder of the workspace this session shows (the sidebar's switcher), or of the
    default workspace (RISKAPP_WORKSPACE, else the demo)."""
    from riskapp.dashboard.workspaces import chosen

    folder = chosen()[1]
    return (folder or Path(os.environ.get(ENV_WORKSPACE) or DEMO)).resolve()


def basis() -> LossBasis:
    value = st.session_state.get("basis")
    return LossBasis(value) if value else _default_basis()


def probabilities() -> str:
    """ "prior" (the scenarios' probabilities as written) or "current" (as their crossed
    signposts make them): the sidebar's choice."""
    return "current" if st.session_state.get("probabilities") == "current" else "prior"


def _default_basis() -> LossBasis:
    try:
        manifest, _ = load_manifest(manifest_path(workspace_path()))
        return manifest.loss_basis
    except InputError:
        return LossBasis.ABSOLUTE


def assessment() -> Assessment:
    """The current assessment; shows the input problems and stops the page if there are any."""
    path = workspace_path()
    try:
        # the files plus the register and plans kept in the team database
        return store_view.store_assessment(basis(), probabilities())
    except InputError as exc:
        if [p.message for p in exc.problems] == [NO_ASSETS]:
            st.header("No assets yet")
            st.info(
                f"The workspace at {path} has no assets yet. List them in its assets.csv (one "
                "row per asset) and reload, or import a register on the Register page.",
                icon=":material/inventory_2:",
            )
            st.stop()
        st.error(
            f"The workspace at {path} has {len(exc.problems)} problem(s). Fix them and reload "
            "the page; `riskapp validate` on the command line lists the same problems."
        )
        st.code("\n".join(str(p) for p in exc.problems), language=None)
        st.stop()
        raise  # unreachable: st.stop() ends the script run


def sidebar() -> None:
    """Workspace name, source and revision, whether the files and the team database agree,
    and the loss basis: shown on every page."""
    path = workspace_path()
    with st.sidebar:
        st.caption("Model files")
        st.text(path.name)
        source_status()
        st.radio(
            "Losses",
            options=[b.value for b in LossBasis],
            index=[b.value for b in LossBasis].index(_default_basis().value),
            key="basis",
            format_func=lambda v: {
                "absolute": "Absolute (at scenario intensity)",
                "incremental": "Incremental (above today's baseline)",
            }[v],
            help="Absolute: the loss at the scenario's intensities. Incremental: only the loss "
            "the scenario adds to today's baseline conditions.",
        )
        st.radio(
            "Scenario probabilities",
            options=["prior", "current"],
            key="probabilities",
            format_func=lambda v: {
                "prior": "Prior (as written)",
                "current": "Current (crossed signposts)",
            }[v],
            help="Current: each scenario's prior odds times the likelihood ratios of its "
            "signposts that are red (Signposts page), capped; every figure follows.",
        )


def source_status() -> None:
    """Which source and revision the figures come from, and what differs between the files and
    the team database (the same comparison as `riskapp sync`)."""
    try:
        a = assessment_quiet()
    except InputError:
        return
    st.caption(
        "Source: team database (register, plans) + files",
        help="Figures come from the workspace's model files with the register and plans of the "
        f"team database. Revision: {a.source.revision}; fingerprint {a.source.fingerprint}. "
        "`riskapp score --source store` computes the same figures.",
    )
    st.text(a.source.revision)
    if a.ws.settings.fx_rates:  # st.text: the source is the user's text, shown as it is
        st.text(f"Exchange rates: {a.ws.settings.fx_provenance()}")
    status = a.sync
    if status is None or status.in_sync:
        return
    st.warning(
        f"{status.summary().capitalize()}. `riskapp score --source files` and reports built "
        "from the files will show other figures; `riskapp sync` brings one in line with the "
        "other.",
        icon=":material/sync_problem:",
    )
    with st.expander(f"What differs ({len(status.differences)})"):
        st.text("\n".join(str(d) for d in status.differences[:200]))
        if len(status.differences) > 200:
            st.caption(f"... and {len(status.differences) - 200} more (`riskapp sync` lists all)")


def prepare() -> None:
    """Compute what the default page's first run reads, ahead of any session: the store opened,
    its assessment at the workspace's default loss basis and the comparison with the files,
    cached as a run caches them (riskapp/dashboard/server.py calls this while the browser loads
    the front end). A problem is left for the run to show."""
    with contextlib.suppress(Exception), parse_once():
        _ = store_view.store_assessment(_default_basis()).sync


def assessment_quiet() -> Assessment:
    """The current assessment, raising InputError instead of drawing the problems."""
    return store_view.store_assessment(basis())
