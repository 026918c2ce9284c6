"""The import layers of the package, checked on the source of every module.

Each module belongs to a layer; a module may import its own layer and the ones below, never one
above. Every import counts: top-level, lazy ones inside functions and the ones under
`TYPE_CHECKING` (a type-only import still ties the lower layer to the higher one).

    0  settings, format, text,       leaf helpers: configuration, number and text formats,
       resources, lazy, collector    the paths of the bundled data files, lazy package names,
                                     the collector of a one-job process
    1  domain                        frozen pydantic models, no behaviour beyond validation
    2  engine                        pure numpy maths over the domain
    3  io, baseline, store           files, the baseline builder (it reads files and io
                                     validates its method), the team database
    4  assessment, methodology       the application layer every surface shows; the methodology
                                     text is written from the baseline method and the actions
    5  charts                        plotly figures of an assessment
    6  reporting, dashboard, cli,    the surfaces, and the package's own Python API
       riskapp (the API)

Also checked: no module imports a private name (`_x`) from another module, nor reaches into
another object's private attribute (`store._write()`): a helper two modules share is public
where it lives, so splitting a module never leaves siblings using each other's internals. And
nothing below charts imports streamlit, plotly or kaleido.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "riskapp"

LAYERS: dict[str, int] = {
    "riskapp.settings": 0,
    "riskapp.format": 0,
    "riskapp.text": 0,
    "riskapp.resources": 0,  # paths of the bundled data files, imports nothing of riskapp
    "riskapp.lazy": 0,  # a package's names imported on first use, imports nothing of riskapp
    "riskapp.collector": 0,  # the garbage collector of a one-job process, imports nothing
    "riskapp.domain": 1,
    "riskapp.engine": 2,
    "riskapp.io": 3,
    "riskapp.baseline": 3,
    "riskapp.store": 3,
    "riskapp.assessment": 4,
    "riskapp.methodology": 4,
    "riskapp.charts": 5,
    "riskapp.reporting": 6,
    "riskapp.dashboard": 6,
    "riskapp.cli": 6,
    "riskapp": 6,
}
CHARTS = LAYERS["riskapp.charts"]
UI_LIBRARIES = ("streamlit", "plotly", "kaleido")
# Underscored names that are public API of other libraries (SQLAlchemy's Row._mapping, named
# tuples' _asdict/_replace/_fields/_make): the underscore only keeps them apart from fields.
PUBLIC_UNDERSCORED = {"_mapping", "_asdict", "_replace", "_fields", "_make"}

# Violations that are being fixed on another branch. The lead deletes an entry when the fix
# merges; nothing else may be added here.
KNOWN: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    imported: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: imports {self.imported}: {self.reason}"


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> tuple[str, int] | None:
    """The longest LAYERS prefix of a riskapp module, with its rank; None outside riskapp."""
    best: str | None = None
    for prefix in LAYERS:
        if (module == prefix or module.startswith(prefix + ".")) and (
            best is None or len(prefix) > len(best)
        ):
            best = prefix
    return None if best is None else (best, LAYERS[best])


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def is_module(name: str, package: Path) -> bool:
    rel = Path(*name.split(".")[1:]) if "." in name else Path()
    base = package / rel
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[int, str, str | None]]:
    """(line, imported module, imported name or None) of every import in the tree."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")
                keep = len(parts) - node.level + (1 if is_package else 0)
                base = ".".join([*parts[:keep], *([base] if base else [])])
            for alias in node.names:
                yield node.lineno, base, alias.name


def check_source(
    source: str, path: str, module: str, is_package: bool = False, package: Path = PACKAGE
) -> list[Violation]:
    """Every layer, private-name and UI-library violation in one module's source."""
    own = layer_of(module)
    assert own is not None, f"{path}: {module} is in no layer; add it to LAYERS"
    own_prefix, own_rank = own
    out: list[Violation] = []
    tree = ast.parse(source, path)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id not in {"self", "cls"}
            and is_private(node.attr)
            and node.attr not in PUBLIC_UNDERSCORED
        ):
            out.append(
                Violation(
                    path,
                    node.lineno,
                    f"{node.value.id}.{node.attr}",
                    f"private attribute {node.attr} of another object",
                )
            )
    for line, target, name in imports(tree, module, is_package):
        top = target.split(".")[0]
        if top in UI_LIBRARIES and own_rank < CHARTS:
            out.append(Violation(path, line, target, f"{top} below the charts layer"))
            continue
        if top != "riskapp":
            continue
        # `from riskapp.x import y` where y is a module imports y
        full = f"{target}.{name}" if name and is_module(f"{target}.{name}", package) else target
        theirs = layer_of(full)
        assert theirs is not None
        their_prefix, their_rank = theirs
        if their_rank > own_rank:
            out.append(
                Violation(
                    path,
                    line,
                    full,
                    f"layer {own_prefix} ({own_rank}) imports higher layer "
                    f"{their_prefix} ({their_rank})",
                )
            )
        if name and is_private(name) and full != module:
            out.append(Violation(path, line, f"{full}.{name}", f"private name {name} of {full}"))
    return out


