"""Package attributes imported on first use (PEP 562), so that importing one light module of a
package (an enumeration the command line needs for its options) does not run the package's
heavy modules (pandas, pydantic, numpy) before anything uses them.

A package imports its public names under `TYPE_CHECKING` (what type checkers and readers see),
lists them in `__all__` and sets `__getattr__ = attach(__name__, __file__)`: the first access
to a name imports it from the module its `TYPE_CHECKING` import names. One list of where each
name lives, read from the package's own source, as lazy_loader's `attach_stub` reads a stub.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path


def type_checking_imports(package: str, init_file: str | Path) -> dict[str, tuple[str, str]]:
    """{name: (module, attribute)} of the `from ... import ...` statements under
    `if TYPE_CHECKING:` in a package's __init__.py."""
    import ast

    tree = ast.parse(Path(init_file).read_text(encoding="utf-8"), str(init_file))
    found: dict[str, tuple[str, str]] = {}
    for block in tree.body:
        if not (
            isinstance(block, ast.If)
            and isinstance(block.test, ast.Name)
            and block.test.id == "TYPE_CHECKING"
        ):
            continue
        for node in block.body:
            if not isinstance(node, ast.ImportFrom):
                continue
            module = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([module] if module else [])])
            for alias in node.names:
                found[alias.asname or alias.name] = (module, alias.name)
    return found


def attach(package: str, init_file: str) -> Callable[[str], object]:
    """The module `__getattr__` of `package`: a name its __init__ imports under TYPE_CHECKING
    is imported from there on first access and then kept on the package."""
    origin: dict[str, tuple[str, str]] = {}

    def __getattr__(name: str) -> object:
        if not origin:
            origin.update(type_checking_imports(package, init_file))
        if name not in origin:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attribute = origin[name]
        value = getattr(importlib.import_module(module), attribute)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
