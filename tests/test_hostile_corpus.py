"""The hostile-input corpus (tests/corpus/index.yaml) through `riskapp validate`: every case is
refused with its file, row or line, field and what was expected, and never with a traceback.
The store surfaces (import, the dashboard's upload) are in tests/store/test_hostile_corpus.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from typer.testing import CliRunner

from riskapp.cli import app
from tests.corpus import CLASSES, FILES, MAKERS, ROOT, SURFACES, Case, load_cases, workspace_copy

CASES = load_cases()
VALIDATE = [pytest.param(c, id=c.id) for c in CASES if "validate" in c.surfaces]


def validate(*paths: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["validate", *map(str, paths)])
    return result.exit_code, result.output


@pytest.mark.parametrize("case", VALIDATE)
def test_validate_refuses_each_case_clearly(case: Case, tmp_path: Path) -> None:
    ws = workspace_copy(tmp_path)
    path = case.place(ws)
    for target in (ws, path) if path.name != "workspace.yaml" else (ws,):
        code, output = validate(target)
        assert code == 1, output
        assert "Traceback" not in output and "Error:" not in output, output
        expected = case.expect_alone if target == path and case.expect_alone else case.expect
        for text in expected:
            assert text in output, f"{case.id}: {text!r} not in\n{output}"


def test_the_harness_accepts_the_untouched_workspace(tmp_path: Path) -> None:
    """Every refusal above is the hostile file's doing: the same copy without it passes."""
    ws = workspace_copy(tmp_path)
    code, output = validate(ws, ws / "assets.csv", ws / "scenarios" / "s2.yaml")
    assert code == 0, output


def test_the_corpus_covers_every_class() -> None:
    assert {c.cls for c in CASES} == CLASSES
    assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"


def test_every_case_is_well_formed() -> None:
    used = set()
    for case in CASES:
        if case.covered_by is not None:
            assert not case.surfaces and case.file is None and case.make is None, case.id
            continue
        assert case.surfaces and set(case.surfaces) <= SURFACES, case.id
        assert case.expect and case.target, case.id
        assert (case.file is None) != (case.make is None), case.id
        if case.file is not None:
            assert (FILES / case.file).is_file(), case.id
            used.add(case.file)
        else:
            assert case.make in MAKERS, case.id
    stored = {str(p.relative_to(FILES)) for p in FILES.rglob("*") if p.is_file()}
    assert stored == used, f"files no case uses: {sorted(stored - used)}"


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c.id) for c in CASES if c.covered_by is not None]
)
def test_cases_covered_elsewhere_name_a_real_test(case: Case) -> None:
    """Classes whose hostile input is generated (backups, logos, logins, the audit trail,
    concurrent writers) point at the test that does it; that test must exist."""
    assert case.covered_by is not None
    module, name = case.covered_by.split("::")
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    tests = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert name in tests, f"{case.id}: no {name} in {module}"
