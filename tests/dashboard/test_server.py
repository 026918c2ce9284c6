"""The dashboard's server process (riskapp/dashboard/server.py): what it prepares while a
browser loads the front end, that it waits for the server to accept connections first, and
that a first run after it reads the prepared figures instead of computing them again."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from riskapp.dashboard import server, state, store_view
from tests.conftest import DEMO

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "riskapp" / "dashboard" / "app.py")


def test_first_page_imports_are_the_scripts_own() -> None:
    names = server.first_page_imports()
    for module in (
        "riskapp.dashboard.state",
        "riskapp.dashboard.store_view",
        "riskapp.charts.overview",
        "riskapp.assessment.core",
    ):
        assert module in names
    assert not [n for n in names if n.split(".")[0] in {"streamlit", "__future__"}]


def test_wait_returns_at_once_when_nothing_is_prepared() -> None:
    """A plain `streamlit run` of the entry script, and the tests' AppTest runs."""
    server.wait(timeout_s=0)
    assert server._prepared.is_set()


def _run_on_the_demo(code: str, *args: str) -> dict[str, Any]:
    """Run `code` in a fresh interpreter with the demo as the dashboard's workspace; the JSON
    object it prints last."""
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "RISKAPP_WORKSPACE": str(DEMO)},
    )
    assert proc.returncode == 0, proc.stderr
    found: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return found


PREPARE = """
import json, socket, sys, threading, time
from riskapp.dashboard import server
import riskapp.dashboard.store_view as store_view
record = {}
port = int(sys.argv[1])
server._prepared.clear()
threading.Thread(target=server.prepare, args=("127.0.0.1", port, 30), daemon=True).start()
time.sleep(0.5)
record["before listening"] = "riskapp.dashboard.state" in sys.modules
assessed = []
listener = socket.create_server(("127.0.0.1", port))
server.wait(60)
record["modules"] = sorted(m for m in sys.modules if m.startswith("riskapp"))
from riskapp.dashboard import state
real = store_view.assess
store_view.assess = lambda *a, **k: assessed.append(1) or real(*a, **k)
a = store_view.store_assessment(state._default_basis())
record["assessed again"] = len(assessed)
record["sync computed"] = "sync" in vars(a)
listener.close()
print(json.dumps(record))
"""


REPL_CHECK = """
import json
import streamlit as st
import streamlit.delta_generator as dg
import streamlit.env_util as env_util
from riskapp.dashboard import server
walked = []
real = env_util.is_repl
env_util.is_repl = lambda: walked.append(1) or real()
record = {"flag": hasattr(dg, server.REPL_CHECKED)}
server.skip_repl_check()
st.empty()
record["walked"] = len(walked)
print(json.dumps(record))
"""


APP_RUN = """
import gc, json
from streamlit.testing.v1 import AppTest
before = list(gc.get_threshold())
at = AppTest.from_file("riskapp/dashboard/app.py", default_timeout=300).run()
print(json.dumps({"before": before, "after": list(gc.get_threshold()),
                  "errors": [e.message for e in at.exception]}))
"""


def test_a_run_of_the_entry_script_tunes_the_collector() -> None:
    """Without `riskapp serve` (a plain `streamlit run`, AppTest), the entry script sets the
    collector's thresholds itself."""
    record = _run_on_the_demo(APP_RUN)
    assert record["errors"] == []
    assert record["after"] == list(server.GC_THRESHOLD) != record["before"]


def test_the_first_element_does_not_walk_the_stack() -> None:
    """Streamlit's once-per-process REPL check (`inspect.stack()` over every loaded module)
    is skipped: the flag it sets is still Streamlit's (an upgrade that renames it fails
    here), and a first element made after `skip_repl_check` does not call the check."""
    assert _run_on_the_demo(REPL_CHECK) == {"flag": True, "walked": 0}


def test_prepare_waits_for_the_server_then_computes_the_first_page() -> None:
    """Nothing before the server listens (its own start is not slowed); then the assessment
    and comparison the first run reads from the caches."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    record = _run_on_the_demo(PREPARE, str(port))
    assert record["before listening"] is False
    assert "riskapp.dashboard.state" in record["modules"]
    assert record["assessed again"] == 0  # the prepared assessment was read from the cache
    assert record["sync computed"] is True


MAIN = """
import gc, json, sys
import streamlit.web.cli
from riskapp.dashboard import server
seen = {}

def streamlit_main(prog_name):  # stands in for Streamlit's server: records what it finds
    seen["modules"] = sorted(m for m in sys.modules if m.startswith("riskapp"))
    seen["frozen"] = gc.get_freeze_count()
    seen["threshold"] = list(gc.get_threshold())
    seen["argv"] = sys.argv[1:]

streamlit.web.cli.main = streamlit_main
sys.argv = ["server", "run", "app.py", "--server.port", "1"]  # nothing listens: prepare waits
server.main()
print(json.dumps(seen))
"""


def test_main_imports_the_first_page_before_streamlit_starts() -> None:
    """Imported beside the running server they would hold the interpreter's lock while it
    sends the browser the front end; imported first, the server starts with them loaded."""
    seen = _run_on_the_demo(MAIN)
    assert set(server.first_page_imports()) & {
        "riskapp.charts.overview",
        "riskapp.dashboard.store_view",
    } <= set(seen["modules"])
    assert seen["frozen"] > 0  # the modules' objects are left out of later collections
    assert seen["threshold"] == list(server.GC_THRESHOLD)
    assert seen["argv"] == ["run", "app.py", "--server.port", "1"]


def test_first_run_after_prepare_reads_the_prepared_assessment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The Overview after `state.prepare()`: the same page, and no second assessment."""
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(DEMO))
    state.prepare()
    assessed: list[object] = []
    real = store_view.assess
    monkeypatch.setattr(store_view, "assess", lambda *a, **k: assessed.append(a) or real(*a, **k))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.title[0].value == "Overview" and at.get("plotly_chart")
    assert assessed == []


def test_prepare_leaves_problems_to_the_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A workspace with a broken file: nothing raised while preparing; the run lists it."""
    import shutil

    from tests.conftest import TINY

    ws = tmp_path / "ws"
    shutil.copytree(TINY, ws)
    (ws / "scenarios" / "s2.yaml").write_text("id: s2\ntitle: [unclosed\n")
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(ws))
    state.prepare()
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert "problem" in at.error[0].value
