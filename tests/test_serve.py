"""`riskapp serve`: safe defaults (this machine only; no anonymous remote access) and Streamlit
settings that apply whatever the working directory."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

import riskapp.cli.serve as serve_module
from riskapp.cli import app
from riskapp.cli.serve import browser_url, is_loopback, streamlit_flags
from riskapp.settings import Settings
from riskapp.store import Actor, Role, Store
from tests.conftest import ROOT, TINY

runner = CliRunner()


class FakeServer:
    """Stands in for the Streamlit process `serve` starts: records its command line and
    whether it was killed; nothing is started."""

    started: ClassVar[list[list[str]]]
    killed: ClassVar[list[list[str]]]

    def __init__(self, cmd: list[str], **kwargs: Any) -> None:
        self.cmd = cmd
        self.started.append(cmd)

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def wait(self, timeout: float | None = None) -> int:
        return 0

    def kill(self) -> None:
        self.killed.append(self.cmd)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> type[FakeServer]:
    class Server(FakeServer):
        started: ClassVar[list[list[str]]] = []
        killed: ClassVar[list[list[str]]] = []
        # what `serve` did, in order: the server started, this process yielded to it
        events: ClassVar[list[str]] = []

        def __init__(self, cmd: list[str], **kwargs: Any) -> None:
            super().__init__(cmd, **kwargs)
            self.events.append("server started")

    real_popen = subprocess.Popen

    def popen(cmd: Any, **kwargs: Any) -> Any:
        # only the dashboard's server is faked: a library's own subprocess on the way (croniter,
        # imported by the store's settings, asks `platform.architecture()`, which runs `file`)
        # is run as it is
        if isinstance(cmd, list) and "riskapp.dashboard.server" in cmd:
            return Server(cmd, **kwargs)
        return real_popen(cmd, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", popen)
    # the test process keeps its priority (serve lowers its own while it checks the files)
    monkeypatch.setattr(serve_module, "_yield_to_server", lambda: Server.events.append("yielded"))
    return Server


@pytest.fixture
def calls(server: type[FakeServer]) -> list[list[str]]:
    """The Streamlit command lines `serve` would run (nothing is started)."""
    return server.started


def flag(cmd: list[str], name: str) -> str:
    """The value of the last `name` flag (Streamlit, like most CLIs, takes the last one)."""
    at = len(cmd) - 1 - cmd[::-1].index(name)
    return cmd[at + 1]


def test_default_binds_loopback_with_the_packaged_settings(calls: list[list[str]]) -> None:
    result = runner.invoke(app, ["serve", str(TINY), "--no-open"])
    assert result.exit_code == 0, result.output
    (cmd,) = calls
    assert flag(cmd, "--server.address") == "127.0.0.1"
    assert flag(cmd, "--server.port") == "8501"
    assert flag(cmd, "--server.headless") == "true"
    assert flag(cmd, "--server.enableStaticServing") == "true"
    assert flag(cmd, "--browser.gatherUsageStats") == "false"
    # no Deploy button, no developer menu
    assert flag(cmd, "--client.toolbarMode") == "viewer"
    # no watching of the source files: a product, not a development server
    assert flag(cmd, "--server.fileWatcherType") == "none"
    assert "http://127.0.0.1:8501" in result.output
    # Streamlit's command line, run by the module that prepares the first page meanwhile
    assert cmd[1:4] == ["-m", "riskapp.dashboard.server", "run"]
    assert cmd[4] == str(ROOT / "riskapp" / "dashboard" / "app.py")


def test_the_terminal_check_yields_to_the_server(
    server: type[FakeServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workspace check for the terminal runs after the server has started, at a lower
    priority than the server's (which keeps its own)."""
    events = server.events  # type: ignore[attr-defined]
    real_load = serve_module.load
    monkeypatch.setattr(serve_module, "load", lambda *a: events.append("checked") or real_load(*a))
    result = runner.invoke(app, ["serve", str(TINY), "--no-open"])
    assert result.exit_code == 0, result.output
    assert events == ["server started", "yielded", "checked"]


