from __future__ import annotations

from pathlib import Path

import pytest

from riskapp.domain import Workspace
from riskapp.io import load_workspace

ROOT = Path(__file__).resolve().parent.parent
TINY = Path(__file__).resolve().parent / "data" / "tiny"
DEMO = ROOT / "demo"


@pytest.fixture(scope="session")
def tiny() -> Workspace:
    return load_workspace(TINY)


@pytest.fixture(scope="session")
def demo() -> Workspace:
    return load_workspace(DEMO)


@pytest.fixture(autouse=True)
def _own_database(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test gets its own embedded team database (seeded from its workspace on first use),
    never the user's ~/.riskapp."""
    monkeypatch.setenv("RISKAPP_DATA_DIR", str(tmp_path_factory.mktemp("riskapp-data")))
