"""What the command line loads when it starts: `riskapp --help` imports typer and rich, not the
libraries its commands use (pandas, numpy, pydantic, the UI and database libraries), and
`riskapp validate` none of the UI, database or report libraries. Checked in fresh interpreters
through sys.modules, not timed (benchmarks/bench_startup.py prints the times).

Also: the packages whose names are imported on first use (riskapp.lazy) list the same names in
their TYPE_CHECKING imports and __all__, and each name resolves to its module's object.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

from riskapp.lazy import type_checking_imports

ROOT = Path(__file__).resolve().parent.parent
# what --help must not import (everything the commands themselves use)
NOT_FOR_HELP = [
    "pandas",
    "numpy",
    "pydantic",
    "pydantic_settings",
    "yaml",
    "pyarrow",
    "pycountry",
    "plotly",
    "streamlit",
    "sqlalchemy",
    "weasyprint",
    "kaleido",
    "pptx",
    "openpyxl",
    "xlsxwriter",
    "dask",
    "SALib",
    "scipy",
    "alembic",
]
# what validating files must not import: the UI, database, report and scale-out libraries
NOT_FOR_VALIDATE = [
    "plotly",
    "streamlit",
    "sqlalchemy",
    "alembic",
    "weasyprint",
    "kaleido",
    "pptx",
    "xlsxwriter",
    "dask",
    "SALib",
    "scipy",
]
LAZY_PACKAGES = [
    "riskapp.domain",
    "riskapp.engine",
    "riskapp.io",
    "riskapp.assessment",
]
# the console script `riskapp = "riskapp.cli:app"`, with its modules recorded at exit
ENTRY = (
    "import atexit, json, sys\n"
    "record = sys.argv.pop(1)\n"
    "atexit.register(lambda: open(record, 'w').write(json.dumps(sorted(sys.modules))))\n"
    "sys.argv[0] = 'riskapp'\n"
    "from riskapp.cli import app\n"
    "sys.exit(app())\n"
)


def loaded(
    code: str, *args: str, tmp_path: Path
) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """The top-level packages a fresh interpreter has imported when `code` ends."""
    record = tmp_path / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", code, str(record), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    modules = json.loads(record.read_text(encoding="utf-8"))
    return {m.split(".")[0] for m in modules}, proc


def test_importing_the_cli_loads_no_command_library(tmp_path: Path) -> None:
    code = (
        "import json, sys\nimport riskapp.cli\n"
        "open(sys.argv[1], 'w').write(json.dumps(sorted(sys.modules)))\n"
    )
    tops, proc = loaded(code, tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "typer" in tops and "riskapp" in tops  # the record is of the right process
    assert not tops & set(NOT_FOR_HELP), (
        f"import riskapp.cli loaded {sorted(tops & set(NOT_FOR_HELP))}"
    )


@pytest.mark.parametrize("args", [["--help"], ["score", "--help"], ["simulate", "--help"]])
def test_help_loads_no_command_library(args: list[str], tmp_path: Path) -> None:
    """--help of the app and of commands whose options are enumerations (loss basis, range
    distribution) shows those choices from the stdlib-only enum modules. A command's own
    --help builds its parameters through Typer's coercion (typer._adapters), which imports
    pydantic itself: that one is Typer's, not riskapp's."""
    tops, proc = loaded(ENTRY, *args, tmp_path=tmp_path)
    banned = set(NOT_FOR_HELP) - ({"pydantic"} if args[0] != "--help" else set())
    assert proc.returncode == 0, proc.stderr
    assert "Usage: riskapp" in proc.stdout
    if args[0] == "score":
        assert "absolute" in proc.stdout and "incremental" in proc.stdout
    if args[0] == "simulate":
        assert "pert" in proc.stdout and "triangular" in proc.stdout
    assert not tops & banned, f"riskapp {' '.join(args)} loaded {sorted(tops & banned)}"


def test_validate_loads_no_ui_database_or_report_library(tmp_path: Path) -> None:
    tops, proc = loaded(ENTRY, "validate", "demo", "scenarios", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "ok demo (workspace)" in proc.stdout
    assert {"pydantic", "yaml", "pandas"} <= tops  # it did validate
    extra = tops & set(NOT_FOR_VALIDATE)
    assert not extra, f"riskapp validate loaded {sorted(extra)}"


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_lazy_package_names_agree_and_resolve(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__file__ is not None
    # every submodule imported first: importing `pkg.x` sets the package's attribute x, which
    # would shadow an exported name x from then on (riskapp.baseline's build is one such name)
    for sub in pkgutil.iter_modules(module.__path__):
        importlib.import_module(f"{package}.{sub.name}")
    origin = type_checking_imports(package, module.__file__)
    assert sorted(origin) == sorted(module.__all__)
    for name, (source, attribute) in origin.items():
        assert getattr(module, name) is getattr(importlib.import_module(source), attribute)
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        _ = module.not_a_name


def test_type_checking_imports_reads_relative_and_aliased_imports(tmp_path: Path) -> None:
    init = tmp_path / "__init__.py"
    init.write_text(
        "from typing import TYPE_CHECKING\n"
        "import os\n"
        "if TYPE_CHECKING:\n"
        "    from .core import Thing, other as renamed\n"
        "    from riskapp.pkg.sub import deep\n"
        "from riskapp.pkg.eager import not_lazy\n",
        encoding="utf-8",
    )
    assert type_checking_imports("riskapp.pkg", init) == {
        "Thing": ("riskapp.pkg.core", "Thing"),
        "renamed": ("riskapp.pkg.core", "other"),
        "deep": ("riskapp.pkg.sub", "deep"),
    }
