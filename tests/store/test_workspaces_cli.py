"""`riskapp workspaces ...`, `riskapp --workspace-id ID` and `riskapp --as USER` on SQLite and
PostgreSQL: a client's workspace made from a template, roles granted per workspace, a person
refused where they hold none, the register of one workspace never seen from another."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from riskapp.cli.main import app
from tests.store.conftest import TINY
from tests.store.test_workspaces import _drop_workspace_schemas

runner = CliRunner()


@contextmanager
def command_line(
    db_url: str, workspace: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The environment a command sees: this database and workspace, data under `data_dir`,
    no workspace id or user set, no stray .env file; the workspaces' schemas dropped after."""
    monkeypatch.setenv("RISKAPP_DATABASE_URL", db_url)
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(workspace))
    monkeypatch.setenv("RISKAPP_DATA_DIR", str(data_dir))
    monkeypatch.delenv("RISKAPP_WORKSPACE_ID", raising=False)
    monkeypatch.delenv("RISKAPP_USER", raising=False)
    monkeypatch.chdir(data_dir)
    yield
    if db_url.startswith("postgresql"):
        _drop_workspace_schemas(db_url)


@pytest.fixture
def env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with command_line(db_url, TINY, tmp_path, monkeypatch):
        yield db_url


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.output


def test_workspaces_from_the_command_line(env: str, tmp_path: Path) -> None:
    assert (
        run("users", "add", "alice", "--role", "admin", "--password-stdin", stdin="pw-alice-1\n")[0]
        == 0
    )
    assert (
        run("users", "add", "bob", "--role", "viewer", "--password-stdin", stdin="pw-bob-123\n")[0]
        == 0
    )
    code, output = run(
        "workspaces", "create", "client_a", "--name", "Client A", "--template", "energy",
        "--client", "A plc",
    )  # fmt: skip
    assert code == 0, output
    files = tmp_path / "workspaces" / "client_a"
    assert (files / "workspace.yaml").is_file() and (files / "factors.yaml").is_file()
    assert (files / "scenarios").is_dir()
    code, output = run("workspaces", "list")
    assert code == 0 and "client_a" in output and "Client A" in output, output
    # the new workspace's register is empty; the default one's is the tiny register
    code, output = run("-W", "client_a", "export-workspace", str(tmp_path / "a.json"))
    assert code == 0, output
    assert run("export-workspace", str(tmp_path / "home.json"))[0] == 0
    backup_a = json.loads((tmp_path / "a.json").read_text())
    backup_home = json.loads((tmp_path / "home.json").read_text())
    assert backup_a["tables"]["assets"] == []
    assert sorted(r["id"] for r in backup_home["tables"]["assets"]) == ["O1", "P1", "P2"]
    # bob: a viewer of the default workspace only
    code, output = run("--as", "bob", "workspaces", "list")
    assert code == 0 and "default" in output and "client_a" not in output, output
    code, output = run("--as", "bob", "-W", "client_a", "users", "list")
    assert code == 1
    assert "bob has no access to workspace 'client_a'" in output
    assert run("workspaces", "grant", "client_a", "bob", "analyst")[0] == 0
    assert run("workspaces", "revoke", "default", "bob")[0] == 0
    code, output = run("--as", "bob", "workspaces", "list")
    assert "client_a" in output and "default" not in output, output
    code, output = run("--as", "bob", "users", "list")  # the default workspace
    assert code == 1 and "no access to workspace 'default'" in output
    code, output = run("--as", "bob", "score", "--source", "store")  # the Python API's path
    assert code == 1 and "no access to workspace 'default'" in output
    # bob may not grant (an analyst) nor create workspaces (not an admin of the server)
    code, output = run("--as", "bob", "workspaces", "grant", "client_a", "bob", "admin")
    assert code == 1 and "may not manage users" in output
    code, output = run("--as", "bob", "workspaces", "create", "client_b", "--template", "blank")
    assert code == 1 and "admin role in the default workspace" in output
    assert not (tmp_path / "workspaces" / "client_b").exists()  # nothing left behind
    # branding defaults, checked
    code, output = run("workspaces", "branding", "client_a", "--accent-colour", "red")
    assert code == 1 and "#RRGGBB" in output
    assert run("workspaces", "branding", "client_a", "--accent-colour", "#112233")[0] == 0
    # a folder of another workspace is never combined with the default workspace's register
    code, output = run("score", str(files), "--source", "store")
    assert code == 1 and "holds the files of workspace 'client_a'" in output
    # retired: no longer opened
    assert run("workspaces", "retire", "client_a")[0] == 0
    code, output = run("-W", "client_a", "users", "list")
    assert code == 1 and "no workspace 'client_a'" in output
    assert "RISKAPP_USER" not in os.environ and "RISKAPP_WORKSPACE_ID" not in os.environ
