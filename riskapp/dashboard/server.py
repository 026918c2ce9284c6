"""The dashboard's server process as `riskapp serve` starts it: Streamlit's own command line
(`python -m riskapp.dashboard.server run app.py --server.port ...` takes what
`python -m streamlit run ...` takes) that also prepares the first page while a browser loads
Streamlit's front end.

Before Streamlit's server starts, this process imports the modules the entry script and the
default page import (`first_page_imports`, read from their source). Imported later, from a
thread beside the running server, they held the interpreter's lock while the server was
sending the browser Streamlit's JavaScript, and the front end loaded slowly: the Overview's
first chart came 0.5 s later (4.8 s instead of 4.3 s, benchmarks/bench_startup.py).

Between the moment the server accepts connections and a browser's first script run, the
server has little to do: the browser is loading Streamlit's JavaScript. Meanwhile a thread
computes what the first run reads (the store opened, the assessment and its comparison with
the files, in the caches the run reads: `riskapp.dashboard.state.prepare`), so that the first
run does not spend that time before its first chart. (Computed before the server starts, it
would only delay the browser's start.) The entry script calls `wait()` before its own imports:
a run that starts while this is under way waits for it rather than doing the same work from a
second thread at once. A problem (a module that fails to import, a workspace with errors) is
left for the run to show.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import importlib
import logging
import socket
import sys
import threading
import time
from pathlib import Path

DASHBOARD = Path(__file__).resolve().parent
FIRST_PAGE = (DASHBOARD / "app.py", DASHBOARD / "views" / "overview.py")
# loaded by the server itself before any script runs
SKIP = {"__future__", "streamlit"}
THREAD = "riskapp-prepare"
SESSION_WARNINGS = "streamlit.runtime.scriptrunner_utils.script_run_context"
REPL_CHECKED = "_use_warning_has_been_displayed"  # streamlit.delta_generator's, see below
# The dashboard's process holds about 200,000 tracked objects once Streamlit, pandas, plotly,
# SQLAlchemy and the workspace are loaded. With Python's default thresholds (700, 10, 10) the
# demo's Risk page's first view in a new process made four full collections and 50 middle
# ones: 0.34 s of its 2.1 s (timed with gc.callbacks). At these thresholds it makes 38 young
# collections (0.07-0.08 s) and no full one; cycles are still collected, in larger batches.
GC_THRESHOLD = (10_000, 50, 100)

_prepared = threading.Event()
_prepared.set()  # nothing under way unless `main` starts it (a plain `streamlit run`, tests)


def first_page_imports(scripts: tuple[Path, ...] = FIRST_PAGE) -> list[str]:
    """The modules the scripts import at their top level, in order (`from m import n`: m,
    and m.n where n is a module)."""
    names: list[str] = []
    for script in scripts:
        tree = ast.parse(script.read_text(encoding="utf-8"), str(script))
        for node in tree.body:
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names += [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
    return [n for n in dict.fromkeys(names) if n.split(".")[0] not in SKIP]


def _import(name: str) -> None:
    """Import `name` if it is a module; `m.n` where n is an attribute of module m is skipped."""
    parent, _, attribute = name.rpartition(".")
    if parent and parent in sys.modules and hasattr(sys.modules[parent], attribute):
        return  # a function or class of an imported module (or a submodule imported already)
    with contextlib.suppress(Exception):  # the script run reports it where it matters
        importlib.import_module(name)


def import_first_page() -> None:
    """Import the first page's modules (`first_page_imports`), then freeze the heap: the
    modules live as long as the server, so later collections need not walk their objects."""
    for name in first_page_imports():
        _import(name)
    gc.freeze()


def _accepting(address: str, port: int) -> bool:
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(address, address)
    try:
        with socket.create_connection((host.strip("[]"), port), timeout=0.5):
            return True
    except OSError:
        return False


class _OutsideAnySession(logging.Filter):
    """Streamlit warns of a call without a session ('missing ScriptRunContext') as a likely
    mistake; the preparing thread runs outside any session on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != THREAD


def prepare(address: str, port: int, timeout_s: float = 60.0) -> None:
    """Once the server accepts connections on `address`:`port` (its own start is not slowed),
    compute what the first page's first run reads (`riskapp.dashboard.state.prepare`); then
    release `wait()`."""
    try:
        deadline = time.monotonic() + timeout_s
        while not _accepting(address, port) and time.monotonic() < deadline:
            time.sleep(0.02)
        with contextlib.suppress(Exception):
            from riskapp.dashboard import state

            state.prepare()
    finally:
        _prepared.set()


def tune_collector() -> None:
    """This process's cyclic collector at GC_THRESHOLD (see above): set by `main` before the
    imports and by the entry script (a plain `streamlit run`, Streamlit's AppTest)."""
    if gc.get_threshold() != GC_THRESHOLD:
        gc.set_threshold(*GC_THRESHOLD)


def skip_repl_check() -> None:
    """On the first element a process makes, Streamlit checks whether the script runs in a
    REPL, to print how to run it instead, by walking the caller's stack (`inspect.stack()`,
    which looks up the module of every frame among all those loaded): with the dashboard's
    modules loaded, 0.05-0.1 s of the first run before its first element. The dashboard's
    script only runs under Streamlit (`riskapp serve`, `streamlit run`, Streamlit's AppTest),
    so the check is marked done (tests/dashboard/test_server.py holds that Streamlit still
    has the flag)."""
    from streamlit import delta_generator

    if hasattr(delta_generator, REPL_CHECKED):
        setattr(delta_generator, REPL_CHECKED, True)


def wait(timeout_s: float = 60.0) -> None:
    """Return once the first page is prepared (at once when nothing is under way)."""
    _prepared.wait(timeout_s)


def _flag(name: str, default: str) -> str:
    args = sys.argv
    return args[args.index(name) + 1] if name in args[:-1] else default


def main() -> None:
    """`streamlit run ...`, the first page's modules imported first and its first run's
    figures computed alongside."""
    from streamlit.web.cli import main as streamlit_main

    address = _flag("--server.address", "")
    port = int(_flag("--server.port", "8501"))
    logging.getLogger(SESSION_WARNINGS).addFilter(_OutsideAnySession())
    tune_collector()
    _prepared.clear()
    import_first_page()
    threading.Thread(target=prepare, args=(address, port), name=THREAD, daemon=True).start()
    streamlit_main(prog_name="streamlit")


if __name__ == "__main__":
    # run as this package's module, the one the entry script's `wait()` reaches (not __main__)
    importlib.import_module("riskapp.dashboard.server").main()