def test_yielding_lowers_this_process_priority() -> None:
    code = (
        "import os\nfrom riskapp.cli.serve import _yield_to_server\n"
        "before = os.nice(0)\n_yield_to_server()\nprint(before, os.nice(0))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    before, after = map(int, proc.stdout.split())
    assert after == min(before + 10, 19)


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="the idle scheduling class is Linux's")
def test_yielding_takes_the_idle_scheduling_class() -> None:
    code = (
        "import os\nfrom riskapp.cli.serve import _yield_to_server\n"
        "before = os.sched_getscheduler(0)\n_yield_to_server()\n"
        "print(before == os.SCHED_IDLE, os.sched_getscheduler(0) == os.SCHED_IDLE)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert proc.stdout.split() == ["False", "True"]


@pytest.mark.parametrize("address", ["0.0.0.0", "::", "192.0.2.10", "dashboard.example"])
def test_refuses_a_remote_address_without_login(address: str, calls: list[list[str]]) -> None:
    result = runner.invoke(app, ["serve", str(TINY), "--address", address, "--no-open"])
    assert result.exit_code == 2
    assert calls == []  # nothing started
    message = " ".join(result.output.split())
    assert f"refusing to listen on {address}" in message
    assert "no user accounts" in message
    assert "--allow-anonymous-remote" in message
    assert "riskapp users add" in message


def test_remote_without_login_when_the_operator_says_so(calls: list[list[str]]) -> None:
    result = runner.invoke(
        app, ["serve", str(TINY), "--address", "0.0.0.0", "--allow-anonymous-remote", "--no-open"]
    )
    assert result.exit_code == 0, result.output
    assert flag(calls[0], "--server.address") == "0.0.0.0"
    assert "reachable from other machines" in result.output
    assert "http://localhost:8501" in result.output


def test_remote_is_allowed_once_login_is_on(calls: list[list[str]]) -> None:
    store = Store.open(Settings(workspace=TINY), files=TINY)
    try:
        store.add_user("ana", "correct horse battery", Role.ADMIN, Actor.local())
    finally:
        store.close()
    result = runner.invoke(app, ["serve", str(TINY), "--address", "0.0.0.0", "--no-open"])
    assert result.exit_code == 0, result.output
    assert flag(calls[0], "--server.address") == "0.0.0.0"


def test_a_broken_workspace_stops_the_server_it_was_checked_beside(
    tmp_path: Path, server: type[FakeServer]
) -> None:
    """On this machine the workspace is checked while the server starts; problems stop it and
    are listed, and the exit code says so."""
    broken = tmp_path / "broken"
    shutil.copytree(TINY, broken)
    (broken / "factors.yaml").write_text("factors: [\n", encoding="utf-8")
    result = runner.invoke(app, ["serve", str(broken), "--no-open"])
    assert result.exit_code == 1
    assert "problem(s) found" in result.output
    assert "factors.yaml" in result.output
    assert server.killed == server.started and len(server.started) == 1


def test_a_broken_workspace_is_refused_before_a_remote_server_starts(
    tmp_path: Path, server: type[FakeServer]
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(TINY, broken)
    (broken / "factors.yaml").write_text("factors: [\n", encoding="utf-8")
    result = runner.invoke(
        app, ["serve", str(broken), "--address", "0.0.0.0", "--allow-anonymous-remote"]
    )
    assert result.exit_code == 1
    assert "factors.yaml" in result.output
    assert server.started == []


def test_loopback_addresses() -> None:
    for address in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost", "LOCALHOST"):
        assert is_loopback(address), address
    for address in ("0.0.0.0", "::", "", "10.0.0.1", "myhost"):
        assert not is_loopback(address), address
    assert browser_url("::1", 80) == "http://[::1]:80"
    assert browser_url("0.0.0.0", 80) == "http://localhost:80"


def test_every_setting_of_the_file_becomes_a_flag(tmp_path: Path) -> None:
    config = tmp_path / "s.toml"
    config.write_text('[server]\nheadless = false\nmaxUploadSize = 5\n[theme]\nbase = "dark"\n')
    assert streamlit_flags(config) == [
        "--server.headless",
        "false",
        "--server.maxUploadSize",
        "5",
        "--theme.base",
        "dark",
    ]


def test_checkout_config_is_the_packaged_file() -> None:
    """A plain `streamlit run` from the checkout reads the same settings as `riskapp serve`."""
    link = ROOT / ".streamlit" / "config.toml"
    assert link.resolve() == (ROOT / "riskapp" / "dashboard" / "streamlit.toml").resolve()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as in /proc/net/tcp*) of sockets listening on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            host, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(host)
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp")
def test_real_server_listens_on_loopback_only_from_any_directory(tmp_path: Path) -> None:
    """`riskapp serve` (what `make run` calls) comes up with no terminal attached (a non-headless
    first run of Streamlit would stop at its e-mail prompt), from a working directory with no
    .streamlit folder (static serving still on: its settings travel on the command line), and
    listens on 127.0.0.1 only."""
    port = _free_port()
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RISKAPP_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "riskapp.cli", "serve", str(TINY), "--port", str(port), "--no-open"],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        healthy = False
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2):
                    healthy = True
                    break
            except OSError:
                time.sleep(0.3)
        assert healthy, f"no dashboard on port {port}; exit code {proc.poll()}"
        assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing else
        with urllib.request.urlopen(f"{base}/app/static/world_110m.json", timeout=5) as r:
            assert r.status == 200
            assert b'"objects"' in r.read()
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
