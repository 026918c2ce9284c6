"""Creating, duplicating, retiring and restoring scenarios, and editing their signposts, through
the store (SQLite and PostgreSQL): role, validation against the workspace naming the field,
conflicts, nothing written on failure, audit; retired scenarios left out of assessments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from riskapp.assessment import assess
from riskapp.domain.indicators import Frequency, Indicator, Observation, Series
from riskapp.io import InputError, load_workspace
from riskapp.store import AccessDenied, ConflictError, Store
from riskapp.store.scenario_authoring import (
    create_scenario,
    duplicate_scenario,
    list_scenarios,
    new_id,
    restore_scenario,
    retire_scenario,
)
from riskapp.store.scenarios import read_scenario_file
from riskapp.store.workspace import load_files
from tests.store.conftest import ADMIN, ANALYST, VIEWER

S3 = """id: s3
title: German alpha escalation
frequency: 0.005
warning_time_days: 1
escalates_from: {scenario: s2, probability: 0.5}
shocks:
  - {target: DEU, factor: alpha, op: add, value: 2}
"""


def _files(workspace: Path) -> dict[Path, str]:
    return {p: p.read_text() for p in sorted(workspace.rglob("*")) if p.is_file()}


def _version(path: Path) -> str:
    return read_scenario_file(path)[1]


def _ids(workspace: Path) -> list[str]:
    return [s.id for s in load_workspace(workspace).scenarios]


def test_new_ids_come_from_the_name_and_are_unique() -> None:
    assert new_id("Red Sea closure!", set()) == "red_sea_closure"
    assert new_id("Red Sea closure", {"red_sea_closure"}) == "red_sea_closure_2"
    assert new_id("Écluse fermée", set()) == "ecluse_fermee"
    assert new_id("2027 crisis", set()) == "s_2027_crisis"
    assert new_id("***", set()) == "scenario"
    assert len(new_id("x" * 100, {"x" * 48})) == 48


def test_create_writes_a_blank_scenario_and_audits_it(ws_store: Store, workspace: Path) -> None:
    created = create_scenario(ws_store, ANALYST, "Red Sea closure", note="asked by the CRO")
    assert created.id == "red_sea_closure" and created.shocks == [] and created.signposts == []
    path = workspace / "scenarios" / "red_sea_closure.yaml"
    assert "title: Red Sea closure" in path.read_text()
    assert "red_sea_closure" in _ids(workspace)
    entries = ws_store.audit(entity="scenario", entity_id="red_sea_closure")
    assert {e.field for e in entries} >= {"title", "frequency", "warning_time_days"}
    assert all(e.action == "create" and e.actor == ANALYST.label for e in entries)
    assert all(e.note == "asked by the CRO" and e.old is None for e in entries)
    # the same name again: a new id, never over the first file
    again = create_scenario(ws_store, ANALYST, "Red Sea closure")
    assert again.id == "red_sea_closure_2"
    assert "title: Red Sea closure" in path.read_text()


def test_create_refusals_name_the_field_and_write_nothing(ws_store: Store, workspace: Path) -> None:
    before = _files(workspace)
    with pytest.raises(AccessDenied):
        create_scenario(ws_store, VIEWER, "Viewer's idea")
    with pytest.raises(InputError) as bad:
        create_scenario(ws_store, ANALYST, "Too likely", frequency=2)
    assert [p.field for p in bad.value.problems] == ["frequency"]
    with pytest.raises(InputError) as unnamed:
        create_scenario(ws_store, ANALYST, "   ")
    assert [p.field for p in unnamed.value.problems] == ["title"]
    assert _files(workspace) == before
    assert ws_store.audit(entity="scenario") == []


def test_duplicate_copies_shocks_and_signposts_under_a_new_id(
    ws_store: Store, workspace: Path
) -> None:
    s1 = workspace / "scenarios" / "s1.yaml"
    copy = duplicate_scenario(ws_store, ADMIN, s1, expected_version=_version(s1))
    assert (copy.id, copy.title) == ("copy_of_northern_escalation", "Copy of Northern escalation")
    original = load_workspace(workspace).scenario("s1")
    loaded = load_workspace(workspace).scenario(copy.id)
    assert loaded.shocks == original.shocks and loaded.signposts == original.signposts
    assert loaded.frequency == original.frequency
    entries = ws_store.audit(entity="scenario", entity_id=copy.id)
    assert entries and all(e.note == "duplicate of s1" for e in entries)
    named = duplicate_scenario(ws_store, ADMIN, s1, expected_version=_version(s1), name="North B")
    assert named.id == "north_b"


def test_duplicate_of_a_file_changed_since_it_was_opened_is_refused(
    ws_store: Store, workspace: Path
) -> None:
    s1 = workspace / "scenarios" / "s1.yaml"
    version = _version(s1)
    s1.write_text(s1.read_text().replace("frequency: 0.1", "frequency: 0.15"))
    before = _files(workspace)
    with pytest.raises(ConflictError) as exc:
        duplicate_scenario(ws_store, ADMIN, s1, expected_version=version)
    assert "changed" in str(exc.value.conflicts[0])
    assert _files(workspace) == before
    assert ws_store.audit(entity="scenario") == []


def test_a_duplicated_rung_keeps_its_parent(ws_store: Store, workspace: Path) -> None:
    s3 = workspace / "scenarios" / "s3.yaml"
    s3.write_text(S3)
    copy = duplicate_scenario(ws_store, ANALYST, s3, expected_version=_version(s3))
    assert copy.escalates_from is not None and copy.escalates_from.scenario == "s2"
    assert load_workspace(workspace).scenario(copy.id).escalates_from == copy.escalates_from


def test_retire_refuses_a_ladder_parent_and_a_plan_trigger_naming_them(
    ws_store: Store, workspace: Path
) -> None:
    (workspace / "scenarios" / "s3.yaml").write_text(S3)
    before = _files(workspace)
    s2 = workspace / "scenarios" / "s2.yaml"
    with pytest.raises(InputError) as parent:
        retire_scenario(ws_store, ANALYST, s2, expected_version=_version(s2))
    [problem] = parent.value.problems
    assert problem.field == "id" and "'s3' (German alpha escalation) escalates from it" in (
        problem.message
    )
    s1 = workspace / "scenarios" / "s1.yaml"
    with pytest.raises(InputError) as plan:
        retire_scenario(ws_store, ANALYST, s1, expected_version=_version(s1))
    assert "plan 'shield' (Shield the northern plants) triggers on it" in (
        plan.value.problems[0].message
    )
    assert _files(workspace) == before
    assert ws_store.audit(entity="scenario") == []


def test_a_rung_is_not_restored_without_its_parent(ws_store: Store, workspace: Path) -> None:
    s3 = workspace / "scenarios" / "s3.yaml"
    s3.write_text(S3)
    retired_s3 = retire_scenario(ws_store, ANALYST, s3, expected_version=_version(s3))
    s2 = workspace / "scenarios" / "s2.yaml"
    retire_scenario(ws_store, ANALYST, s2, expected_version=_version(s2))
    before = _files(workspace)
    with pytest.raises(InputError) as orphan:
        restore_scenario(ws_store, ANALYST, retired_s3, expected_version=_version(retired_s3))
    [problem] = orphan.value.problems
    assert problem.field == "escalates_from.scenario" and "unknown scenario 's2'" in (
        problem.message
    )
    assert problem.file.endswith("s3.yaml")
    assert _files(workspace) == before


def test_retired_is_left_out_of_assessments_and_restored(ws_store: Store, workspace: Path) -> None:
    s2 = workspace / "scenarios" / "s2.yaml"
    text = s2.read_text()
    retired = retire_scenario(
        ws_store, ANALYST, s2, expected_version=_version(s2), note="no longer plausible"
    )
    assert retired == (workspace / "scenarios" / "retired" / "s2.yaml").resolve()
    assert retired.read_text() == text and not s2.exists()  # kept, unchanged
    assert "s2" not in assess(workspace).result.scenario_ids
    assert "s2" not in [s.id for s in ws_store.workspace().scenarios]
    listed = {f.id: f.retired for f in list_scenarios(load_files(workspace))}
    assert listed == {"base": False, "s1": False, "s2": True}
    [entry] = ws_store.audit(entity="scenario", entity_id="s2")
    assert (entry.action, entry.field, entry.old, entry.new) == (
        "retire",
        "status",
        "active",
        "retired",
    )
    assert entry.note == "no longer plausible"
    restored = restore_scenario(ws_store, ADMIN, retired, expected_version=_version(retired))
    assert restored == s2.resolve() and s2.read_text() == text and not retired.exists()
    assert "s2" in assess(workspace).result.scenario_ids
    actions = [e.action for e in ws_store.audit(entity="scenario", entity_id="s2")]
    assert sorted(actions) == ["restore", "retire"]


def test_retire_and_restore_refuse_changed_files_and_taken_ids(
    ws_store: Store, workspace: Path
) -> None:
    s2 = workspace / "scenarios" / "s2.yaml"
    version = _version(s2)
    s2.write_text(s2.read_text().replace("frequency: 0.01", "frequency: 0.02"))
    with pytest.raises(ConflictError):
        retire_scenario(ws_store, ANALYST, s2, expected_version=version)
    assert s2.exists()
    retired = retire_scenario(ws_store, ANALYST, s2, expected_version=_version(s2))
    # meanwhile a new scenario with the same id arrives (a git pull; the dashboard would not
    # give a retired id to a new scenario)
    s2.write_text("id: s2\ntitle: Another s2\nfrequency: 0.02\nwarning_time_days: 0\n")
    before = _files(workspace)
    with pytest.raises(InputError) as taken:
        restore_scenario(ws_store, ANALYST, retired, expected_version=_version(retired))
    assert taken.value.problems[0].field == "id"
    assert "an active scenario 's2' exists" in taken.value.problems[0].message
    assert _files(workspace) == before
    with pytest.raises(ValueError, match="not a scenario file"):
        restore_scenario(ws_store, ANALYST, s2, expected_version=_version(s2))


def test_the_last_scenario_is_not_retired(ws_store: Store, workspace: Path) -> None:
    for sid in ("s2", "base"):
        path = workspace / "scenarios" / f"{sid}.yaml"
        retire_scenario(ws_store, ANALYST, path, expected_version=_version(path))
    s1 = workspace / "scenarios" / "s1.yaml"
    with pytest.raises(InputError) as last:
        retire_scenario(ws_store, ANALYST, s1, expected_version=_version(s1))
    message = last.value.problems[0].message
    assert "plan 'shield'" in message and "it is the workspace's last scenario" in message
    assert s1.exists()
    with pytest.raises(AccessDenied):
        retire_scenario(ws_store, VIEWER, s1, expected_version=_version(s1))


def test_a_retired_id_is_not_reused_by_a_new_scenario(ws_store: Store, workspace: Path) -> None:
    s2 = workspace / "scenarios" / "s2.yaml"
    retire_scenario(ws_store, ANALYST, s2, expected_version=_version(s2))
    assert create_scenario(ws_store, ANALYST, "S2").id == "s2_2"


def _s1(workspace: Path) -> tuple[Path, dict[str, Any], str]:
    path = workspace / "scenarios" / "s1.yaml"
    scenario, version = read_scenario_file(path)
    return path, scenario.model_dump(mode="json"), version


def test_signpost_edits_are_validated_naming_the_field(ws_store: Store, workspace: Path) -> None:
    path, data, version = _s1(workspace)
    before = path.read_text()
    data["signposts"].append(
        {"name": "Beta", "indicator": "beta", "threshold": 3, "likelihood_ratio": 0}
    )
    with pytest.raises(InputError) as ratio:
        ws_store.save_scenario(path, data, version, ANALYST)
    assert [p.field for p in ratio.value.problems] == ["signposts[1].likelihood_ratio"]
    data["signposts"][1].update(likelihood_ratio=2.0, series="no_such_series")
    with pytest.raises(InputError) as series:
        ws_store.save_scenario(path, data, version, ANALYST)
    [problem] = series.value.problems
    assert problem.field == "signposts[1].series" and "no_such_series" in problem.message
    assert path.read_text() == before
    assert ws_store.audit(entity="scenario") == []


def test_signposts_added_edited_and_removed_are_saved_and_audited(
    ws_store: Store, workspace: Path
) -> None:
    ws_store.import_series(
        Series(
            indicators=[Indicator(id="beta_idx", name="Beta index", frequency=Frequency.MONTHLY)],
            observations=[Observation(indicator="beta_idx", period="2026-01", value=4.0)],
        ),
        ADMIN,
        "test",
    )
    path, data, version = _s1(workspace)
    old = list(data["signposts"])
    data["signposts"] = [
        {
            "name": "Beta",
            "indicator": "beta index",
            "description": "Beta climbs",
            "series": "beta_idx",
            "threshold": 6,
            "direction": "above",
            "amber_band": 1.5,
            "likelihood_ratio": 3,
        }
    ]
    ws_store.save_scenario(path, data, version, ANALYST, note="new signpost")
    [sp] = load_workspace(workspace).scenario("s1").signposts
    assert (sp.series, sp.amber_band, sp.likelihood_ratio) == ("beta_idx", 1.5, 3)
    [entry] = ws_store.audit(entity="scenario", entity_id="s1")
    assert entry.field == "signposts" and entry.old == old and entry.new[0]["name"] == "Beta"
    # editing the kept signpost's threshold does not ask for its series again
    path, data, version = _s1(workspace)
    data["signposts"][0]["threshold"] = 7
    ws_store.save_scenario(path, data, version, ANALYST)
    assert load_workspace(workspace).scenario("s1").signposts[0].threshold == 7


def test_the_command_line_creates_duplicates_retires_and_restores(
    workspace: Path, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from riskapp.cli import app

    monkeypatch.setenv("RISKAPP_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    ws, db = str(workspace), ["--database", db_url]
    made = runner.invoke(app, ["scenarios", "new", ws, "Port strike", "--frequency", "0.2", *db])
    assert made.exit_code == 0, made.output
    assert "Created scenario port_strike" in made.output
    assert load_workspace(workspace).scenario("port_strike").frequency == 0.2
    copied = runner.invoke(app, ["scenarios", "duplicate", ws, "s2", "--name", "S2 bis", *db])
    assert copied.exit_code == 0 and "s2_bis" in copied.output, copied.output
    refused = runner.invoke(app, ["scenarios", "retire", ws, "s1", *db])
    assert refused.exit_code == 1
    assert "plan 'shield'" in refused.output and "nothing was written" in refused.output
    retired = runner.invoke(app, ["scenarios", "retire", ws, "s2", "--note", "gone", *db])
    assert retired.exit_code == 0, retired.output
    assert "s2" not in _ids(workspace)
    listed = runner.invoke(app, ["scenarios", "list", ws], env={"COLUMNS": "300"})
    assert "retired" in listed.output and "port_strike" in listed.output
    unknown = runner.invoke(app, ["scenarios", "restore", ws, "nope", *db])
    assert unknown.exit_code == 1 and "no retired scenario 'nope'" in unknown.output
    back = runner.invoke(app, ["scenarios", "restore", ws, "s2", *db])
    assert back.exit_code == 0, back.output
    assert "s2" in _ids(workspace)


def _editor(db_url: str, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("RISKAPP_DATABASE_URL", db_url)
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(workspace))
    monkeypatch.setenv("RISKAPP_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    views = Path(__file__).resolve().parents[2] / "riskapp" / "dashboard" / "views"
    at = AppTest.from_file(str(views / "scenario_editor.py"), default_timeout=30)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _ok(at: Any) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _button(at: Any, suffix: str) -> Any:
    return next(b for b in at.button if b.key and b.key.endswith(suffix))


def test_editor_page_creates_duplicates_retires_and_restores(
    db_url: str, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _editor(db_url, workspace, tmp_path, monkeypatch)
    at.text_input(key="sced_new_name").input("Port strike")
    at.button(key="sced_create").click()
    at.run()
    _ok(at)
    assert at.selectbox(key="sced_pick").value == "port_strike"  # the new one is opened
    assert at.text_input(key="sced_new_name").value == ""  # ready for the next one
    assert (workspace / "scenarios" / "port_strike.yaml").exists()
    assert at.text_input(key="sced_copy_port_strike").value == "Copy of Port strike"
    at.button(key="sced_duplicate").click()
    at.run()
    _ok(at)
    assert at.selectbox(key="sced_pick").value == "copy_of_port_strike"
    at.text_input(key="sced_why_copy_of_port_strike").input("superseded")
    at.button(key="sced_retire").click()
    at.run()
    _ok(at)
    assert at.selectbox(key="sced_pick").value == "retired/copy_of_port_strike"
    assert (workspace / "scenarios" / "retired" / "copy_of_port_strike.yaml").exists()
    assert "copy_of_port_strike" not in _ids(workspace)
    at.button(key="sced_restore").click()
    at.run()
    _ok(at)
    assert "copy_of_port_strike" in _ids(workspace)
    # a refused retire shows why and moves nothing
    at.selectbox(key="sced_pick").select("s1")
    at.run()
    at.button(key="sced_retire").click()
    at.run()
    assert any("1 problem(s)" in e.value for e in at.error)
    assert (workspace / "scenarios" / "s1.yaml").exists()


def test_editor_page_adds_shocks_for_picked_targets(
    db_url: str, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _editor(db_url, workspace, tmp_path, monkeypatch)
    at.selectbox(key="sced_pick").select("s2")
    at.run()
    picker = next(m for m in at.multiselect if m.key and m.key.endswith("_pick_targets"))
    assert {"Poland (POL)", "North (group)"} <= set(picker.options)
    assert any("subdivision of Finland" in o for o in picker.options)
    picker.set_value(["POL", "north", "FI-18"])
    at.run()
    next(n for n in at.number_input if n.key and n.key.endswith("_pick_value")).set_value(2.0)
    _button(at, "_pick_add").click()
    at.run()
    _ok(at)
    picker = next(m for m in at.multiselect if m.key and m.key.endswith("_pick_targets"))
    assert picker.value == []  # added: the picker starts again
    _button(at, "_save").click()
    at.run()
    _ok(at)
    shocks = load_workspace(workspace).scenario("s2").shocks
    assert [(s.target, s.op.value, s.value) for s in shocks] == [
        ("DEU", "scale", 5),
        ("POL", "set", 2),
        ("north", "set", 2),
        ("FI-18", "set", 2),
    ]
