"""The curve library riskapp ships (resources/curves/library.yaml): default curves for common
asset types across every shipped factor, each type with its rationale and sources; copied into
a workspace's curves.yaml on request, where they become the workspace's own."""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from riskapp.domain.curves import CurveLibrary, LibraryType
from riskapp.io.errors import InputError, Problem


@functools.cache
def curve_library() -> CurveLibrary:
    from riskapp.io.workspace import load_model
    from riskapp.resources import RESOURCES

    return load_model(RESOURCES / "curves" / "library.yaml", CurveLibrary)[0]


def type_synonyms() -> dict[str, tuple[str, ...]]:
    """Each library type's names (its id and synonyms), for matching a file's type names."""
    return {t.type: (t.type.replace("_", " "), t.name, *t.synonyms) for t in curve_library().types}


def library_types(names: Sequence[str]) -> list[LibraryType]:
    """The library's entries for type ids (KeyError naming the unknown one)."""
    lib = curve_library()
    return [lib.get(n) for n in names]


def curves_yaml(types: Sequence[LibraryType]) -> str:
    """The types' curves as curves.yaml items, each type headed by its rationale and sources."""
    import textwrap

    out: list[str] = []
    for t in types:
        out.append(f"  # --- {t.type}: {t.name} (riskapp curve library) " + "-" * 10)
        out += ["  # " + line for line in textwrap.wrap(t.rationale, 92)]
        out += [f"  # Source: {s}" for s in t.sources]
        for factor, points in t.curves.items():
            pts = ", ".join(f"[{x:g}, {y:g}]" for x, y in points)
            out.append(f"  - asset_type: {t.type}\n    factor: {factor}\n    points: [{pts}]")
    return "\n".join(out) + "\n"


def add_to_workspace(workspace: Path, names: Sequence[str]) -> list[str]:
    """Append the library curves of `names` to the workspace's curves file (those already
    there are refused), keep its own text and comments, and check the workspace's curves; the
    file is replaced whole or not at all. Returns the types added."""
    from riskapp.domain.curves import CurveSet
    from riskapp.io.workspace import display, load_manifest, load_model, manifest_path

    mpath = manifest_path(workspace)
    manifest, _ = load_manifest(mpath)
    path = mpath.parent / manifest.paths.curves
    current, _ = load_model(path, CurveSet)
    try:
        types = library_types(names)
    except KeyError as exc:
        raise InputError([Problem("the curve library", None, "", str(exc.args[0]))]) from None
    there = sorted(set(names) & current.asset_types)
    if there:
        raise InputError(
            [
                Problem(
                    display(path),
                    None,
                    "asset_type",
                    f"already has curves for {', '.join(there)}"
                    "; edit them there (the library adds types a workspace lacks)",
                )
            ]
        )
    text = path.read_text(encoding="utf-8").rstrip("\n") + "\n" + curves_yaml(types)
    fd, tmp = tempfile.mkstemp(prefix=".curves-", suffix=".yaml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        load_model(Path(tmp), CurveSet)  # the whole file still reads
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return [t.type for t in types]
