"""Scenario authoring in the real dashboard (issue 13, item 8), on a copy of the demo in a
temporary folder: create a scenario, duplicate it, retire the copy, and change a signpost's
threshold; the files on disk and the page show each change."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from tests.browser.conftest import ROOT, VIEWPORT, _streamlit, artifacts_dir

if TYPE_CHECKING:  # the fixture's type; conftest.py is pytest's to import
    from tests.browser.conftest import Dashboard


@pytest.fixture(scope="module")
def demo_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo and its scenario folder, laid out as in the checkout (../scenarios)."""
    root = tmp_path_factory.mktemp("authoring")
    shutil.copytree(ROOT / "demo", root / "demo")
    shutil.copytree(ROOT / "scenarios", root / "scenarios")
    return root


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the server keeps its team database."""
    return tmp_path_factory.mktemp("authoring-data")


@pytest.fixture(scope="module")
def authoring_url(chromium_ready: None, demo_copy: Path, data_dir: Path) -> Iterator[str]:
    with _streamlit(demo_copy / "demo", data_dir, "streamlit-authoring.log") as url:
        yield url


@pytest.fixture
def editor(browser: Any, authoring_url: str) -> Iterator[Dashboard]:
    from tests.browser.conftest import Dashboard

    context = browser.new_context(viewport=VIEWPORT)
    try:
        yield Dashboard(context.new_page(), authoring_url, artifacts_dir())
    finally:
        context.close()


def _main(d: Dashboard) -> str:
    return str(d.page.inner_text('[data-testid="stMain"]'))


def _after(d: Dashboard, text: str) -> None:
    d.page.get_by_text(text).first.wait_for(timeout=60_000)
    d.wait_ready()


def _pick(d: Dashboard, label: str) -> None:
    """Choose an option of the scenario selectbox by typing part of its label."""
    box = d.page.locator('[data-testid="stSelectbox"]').filter(has_text="Scenario").first
    box.click()
    d.page.keyboard.type(label)
    d.page.get_by_role("option", name=label).first.click()
    d.wait_ready()


def _grid_shows(d: Dashboard, text: str, index: int = 0) -> None:
    """Wait until a table (0: the shocks, 1: the signposts) has a cell `text` (the grid draws
    on a canvas and gives the cells it has drawn in view to the accessibility tree)."""
    for _ in range(60):
        d.wait_ready()
        grid = d.page.locator('[data-testid="stDataFrameResizable"]').nth(index)
        try:
            grid.scroll_into_view_if_needed(timeout=2_000)
            if text in grid.locator('[role="gridcell"]').all_inner_texts():
                return
        except Exception:  # the grid is redrawn by the rerun: look again
            pass
        d.page.wait_for_timeout(500)
    raise AssertionError(f"table {index} does not show {text!r}")


def test_create_duplicate_retire_and_edit_a_signpost(
    editor: Dashboard, demo_copy: Path, data_dir: Path
) -> None:
    d, folder = editor, demo_copy / "scenarios"
    d.open("/scenario_editor")
    page = d.page
    # create
    page.get_by_text("New scenario", exact=True).click()
    name = page.get_by_label("Name", exact=True)
    name.fill("Port strike")
    name.press("Enter")
    d.wait_ready()
    page.get_by_role("button", name="Create", exact=True).click()
    _after(d, "Created port_strike.yaml (Port strike).")
    created = yaml.safe_load((folder / "port_strike.yaml").read_text())
    assert created["title"] == "Port strike" and "shocks" not in created
    d.assert_healthy()
    # duplicate the scenario now open
    page.get_by_role("button", name="Duplicate", exact=True).click()  # opens its popover
    page.get_by_role("button", name="Create the copy", exact=True).click()
    _after(d, "Created copy_of_port_strike.yaml, a copy of port_strike.")
    assert (folder / "copy_of_port_strike.yaml").exists()
    # retire the copy
    page.get_by_role("button", name="Retire", exact=True).click()
    why = page.get_by_label("Why (for the audit trail)")
    why.fill("superseded by the original")  # sent with the click (Enter would close it)
    page.get_by_role("button", name="Retire the scenario", exact=True).click()
    _after(d, "Retired copy_of_port_strike: assessments leave it out.")
    assert not (folder / "copy_of_port_strike.yaml").exists()
    assert (folder / "retired" / "copy_of_port_strike.yaml").exists()
    assert "This scenario is retired" in _main(d)
    assert page.get_by_role("button", name="Restore", exact=True).count() == 1
    d.screenshot("authoring-retired")
    d.assert_healthy()
    from riskapp.settings import Settings
    from riskapp.store import Actor, Store

    store = Store.open(Settings(data_dir=data_dir), files=demo_copy / "demo")
    try:
        [retired] = store.audit(entity="scenario", action="retire")
        created = store.audit(entity="scenario", entity_id="port_strike", action="create")
    finally:
        store.close()
    assert (retired.entity_id, retired.note) == (
        "copy_of_port_strike",
        "superseded by the original",
    )
    assert retired.actor == Actor.local().label  # the local demo's user, no login
    assert {e.field for e in created} >= {"title", "frequency"}
    # change the first signpost's threshold of the energy scenario in its table
    _pick(d, "Energy-weaponization winter (energy_winter)")
    cell = page.locator("#portal input, #portal textarea").first  # the grid's cell editor
    for _ in range(20):  # the grid may still be drawing or be redrawn: try until it edits
        d.wait_ready()
        signposts = page.locator('[data-testid="stDataFrameResizable"]').nth(1)  # after shocks
        try:
            signposts.scroll_into_view_if_needed(timeout=2_000)
            box = signposts.bounding_box()
            assert box is not None
            # the row marker column, the name (180 px), then the threshold
            page.mouse.dblclick(box["x"] + 30 + 180 + 40, box["y"] + 35 + 17)
            cell.wait_for(timeout=3_000)
            break
        except Exception:
            page.keyboard.press("Escape")
    d.screenshot("authoring-signpost-editing")
    cell.fill("75")
    cell.press("Enter")
    _grid_shows(d, "75", index=1)
    d.screenshot("authoring-signpost-edited")
    page.get_by_role("button", name="Save", exact=True).click()
    _after(d, "Saved energy_winter.yaml; every page now uses it.")
    saved = yaml.safe_load((folder / "energy_winter.yaml").read_text())
    assert saved["signposts"][0]["threshold"] == 75
    assert saved["signposts"][1]["threshold"] == 85  # the other one as it was
    d.screenshot("authoring-signpost-saved")
    d.assert_healthy()
    # the retired copy is listed as retired, the new scenario as active
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Scenario").first.click()
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    assert "Copy of Port strike (copy_of_port_strike) — retired" in options
    assert "Port strike (port_strike)" in options
    # the Scenarios page (an assessment) offers the new scenario, not the retired copy
    d.open("/scenarios")
    page.locator('[data-testid="stSelectbox"]').filter(has_text="Scenario").first.click()
    offered = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    assert "Port strike" in offered and "Copy of Port strike" not in offered, offered
    assert "Energy-weaponization winter" in offered
    d.assert_healthy()


def test_a_country_boxed_on_the_map_becomes_a_shock_target(
    editor: Dashboard, demo_copy: Path
) -> None:
    d, folder = editor, demo_copy / "scenarios"
    d.open("/scenario_editor")
    page = d.page
    before = yaml.safe_load((folder / "arctic_flashpoint.yaml").read_text())["shocks"]
    _pick(d, "Arctic flashpoint in the Barents Sea and around Svalbard (arctic_flashpoint)")
    page.get_by_text("Add shocks to several targets", exact=True).click()
    d.wait_ready()
    targets = page.locator('[data-testid="stMultiSelect"]').filter(has_text="Targets")
    chips = targets.get_by_text(re.compile(r"\([A-Z]{3}\)$"))
    for _ in range(10):  # the map may still be drawing: drag again until the box selects
        d.wait_ready()
        chart = page.locator('[data-testid="stPlotlyChart"]').first
        try:
            chart.scroll_into_view_if_needed(timeout=2_000)
            box = chart.bounding_box()
            assert box is not None
            # a small box around one country (Czechia, in the middle of the map's Europe)
            x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.55
            page.mouse.move(x - 8, y - 8)
            page.mouse.down()
            page.mouse.move(x, y, steps=5)
            page.mouse.move(x + 8, y + 8, steps=5)
            page.mouse.up()
            chips.first.wait_for(timeout=5_000)
            break
        except Exception:
            page.mouse.up()
    d.wait_ready()
    picked = chips.all_inner_texts()
    d.screenshot("authoring-map-pick")
    assert len(picked) == 1, picked
    page.get_by_role("button", name="Add to the shocks", exact=True).click()
    code = picked[0][-4:-1]  # "Czechia (CZE)": the grid's cells hold the ISO code
    _grid_shows(d, code)
    page.get_by_role("button", name="Save", exact=True).click()
    _after(d, "Saved arctic_flashpoint.yaml; every page now uses it.")
    d.screenshot("authoring-map-saved")
    shocks = yaml.safe_load((folder / "arctic_flashpoint.yaml").read_text())["shocks"]
    assert shocks[:-1] == before
    assert shocks[-1]["target"] == code  # the country's name shown, its code kept
    assert (shocks[-1]["op"], shocks[-1]["value"]) == ("set", 1.0)
    d.assert_healthy()
