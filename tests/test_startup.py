"""What the command line loads when it starts: `riskapp --help` imports typer and rich, not the
libraries its commands use (pandas, numpy, pydantic, the UI and database libraries), and
`riskapp validate` none of the UI, database or report libraries. Checked in fresh interpreters
through sys.modules, not timed (benchmarks/bench_startup.py prints the times).

Also: the packages whose names are imported on first use (riskapp.lazy) list the same names in
their TYPE_CHECKING imports and __all__, and each name resolves to its module's object; and the
command line's table of commands (riskapp.cli.main.COMMANDS, what `riskapp --help` lists
without importing the commands' modules) says what the modules register, and the lazy command
line prints the same help as one built eagerly from every module.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer
import typer.main
from typer.core import TyperGroup
from typer.testing import CliRunner

from riskapp.cli.main import (
    COMMANDS,
    HELP,
    IMPORTS_IN_BODY,
    app,
    build_command,
    new_app,
    register_all,
    root_options,
)
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
# the console script `riskapp = "riskapp.cli:main"`, with its modules recorded at exit
ENTRY = (
    "import atexit, json, sys\n"
    "record = sys.argv.pop(1)\n"
    "atexit.register(lambda: open(record, 'w').write(json.dumps(sorted(sys.modules))))\n"
    "sys.argv[0] = 'riskapp'\n"
    "from riskapp.cli import main\n"
    "main()\n"
)


def loaded(
    code: str, *args: str, tmp_path: Path
) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """The top-level packages a fresh interpreter has imported when `code` ends."""
    modules, proc = loaded_modules(code, *args, tmp_path=tmp_path)
    return {m.split(".")[0] for m in modules}, proc


def loaded_modules(
    code: str, *args: str, tmp_path: Path
) -> tuple[list[str], subprocess.CompletedProcess[str]]:
    """The modules a fresh interpreter has imported when `code` ends."""
    record = tmp_path / "modules.json"
    proc = subprocess.run(
        [sys.executable, "-c", code, str(record), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    modules: list[str] = json.loads(record.read_text(encoding="utf-8"))
    return modules, proc


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


@pytest.mark.parametrize(
    ("args", "modules"),
    [
        (["--help"], set()),
        ([], set()),  # no arguments: the help
        (["score", "--help"], {"riskapp.cli.assess"}),
        (["users", "--help"], {"riskapp.cli.store"}),
    ],
)
def test_help_imports_only_the_command_it_shows(
    args: list[str], modules: set[str], tmp_path: Path
) -> None:
    """The app's help lists the commands from riskapp.cli.main.COMMANDS: no command module is
    imported for it; a command's own help imports its module (and what that imports), and
    no other command's."""
    names, proc = loaded_modules(ENTRY, *args, tmp_path=tmp_path)
    assert "Usage: riskapp" in proc.stdout, proc.stderr
    assert ("Commands" in proc.stdout) == (len(args) < 2 or args[0] == "users")
    # every module that registers commands (the team commands' come with riskapp.cli.store)
    command_modules = {module for module, _ in COMMANDS.values()} | {
        "riskapp.cli.team",
        "riskapp.cli.admin",
    }
    imported = set(names) & command_modules
    if "riskapp.cli.store" in modules:  # the team commands' modules come with it
        modules = modules | {"riskapp.cli.team", "riskapp.cli.admin"}
    assert imported == modules, f"riskapp {' '.join(args)} imported {sorted(imported)}"


