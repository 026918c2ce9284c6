"""Large registers kept fast where pandas and Python would make them slow: id lookups through
an index of Python strings (`riskapp.domain.assets.id_index`) and, in one-shot processes, a
parsed register kept out of the cyclic collector's walks
(`riskapp.io.columnar.freeze_parsed_registers`). What they save is measured by
benchmarks/bench_load.py; here, that they answer the same and apply where they should."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pandas as pd

from tests.conftest import ROOT


def test_id_index_answers_as_pandas_isin_does() -> None:
    """`id_index` is how large id lookups avoid pandas' one-by-one Arrow string membership
    (0.4 s per 100,000 values): the same answers as `Series.isin`, from any sequence."""
    from riskapp.domain.assets import id_index

    register = pd.Series([f"A{i:05d}" for i in range(5000)], dtype="str")
    asked = pd.Series(["A00001", "nope", "A04999", ""], dtype="str")
    assert id_index(asked).dtype == object
    assert list(id_index(asked).isin(id_index(register))) == list(asked.isin(register))
    assert list(id_index(register[:3]).isin(id_index(sorted({"A00002", "A00000"})))) == [
        True,
        False,
        True,
    ]


def _on_the_demo(code: str) -> list[Any]:
    """Run `code` in a fresh interpreter with the demo workspace's folder as its argument; the
    JSON list it prints last."""
    proc = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "demo")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    found: list[Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return found


FREEZE = """
import gc, json, sys
from riskapp.io.columnar import freeze_parsed_registers
from riskapp.io.workspace import load_workspace
before = gc.get_freeze_count()
load_workspace(sys.argv[1])
plain = gc.get_freeze_count()
freeze_parsed_registers()
load_workspace(sys.argv[1])
print(json.dumps([before, plain, gc.get_freeze_count(), gc.isenabled()]))
"""


def test_a_one_shot_process_freezes_what_a_register_parse_leaves() -> None:
    """The command line's processes (`freeze_parsed_registers`) keep a parsed register out of
    the cyclic collector's walks; any other process (the dashboard's server) is left alone."""
    before, plain, frozen, enabled = _on_the_demo(FREEZE)
    assert before == plain == 0
    assert frozen > 0 and enabled is True


IN_PROCESS = """
import gc, json, sys
from typer.testing import CliRunner
from riskapp.cli import app
done = CliRunner().invoke(app, ["score", sys.argv[1]])
print(json.dumps([done.exit_code, gc.get_freeze_count()]))
"""


def test_the_app_run_inside_another_process_leaves_its_heap_unfrozen() -> None:
    """Only the `riskapp` command's own process freezes what it parsed: a test or a notebook
    that runs a command through Typer keeps collecting its own garbage (a frozen heap would
    keep every later cycle of that process alive)."""
    exit_code, frozen = _on_the_demo(IN_PROCESS)
    assert exit_code == 0
    assert frozen == 0
