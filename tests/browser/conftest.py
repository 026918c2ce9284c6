"""Fixtures for the real-browser tests: a `streamlit run` of the dashboard on a free local port
and Debian's Chromium driven by Playwright (sync API, no pytest-playwright).

Chromium comes from Debian (`apt-get install chromium`, done by `make test`); Playwright never
downloads its own browser here. Without /usr/bin/chromium the tests are skipped on a developer
machine and FAIL when the environment variable CI is set, so CI can never pass by skipping them.

Screenshots and the server log go to tests/browser/artifacts/ or to $RISKAPP_ARTIFACTS.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from riskapp.cli.serve import streamlit_flags

ROOT = Path(__file__).resolve().parents[2]  # the checkout this test file belongs to
APP = Path("riskapp") / "dashboard" / "app.py"
CHROMIUM = Path("/usr/bin/chromium")
# Background networking (component updates, sync, safe-browsing lists) is refused on a closed
# network and would only add noise; the sandbox needs user namespaces that containers lack.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Streamlit scrolls inside its own container, so a full-page screenshot only shows the
# viewport: a tall viewport is what gets the whole page into the picture.
VIEWPORT = {"width": 1400, "height": 2400}
SERVER_START_TIMEOUT_S = 30.0
TIMEOUT_MS = 30_000
# see Dashboard._on_console
PROBE_404 = re.compile(r"/[^/]+/_stcore/(health|host-config)")


def artifacts_dir() -> Path:
    path = Path(os.environ.get("RISKAPP_ARTIFACTS") or Path(__file__).parent / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _unavailable() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"Chromium not found at {CHROMIUM}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


@pytest.fixture(scope="session")
def chromium_ready() -> None:
    reason = _unavailable()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(
            f"Browser tests cannot run in CI: {reason}. CI must install Debian's chromium "
            "(`make test` does: apt-get install chromium) and the test extras "
            "(pip install -e '.[test]').",
            pytrace=False,
        )
    pytest.skip(f"{reason}; `make test` installs it (apt-get install chromium)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def _streamlit(workspace: Path, data_dir: Path, log_name: str) -> Iterator[str]:
    """Base URL of a real `streamlit run` of the dashboard on `workspace`."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = artifacts_dir() / log_name
    env = {
        **os.environ,
        "RISKAPP_WORKSPACE": str(workspace),
        # a team database of its own, seeded from the workspace, never the user's ~/.riskapp
        "RISKAPP_DATA_DIR": str(data_dir),
        "PYTHONUNBUFFERED": "1",
    }
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        # the settings `riskapp serve` passes (riskapp/dashboard/streamlit.toml); the flags
        # after them win
        *streamlit_flags(),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",  # nothing outside this machine needs to reach the test server
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        # no rerun prompts if someone edits a page while the tests run
        "--server.fileWatcherType",
        "none",
    ]
    with log_path.open("w") as log:
        # cwd = checkout root: APP is relative to it
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT_S
            while True:
                if proc.poll() is not None:
                    pytest.fail(
                        f"streamlit exited with {proc.returncode} before it was healthy:\n"
                        + _log_tail(log_path),
                        pytrace=False,
                    )
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except (urllib.error.URLError, OSError):
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"streamlit not healthy on {url} after {SERVER_START_TIMEOUT_S:.0f} s:\n"
                        + _log_tail(log_path),
                        pytrace=False,
                    )
                time.sleep(0.2)
            yield url
        finally:
            # the server runs in its own session: stop it and anything it started
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=10)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


