"""`riskapp alerts ...` on SQLite and PostgreSQL: check on the demo, list, acknowledge, assign,
comment and subscribe from the command line, and what each says when refused (an unknown alert,
a bad subscription, no right to change anything), every refusal exit 1 with nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from riskapp.assessment.scaffold import create_workspace
from tests.store.test_workspaces_cli import command_line, run


@pytest.fixture
def demo(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    ws = tmp_path / "ws"
    create_workspace(ws, "demo")
    with command_line(db_url, ws, tmp_path, monkeypatch):
        yield ws


def test_alerts_worked_from_the_command_line(demo: Path) -> None:
    code, output = run("alerts", "check", str(demo))
    assert code == 0 and "new alert(s)" in output, output
    assert run("alerts", "check", str(demo))[1].startswith("0 new alert(s)")  # nothing twice
    code, output = run("alerts", "list")
    assert code == 0 and "Signpost amber" in output, output
    assert run("alerts", "ack", "1")[0] == 0
    assert run("alerts", "assign", "2", "bob")[0] == 0
    assert run("alerts", "comment", "2", "looking into it")[0] == 0
    code, output = run("alerts", "list", "--all")
    assert code == 0 and "acknowledged" in output and "bob" in output, output
    code, output = run("alerts", "ack", "999")  # an unknown alert: said, exit 1
    assert code == 1 and "999" in output, output
    code, output = run("alerts", "subscribe", "me@client.example", "--min-severity", "loud")
    assert code == 1 and "problem(s) found" in output, output
    assert run("alerts", "subscribe", "me@client.example", "--min-severity", "warning")[0] == 0
    assert run("alerts", "unsubscribe")[0] == 0


def test_a_viewer_is_refused(demo: Path) -> None:
    assert run("alerts", "check", str(demo))[0] == 0
    for name, role in (("alice", "admin"), ("carol", "viewer")):
        stdin = f"pw-{name}-123\n"
        code, output = run("users", "add", name, "--role", role, "--password-stdin", stdin=stdin)
        assert code == 0, output
    code, output = run("--as", "carol", "alerts", "ack", "1")
    assert code == 1 and "carol" in output, output
    code, output = run("alerts", "list")
    assert "open" in output and "acknowledged" not in output  # nothing was written
