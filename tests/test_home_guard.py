"""The session guard (tests/home_guard.py): the tests run with a temporary HOME, and anything
they change under the real home is found."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from riskapp.settings import Settings
from tests import conftest
from tests.home_guard import changes, snapshot


def test_the_session_runs_in_a_temporary_home() -> None:
    guard = conftest._GUARD
    assert guard is not None
    temp = guard.temp_home
    assert temp != guard.real_home
    assert Path.home() == temp
    for name in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        assert Path(os.environ[name]).is_relative_to(temp), name
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.data_dir.is_relative_to(Path(os.environ["RISKAPP_DATA_DIR"]).parent)
    assert not settings.data_dir.is_relative_to(guard.real_home)
    assert settings.database_url is None  # never a developer's team database


def test_the_default_data_folder_follows_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RISKAPP_DATA_DIR")
    assert Settings(_env_file=None).data_dir == Path.home() / ".riskapp"  # type: ignore[call-arg]


def test_processes_the_tests_start_get_the_temporary_home() -> None:
    """The CLI, Streamlit, Chromium (Playwright, kaleido) and pip inherit the environment."""
    shown = subprocess.run(
        [sys.executable, "-c", "import pathlib; print(pathlib.Path.home())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert conftest._GUARD is not None
    assert Path(shown) == conftest._GUARD.temp_home


def test_changes_are_found(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".riskapp").mkdir(parents=True)
    (home / ".riskapp" / "riskapp.db").write_bytes(b"old")
    (home / ".cache" / "pip").mkdir(parents=True)
    (home / "notes.txt").write_text("keep")
    before = snapshot(home, skip={".cache/pip"})
    assert ".cache/pip" not in before

    (home / ".riskapp" / "riskapp.db").write_bytes(b"seeded by a test")
    (home / ".config" / "chromium").mkdir(parents=True)
    (home / "notes.txt").unlink()
    (home / ".cache" / "pip" / "wheel").write_bytes(b"skipped")
    found = changes(before, snapshot(home, skip={".cache/pip"}))

    assert any(line.startswith("modified ~/.riskapp/riskapp.db  (at ") for line in found)
    assert any(line.startswith("created  ~/.config/chromium  (at ") for line in found)
    assert "removed  ~/notes.txt" in found
    assert not any("pip/wheel" in line for line in found)
    assert changes(before, before) == []
