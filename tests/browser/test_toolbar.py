"""People using the dashboard see the product, not Streamlit's developer tools: the toolbar is
in viewer mode (riskapp/dashboard/streamlit.toml), so there is no Deploy button."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the fixture's type; conftest.py is pytest's to import
    from tests.browser.conftest import Dashboard


def test_no_deploy_button(dashboard: Dashboard) -> None:
    dashboard.open("/")
    dashboard.assert_healthy()
    page = dashboard.page
    assert page.locator('[data-testid="stAppDeployButton"]').count() == 0
    assert page.get_by_role("button", name="Deploy").count() == 0
