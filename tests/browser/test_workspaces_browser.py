"""Several clients on one dashboard server (issue 13, item 7), in a real browser: the sidebar's
workspace switcher lists only the workspaces the person holds a role in, and an admin makes a
new workspace with the New workspace form and lands in it (an empty register)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from riskapp.assessment.scaffold import create_workspace as scaffold
from riskapp.settings import Settings
from riskapp.store import Actor, Role, Store
from riskapp.store.tenants import create_workspace, list_workspaces
from tests.browser.conftest import (
    ROOT,
    VIEWPORT,
    Dashboard,
    _streamlit,
    artifacts_dir,
)

TINY = ROOT / "tests" / "data" / "tiny"
SYSTEM = Actor.system("browser-test")


@pytest.fixture(scope="module")
def server(
    chromium_ready: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Settings]]:
    """The dashboard on a server with three workspaces: the default (the tiny files), client
    A (a copy of them) and client B (a blank template). alice runs the server; bob is client
    A's analyst and nothing else."""
    base = tmp_path_factory.mktemp("tenants")
    data = base / "data"
    shutil.copytree(TINY, base / "files_a")
    scaffold(base / "files_b", "blank", name="Client B")
    cfg = Settings(workspace=TINY, data_dir=data, _env_file=None)  # type: ignore[call-arg]
    main = Store.open(cfg)
    try:
        main.add_user("alice", "alice-password", Role.ADMIN, SYSTEM)
        main.add_user("bob", "bob-password", Role.VIEWER, SYSTEM)
        main.revoke("bob", SYSTEM)
    finally:
        main.close()
    create_workspace(cfg, "client_a", "Client A", base / "files_a", SYSTEM, {"client": "A plc"})
    create_workspace(cfg, "client_b", "Client B", base / "files_b", SYSTEM)
    for workspace in ("client_a", "client_b"):
        store = Store.open(cfg, workspace=workspace)
        try:
            store.grant("alice", Role.ADMIN, SYSTEM)
            if workspace == "client_a":
                store.grant("bob", Role.ANALYST, SYSTEM)
        finally:
            store.close()
    with _streamlit(TINY, data, "streamlit-tenants.log") as url:
        yield url, cfg


@pytest.fixture
def tab(browser: Any, server: tuple[str, Settings]) -> Iterator[Dashboard]:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        yield Dashboard(context.new_page(), server[0], artifacts_dir())
    finally:
        context.close()


def _log_in(d: Dashboard, username: str, password: str) -> None:
    d.page.goto(d.base_url + "/")
    d.page.get_by_role("textbox", name="Username").fill(username)
    d.page.get_by_role("textbox", name="Password").fill(password)
    d.page.get_by_role("button", name="Log in").click()
    d.page.get_by_text("Signed in as").wait_for()
    d.wait_ready()


def _switcher_options(d: Dashboard) -> list[str]:
    """Open the sidebar's Workspace select and read what it offers."""
    sidebar = d.page.locator('[data-testid="stSidebar"]')
    switcher = d.page.get_by_role("combobox", name="Workspace", exact=True)
    box = sidebar.locator('[data-testid="stSelectbox"]').filter(has=switcher)
    box.get_by_role("button", name="Open").click()
    options = d.page.locator('[role="option"]')
    options.first.wait_for()
    names = [t.strip() for t in options.all_inner_texts()]
    d.page.keyboard.press("Escape")
    return names


def test_the_switcher_shows_only_granted_workspaces(tab: Dashboard) -> None:
    d = tab
    _log_in(d, "bob", "bob-password")
    sidebar = d.page.locator('[data-testid="stSidebar"]')
    assert "Signed in as bob (analyst)" in sidebar.inner_text()
    assert "files_a" in sidebar.inner_text()  # client A's files, with its register
    combobox = sidebar.get_by_role("combobox", name="Workspace", exact=True)
    assert combobox.input_value() == "Client A (client_a)"
    assert _switcher_options(d) == ["Client A (client_a)"]
    assert "New workspace" not in sidebar.inner_text()  # not one of the server's admins
    d.screenshot("tenants-bob")
    d.assert_healthy()


def test_an_admin_creates_a_workspace_and_lands_in_it(
    tab: Dashboard, server: tuple[str, Settings]
) -> None:
    d = tab
    _log_in(d, "alice", "alice-password")
    assert _switcher_options(d) == [
        "Default",
        "Client A (client_a)",
        "Client B (client_b)",
    ]
    sidebar = d.page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("New workspace").click()
    form = sidebar.locator('[data-testid="stForm"]')
    form.get_by_role("textbox", name="Workspace id", exact=True).fill("client_c")
    form.get_by_role("textbox", name="Workspace name", exact=True).fill("Client C")
    form.get_by_role("textbox", name="Client on reports", exact=True).fill("C plc")
    d.screenshot("tenants-new-workspace-form")
    form.get_by_role("button", name="Create workspace").click()
    d.page.get_by_role("heading", name="No assets yet").wait_for(timeout=60_000)
    d.wait_ready()
    assert "client_c" in sidebar.inner_text()  # the new workspace's folder
    assert "Client C (client_c)" in _switcher_options(d)
    d.screenshot("tenants-new-workspace-made")
    d.assert_healthy()
    made = {w.id: (w, r) for w, r in list_workspaces(server[1], Actor("alice", Role.ADMIN))}
    info, role = made["client_c"]
    assert role is Role.ADMIN and info.branding == {"client": "C plc"}
    assert info.files is not None and (Path(info.files) / "workspace.yaml").is_file()