def test_opening_a_current_store_imports_no_alembic(tmp_path: Path) -> None:
    """The dashboard's start and a command on the store: a database at the newest schema is
    opened, assessed and compared with the files without importing Alembic (one query reads
    its revision); the first open, which migrates the empty database, does import it."""
    code = (
        "import json, sys\n"
        "from riskapp.assessment.core import assess\n"
        "from riskapp.assessment.sources import StoreSource\n"
        "a = assess(StoreSource.open('demo'))\n"
        "assert a.sync is not None and a.result.expected_annual_loss() > 0\n"
        "open(sys.argv[1], 'w').write(json.dumps(sorted(sys.modules)))\n"
    )
    first, proc = loaded(code, tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert {"sqlalchemy", "alembic"} <= first  # the empty database was migrated
    again, proc = loaded(code, tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "sqlalchemy" in again and "alembic" not in again


class TableOrder(TyperGroup):
    """An eagerly built group that lists its commands in the table's order."""

    def list_commands(self, ctx: object) -> list[str]:
        return [name for name in COMMANDS if name in self.commands]


def eager_app() -> typer.Typer:
    """The command line built as Typer builds any app: every command registered up front."""
    eager = new_app(cls=TableOrder, help=HELP)
    eager.callback()(root_options)  # the global options (--workspace-id, --as)
    register_all(eager)
    return eager


def test_command_table_is_what_the_modules_register() -> None:
    """Each table row's module registers that command and only table rows; the row's help is
    the first paragraph of the command's own (as Typer's listing shows it)."""
    eager = typer.main.get_group(eager_app())
    assert list(eager.list_commands(None)) == list(COMMANDS)  # type: ignore[arg-type]
    assert sorted(eager.commands) == sorted(COMMANDS), "a command missing from the table"
    for module in {module for module, _ in COMMANDS.values()}:
        alone = new_app()
        importlib.import_module(module).register(alone)
        registered = {c.name for c in alone.registered_commands} | {
            g.name for g in alone.registered_groups
        }
        assert registered == {n for n, (m, _) in COMMANDS.items() if m == module}, module
    for name, (_, short_help) in COMMANDS.items():
        command = eager.commands[name]
        first = inspect.cleandoc(command.help or "").split("\n\n")[0].replace("\n", " ")
        assert short_help == first.strip(), name
        built = build_command(name)
        assert type(built) is type(command) and built.name == name
        assert built.help == command.help
        assert [p.name for p in built.params] == [p.name for p in command.params]
        if isinstance(command, TyperGroup):
            assert isinstance(built, TyperGroup) and list(built.commands) == list(command.commands)
        else:
            assert built.callback is not None


@pytest.mark.parametrize("args", [["--help"], [], ["scroe"], *([n, "--help"] for n in COMMANDS)])
def test_lazy_command_line_prints_what_an_eager_one_does(args: list[str]) -> None:
    """The same help, word for word, for the app (the listing from the table), each command
    (built alone when asked) and a mistyped command (its suggestion)."""
    runner = CliRunner()
    env = {"COLUMNS": "120"}
    lazy = runner.invoke(app, args, prog_name="riskapp", env=env)
    eager = runner.invoke(eager_app(), args, prog_name="riskapp", env=env)
    assert lazy.output == eager.output
    assert lazy.exit_code == eager.exit_code
    assert "Usage: riskapp" in lazy.output
    if args == ["scroe"]:
        assert "Did you mean 'score'?" in lazy.output


def test_validate_loads_no_ui_database_or_report_library(tmp_path: Path) -> None:
    names, proc = loaded_modules(ENTRY, "validate", "demo", "scenarios", tmp_path=tmp_path)
    tops = {m.split(".")[0] for m in names}
    assert proc.returncode == 0, proc.stderr
    assert "ok demo (workspace)" in proc.stdout
    assert {"pydantic", "yaml", "pandas"} <= tops  # it did validate
    extra = tops & set(NOT_FOR_VALIDATE)
    assert not extra, f"riskapp validate loaded {sorted(extra)}"
    # nor the score and plans commands' tables, nor rich's emoji codes (the consoles print a
    # ':name:' as written)
    assert "rich.console" in names and not {"rich.table", "rich._emoji_codes"} & set(names)


def test_validate_builds_no_asset_model(tmp_path: Path) -> None:
    """The register is checked column by column: the Asset model (built on first use) is not
    built by validating the demo, and validates a row when asked."""
    code = (
        "import sys\nsys.argv[0] = 'riskapp'\nfrom riskapp.cli import app\n"
        "from riskapp.domain.assets import Asset\n"
        "try:\n    app()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        "print('asset model built:', Asset.__pydantic_complete__)\n"
        "Asset.model_validate({'id': 'a', 'name': 'A', 'type': 'plant', 'country': 'DEU',"
        " 'replacement_value': 1})\n"
        "print('asset model built:', Asset.__pydantic_complete__)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "validate", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "ok demo (workspace)" in proc.stdout
    built = [line for line in proc.stdout.splitlines() if line.startswith("asset model built")]
    assert built == ["asset model built: False", "asset model built: True"]


# the console script, reporting the cyclic collector's state when the command's work starts
# (when `module.function` is first called)
GC_AT_WORK = (
    "import gc, importlib, sys\n"
    "module, name = sys.argv.pop(1), sys.argv.pop(1)\n"
    "target = importlib.import_module(module)\n"
    "original = getattr(target, name)\n"
    "def watched(*args, **kwargs):\n"
    "    print('collector at work:', gc.isenabled(), gc.get_freeze_count() > 0, flush=True)\n"
    "    return original(*args, **kwargs)\n"
    "setattr(target, name, watched)\n"
    "sys.argv[0] = 'riskapp'\n"
    "from riskapp.cli import main\n"
    "main()\n"
)


# a command line and the function its work starts with: every command that imports in its own
# body (IMPORTS_IN_BODY), and one that does not
AT_WORK = {
    "validate": (["validate", "demo"], "riskapp.io.validate check_paths"),
    "score": (["score", "demo"], "riskapp.assessment choose_source"),
    "report": (["report", "demo", "-o", "{tmp}/r.xlsx"], "riskapp.assessment choose_source"),
    "simulate": (["simulate", "demo", "--trials", "500"], "riskapp.assessment choose_source"),
}


def test_every_command_importing_in_its_body_is_watched() -> None:
    assert set(AT_WORK) >= IMPORTS_IN_BODY
    assert set(AT_WORK) - IMPORTS_IN_BODY  # and at least one that does not


@pytest.mark.parametrize(("command", "watched"), list(AT_WORK.values()), ids=list(AT_WORK))
def test_the_command_line_collects_again_once_its_command_is_imported(
    command: list[str], watched: str, tmp_path: Path
) -> None:
    """`riskapp` starts without the cyclic collector (its imports make only objects that live
    until the exit) and turns it back on, with the start-up's objects frozen, before the
    command's work: the commands that import in their own body (IMPORTS_IN_BODY) after those
    imports, every other one when it is invoked."""
    args = [part.replace("{tmp}", str(tmp_path)) for part in command]
    proc = subprocess.run(
        [sys.executable, "-c", GC_AT_WORK, *watched.split(), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    states = [line for line in proc.stdout.splitlines() if line.startswith("collector at work")]
    assert states and set(states) == {"collector at work: True True"}, proc.stdout[-2000:]


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
