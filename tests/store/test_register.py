"""The register and plans in the store: seeding, reading, editing with optimistic locking."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from riskapp.domain import Asset
from riskapp.engine import score
from riskapp.io import InputError, load_workspace
from riskapp.io.tables import load_assets
from riskapp.settings import Settings
from riskapp.store import AssetEdit, ConflictError, PlanEdit, Store
from riskapp.store.engine import current_revision, head_revision
from riskapp.store.records import asset_values, dump_value
from tests.store.conftest import ANALYST, DEMO, SYSTEM, TINY, OpenStore


def test_first_start_migrates_and_seeds_from_the_workspace_files(store: Store) -> None:
    assert current_revision(store.engine) == head_revision()
    assert store.register() == load_assets(TINY / "assets.csv")
    assert [p.plan for p in store.plans()] == load_workspace(TINY).plans.plans
    assert {s.version for s in store.assets()} == {1}
    seeded = store.audit(action="seed")
    assert {e.entity_id for e in seeded if e.entity == "asset"} == {"P1", "P2", "O1"}
    assert all(e.actor == "system:seed" for e in seeded)


def test_seeding_reads_the_register_as_columns_with_the_values_of_each_asset(
    db_url: str, settings: Settings
) -> None:
    """The demo (coordinates missing on some assets, tags, dependencies) seeded from its
    columns: the stored assets are the files' assets read one by one, each seed entry of the
    trail is that asset's record as `dump_value` writes it, the plans are the plan book in its
    order, and the chain verifies."""
    store = Store.open(settings, url=db_url, files=DEMO)
    try:
        assets = load_assets(DEMO / "assets.csv")
        assert store.register() == assets
        seeded = store.audit(action="seed", entity="asset")
        by_id = {e.entity_id: e for e in seeded}
        assert len(seeded) == len(by_id) == len(assets)
        for asset in assets:
            entry = by_id[asset.id]
            assert entry.field == "" and entry.version == 1 and entry.old is None
            assert dump_value(entry.new) == dump_value(asset_values(asset))
        book = load_workspace(DEMO).plans.plans
        assert [p.plan for p in store.plans()] == book
        assert [e.entity_id for e in store.audit(action="seed", entity="plan")] == [
            p.id for p in book
        ][::-1]  # the trail lists the newest first
        assert store.verify_audit().ok
    finally:
        store.close()


def test_a_register_file_with_problems_is_not_seeded(
    db_url: str, settings: Settings, tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(TINY, ws)
    text = (ws / "assets.csv").read_text(encoding="utf-8").splitlines()
    text.append(text[-1])  # the last asset twice
    (ws / "assets.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="duplicate id"):
        Store.open(settings, url=db_url, files=ws)
    empty = Store.open(settings, url=db_url, files=ws, seed=False)
    try:
        assert empty.is_empty()
    finally:
        empty.close()


def test_opening_again_neither_migrates_nor_seeds_twice(open_store: OpenStore) -> None:
    first = open_store()
    count = len(first.audit())
    second = open_store()
    assert len(second.audit()) == count
    assert len(second.assets()) == 3


def test_the_engine_runs_on_files_plus_stored_register(store: Store) -> None:
    from_store = score(store.workspace())
    from_files = score(load_workspace(TINY))
    assert from_store.expected_annual_loss() == pytest.approx(from_files.expected_annual_loss())
    # the stored register is read as columns: the very table the files give, dtypes included
    pd.testing.assert_frame_equal(
        store.workspace().portfolio.frame, load_workspace(TINY).portfolio.frame
    )


def test_an_edit_bumps_the_version_and_reaches_the_engine(team: Store) -> None:
    before = score(team.workspace()).expected_annual_loss()
    p1 = team.asset("P1")
    updated = team.update_asset("P1", {"replacement_value": 1000.0}, p1.version, ANALYST)
    assert updated.version == p1.version + 1
    assert updated.asset.replacement_value == 1000.0
    assert updated.updated_by == "bob"
    assert score(team.workspace()).expected_annual_loss() > before


def test_second_save_of_the_same_record_is_refused_and_names_what_changed(team: Store) -> None:
    opened = team.asset("P1")  # both people open version 1
    team.update_asset("P1", {"owner": "Ops North", "criticality": 5}, opened.version, SYSTEM)
    with pytest.raises(ConflictError) as caught:
        team.update_asset("P1", {"name": "Plant north (renamed)"}, opened.version, ANALYST)
    conflict = caught.value.conflicts[0]
    assert conflict.kind == "changed"
    assert sorted(conflict.fields) == ["criticality", "owner"]
    assert conflict.by == "system:test"
    message = str(caught.value)
    assert "Nothing was saved" in message
    assert "'Ops' -> 'Ops North'" in message
    assert "criticality: 4 -> 5" in message
    assert team.asset("P1").asset.name == "Plant north"  # nothing silently overwritten


def test_editing_a_record_someone_deleted_is_a_conflict(team: Store) -> None:
    o1 = team.asset("O1")
    team.delete_asset("O1", o1.version, SYSTEM)
    with pytest.raises(ConflictError, match="was deleted by system:test"):
        team.update_asset("O1", {"owner": "x"}, o1.version, ANALYST)


def test_adding_an_id_someone_else_just_added_is_a_conflict(team: Store) -> None:
    new = Asset(id="N1", name="New", type="office", country="DEU", replacement_value=1)
    team.add_asset(new, SYSTEM)
    with pytest.raises(ConflictError, match="was added by system:test"):
        team.add_asset(new, ANALYST)


def test_a_batch_with_one_conflict_saves_nothing(team: Store) -> None:
    p1, p2 = team.asset("P1"), team.asset("P2")
    team.update_asset("P2", {"owner": "Someone"}, p2.version, SYSTEM)
    edits = [
        AssetEdit("P1", p1.asset.model_copy(update={"owner": "Mine"}), p1.version),
        AssetEdit("P2", p2.asset.model_copy(update={"owner": "Mine too"}), p2.version),
    ]
    with pytest.raises(ConflictError):
        team.save_assets(edits, ANALYST)
    assert team.asset("P1").asset.owner == "Ops"


def test_invalid_values_are_refused_like_an_import(team: Store) -> None:
    p1 = team.asset("P1")
    with pytest.raises(InputError) as caught:
        team.update_asset("P1", {"country": "XXX", "criticality": 9}, p1.version, ANALYST)
    fields = {p.field for p in caught.value.problems}
    assert fields == {"country", "criticality"}
    assert team.asset("P1").version == p1.version


def test_register_rules_hold_for_edits(team: Store) -> None:
    p1 = team.asset("P1")
    with pytest.raises(InputError, match="dependency cycle: P1 -> P2 -> P1"):
        team.update_asset("P1", {"depends_on": ["P2"]}, p1.version, ANALYST)  # P2 -> P1
    with pytest.raises(InputError, match="no asset 'P1' in the register"):
        team.delete_asset("P1", p1.version, ANALYST)  # P2 depends on it
    with pytest.raises(InputError, match="has no vulnerability curve"):
        team.update_asset("P1", {"type": "submarine"}, p1.version, ANALYST)
    with pytest.raises(InputError, match="no exchange rate"):
        team.update_asset("P1", {"currency": "JPY"}, p1.version, ANALYST)
    with pytest.raises(InputError, match="no baseline intensity for country SWE"):
        team.update_asset("P1", {"country": "SWE"}, p1.version, ANALYST)


def test_plan_status_owner_and_review_date(team: Store) -> None:
    shield = team.plan("shield")
    updated = team.update_plan(
        "shield",
        {"status": "ready", "owner": "CISO", "review_date": date(2025, 1, 31)},
        shield.version,
        ANALYST,
    )
    assert updated.plan.status.value == "ready"
    assert updated.plan.owner == "CISO"
    assert updated.review_date == date(2025, 1, 31)
    assert updated.overdue(date(2025, 2, 1))
    assert not updated.overdue(date(2025, 1, 31))
    assert team.workspace().plans.plans[0].in_place


def test_plan_edit_conflict_and_validation(team: Store) -> None:
    shield = team.plan("shield")
    team.update_plan("shield", {"owner": "CEO"}, shield.version, SYSTEM)
    with pytest.raises(ConflictError, match="owner: 'COO' -> 'CEO'"):
        team.save_plans([PlanEdit("shield", {"status": "active"}, shield.version)], ANALYST)
    current = team.plan("shield")
    with pytest.raises(InputError, match="status"):
        team.update_plan("shield", {"status": "finished"}, current.version, ANALYST)
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        team.update_plan("shield", {"review_date": "next week"}, current.version, ANALYST)


def test_retired_plans_are_never_overdue(team: Store) -> None:
    armor = team.plan("armor")
    updated = team.update_plan(
        "armor", {"status": "retired", "review_date": date(2020, 1, 1)}, armor.version, ANALYST
    )
    assert not updated.overdue(date(2025, 1, 1))
