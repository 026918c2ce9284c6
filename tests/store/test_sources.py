"""Sources: FileSource, StoreSource and MemorySource give the same assessment for the same
inputs, a revision that follows every change, a fingerprint of exactly the inputs used, and a
sync status that lists what differs (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import pytest

from riskapp.assessment import (
    FileSource,
    MemorySource,
    StoreSource,
    assess,
    choose_source,
    sync_status,
)
from riskapp.assessment import sync as syncing
from riskapp.settings import Settings
from riskapp.store import Role
from tests.store.conftest import SYSTEM, VIEWER, OpenStore


@pytest.fixture
def ws_dir(workspace: Path) -> Path:
    return workspace  # a copy of the tiny workspace (tests/store/conftest.py)


@pytest.fixture
def source(open_store: OpenStore, ws_dir: Path) -> StoreSource:
    return StoreSource(open_store(files=ws_dir), ws_dir)


def edit_assets_file(path: Path, asset_id: str, field: str, value: str) -> None:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        if row["id"] == asset_id:
            row[field] = value
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_the_three_sources_agree_on_the_same_inputs(source: StoreSource, ws_dir: Path) -> None:
    files = assess(FileSource(ws_dir))
    store = assess(source)
    memory = assess(MemorySource(files.ws))
    for a in (store, memory):
        assert a.result.expected_annual_loss() == pytest.approx(
            files.result.expected_annual_loss(), rel=1e-12
        )
        np.testing.assert_allclose(a.result.asset_loss(), files.result.asset_loss())
    assert (files.source.kind, store.source.kind, memory.source.kind) == (
        "files",
        "store",
        "memory",
    )
    # each fingerprint is a SHA-256 of what that source read; they differ by construction
    assert len({files.source.fingerprint, store.source.fingerprint}) == 2
    assert all(len(a.source.fingerprint) == 64 for a in (files, store, memory))
    assert "assets.csv" in files.source.inputs
    assert "assets.csv" not in store.source.inputs  # the register came from the database
    assert any(i.startswith("register: ") for i in store.source.inputs)
    assert store.source.revision.startswith("store r")


def test_a_register_edit_changes_the_store_revision_and_every_figure(
    source: StoreSource,
) -> None:
    before_rev = source.revision()
    before = assess(source)
    stored = source.store.asset("P1")
    value = stored.asset.replacement_value
    source.store.update_asset("P1", {"replacement_value": value * 10}, stored.version, SYSTEM)
    assert source.revision() != before_rev
    after = assess(source)
    assert after.source.revision != before.source.revision
    assert after.source.fingerprint != before.source.fingerprint
    assert after.result.expected_annual_loss() > before.result.expected_annual_loss()


def test_file_revision_and_fingerprint_follow_the_files(ws_dir: Path) -> None:
    src = FileSource(ws_dir)
    rev, first = src.revision(), src.load().info.fingerprint
    assert src.revision() == rev and src.load().info.fingerprint == first
    edit_assets_file(ws_dir / "assets.csv", "P1", "name", "Renamed plant")
    assert src.revision() != rev
    assert src.load().info.fingerprint != first


def test_memory_fingerprint_is_content_not_identity(ws_dir: Path) -> None:
    ws = FileSource(ws_dir).load().ws
    again = FileSource(ws_dir).load().ws
    assert MemorySource(ws).revision() == MemorySource(again).revision()
    other = ws.with_scenarios([ws.scenarios[0].id])
    assert MemorySource(other).revision() != MemorySource(ws).revision()


def test_sync_status_lists_what_differs(source: StoreSource, ws_dir: Path) -> None:
    assert sync_status(FileSource(ws_dir).load(), source.load()).in_sync
    edit_assets_file(ws_dir / "assets.csv", "P1", "replacement_value", "123456789")
    edit_assets_file(ws_dir / "assets.csv", "P2", "owner", "Someone else")
    status = sync_status(FileSource(ws_dir).load(), source.load())
    assert not status.in_sync
    assert [str(d) for d in status.differences] == [
        "asset P1: changed (replacement_value)",
        "asset P2: changed (owner)",
    ]
    assert status.summary() == "the files and the team database differ: 2 assets changed"


def test_sync_to_store_and_to_files(source: StoreSource, ws_dir: Path) -> None:
    edit_assets_file(ws_dir / "assets.csv", "P1", "replacement_value", "123456789")
    result = syncing.to_store(ws_dir, source.store, SYSTEM)
    assert not result.before.in_sync and result.after.in_sync
    assert source.store.asset("P1").asset.replacement_value == 123456789
    # the other way: an edit in the database is written over the files
    stored = source.store.asset("P2")
    source.store.update_asset("P2", {"name": "Edited in the dashboard"}, stored.version, SYSTEM)
    assert not syncing.status(ws_dir, source.store).in_sync
    result = syncing.to_files(ws_dir, source.store)
    assert result.after.in_sync
    assert "Edited in the dashboard" in (ws_dir / "assets.csv").read_text(encoding="utf-8")
    files = assess(FileSource(ws_dir))
    assert files.result.expected_annual_loss() == pytest.approx(
        assess(source).result.expected_annual_loss(), rel=1e-12
    )


def test_sync_to_store_needs_the_import_right(source: StoreSource, ws_dir: Path) -> None:
    from riskapp.store import AccessDenied

    source.store.add_user("alice", "alice-password", Role.ADMIN, SYSTEM)
    source.store.add_user("carol", "carol-password", VIEWER.role, SYSTEM)
    edit_assets_file(ws_dir / "assets.csv", "P1", "replacement_value", "123456789")
    before = source.store.asset("P1").asset.replacement_value
    with pytest.raises(AccessDenied):
        syncing.to_store(ws_dir, source.store, VIEWER)
    assert source.store.asset("P1").asset.replacement_value == before


def test_choose_source_rule(tmp_path: Path, ws_dir: Path) -> None:
    cfg = Settings(workspace=ws_dir, data_dir=tmp_path / "data", _env_file=None)  # type: ignore[call-arg]
    assert isinstance(choose_source(ws_dir, "auto", cfg), FileSource)  # no database yet
    assert isinstance(choose_source(ws_dir, "files", cfg), FileSource)
    chosen = choose_source(ws_dir, "store", cfg)  # creates and seeds it
    assert isinstance(chosen, StoreSource)
    assert (tmp_path / "data" / "riskapp.db").is_file()
    auto = choose_source(ws_dir, "auto", cfg)
    assert isinstance(auto, StoreSource)  # a team database is in use now
    for s in (chosen, auto):
        assert isinstance(s, StoreSource)
        s.store.close()


def test_store_source_reads_only_the_model_files(source: StoreSource, ws_dir: Path) -> None:
    """A changed assets file does not change the store's assessment (the register comes from
    the database) but a changed scenario file does."""
    rev = source.revision()
    edit_assets_file(ws_dir / "assets.csv", "P1", "replacement_value", "1")
    assert source.revision() == rev
    scenario = ws_dir / "scenarios" / "s1.yaml"
    scenario.write_text(scenario.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert source.revision() != rev


def test_a_saved_assessment_keeps_its_source(source: StoreSource) -> None:
    from datetime import date

    from riskapp.assessment.history import save

    a = assess(source)
    summary = save(a, source.store, "Q4", date(2025, 12, 31), SYSTEM)
    saved = source.store.assessment(summary.id)
    assert saved.inputs["source"] == {
        "kind": "store",
        "revision": a.source.revision,
        "fingerprint": a.source.fingerprint,
    }
    eal = saved.results["key_figures"]["expected_annual_loss"]
    assert eal == pytest.approx(a.result.expected_annual_loss())


def test_same_register_is_exact_and_finds_any_changed_value(ws_dir: Path) -> None:
    from riskapp.assessment.sources import same_register
    from riskapp.domain.assets import ASSET_COLUMNS

    frame = FileSource(ws_dir).load(links=False).ws.portfolio.frame[ASSET_COLUMNS]
    assert same_register(frame, frame.copy(deep=True))
    with_nan = frame.copy()
    with_nan.loc[0, "lat"] = np.nan
    assert same_register(with_nan, with_nan.copy(deep=True))  # no coordinate equals none
    changes = {
        "id": "P9",
        "name": "Other",
        "lat": 1.5,
        "replacement_value": 1.0,
        "criticality": 1,
        "tags": ["other"],
        "depends_on": ["X"],
        "owner": "Someone",
    }
    for col, value in changes.items():
        other = frame.copy(deep=True)
        other[col] = other[col].astype(object) if col in ("tags", "depends_on") else other[col]
        other.at[1, col] = value
        assert not same_register(frame, other), col
    assert not same_register(frame, frame.iloc[::-1].reset_index(drop=True))  # order counts
    assert not same_register(frame, frame.iloc[:-1])
    floats = frame.copy()
    floats["criticality"] = floats["criticality"].astype("float64")  # 4 == 4.0, "4" != "4.0"
    assert not same_register(frame, floats)


def test_the_sidebar_comparison_reads_no_links_and_still_finds_differences(
    source: StoreSource, ws_dir: Path
) -> None:
    files = FileSource(ws_dir)
    (ws_dir / "dependencies.csv").write_text(
        "asset_id,depends_on,share,redundancy_group\nP1,nowhere,0.5,\n", encoding="utf-8"
    )
    assert files.load().link_problems  # the full load reads (and rejects) the links file
    light = files.load(links=False)
    assert light.links == () and light.link_problems == ()
    assert light.info == files.load().info  # the same revision and fingerprint
    first = assess(source).sync
    assert first is not None and first.in_sync
    edit_assets_file(ws_dir / "assets.csv", "O1", "owner", "Someone else")
    status = assess(source).sync
    assert status is not None
    assert [str(d) for d in status.differences] == ["asset O1: changed (owner)"]


def test_the_register_subdivision_column_round_trips_through_the_store(
    open_store: OpenStore, ws_dir: Path
) -> None:
    """A subdivision named in the register is stored, read back and scored as from the files:
    P1 named in Troms og Finnmark takes the shock aimed at NO-54 on either database."""
    from tests.test_subdivisions import name_subdivisions
    from tests.test_zones_workspace import add_scenario

    name_subdivisions(ws_dir, {"P1": "NO-54"})
    add_scenario(ws_dir, "  - {target: NO-54, factor: alpha, op: add, value: 4}\n")
    source = StoreSource(open_store(files=ws_dir), ws_dir)
    files, stored = assess(FileSource(ws_dir)), assess(source)
    # P2's read from its coordinates (NO-54 has a shipped boundary); O1 has none
    assert stored.ws.portfolio.series("subdivision").tolist() == ["NO-54", "FI-18", ""]
    np.testing.assert_allclose(stored.result.asset_loss(), files.result.asset_loss())
    s = files.result.scenario_ids.index("z")
    assert files.result.asset_loss()[0, s] == pytest.approx(60.0)  # alpha 2 + 4 -> 0.6 x 100
    # an edit of the column in the store moves P1 out (to Nordland), and its loss with it
    store = source.store
    (p1,) = [s for s in store.assets() if s.id == "P1"]
    store.update_asset("P1", {"subdivision": "NO-18"}, p1.version, SYSTEM)
    edited = assess(StoreSource(store, ws_dir))
    assert edited.result.asset_loss()[0, s] == pytest.approx(20.0)
    assert edited.source.revision != stored.source.revision


def test_the_files_digest_is_sha256_of_their_names_and_bytes(tmp_path: Path) -> None:
    # read a block at a time: a file of several blocks, one of exactly one, an empty one
    from riskapp.assessment.sources import HASH_BLOCK, hash_files

    rng = np.random.default_rng(3)
    contents = {
        "b/assets.csv": rng.bytes(2 * HASH_BLOCK + 17),
        "a.yaml": rng.bytes(HASH_BLOCK),
        "empty.csv": b"",
    }
    for name, data in contents.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    digest, names = hash_files(tmp_path, [tmp_path / n for n in contents])
    want = hashlib.sha256()
    for name in sorted(contents):
        want.update(name.encode() + b"\0" + contents[name] + b"\0")
    assert (digest, names) == (want.hexdigest(), tuple(sorted(contents)))
