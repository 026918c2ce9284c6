from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from riskapp.domain import Workspace
from riskapp.io import load_workspace
from tests import home_guard

ROOT = Path(__file__).resolve().parent.parent
TINY = Path(__file__).resolve().parent / "data" / "tiny"
DEMO = ROOT / "demo"


_GUARD: home_guard.Guard | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Before any test: the session's HOME, XDG folders and riskapp data folder are temporary
    (tests/home_guard.py); every process a test starts inherits them."""
    global _GUARD  # noqa: PLW0603 - one guard per session
    if _GUARD is None:
        _GUARD = home_guard.redirect()


def pytest_unconfigure(config: pytest.Config) -> None:
    global _GUARD  # noqa: PLW0603
    images = sys.modules.get("riskapp.reporting.images")
    if images is not None:  # the process's chart browser ends while HOME is still temporary
        images.close_shared_session()
    if _GUARD is not None:
        home_guard.restore(_GUARD)
        _GUARD = None


@pytest.fixture(scope="session", autouse=True)
def _real_home_untouched() -> Iterator[None]:
    """After the last test: fail the suite if anything under the real home was created,
    modified or removed while the tests ran."""
    yield
    if _GUARD is None:
        return
    found = _GUARD.check()
    if found:
        shown = "\n  ".join(found[:50]) + ("\n  ..." if len(found) > 50 else "")
        pytest.fail(
            f"the tests changed the real home {_GUARD.real_home} (they must use the temporary "
            f"HOME {_GUARD.temp_home}):\n  {shown}\nOther programs writing there meanwhile? "
            "Name their folders in RISKAPP_HOME_GUARD_IGNORE (colon-separated, relative to home).",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def tiny() -> Workspace:
    return load_workspace(TINY)


@pytest.fixture(scope="session")
def demo() -> Workspace:
    return load_workspace(DEMO)


@pytest.fixture(autouse=True)
def _main_module_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Streamlit's AppTest makes the dashboard script this process's __main__ and leaves it
    there; processes spawned later (Dask's worker processes) would run that script again on
    start, open the team database and fail when it is locked. Every test ends with the
    __main__ it started with."""
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])


@pytest.fixture(autouse=True)
def _own_database(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test gets its own embedded team database (seeded from its workspace on first use),
    never the user's ~/.riskapp."""
    monkeypatch.setenv("RISKAPP_DATA_DIR", str(tmp_path_factory.mktemp("riskapp-data")))
