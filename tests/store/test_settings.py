"""One settings object, read from RISKAPP_* environment variables and validated at start."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from riskapp.settings import DEMO, Settings


def test_defaults_are_an_sqlite_file_and_the_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RISKAPP_DATABASE_URL", raising=False)
    monkeypatch.setenv("RISKAPP_DATA_DIR", "/tmp/riskapp-data")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.database == f"sqlite:///{Path('/tmp/riskapp-data/riskapp.db').resolve()}"
    assert s.workspace == DEMO
    assert s.seed_demo


def test_environment_selects_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+psycopg://team@db.internal:5432/riskapp"
    monkeypatch.setenv("RISKAPP_DATABASE_URL", url)
    monkeypatch.setenv("RISKAPP_LOGIN_MAX_FAILURES", "10")
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.database == url
    assert s.login_max_failures == 10


@pytest.mark.parametrize(
    "url", ["mysql://x/y", "postgresql://user@host/db", "postgresql+psycopg2://u@h/d"]
)
def test_other_databases_are_refused_at_start(url: str) -> None:
    with pytest.raises(ValidationError, match="psycopg"):
        Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]


def test_every_setting_is_documented() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"