def check_package(package: Path = PACKAGE) -> list[Violation]:
    out: list[Violation] = []
    for file in sorted(package.rglob("*.py")):
        rel = file.relative_to(package.parent).as_posix()
        out.extend(
            check_source(
                file.read_text(encoding="utf-8"),
                rel,
                module_name(file, package),
                is_package=file.name == "__init__.py",
                package=package,
            )
        )
    return out


def test_every_module_imports_only_its_layer_and_below() -> None:
    found = check_package()
    unexpected = [v for v in found if (v.path, v.imported) not in KNOWN]
    assert not unexpected, "import layer violations:\n" + "\n".join(map(str, unexpected))


def test_known_violations_still_exist() -> None:
    """An entry of KNOWN that no longer occurs is deleted, so the list only shrinks."""
    found = {(v.path, v.imported) for v in check_package()}
    assert found >= KNOWN, f"fixed, delete from KNOWN: {sorted(KNOWN - found)}"


def test_every_module_has_a_layer() -> None:
    for file in PACKAGE.rglob("*.py"):
        assert layer_of(module_name(file)) is not None, file


# -- the checker catches what it should ------------------------------------------------------


def _violations(source: str, module: str, is_package: bool = False) -> list[str]:
    path = module.replace(".", "/") + ".py"
    return [v.reason for v in check_source(source, path, module, is_package)]


@pytest.mark.parametrize(
    "source",
    [
        "from riskapp.charts.common import factor_colours\n",
        "import riskapp.dashboard.format\n",
        "def f():\n    from riskapp.reporting import model\n    return model\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from riskapp.cli import app\n",
        "from riskapp import dashboard\n",
    ],
)
def test_checker_flags_an_upward_import(source: str) -> None:
    found = _violations(source, "riskapp.assessment.synthetic")
    assert found and "layer riskapp.assessment (4) imports higher layer" in found[0]


def test_checker_names_file_line_and_import() -> None:
    source = "import numpy as np\n\n\ndef f():\n    from riskapp.assessment import assess\n"
    (v,) = check_source(source, "riskapp/engine/synthetic.py", "riskapp.engine.synthetic")
    assert (v.path, v.line, v.imported) == (
        "riskapp/engine/synthetic.py",
        5,
        "riskapp.assessment",
    )
    assert str(v).startswith("riskapp/engine/synthetic.py:5: imports riskapp.assessment")


def test_checker_resolves_relative_imports() -> None:
    assert _violations("from ..charts import common\n", "riskapp.assessment.synthetic")
    assert not _violations("from . import core\n", "riskapp.assessment.synthetic")
    assert not _violations("from .engine import score\n", "riskapp", is_package=True)


def test_checker_allows_the_same_layer_and_below() -> None:
    source = (
        "from riskapp.domain import Workspace\nfrom riskapp.engine import score\n"
        "from riskapp.io.tables import read_rows\nfrom riskapp.baseline import build\n"
        "from riskapp.format import money\nimport numpy\n"
    )
    assert not _violations(source, "riskapp.store.synthetic")


def test_checker_flags_private_names_of_other_modules() -> None:
    found = _violations("from riskapp.io.tables import _rows\n", "riskapp.store.synthetic")
    assert found == ["private name _rows of riskapp.io.tables"]
    # a sibling in the same package is another module too
    found = _violations("from riskapp.store.core import _rows\n", "riskapp.store.synthetic")
    assert found == ["private name _rows of riskapp.store.core"]
    assert not _violations("from riskapp.store.core import StoreCore\n", "riskapp.store.x")


def test_checker_flags_private_attributes_of_other_objects() -> None:
    source = "def save(store):\n    with store._write() as conn:\n        return conn\n"
    (v,) = check_source(source, "riskapp/store/synthetic.py", "riskapp.store.synthetic")
    assert (v.line, v.imported, v.reason) == (
        2,
        "store._write",
        "private attribute _write of another object",
    )
    own = "class A:\n    def f(self):\n        return self._x, row._mapping\n"
    assert not _violations(own, "riskapp.store.synthetic")


@pytest.mark.parametrize("library", UI_LIBRARIES)
def test_checker_flags_ui_libraries_below_charts(library: str) -> None:
    source = f"def f():\n    import {library}\n"
    assert _violations(source, "riskapp.assessment.synthetic") == [
        f"{library} below the charts layer"
    ]
    assert not _violations(source, "riskapp.charts.synthetic")
    assert not _violations(source, "riskapp.dashboard.synthetic")
