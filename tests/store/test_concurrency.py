"""Concurrent writers (SQLite and PostgreSQL): edits either land or are refused as conflicts,
never lost and never failed with "database is locked"; checks run before the write lock; a
lock held past the busy timeout is StoreBusyError with a plain message, nothing written."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from riskapp.domain import Asset
from riskapp.io import InputError
from riskapp.settings import Settings
from riskapp.store import AssetEdit, ConflictError, PlanEdit, Store, StoreBusyError
from riskapp.store.errors import BUSY_MESSAGE
from tests.store.conftest import SYSTEM, TINY, OpenStore, held_write_lock

WORKERS = 8
EDITS = 50
SHARED = "P1"


def own(worker: int) -> str:
    return f"W{worker}"


def add_worker_assets(store: Store) -> None:
    edits = [
        AssetEdit(
            own(w),
            Asset(id=own(w), name=f"Worker {w}", type="office", country="DEU", replacement_value=1),
            None,
        )
        for w in range(WORKERS)
    ]
    store.save_assets(edits, SYSTEM)


def test_concurrent_edits_land_or_conflict_and_none_is_lost(open_store: OpenStore) -> None:
    """8 writers (each with its own engine, as 8 dashboard servers) x 50 edits: even edits
    change the worker's own asset, odd ones increment a counter on one shared asset."""
    first = open_store()
    add_worker_assets(first)
    stores = [open_store(seed=False) for _ in range(WORKERS)]
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    guard = threading.Lock()
    start = threading.Barrier(WORKERS)

    def work(w: int) -> None:
        store = stores[w]
        start.wait()
        for i in range(EDITS):
            shared = i % 2 == 1
            asset_id = SHARED if shared else own(w)
            try:
                read = store.asset(asset_id)
                if shared:
                    counter = read.asset.annual_revenue_at_stake + 1
                    change: dict[str, object] = {"annual_revenue_at_stake": counter}
                else:
                    change = {"owner": f"worker {w} edit {i}"}
                store.update_asset(asset_id, change, read.version, SYSTEM)
                kind = "shared applied" if shared else "own applied"
            except ConflictError:
                kind = "shared conflict" if shared else "own conflict"
            except Exception as exc:  # any other outcome fails the test below
                kind = "failed"
                with guard:
                    failures.append(f"{type(exc).__name__}: {exc}")
            with guard:
                outcomes[kind] += 1

    threads = [threading.Thread(target=work, args=(w,)) for w in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert sum(outcomes.values()) == WORKERS * EDITS
    own_edits = WORKERS * EDITS // 2
    assert outcomes["own applied"] == own_edits  # nobody else touches a worker's own asset
    assert outcomes["own conflict"] == 0
    applied = outcomes["shared applied"]
    assert applied >= 1
    assert applied + outcomes["shared conflict"] == own_edits
    # no lost update: every accepted increment is in the value, the version and the trail
    shared = first.asset(SHARED)
    assert shared.asset.annual_revenue_at_stake == applied  # P1 starts at 0
    assert shared.version == 1 + applied
    trail = first.audit(entity="asset", entity_id=SHARED, action="edit")
    assert [e.new for e in reversed(trail)] == [float(n) for n in range(1, applied + 1)]
    for w in range(WORKERS):
        mine = first.asset(own(w))
        assert mine.version == 1 + EDITS // 2
        assert mine.asset.owner == f"worker {w} edit {EDITS - 2}"


@pytest.fixture
def impatient(db_url: str, tmp_path: Path) -> Iterator[Store]:
    """A store that waits at most 0.2 s for another writer's lock."""
    settings = Settings(
        workspace=TINY,
        data_dir=tmp_path,
        database_busy_timeout=0.2,
        _env_file=None,  # type: ignore[call-arg]
    )
    store = Store.open(settings, url=db_url)
    yield store
    store.close()


def test_a_lock_held_past_the_timeout_is_store_busy_and_writes_nothing(
    impatient: Store, db_url: str
) -> None:
    p1 = impatient.asset("P1")
    entries = len(impatient.audit())
    with held_write_lock(db_url), pytest.raises(StoreBusyError) as caught:
        impatient.update_asset("P1", {"owner": "Blocked"}, p1.version, SYSTEM)
    assert str(caught.value) == BUSY_MESSAGE
    assert str(caught.value) == (
        "The database is busy with another change; nothing was saved. Try again in a moment."
    )
    assert impatient.asset("P1") == p1
    assert len(impatient.audit()) == entries
    # the lock released, the same edit goes through
    assert impatient.update_asset("P1", {"owner": "Later"}, p1.version, SYSTEM).version == 2


def test_plans_and_imports_give_up_the_same_way(impatient: Store, db_url: str) -> None:
    shield = impatient.plan("shield")
    with held_write_lock(db_url):
        with pytest.raises(StoreBusyError):
            impatient.save_plans([PlanEdit("shield", {"owner": "X"}, shield.version)], SYSTEM)
        with pytest.raises(StoreBusyError):
            impatient.add_asset(
                Asset(id="N1", name="New", type="office", country="DEU", replacement_value=1),
                SYSTEM,
            )
    assert impatient.plan("shield") == shield
    assert [a.id for a in impatient.register()] == ["P1", "P2", "O1"]


def test_edits_are_checked_before_the_write_lock(impatient: Store, db_url: str) -> None:
    """While another writer holds the lock, an invalid edit and a stale one are refused for
    what they are, not left waiting for the lock: the checks run before it is taken."""
    p1 = impatient.asset("P1")
    impatient.update_asset("P1", {"owner": "First"}, p1.version, SYSTEM)
    o1 = impatient.asset("O1")
    with held_write_lock(db_url):
        with pytest.raises(InputError) as invalid:
            impatient.save_assets(
                [AssetEdit("O1", o1.asset.model_copy(update={"type": "castle"}), o1.version)],
                SYSTEM,
            )
        with pytest.raises(ConflictError):
            impatient.update_asset("P1", {"owner": "Stale"}, p1.version, SYSTEM)
    assert [(p.field, "castle" in p.message) for p in invalid.value.problems] == [("type", True)]
    assert impatient.asset("O1") == o1
