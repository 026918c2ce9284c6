"""Loading and caching for the dashboard.

The assessment (the workspace's files plus the register and plans kept in the team database) is
computed once per change of the files (the cache key includes every file's modification time and
size) or of the database (its revision), per loss basis. What-if rescoring is not cached: the
engine rescoring a scenario takes milliseconds.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from riskapp.assessment.core import Assessment
from riskapp.dashboard import store_view
from riskapp.domain import LossBasis
from riskapp.io import InputError
from riskapp.io.workspace import WorkspaceManifest, load_model, manifest_path

DEMO = Path(__file__).resolve().parent.parent.parent / "demo"
ENV_WORKSPACE = "RISKAPP_WORKSPACE"


def workspace_path() -> Path:
    return Path(os.environ.get(ENV_WORKSPACE) or DEMO).resolve()


def files_signature(path: Path) -> tuple[tuple[str, int, int], ...]:
    """Modification time and size of every file the workspace reads."""
    mpath = manifest_path(path)
    roots = {mpath.parent}
    try:
        manifest, _ = load_model(mpath, WorkspaceManifest)
        roots.add((mpath.parent / manifest.paths.scenarios).resolve())
    except InputError:
        pass
    out = []
    for root in sorted(roots):
        for f in sorted(root.rglob("*")):
            if f.is_file():
                stat = f.stat()
                out.append((str(f), stat.st_mtime_ns, stat.st_size))
    return tuple(out)


def basis() -> LossBasis:
    value = st.session_state.get("basis")
    return LossBasis(value) if value else _default_basis()


def _default_basis() -> LossBasis:
    try:
        manifest, _ = load_model(manifest_path(workspace_path()), WorkspaceManifest)
        return manifest.loss_basis
    except InputError:
        return LossBasis.ABSOLUTE


def assessment() -> Assessment:
    """The current assessment; shows the input problems and stops the page if there are any."""
    path = workspace_path()
    try:
        # the files plus the register and plans kept in the team database
        return store_view.store_assessment(basis(), files_signature(path))
    except InputError as exc:
        st.error(
            f"The workspace at {path} has {len(exc.problems)} problem(s). Fix them and reload "
            "the page; `riskapp validate` on the command line lists the same problems."
        )
        st.code("\n".join(str(p) for p in exc.problems), language=None)
        st.stop()
        raise  # unreachable: st.stop() ends the script run


def sidebar() -> None:
    """Workspace name and the loss basis, shown on every page."""
    path = workspace_path()
    with st.sidebar:
        st.caption("Workspace")
        st.text(path.name)
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
