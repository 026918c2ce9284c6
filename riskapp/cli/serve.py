"""`riskapp serve`: the dashboard on a workspace, with safe defaults.

Streamlit's settings come from the file inside the package (riskapp/dashboard/streamlit.toml),
passed as command-line flags, so they apply whatever the working directory and in an installed
wheel. The server listens on 127.0.0.1 unless `--address` says otherwise, and refuses a
non-loopback address while the team database has no user accounts (login off: everyone who
reaches the port would have every right) unless `--allow-anonymous-remote` is given.
"""

from __future__ import annotations

import ipaddress
import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer

from riskapp.cli.common import DEMO, WorkspaceArg, err, fail_message, load, out

DASHBOARD = Path(__file__).resolve().parent.parent / "dashboard"
APP_FILE = DASHBOARD / "app.py"
STREAMLIT_SETTINGS = DASHBOARD / "streamlit.toml"
DEFAULT_ADDRESS = "127.0.0.1"
# addresses that mean "every interface": the browser tab opens on this machine's loopback
ANY_ADDRESS = {"", "0.0.0.0", "::"}


def streamlit_flags(path: Path = STREAMLIT_SETTINGS) -> list[str]:
    """Every setting of a Streamlit config file as flags (`--server.headless true`, ...)."""
    with path.open("rb") as f:
        config = tomllib.load(f)
    flags: list[str] = []
    for section, values in config.items():
        for key, value in values.items():
            flags += [f"--{section}.{key}", _flag_value(value)]
    return flags


def _flag_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def is_loopback(address: str) -> bool:
    """Whether only this machine can reach `address` (127.0.0.0/8, ::1, localhost)."""
    if address.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything, so treat it as remote


def login_configured(workspace: Path) -> bool:
    """Whether the team database the dashboard will open has user accounts (login on)."""
    from riskapp.settings import Settings
    from riskapp.store import Store

    store = Store.open(Settings(workspace=workspace), files=workspace)
    try:
        return store.has_users()
    finally:
        store.close()


def browser_url(address: str, port: int) -> str:
    host = "localhost" if address in ANY_ADDRESS else address
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def serve(
    workspace: WorkspaceArg = DEMO,
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8501,
    address: Annotated[
        str,
        typer.Option(
            help="Address to listen on. The default is reachable from this machine only; "
            "0.0.0.0 listens on every interface."
        ),
    ] = DEFAULT_ADDRESS,
    allow_anonymous_remote: Annotated[
        bool,
        typer.Option(
            "--allow-anonymous-remote",
            help="Listen on a non-loopback address even though no user accounts exist "
            "(login off: everyone who reaches the port can change everything).",
        ),
    ] = False,
    open_browser: Annotated[
        bool, typer.Option("--open/--no-open", help="Open a browser tab.")
    ] = True,
) -> None:
    """Start the dashboard on a workspace (http://127.0.0.1:8501 by default: this machine only)."""
    import os
    import subprocess
    import sys

    remote = not is_loopback(address)
    if remote:
        # refuse a broken workspace, with the problems listed, before its database is opened
        load(workspace, None)
    given, workspace = workspace, workspace.resolve()
    if remote and not allow_anonymous_remote:
        try:
            has_users = login_configured(workspace)
        except Exception as exc:  # the database is unreachable or broken: say so, do not serve
            fail_message(f"cannot open the team database to check for user accounts: {exc}", 1)
        if not has_users:
            fail_message(
                f"refusing to listen on {address}: the team database has no user accounts, so "
                "login is off and everyone who reaches the port has every right (edit the "
                "register, delete plans, add users). Add an account first (riskapp users add NAME "
                "--role admin) or pass --allow-anonymous-remote to serve without login anyway."
            )
    if remote:
        err.print(
            f"Listening on {address}: reachable from other machines.",
            style="yellow",
            highlight=False,
        )
    env = {**os.environ, "RISKAPP_WORKSPACE": str(workspace)}
    # always headless (streamlit.toml): otherwise Streamlit's first run asks for an e-mail
    # address on the terminal and, with no terminal (CI, a service), stops; the tab is opened here
    cmd = [
        sys.executable,
        "-m",
        "riskapp.dashboard.server",  # Streamlit's command line, the first page prepared meanwhile
        "run",
        str(APP_FILE),
        *streamlit_flags(),
        "--server.address",
        address,
        "--server.port",
        str(port),
    ]
    url = browser_url(address, port)
    out.print(f"riskapp dashboard on {url} (Ctrl+C to stop)", highlight=False)
    # as subprocess.call, with the workspace checked while the server starts (the check and
    # Streamlit's start-up each take about a second): a broken workspace stops the server and
    # lists its problems, and no browser tab opens before the check has passed
    with subprocess.Popen(cmd, env=env) as server:
        try:
            if not remote:
                _yield_to_server()
                load(given, None)
            if open_browser:
                _open_when_ready(url)
            code = server.wait()
        except BaseException:
            server.kill()
            raise
    raise typer.Exit(code)


def _yield_to_server() -> None:
    """Lower this process's priority (it is started already, so the server keeps its own): the
    workspace check here is for the terminal and runs while the server starts and draws its
    first page, which on a machine with few cores it would otherwise slow down. This process
    only waits for the server afterwards. On Linux it also takes the idle scheduling class (it
    runs only on a core nothing else wants): at nice 10 alone it still slowed the dashboard's
    first chart by 0.2-0.6 s on 2 cores (benchmarks/README.md, Round 6)."""
    import contextlib
    import os

    if hasattr(os, "nice"):  # not on Windows
        with contextlib.suppress(OSError):
            os.nice(10)
    if hasattr(os, "SCHED_IDLE"):  # Linux: run only on a core nothing else wants
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def _open_when_ready(url: str, timeout_s: float = 60.0) -> None:
    """Open a browser tab once the server answers (does nothing where no browser exists)."""
    import threading
    import time
    import urllib.request
    import webbrowser

    def wait_and_open() -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    webbrowser.open(url)
                    return
            except OSError:
                time.sleep(0.5)

    threading.Thread(target=wait_and_open, daemon=True).start()


def register(app: typer.Typer) -> None:
    """Add `serve` to a command line."""
    app.command("serve")(serve)
