"""Editing a scenario file through the store (SQLite and PostgreSQL): role, validation against
the workspace, conflicts, atomic write and audit."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from riskapp.io import InputError, load_workspace
from riskapp.store import AccessDenied, ConflictError, Store
from riskapp.store.scenarios import read_scenario_file
from tests.store.conftest import ADMIN, ANALYST, VIEWER


def _s1(workspace: Path) -> tuple[Path, dict[str, Any], str]:
    path = workspace / "scenarios" / "s1.yaml"
    scenario, version = read_scenario_file(path)
    return path, scenario.model_dump(mode="json"), version


def test_viewer_is_refused(ws_store: Store, workspace: Path) -> None:
    path, data, version = _s1(workspace)
    before = path.read_text()
    data["frequency"] = 0.2
    with pytest.raises(PermissionError):
        ws_store.save_scenario(path, data, version, VIEWER)
    with pytest.raises(AccessDenied):
        ws_store.save_scenario(path, data, version, VIEWER)
    assert path.read_text() == before
    assert ws_store.audit(entity="scenario") == []


def test_analyst_saves_and_the_workspace_reloads(ws_store: Store, workspace: Path) -> None:
    path, data, version = _s1(workspace)
    data["frequency"] = 0.2
    data["title"] = "Northern escalation — revised"
    data["shocks"][1]["value"] = 5
    saved = ws_store.save_scenario(path, data, version, ANALYST)
    assert saved.frequency == 0.2
    ws = load_workspace(workspace)
    s1 = next(s for s in ws.scenarios if s.id == "s1")
    assert s1.frequency == 0.2
    assert s1.title == "Northern escalation — revised"
    assert s1.shocks[1].value == 5
    assert s1.shocks[0].range is not None and s1.shocks[0].range.high == 8
    assert "—" in path.read_text(encoding="utf-8")  # allow_unicode
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # no temp left
    # the store's own workspace (files plus register) sees it too
    assert next(s for s in ws_store.workspace().scenarios if s.id == "s1").frequency == 0.2


def test_admin_may_save(ws_store: Store, workspace: Path) -> None:
    path, data, version = _s1(workspace)
    data["warning_time_days"] = 60
    assert ws_store.save_scenario(path, data, version, ADMIN).warning_time_days == 60


def test_invalid_frequency_is_refused_and_file_untouched(ws_store: Store, workspace: Path) -> None:
    path, data, version = _s1(workspace)
    before = path.read_text()
    data["frequency"] = 2
    with pytest.raises(InputError) as exc:
        ws_store.save_scenario(path, data, version, ANALYST)
    assert any(p.field == "frequency" for p in exc.value.problems)
    assert path.read_text() == before
    assert ws_store.audit(entity="scenario") == []


def test_a_shocked_scenario_at_probability_1_is_refused(ws_store: Store, workspace: Path) -> None:
    # what the dashboard's scenario editor saves goes through the same probability checks
    path, data, version = _s1(workspace)
    before = path.read_text()
    data["frequency"] = 1.0
    with pytest.raises(InputError) as exc:
        ws_store.save_scenario(path, data, version, ANALYST)
    hits = [p for p in exc.value.problems if p.field == "frequency"]
    assert len(hits) == 1 and "occurs every year, but it has shocks" in hits[0].message
    assert hits[0].file.endswith("s1.yaml")
    assert path.read_text() == before


def test_unknown_factor_is_refused_with_a_problem_naming_it(
    ws_store: Store, workspace: Path
) -> None:
    path, data, version = _s1(workspace)
    before = path.read_text()
    data["shocks"].append({"target": "DEU", "factor": "gamma_ray", "op": "add", "value": 1})
    with pytest.raises(InputError) as exc:
        ws_store.save_scenario(path, data, version, ANALYST)
    assert any("gamma_ray" in p.message for p in exc.value.problems), exc.value.problems
    assert path.read_text() == before


def test_file_changed_after_read_is_a_conflict(ws_store: Store, workspace: Path) -> None:
    path, data, version = _s1(workspace)
    other = path.read_text().replace("frequency: 0.1", "frequency: 0.15")
    path.write_text(other)  # someone edits the file (or a git pull) meanwhile
    data["frequency"] = 0.3
    with pytest.raises(ConflictError) as exc:
        ws_store.save_scenario(path, data, version, ANALYST)
    assert exc.value.conflicts[0].entity_id == "s1"
    assert path.read_text() == other
    assert ws_store.audit(entity="scenario") == []


def test_audit_records_old_and_new(ws_store: Store, workspace: Path) -> None:
    path, data, version = _s1(workspace)
    data["frequency"] = 0.2
    data["narrative"] = "New narrative."
    data["shocks"] = data["shocks"][:1]
    ws_store.save_scenario(path, data, version, ANALYST)
    entries = {e.field: e for e in ws_store.audit(entity="scenario", entity_id="s1")}
    assert set(entries) == {"frequency", "narrative", "shocks"}
    assert (entries["frequency"].old, entries["frequency"].new) == (0.1, 0.2)
    assert entries["narrative"].new == "New narrative."
    assert entries["shocks"].old == ["FIN beta set 6 (5/6/8)", "north alpha add 4"]
    assert entries["shocks"].new == ["FIN beta set 6 (5/6/8)"]
    assert all(e.actor == ANALYST.label and e.action == "update" for e in entries.values())
    # the next save starts from the new version; the old one is now stale
    _, data2, version2 = _s1(workspace)
    assert version2 != version
    data2["horizon_years"] = 3
    ws_store.save_scenario(path, data2, version2, ANALYST)
    with pytest.raises(ConflictError):
        ws_store.save_scenario(path, data, version, ANALYST)


def test_path_outside_the_scenario_folder_is_refused(ws_store: Store, workspace: Path) -> None:
    _, data, version = _s1(workspace)
    with pytest.raises(ValueError):
        ws_store.save_scenario(workspace / "factors.yaml", data, version, ADMIN)


def test_a_scenario_file_linked_from_outside_is_not_written_through(
    ws_store: Store, workspace: Path, tmp_path: Path
) -> None:
    """A symlink in the scenario folder to a file elsewhere: the save would write outside the
    workspace, so it is refused and the file elsewhere stays as it was."""
    path, data, version = _s1(workspace)
    elsewhere = tmp_path / "elsewhere.yaml"
    path.rename(elsewhere)
    path.symlink_to(elsewhere)
    before = elsewhere.read_text()
    data["frequency"] = 0.2
    with pytest.raises(ValueError, match="not a scenario file of the workspace"):
        ws_store.save_scenario(path, data, version, ADMIN)
    assert elsewhere.read_text() == before
    assert ws_store.audit(entity="scenario") == []


def test_a_scenario_folder_outside_the_workspace_is_refused_before_any_write(
    ws_store: Store, workspace: Path, tmp_path: Path
) -> None:
    _, data, version = _s1(workspace)
    shutil.move(workspace / "scenarios", tmp_path / "shared")
    manifest = workspace / "workspace.yaml"
    manifest.write_text(manifest.read_text() + "paths: {scenarios: ../shared}\n")
    moved = tmp_path / "shared" / "s1.yaml"
    before = moved.read_text()
    data["frequency"] = 0.2
    with pytest.raises(InputError) as refused:
        ws_store.save_scenario(moved, data, version, ADMIN)
    assert [p.field for p in refused.value.problems] == ["paths.scenarios"]
    assert moved.read_text() == before


def test_editor_page_saves_a_scenario(
    db_url: str, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("RISKAPP_DATABASE_URL", db_url)
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(workspace))
    monkeypatch.setenv("RISKAPP_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    views = Path(__file__).resolve().parents[2] / "riskapp" / "dashboard" / "views"
    at = AppTest.from_file(str(views / "scenario_editor.py"), default_timeout=30)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    at.selectbox(key="sced_pick").select("s1")
    at.run()
    freq = next(n for n in at.number_input if n.key and n.key.endswith("_probability"))
    assert freq.label == "Annual probability (%)"
    s1_before = next(s for s in load_workspace(workspace).scenarios if s.id == "s1")
    assert freq.value == pytest.approx(s1_before.frequency * 100)  # shown as a percentage
    freq.set_value(25.0)
    next(b for b in at.button if b.key and b.key.endswith("_save")).click()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    s1 = next(s for s in load_workspace(workspace).scenarios if s.id == "s1")
    assert s1.frequency == 0.25
    assert s1.shocks[0].range is not None
