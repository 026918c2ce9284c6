"""The workspace switcher and the New workspace form of the sidebar (a server serving several
clients: riskapp.store.tenancy).

The switcher lists only the workspaces the person holds a role in; the choice is kept in the
session as one (id, folder) pair, so the store and the files a run opens always belong to the
same workspace. The New workspace form (the server's admins) makes the files from a template
of `riskapp init`, the workspace's own database and its registry entry, the creator its admin
(riskapp.assessment.workspaces.new_workspace).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import streamlit as st

from riskapp.assessment.workspaces import TEMPLATES, new_workspace
from riskapp.io.errors import InputError
from riskapp.settings import Settings
from riskapp.store import AccessDenied, Actor, ActorKind, Store, StoreBusyError

PICK = "riskapp_workspace_pick"  # the switcher's widget
CHOSEN = "riskapp_workspace"  # (id, folder or "") of the workspace this session shows
NEXT = "riskapp_workspace_next"  # a workspace just created: shown on the next run
DEFAULT = "default"


def chosen() -> tuple[str, Path | None]:
    """The workspace this session shows: its id and folder (None: the default workspace's
    folder of the settings). Outside a browser session, the default workspace."""
    try:
        pair = st.session_state.get(CHOSEN)
    except Exception:  # no script run (the server preparing the first page)
        pair = None
    if not pair:
        return DEFAULT, None
    workspace_id, folder = pair
    return str(workspace_id), Path(folder) if folder else None


def choose(store: Store, actor: Actor, cfg: Settings, sidebar: bool = True) -> Actor:
    """The person's workspace for this run (the sidebar's switcher when `sidebar`), returned
    as the actor with its role there; stops the page when the person holds no role in any."""
    granted = store.workspaces(actor)
    if not granted:
        st.title("No workspace")
        st.info(
            "Your account holds no role in any workspace of this server. Ask an admin to grant "
            "you one (`riskapp workspaces grant WORKSPACE USER ROLE`).",
            icon=":material/lock:",
        )
        st.stop()
    roles = {w.id: (w, role) for w, role in granted}
    pick = st.session_state.get(PICK)
    if sidebar:  # before the switcher is drawn: its value may still be set
        pending = st.session_state.pop(NEXT, None)
        if pending in roles:
            pick = st.session_state[PICK] = pending
        if pick not in roles:
            pick = st.session_state[PICK] = (
                chosen()[0] if chosen()[0] in roles else granted[0][0].id
            )
        st.sidebar.selectbox(
            "Workspace",
            options=list(roles),
            key=PICK,
            format_func=lambda i: (
                roles[i][0].name
                if roles[i][0].name.lower() == i.lower()
                else f"{roles[i][0].name} ({i})"
            ),
            help="The workspaces you hold a role in. Each keeps its own register, plans, "
            "audit trail, assessments and alerts.",
        )
        pick = st.session_state[PICK]
    info, role = roles[pick] if pick in roles else granted[0]
    st.session_state[CHOSEN] = (info.id, str(info.files) if info.files else "")
    if sidebar and store.can_create_workspaces(actor):
        _new_workspace_form(actor, cfg)
    return dataclasses.replace(actor, role=role) if actor.kind is ActorKind.USER else actor


def _new_workspace_form(actor: Actor, cfg: Settings) -> None:
    with (
        st.sidebar.expander("New workspace", icon=":material/add_business:"),
        st.form("riskapp_new_workspace", clear_on_submit=False),
    ):
        # labels of their own: other pages' forms have a Name field too
        workspace_id = st.text_input(
            "Workspace id", max_chars=30, help="Lower-case letters, digits and _, e.g. client_a."
        )
        name = st.text_input("Workspace name", max_chars=200)
        template = st.selectbox(
            "Workspace template",
            TEMPLATES,
            help="blank: factors, regions, curves, a status-quo scenario and an empty "
            "register; a sector adds its asset types' curves; demo: a copy of the demo.",
        )
        client = st.text_input("Client on reports", max_chars=200)
        submitted = st.form_submit_button("Create workspace")
    if not submitted:
        return
    try:
        info = new_workspace(
            cfg,
            workspace_id.strip(),
            name.strip() or workspace_id.strip(),
            actor,
            template=str(template),
            branding={"client": client.strip()} if client.strip() else None,
        )
    except InputError as exc:
        st.sidebar.error("\n".join(str(p) for p in exc.problems))
        return
    except (AccessDenied, StoreBusyError) as exc:
        st.sidebar.error(str(exc))
        return
    st.session_state[NEXT] = info.id
    st.rerun()
