"""Chromium (driven by Playwright) writes its profile and dconf cache under HOME and the XDG
folders: in the tests those are the session's temporary home, never the user's."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests import conftest


def test_chromium_writes_into_the_temporary_home(browser: Any) -> None:
    page = browser.new_page()
    try:
        page.goto("about:blank")
    finally:
        page.close()
    guard = conftest._GUARD
    assert guard is not None
    config = Path(os.environ["XDG_CONFIG_HOME"])
    assert config.is_relative_to(guard.temp_home)
    assert (config / "chromium").is_dir()
