"""The hostile-input corpus (tests/corpus/index.yaml) through the store's doors, on SQLite and
PostgreSQL: `riskapp import` (preview and real) and the dashboard's import upload. Every case is
refused with its row, field and reason, without a traceback, and nothing stored changes: not the
register, not the plans, not the audit trail."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from riskapp.assessment.register import save_upload
from riskapp.cli import app
from riskapp.io import InputError
from riskapp.store import Store
from tests.corpus import Case, load_cases
from tests.store.conftest import ADMIN, TINY

CASES = load_cases()


def params(surface: str) -> list[object]:
    return [pytest.param(c, id=c.id) for c in CASES if surface in c.surfaces]


def stored(store: Store) -> tuple[object, ...]:
    """Everything an import could touch, as values."""
    return (
        [(s.asset.model_dump(), s.version) for s in store.assets()],
        [(p.plan.model_dump(), p.version) for p in store.plans()],
        store.revision(),
        len(store.audit()),
    )


def hostile_file(case: Case, folder: Path) -> Path:
    """The case's file under its own name (assets.csv, assets.xlsx) in an empty folder."""
    folder.mkdir()
    return case.place(folder)


@pytest.mark.parametrize("case", params("import"))
def test_cli_import_refuses_each_case_and_stores_nothing(
    case: Case, store: Store, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(TINY))
    monkeypatch.setenv("RISKAPP_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    path = hostile_file(case, tmp_path / "upload")
    before = stored(store)
    for extra in (["--dry-run"], []):
        result = CliRunner().invoke(app, ["import", str(path), "--database", db_url, *extra])
        output = result.output
        assert result.exit_code == 1, output
        assert "Traceback" not in output, output
        assert result.exception is None or isinstance(result.exception, SystemExit), output
        for text in case.expect:
            assert text in output, f"{case.id}: {text!r} not in\n{output}"
    assert stored(store) == before


@pytest.mark.parametrize("case", params("upload"))
def test_dashboard_upload_refuses_each_case_and_stores_nothing(
    case: Case, team: Store, tmp_path: Path
) -> None:
    store = team  # alice, the admin, imports
    path = hostile_file(case, tmp_path / "upload")
    before = stored(store)
    try:
        table = save_upload(path.name, path.read_bytes())
    except InputError as exc:  # the page shows these as "The file cannot be read"
        problems = exc.problems
    else:
        preview = store.preview_assets(table)
        assert not preview.ok
        problems = preview.problems
        with pytest.raises(InputError):
            store.import_assets(table, ADMIN)
    text = "\n".join(str(p) for p in problems)
    for expected in case.expect:
        assert expected in text, f"{case.id}: {expected!r} not in\n{text}"
    assert stored(store) == before
