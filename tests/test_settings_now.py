"""`riskapp.settings.settings_now`: Settings made once per environment, and made again as soon
as anything Settings reads changes (a RISKAPP_* variable in any case, HOME, the working
directory's .env file)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from riskapp.settings import Settings, settings_now


def test_the_same_environment_gives_the_same_settings(tmp_path: Path) -> None:
    first = settings_now(workspace=tmp_path, workspace_id="default")
    assert settings_now(workspace=tmp_path, workspace_id="default") is first
    assert first == Settings(workspace=tmp_path, workspace_id="default")
    other = settings_now(workspace=tmp_path, workspace_id="other")
    assert other is not first and other.workspace_id == "other"


def test_a_changed_variable_home_or_env_file_gives_new_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RISKAPP_DATA_DIR", raising=False)  # the suite's: HOME decides here
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    before = settings_now()
    assert before.data_dir == tmp_path / "home" / ".riskapp"

    monkeypatch.setenv("riskapp_chart_cache_mb", "7")  # any case, as Settings reads it
    assert settings_now().chart_cache_mb == 7

    monkeypatch.delenv("riskapp_chart_cache_mb")
    monkeypatch.setenv("HOME", str(tmp_path / "elsewhere"))
    assert settings_now().data_dir == tmp_path / "elsewhere" / ".riskapp"

    dotenv = tmp_path / ".env"
    dotenv.write_text("RISKAPP_CHART_CACHE_MB=11\n", encoding="utf-8")
    assert settings_now().chart_cache_mb == 11
    dotenv.write_text("RISKAPP_CHART_CACHE_MB=123\n", encoding="utf-8")
    os.utime(dotenv, ns=(1, 1))  # a rewrite within the clock's resolution is still new
    assert settings_now().chart_cache_mb == 123
