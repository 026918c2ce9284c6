"""The dashboard's workspace switcher, New workspace form and per-workspace report branding
(AppTest, SQLite and PostgreSQL): a person is offered only the workspaces they hold a role in,
and every page then reads that workspace's own store and files."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from riskapp.assessment.scaffold import create_workspace as scaffold
from riskapp.settings import Settings
from riskapp.store import Role, Store
from riskapp.store.tenants import create_workspace, list_workspaces
from tests.store.conftest import SYSTEM, TINY
from tests.store.test_pages import VIEWS, login
from tests.store.test_workspaces import ALICE, _drop_workspace_schemas

PICK = "riskapp_workspace_pick"


@pytest.fixture
def server(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Settings, Path]]:
    monkeypatch.setenv("RISKAPP_DATABASE_URL", db_url)
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(TINY))
    monkeypatch.setenv("RISKAPP_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    cfg = Settings(_env_file=None)  # type: ignore[call-arg]
    shutil.copytree(TINY, tmp_path / "files_a")
    scaffold(tmp_path / "files_b", "blank", name="Client B")
    main = Store.open(cfg)
    try:
        main.add_user("alice", "alice-password", Role.ADMIN, SYSTEM)
        main.add_user("bob", "bob-password", Role.VIEWER, SYSTEM)
        main.revoke("bob", SYSTEM)
        create_workspace(
            cfg, "client_a", "Client A", tmp_path / "files_a", ALICE, {"client": "A plc"}
        )
        create_workspace(cfg, "client_b", "Client B", tmp_path / "files_b", ALICE)
    finally:
        main.close()
    a = Store.open(cfg, workspace="client_a")
    try:
        a.grant("bob", Role.ANALYST, SYSTEM)
    finally:
        a.close()
    yield cfg, tmp_path
    if db_url.startswith("postgresql"):
        _drop_workspace_schemas(db_url)


def gate_app() -> None:
    """What app.py does: the gate (sidebar: switcher, status), then a page that asks again and
    reads the store."""
    from pathlib import Path

    import streamlit as st

    from riskapp.dashboard.store_view import get_store, login_gate

    login_gate()
    actor = login_gate(sidebar=False)
    store = get_store()
    st.write(f"page for {actor.label} ({actor.role}) in {store.workspace_id}")
    st.write(f"assets: {len(store.assets())}; files: {Path(str(store.files)).name}")


def test_the_switcher_offers_only_granted_workspaces(server: tuple[Settings, Path]) -> None:
    at = AppTest.from_function(gate_app, default_timeout=30)
    at.run()
    login(at, "bob", "bob-password")
    assert not at.exception, [e.message for e in at.exception]
    assert at.selectbox(key=PICK).options == ["Client A (client_a)"]
    assert at.markdown[0].value == "page for bob (analyst) in client_a"
    assert at.markdown[1].value == "assets: 3; files: files_a"
    assert not [e for e in at.sidebar.expander if e.label == "New workspace"]  # not an admin


def test_an_admin_switches_and_creates_a_workspace(server: tuple[Settings, Path]) -> None:
    cfg, tmp_path = server
    at = AppTest.from_function(gate_app, default_timeout=60)
    at.run()
    login(at, "alice", "alice-password")
    switcher = at.selectbox(key=PICK)
    assert switcher.options == ["Default", "Client A (client_a)", "Client B (client_b)"]
    assert at.markdown[0].value == "page for alice (admin) in default"
    switcher.set_value("client_b").run()
    assert at.markdown[0].value == "page for alice (admin) in client_b"
    assert at.markdown[1].value == "assets: 0; files: files_b"
    # New workspace: from the energy template, its creator its admin
    form = at.sidebar
    form.text_input[0].input("client_c")
    form.text_input[1].input("Client C")
    form.selectbox[1].set_value("energy")
    form.text_input[2].input("C plc")
    next(b for b in at.sidebar.button if b.label == "Create workspace").click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.selectbox(key=PICK).value == "client_c"
    assert at.markdown[0].value == "page for alice (admin) in client_c"
    assert at.markdown[1].value == "assets: 0; files: client_c"
    made = {w.id: (w, r) for w, r in list_workspaces(cfg, ALICE)}
    info, role = made["client_c"]
    assert role is Role.ADMIN and info.branding == {"client": "C plc"}
    assert info.files == (tmp_path / "workspaces" / "client_c").resolve()
    assert (info.files / "workspace.yaml").is_file()
    # a bad id is refused, naming what is expected, and nothing is made
    form = at.sidebar
    form.text_input[0].input("Bad-Id")
    next(b for b in at.sidebar.button if b.label == "Create workspace").click()
    at.run()
    assert any("not a workspace id" in e.value for e in at.sidebar.error)
    assert not (tmp_path / "workspaces" / "Bad-Id").exists()


def test_reports_start_from_the_workspace_branding(server: tuple[Settings, Path]) -> None:
    """No login here (the pages read the chosen workspace); client A's branding client."""
    _, tmp_path = server
    at = AppTest.from_file(str(VIEWS / "reports.py"), default_timeout=60)
    at.session_state["riskapp_workspace"] = ("client_a", str(tmp_path / "files_a"))
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.text_input(key="rep_client_client_a").value == "A plc"
    at = AppTest.from_file(str(VIEWS / "reports.py"), default_timeout=60)
    at.run()  # the default workspace: no branding of its own, the workspace's client
    assert at.text_input(key="rep_client_default").value != "A plc"
