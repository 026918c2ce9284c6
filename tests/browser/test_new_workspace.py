"""The dashboard on a workspace `riskapp init` just made (issue 13, item 1): it says what to do
next instead of failing, and the register can be filled in from the Register page."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the fixture's type; conftest.py is pytest's to import
    from tests.browser.conftest import Dashboard


def _main_text(d: Dashboard) -> str:
    return str(d.page.inner_text('[data-testid="stMain"]'))


def test_a_new_workspace_says_what_to_do_next(blank_dashboard: Dashboard) -> None:
    d = blank_dashboard
    d.open("/")
    d.wait_ready()
    text = _main_text(d)
    assert "No assets yet" in text
    assert "assets.csv" in text and "Register page" in text
    d.screenshot("new-workspace-overview")
    d.assert_healthy()
    d.open("/register")
    d.wait_ready()
    text = _main_text(d)
    assert "Asset register and plans" in text
    assert "problem(s)" not in text  # an empty register is where a new workspace starts
    d.screenshot("new-workspace-register")
    d.assert_healthy()
