"""Benchmark of start-up: `riskapp --help`, `riskapp validate demo scenarios` and the dashboard's
time to its first chart, each against a floor measured in the same run.

    .venv/bin/python benchmarks/bench_startup.py [--repeat R] [--only help validate dashboard]

Cases and their floors (a fresh process each time, riskapp and floor runs alternating):

- help:      `riskapp --help` against a process importing what it needs: typer with its rich
             help renderer (typer.rich_utils) and rich; for reference also a two-command
             Typer app's --help (Typer's own work of rendering help).
- validate:  `riskapp validate demo scenarios` (as `make summary` runs it) against a process
             importing the third-party libraries validation uses: typer, rich, pydantic,
             yaml, pandas, numpy, pycountry, pyarrow (CSV, compute), shapely, pyproj.
- dashboard: `riskapp serve demo --no-open` until the Overview's first Plotly chart is drawn
             in Chromium, against `streamlit run benchmarks/floor_chart_app.py` (a one-chart
             page, same Streamlit settings) until its chart is drawn. The clock starts when the
             server process is spawned; the browser is started before, once. Each run opens a
             fresh browser context (no cache). For both it also prints when the first
             websocket message carrying a Plotly figure reached the browser (the page has sent
             its chart) and how long the browser then took to draw it (Streamlit's front end
             fetching and parsing Plotly's chunk, laying out the page around the chart).

Every case runs with HOME and RISKAPP_DATA_DIR in a temporary folder of its own, created for the
run; one untimed warm-up run of each command comes first (it also seeds the case's team
database, as a user's first start does, and writes Python's bytecode cache into the run's
temporary folder, so that riskapp's modules are read compiled, as an installed package's are,
even where PYTHONDONTWRITEBYTECODE is set), then --repeat timed runs alternating riskapp and
floor.
Printed per command: the median wall time, min-max, peak RSS (`ru_maxrss` of the process; for a
server, the sum over its process tree of each process's peak, read when the chart is drawn),
the ratio of medians to the floor, and the median CPU time (user + system; a server's process
tree until the chart is drawn) with its ratio: on a machine shared with other jobs wall times
swing with the load, CPU times much less. Each CLI case also lists the third-party packages
the riskapp process loaded that its floor does not (an untimed run that records sys.modules).

Targets (issue 15, item 6; informational, the exit status is 0 either way): help and validate
within 1.2x, the dashboard's first chart within 1.5x. Exit status 1 only if a command fails.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FLOOR_CHART_APP = Path(__file__).resolve().parent / "floor_chart_app.py"
CHROMIUM = Path("/usr/bin/chromium")
# the console script's own code (`riskapp = "riskapp.cli:main"`), run by this interpreter so the
# checkout being measured is the one imported
ENTRY = "import sys; sys.argv[0] = 'riskapp'; from riskapp.cli import main; main()"
TYPER_ONE = (
    "import typer\napp = typer.Typer(rich_markup_mode='markdown', add_completion=False)\n"
    "@app.command()\ndef validate(paths: list[str]) -> None:\n    'Check files.'\n"
    "@app.command()\ndef score(workspace: str = 'demo') -> None:\n    'Score.'\n"
    "import sys; sys.argv[0] = 'one'; app()\n"
)
# the third-party modules each command needs: Typer (and its rich help renderer) and rich for
# --help; for validate also pydantic's models (Typer's own option coercion imports pydantic
# too), PyYAML, pandas and numpy for the registers, pycountry for country codes, Arrow's CSV
# reader and compute functions for the columnar register check, shapely and pyproj for the
# geography a workspace's zones, routes and subdivisions are checked and placed with
HELP_FLOOR = "import typer, typer.rich_utils, rich.console"
VALIDATE_FLOOR = (
    "import typer, rich.console, yaml, numpy, pandas, pycountry, pyarrow.csv, pyarrow.compute, "
    "shapely, pyproj; from pydantic import BaseModel"
)
TARGETS = {"help": 1.2, "validate": 1.2, "dashboard": 1.5}
# as the browser tests launch Debian's Chromium (tests/browser/conftest.py)
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# a message of Streamlit's websocket that carries a Plotly figure (its JSON spec): the page
# sent its first chart, and what follows until the chart is drawn is the browser's work
CHART_MESSAGE = (b'"data":', b'"layout":')
FIRST_CHART = (
    """() => document.querySelector('[data-testid="stPlotlyChart"] svg.main-svg') !== null"""
)


@dataclass
class Run:
    seconds: float
    rss_mb: float
    cpu_s: float  # user + system CPU time of the process (a server: of its process tree)
    ready_s: float | None = None  # a server's: when it first answered its health check
    # a server's: when the browser received the first message carrying a Plotly figure
    chart_message_s: float | None = None


@dataclass
class Command:
    label: str
    runs: list[Run] = field(default_factory=list)

    def median(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    def rss(self) -> float:
        return statistics.median(r.rss_mb for r in self.runs)

    def cpu(self) -> float:
        return statistics.median(r.cpu_s for r in self.runs)


# -- command-line cases --------------------------------------------------------------------------
def run_cli(argv: list[str], env: dict[str, str]) -> Run:
    """Wall time and peak RSS of one fresh process (os.wait4 gives that child's own rusage)."""
    t = time.perf_counter()
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert proc.stderr is not None
    errors = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = errors.decode(errors="replace").strip().splitlines()[-10:]
        raise SystemExit(f"{' '.join(argv[-3:])} exited {proc.returncode}:\n" + "\n".join(tail))
    return Run(elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)


def third_party(argv: list[str], env: dict[str, str]) -> set[str]:
    """Top-level third-party packages a command's process has loaded when it exits."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    code = argv[2]
    census = (
        "import atexit, json, sys\n"
        f"atexit.register(lambda: open({out!r}, 'w').write(json.dumps(sorted(sys.modules))))\n"
    )
    subprocess.run(
        [argv[0], "-c", census + code, *argv[3:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=False,
    )
    names = json.loads(Path(out).read_text())
    Path(out).unlink()
    tops = {n.split(".")[0] for n in names}
    return {
        t
        for t in tops
        if t not in sys.stdlib_module_names and not t.startswith("_") and t != "riskapp"
    }


def cli_case(name: str, args: list[str], floor: str, repeat: int, tmp: Path) -> list[Command]:
    env = case_env(tmp / name)
    py = sys.executable
    commands: list[tuple[Command, list[str]]] = [
        (Command(f"riskapp {' '.join(args)}"), [py, "-c", ENTRY, *args]),
        (Command(f"floor: {floor}"), [py, "-c", floor]),
    ]
    if name == "help":
        commands.append(
            (Command("reference: a two-command Typer app --help"), [py, "-c", TYPER_ONE, "--help"])
        )
    for _, argv in commands:
        run_cli(argv, env)  # warm-up: caches, the case's data directory
    for i in range(repeat):
        order = commands if i % 2 == 0 else commands[::-1]
        for cmd, argv in order:
            cmd.runs.append(run_cli(argv, env))
    extra = third_party(commands[0][1], env) - third_party(commands[1][1], env)
    commands[0][0].label += f"  [loads beyond the floor: {', '.join(sorted(extra)) or 'nothing'}]"
    return [cmd for cmd, _ in commands]


def case_env(folder: Path) -> dict[str, str]:
    """HOME and RISKAPP_DATA_DIR inside the case's folder; Python's bytecode cache in the
    run's temporary folder (PYTHONPYCACHEPREFIX), written by the warm-up run: riskapp's modules
    are then read compiled, as an installed package's are (pip compiles them at install) and
    as the libraries' are, even where PYTHONDONTWRITEBYTECODE is set, and the checkout gets
    no __pycache__ folders."""
    (folder / "home").mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "HOME": str(folder / "home"),
        "RISKAPP_DATA_DIR": str(folder / "data"),
        "PYTHONPYCACHEPREFIX": str(folder.parent / "pycache"),
        "PYTHONPATH": os.pathsep.join(
            p for p in [str(ROOT), os.environ.get("PYTHONPATH", "")] if p
        ),
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("RISKAPP_WORKSPACE", None)
    env.pop("RISKAPP_DATABASE_URL", None)
    return env


# -- the dashboard -------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tree_peak_mb(pid: int) -> float:
    """Sum of each process's peak RSS (VmHWM) over the process tree of `pid`."""
    import psutil

    total = 0
    root = psutil.Process(pid)
    for p in [root, *root.children(recursive=True)]:
        try:
            for line in Path(f"/proc/{p.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def _tree_cpu_s(pid: int) -> float:
    """User + system CPU time so far of the process tree of `pid`."""
    import psutil

    root = psutil.Process(pid)
    total = 0.0
    for p in [root, *root.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def run_server(argv: list[str], port: int, env: dict[str, str], browser: Any) -> Run:
    """Spawn the server, load its page in a fresh browser context once it answers, and stop
    the clock when the first Plotly chart has drawn its SVG."""
    url = f"http://127.0.0.1:{port}"
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    t = time.perf_counter()
    received: list[float] = []

    def on_frame(payload: str | bytes) -> None:
        data = payload.encode() if isinstance(payload, str) else payload
        if not received and all(marker in data for marker in CHART_MESSAGE):
            received.append(time.perf_counter() - t)

    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
    proc = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"{' '.join(argv)} exited {proc.returncode} before serving")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        ready = time.perf_counter() - t
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{' '.join(argv)}: no answer on {url} after 120 s")
            time.sleep(0.02)
        page.goto(url, wait_until="commit")
        page.wait_for_function(FIRST_CHART, polling=20)
        elapsed = time.perf_counter() - t
        rss, cpu = _tree_peak_mb(proc.pid), _tree_cpu_s(proc.pid)
        if page.locator('[data-testid="stException"]').count():
            raise SystemExit(f"{' '.join(argv)}: exception on the page")
    finally:
        context.close()
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)
    return Run(elapsed, rss, cpu, ready, received[0] if received else None)


def dashboard_case(repeat: int, tmp: Path) -> list[Command]:
    from playwright.sync_api import sync_playwright

    from riskapp.cli.serve import streamlit_flags

    env = case_env(tmp / "dashboard")
    py = sys.executable

    def riskapp_argv(port: int) -> list[str]:
        return [py, "-c", ENTRY, "serve", "demo", "--no-open", "--port", str(port)]

    def floor_argv(port: int) -> list[str]:
        return [
            py, "-m", "streamlit", "run", str(FLOOR_CHART_APP), *streamlit_flags(),
            "--server.address", "127.0.0.1", "--server.port", str(port),
        ]  # fmt: skip

    commands = [
        (Command("riskapp serve demo: Overview's first chart"), riskapp_argv),
        (Command("floor: streamlit run floor_chart_app.py: its chart"), floor_argv),
    ]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            for _, argv in commands:  # warm-up: seeds the case's team database, fills caches
                port = _free_port()
                run_server(argv(port), port, env, browser)
            for i in range(repeat):
                order = commands if i % 2 == 0 else commands[::-1]
                for cmd, argv in order:
                    port = _free_port()
                    cmd.runs.append(run_server(argv(port), port, env, browser))
        finally:
            browser.close()
    return [cmd for cmd, _ in commands]


# -- the report ----------------------------------------------------------------------------------
def report(name: str, commands: list[Command]) -> None:
    floor = commands[1].median()
    print(f"\n{name}")
    print(
        f"  {'command':<58}{'median s':>9}{'min-max s':>14}{'peak RSS MB':>13}{'x floor':>9}"
        f"{'CPU s':>8}{'x floor':>9}"
    )
    for cmd in commands:
        times = [r.seconds for r in cmd.runs]
        print(
            f"  {cmd.label.split('  [')[0]:<58}{cmd.median():>9.3f}"
            f"{f'{min(times):.2f}-{max(times):.2f}':>14}{cmd.rss():>13.0f}"
            f"{cmd.median() / floor:>9.2f}{cmd.cpu():>8.2f}{cmd.cpu() / commands[1].cpu():>9.2f}"
        )
        if "  [" in cmd.label:
            print(f"    {cmd.label.split('  [')[1].rstrip(']')}")
        ready = [r.ready_s for r in cmd.runs if r.ready_s is not None]
        if ready:
            print(
                f"    server answering after {statistics.median(ready):.2f} s (median), "
                f"first chart {cmd.median() - statistics.median(ready):.2f} s later"
            )
        sent = [r.seconds - r.chart_message_s for r in cmd.runs if r.chart_message_s is not None]
        if sent:
            print(
                f"    the chart's message reached the browser "
                f"{cmd.median() - statistics.median(sent):.2f} s in; the browser drew it "
                f"{statistics.median(sent):.2f} s after (median): its loading and drawing"
            )
    ratio = commands[0].median() / floor
    target = TARGETS[name]
    verdict = "PASS" if ratio <= target else "MISS"
    cpu_ratio = commands[0].cpu() / commands[1].cpu()
    print(
        f"  target: within {target:g}x the floor: {ratio:.2f}x wall time  {verdict} "
        f"({cpu_ratio:.2f}x in CPU time, which a busy machine disturbs less)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9, help="timed runs of each command")
    parser.add_argument(
        "--only", nargs="+", choices=["help", "validate", "dashboard"], help="cases to run"
    )
    args = parser.parse_args()
    cases = args.only or ["help", "validate", "dashboard"]
    print(
        f"riskapp start-up benchmark: python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        f"{args.repeat} timed runs per command (fresh processes, alternating, after a warm-up)"
    )
    with tempfile.TemporaryDirectory(prefix="riskapp-bench-startup-") as tmp:
        for name in cases:
            if name == "help":
                report(name, cli_case(name, ["--help"], HELP_FLOOR, args.repeat, Path(tmp)))
            elif name == "validate":
                report(
                    name,
                    cli_case(
                        name,
                        ["validate", "demo", "scenarios"],
                        VALIDATE_FLOOR,
                        args.repeat,
                        Path(tmp),
                    ),
                )
            elif not CHROMIUM.exists():
                print(f"\ndashboard: not measured, no Chromium at {CHROMIUM}")
            else:
                report(name, dashboard_case(args.repeat, Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
