"""The register's route column in the team database (SQLite and PostgreSQL): stored, read back
and scored as from the files; a cell that does not parse refused at import with its row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from riskapp.assessment import FileSource, StoreSource, assess
from riskapp.io.errors import InputError
from riskapp.store import Table
from tests.store.conftest import SYSTEM, OpenStore
from tests.test_register_routes import P1_LINE, P2_WKT, set_column
from tests.test_zones_workspace import copy_tiny


def test_column_routes_are_stored_and_scored_alike_on_both_databases(
    open_store: OpenStore, tmp_path: Path
) -> None:
    ws_dir = copy_tiny(tmp_path, zones=None)
    set_column(ws_dir, "route", {"P1": str(P1_LINE), "P2": P2_WKT})
    store = open_store(files=ws_dir)
    files, stored = assess(FileSource(ws_dir)), assess(StoreSource(store, ws_dir))
    assert stored.ws.routes.asset_ids == ["P1", "P2"]
    np.testing.assert_allclose(stored.result.asset_loss(), files.result.asset_loss())
    # a register whose route does not parse is refused at import, naming its row; the store
    # keeps what it held
    bad = copy_tiny(tmp_path / "bad", zones=None)
    path = set_column(bad, "route", {"P2": "LINESTRING (24.9 60.2)"})
    preview = store.preview_assets(Table.from_file(path))
    assert [(p.line, p.field) for p in preview.problems] == [(3, "route")]
    with pytest.raises(InputError):
        store.import_assets(Table.from_file(path), SYSTEM)
    assert [s.asset.route for s in store.assets()][:2] == [str(P1_LINE), P2_WKT]
