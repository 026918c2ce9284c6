"""The dashboard on a workspace `riskapp init` just made (issue 13, item 1): it says what to do
next instead of failing, and the register can be filled in from the Register page."""

from __future__ import annotations

from pathlib import Path
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


GERMAN = (
    "Anlagen-ID,Bezeichnung,Kategorie,Land,Wiederbeschaffungswert (TEUR),Umsatz (TEUR)\n"
    "W-01,Werk Narva,Werk,EST,12000,30000\n"
    "L-02,Lager Gdansk,Lager,POL,4500,0\n"
)


def test_a_clients_spreadsheet_imported_through_the_mapping_step(
    blank_dashboard: Dashboard, tmp_path: Path
) -> None:
    """Upload a German file with its own column names in thousands: the wizard suggests the
    mapping, the preview is valid, the import fills the register and the Overview assesses."""
    d = blank_dashboard
    upload = tmp_path / "anlagen.csv"
    upload.write_text(GERMAN, encoding="utf-8")
    d.open("/register")
    d.page.get_by_role("tab", name="Import").click()
    d.page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(upload))
    d.page.get_by_text("2 row(s) valid: 2 to add").wait_for(timeout=60_000)
    d.wait_ready()
    text = _main_text(d)
    assert "Suggested from the file's column names" in text
    d.screenshot("new-workspace-mapping")
    d.assert_healthy()
    d.page.get_by_role("button", name="Import", exact=True).click()
    d.page.get_by_text("Imported anlagen.csv").wait_for(timeout=60_000)
    d.open("/")
    assert "No assets yet" not in _main_text(d)
    assert "EUR 46.5m" in _main_text(d)  # (12,000 + 30,000 + 4,500) thousand euros
    # only the status quo, losses above today's baseline: the page says why they are all 0
    assert "no scenario shocks anything yet" in _main_text(d)
    d.assert_healthy()
