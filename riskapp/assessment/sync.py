"""Bring a workspace's files and its team database in line, one way or the other.

`to_store`: the register and plan book of the files replace those of the database (an import,
all or nothing per table, role-checked and in the audit trail). `to_files`: the database's
register and plan book are written over the workspace's assets file and plans file, each
written to a temporary file first and moved into place, so a failure leaves the old file.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from riskapp.assessment.sources import FileSource, StoreSource, SyncStatus, sync_status

if TYPE_CHECKING:
    from riskapp.store import Actor, Store


@dataclass(frozen=True)
class SyncResult:
    before: SyncStatus
    after: SyncStatus
    changed: tuple[str, ...]  # what was written: tables of the database or files


def status(path: Path, store: Store) -> SyncStatus:
    """What differs between the folder's files and the team database."""
    return sync_status(FileSource(path).load(), StoreSource(store, path).load())


def _paths(path: Path) -> tuple[Path, Path]:
    from riskapp.io.workspace import load_manifest, manifest_path

    mpath = manifest_path(path)
    manifest, _ = load_manifest(mpath)
    return mpath.parent / manifest.paths.assets, mpath.parent / manifest.paths.plans


def to_store(path: Path, store: Store, actor: Actor) -> SyncResult:
    """The files' register and plans replace the database's (needs the import right)."""
    from riskapp.store.validation import Table

    before = status(path, store)
    changed: list[str] = []
    if not before.in_sync:
        files = FileSource(path).load()
        assets_file, _ = _paths(path)
        store.import_assets(Table.from_file(assets_file), actor, "replace")
        store.import_plan_book(files.ws.plans, actor, "plans (sync from files)", "replace")
        changed = ["database: register", "database: plans"]
    return SyncResult(before, status(path, store), tuple(changed))


def _write_atomically(target: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def to_files(path: Path, store: Store) -> SyncResult:
    """The database's register and plans are written over the workspace's assets and plans
    files (CSV and YAML; an XLSX register is refused rather than rewritten as CSV)."""
    from riskapp.store.exports import plan_book_yaml
    from riskapp.store.validation import asset_table_csv

    before = status(path, store)
    changed: list[str] = []
    if not before.in_sync:
        assets_file, plans_file = _paths(path)
        if assets_file.suffix.lower() != ".csv":
            raise ValueError(
                f"{assets_file.name}: the register is a {assets_file.suffix} file; sync writes "
                "CSV only. Export the register (`riskapp export-workspace --files DIR`) instead."
            )
        _write_atomically(assets_file, asset_table_csv(store.register()))
        _write_atomically(plans_file, plan_book_yaml(store.plan_book()))
        changed = [f"file: {assets_file.name}", f"file: {plans_file.name}"]
    return SyncResult(before, status(path, store), tuple(changed))