@pytest.fixture(scope="session")
def app_url(chromium_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a real `streamlit run` of the dashboard on the demo workspace."""
    data = tmp_path_factory.mktemp("browser-data")
    with _streamlit(ROOT / "demo", data, "streamlit-server.log") as url:
        yield url


@pytest.fixture(scope="session")
def blank_url(chromium_ready: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard on a new workspace made by `riskapp init` (no assets yet)."""
    from riskapp.assessment.scaffold import create_workspace

    folder = tmp_path_factory.mktemp("blank") / "client-a"
    create_workspace(folder)
    data = tmp_path_factory.mktemp("blank-data")
    with _streamlit(folder, data, "streamlit-blank.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser(chromium_ready: None) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


class Dashboard:
    """One browser tab on the dashboard, recording what would show a broken page: console
    errors, uncaught page errors and requests that leave the local server."""

    def __init__(self, page: Any, base_url: str, artifacts: Path) -> None:
        self.page = page
        self.base_url = base_url
        self.artifacts = artifacts
        self.console_errors: list[str] = []
        self.ignored_console: list[str] = []
        self.external_requests: list[str] = []
        self.responses: list[tuple[str, int]] = []
        page.set_default_timeout(TIMEOUT_MS)
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.console_errors.append(f"page error: {exc}"))
        page.on("request", self._on_request)
        page.on("response", lambda r: self.responses.append((r.url, r.status)))

    def _on_console(self, msg: Any) -> None:
        if msg.type != "error":
            return
        where = (msg.location or {}).get("url") or "?"
        text = f"console error: {msg.text} (at {where})"
        # The one filter: opened directly at a page URL (/scenarios), Streamlit's frontend first
        # probes <page>/_stcore/health and <page>/_stcore/host-config to find the server's base
        # path, gets 404 and falls back to /_stcore/... (streamlit/streamlit#7074, open). That
        # is Streamlit's start-up, not the app. Only those exact URLs are ignored; a 404 of
        # /_stcore/health itself, or of anything else, still fails the test.
        if "404" in msg.text and PROBE_404.fullmatch(where.removeprefix(self.base_url)):
            self.ignored_console.append(text)
            return
        self.console_errors.append(text)

    def _on_request(self, request: Any) -> None:
        url = request.url
        if not url.startswith((self.base_url, "data:", "blob:", "about:")):
            self.external_requests.append(url)

    def open(self, path: str) -> None:
        """Load a page and wait until its script has run and its charts are drawn."""
        self.page.goto(self.base_url + path)
        self.wait_ready()

    def wait_ready(self) -> None:
        """Wait until the script run is over, no element is still a loading skeleton (Streamlit
        loads some element types lazily and shows a grey box meanwhile), the page shows a
        heading and every Plotly chart on it has drawn its SVG."""
        self.page.wait_for_function(
            """() => {
                const app = document.querySelector('[data-testid="stApp"]');
                if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') {
                    return false;
                }
                if (document.querySelector(
                        '[data-testid="stAppSkeleton"], [data-testid^="stSkeleton"]')) {
                    return false;
                }
                if (!document.querySelector(
                        '[data-testid="stMain"] h1, [data-testid="stMain"] h2')) {
                    return false;
                }
                return Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'))
                    .every(c => c.querySelector('svg.main-svg') !== null);
            }"""
        )

    def metric_values(self) -> list[str]:
        return [
            t.strip() for t in self.page.locator('[data-testid="stMetricValue"]').all_inner_texts()
        ]

    def cut_metrics(self) -> list[str]:
        """The figures (st.metric values) drawn too wide for their card, which the browser
        cuts short with an ellipsis ("EUR 11...")."""
        cut: list[str] = self.page.evaluate(
            """() => Array.from(document.querySelectorAll('[data-testid="stMetricValue"]'))
                .filter(e => Array.from([e, ...e.querySelectorAll('*')])
                    .some(x => x.scrollWidth > x.clientWidth + 1))
                .map(e => e.innerText.trim())"""
        )
        return cut

    def screenshot(self, name: str) -> Path:
        path = self.artifacts / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
        self.page.screenshot(path=str(path))
        return path

    def assert_healthy(self) -> None:
        """No exception box, no st.error, no console errors, nothing fetched from outside."""
        exceptions = self.page.locator('[data-testid="stException"]')
        assert exceptions.count() == 0, "exception on the page:\n" + "\n".join(
            exceptions.all_inner_texts()
        )
        errors = self.page.locator('[data-testid="stAlertContentError"]')
        assert errors.count() == 0, "st.error on the page:\n" + "\n".join(errors.all_inner_texts())
        assert not self.console_errors, "browser console errors:\n" + "\n".join(self.console_errors)
        # The dashboard must work on a closed network: everything from the local server.
        assert not self.external_requests, (
            "the page fetched resources from outside the local server:\n"
            + "\n".join(self.external_requests)
        )


@pytest.fixture
def dashboard(browser: Any, app_url: str) -> Iterator[Dashboard]:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        yield Dashboard(context.new_page(), app_url, artifacts_dir())
    finally:
        context.close()


@pytest.fixture
def blank_dashboard(browser: Any, blank_url: str) -> Iterator[Dashboard]:
    context = browser.new_context(viewport=VIEWPORT)
    try:
        yield Dashboard(context.new_page(), blank_url, artifacts_dir())
    finally:
        context.close()
