"""The dashboard in a real browser: Debian's Chromium against a real `streamlit run`.

Loads every page, waits for its charts, checks there is no exception, no st.error, no console
error and no request leaving the local server, and saves a screenshot of each page. Checks that
the world map draws its countries from the outline file the app serves itself (no CDN), and that
moving a what-if slider with the keyboard changes a key figure. See conftest.py for the server,
the browser and where screenshots go.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # the fixture's type; conftest.py is pytest's to import
    from tests.browser.conftest import Dashboard

# (url path, sidebar label, screenshot name); the paths are those st.navigation derives from
# the page file names in riskapp/dashboard/app.py (default page at "/").
PAGES = [
    ("/", "Overview", "01-overview"),
    ("/scenarios", "Scenarios", "02-scenarios"),
    ("/signposts", "Signposts", "02a-signposts"),
    ("/alerts", "Alerts", "02a2-alerts"),
    ("/risk", "Risk distribution", "02b-risk"),
    ("/assets", "Assets", "03-assets"),
    ("/plans", "Contingency plans", "04-plans"),
    ("/reports", "Reports", "05-reports"),
    ("/register", "Register", "05b-register"),
    ("/scenario_editor", "Edit scenario", "05b2-scenario-editor"),
    ("/history", "History", "05c-history"),
    ("/audit", "Audit trail", "05d-audit"),
    ("/baseline", "Baseline data", "06-baseline"),
    ("/methodology", "Methodology", "07-methodology"),
]
WHATIF_FACTOR = "Hybrid warfare and cyber attacks"  # name of factor hybrid_warfare in the demo
WHATIF_PRESSES = 5


def test_sidebar_reaches_every_page(dashboard: Dashboard) -> None:
    """The sidebar lists the pages at the URL paths below, and clicking each one shows it
    (client-side navigation, the way people move around the dashboard)."""
    dashboard.open("/")
    page = dashboard.page
    links = page.locator('[data-testid="stSidebarNav"] a')
    found = {}
    for i in range(links.count()):
        href = links.nth(i).get_attribute("href") or ""
        label = links.nth(i).inner_text().splitlines()[-1].strip()  # drop the icon's name
        found[href.removeprefix(dashboard.base_url) or "/"] = label
    assert found == {path: label for path, label, _ in PAGES}
    for path, label, _ in [*PAGES[1:], PAGES[0]]:
        link = page.locator('[data-testid="stSidebarNav"] a', has_text=label)
        link.click()
        page.wait_for_url(dashboard.base_url + path)
        page.wait_for_function(
            """label => Array.from(document.querySelectorAll(
                    '[data-testid="stSidebarNav"] a[aria-current="page"]'))
                .some(a => a.innerText.trim().endsWith(label))""",
            arg=label,
        )
        dashboard.wait_ready()
        dashboard.assert_healthy()


@pytest.mark.parametrize(("path", "label", "shot"), PAGES, ids=[p[2] for p in PAGES])
def test_page_loads_cleanly(dashboard: Dashboard, path: str, label: str, shot: str) -> None:
    """Each page opened at its own URL (a bookmark): drawn, clean, screenshot saved, and every
    figure shown whole beside the sidebar on a 1,400-pixel screen (five cards to a row cut the
    Risk page's amounts to "EUR 11...")."""
    dashboard.open(path)
    dashboard.screenshot(shot)
    dashboard.assert_healthy()
    assert dashboard.cut_metrics() == []
    if path == "/":
        # Overview: the world map and the heat map, and the key figures
        assert dashboard.page.locator('[data-testid="stPlotlyChart"] svg.main-svg').count() >= 2
        assert dashboard.metric_values(), "no key figures on the Overview page"


def test_world_map_draws_countries_offline(dashboard: Dashboard) -> None:
    """plotly.js draws countries only if it could load world_110m.json: the app serves it from
    /app/static/, so the map works with no network."""
    dashboard.open("/")
    page = dashboard.page
    # land and border layers are single long paths once the outlines are in
    page.wait_for_function(
        """() => ['land', 'countries'].every(layer => {
            const p = document.querySelector(`.geo .layer.${layer} path`);
            return p !== null && (p.getAttribute('d') || '').length > 10000;
        })"""
    )
    shaded = page.evaluate(
        """() => Array.from(document.querySelectorAll('path.choroplethlocation'))
            .filter(p => (p.getAttribute('d') || '').length > 10).length"""
    )
    assert shaded >= 10, f"only {shaded} countries shaded on the world map"
    outlines = [(u, s) for u, s in dashboard.responses if u.endswith("world_110m.json")]
    assert outlines == [(f"{dashboard.base_url}/app/static/world_110m.json", 200)], outlines
    dashboard.screenshot("01-overview-map")
    dashboard.assert_healthy()


def test_whatif_slider_changes_a_key_figure(dashboard: Dashboard) -> None:
    dashboard.open("/scenarios")
    page = dashboard.page
    slider = page.get_by_role("slider", name=re.compile(re.escape(WHATIF_FACTOR))).first
    slider.wait_for(timeout=10_000)
    before = dashboard.metric_values()
    assert before, "no key figures (st.metric) on the Scenarios page"
    value, top = slider.evaluate("e => [Number(e.value), Number(e.max)]")
    key = "ArrowRight" if value < top else "ArrowLeft"  # a slider already at its maximum
    slider.focus()
    for _ in range(WHATIF_PRESSES):
        slider.press(key)
    page.wait_for_function(
        """before => {
            const now = Array.from(document.querySelectorAll('[data-testid="stMetricValue"]'))
                .map(e => e.innerText.trim());
            return JSON.stringify(now) !== JSON.stringify(before);
        }""",
        arg=before,
        timeout=15_000,
    )
    dashboard.wait_ready()
    after = dashboard.metric_values()
    moved = slider.evaluate("e => Number(e.value)")
    dashboard.screenshot("02-scenarios-whatif")
    assert moved != value, "the slider did not move"
    assert after != before
    dashboard.assert_healthy()


@pytest.mark.parametrize("path", ["/plans", "/register"])
def test_wide_tables_show_their_decision_columns_without_scrolling(
    dashboard: Dashboard, path: str
) -> None:
    """In a 1,500 px window the plans table shows averted loss, cost and benefit-cost ratio,
    and the register shows criticality, owner and tags, without scrolling sideways. The grid
    draws on a canvas and exposes a header cell for each column it has drawn in view."""
    from riskapp.dashboard.columns import PLANS, REGISTER

    layout = PLANS if path == "/plans" else REGISTER
    dashboard.page.set_viewport_size({"width": 1500, "height": 1400})
    dashboard.open(path)
    grid = dashboard.page.locator('[data-testid="stDataFrameResizable"]').first
    labels = {c.key: c.label for c in layout.columns}
    wanted = {labels[k] for k in layout.must_show}
    shown: set[str] = set()
    for _ in range(30):  # the grid draws its header cells once it is in view
        grid.scroll_into_view_if_needed()
        shown = {t.strip() for t in grid.locator('[role="columnheader"]').all_inner_texts()}
        if wanted <= shown:
            break
        dashboard.page.wait_for_timeout(1000)
    assert wanted <= shown, f"not drawn in view: {sorted(wanted - shown)}; drawn: {shown}"
    dashboard.screenshot(f"wide-table{path.replace('/', '-')}")
    dashboard.assert_healthy()


def test_signposts_page_shows_states_from_stored_indicators(dashboard: Dashboard) -> None:
    """The demo's two signposts on the GPR index (seeded from demo/indicators.csv, the
    published values to December 2025) are amber; their history is drawn."""
    dashboard.open("/signposts")
    text = dashboard.page.inner_text('[data-testid="stMain"]')
    assert "Signposts" in text and "Geopolitical risk, Russia" in text
    assert "amber" in text and "2025-12" in text
    # the shipped history ends in 2025-12: the page says the values are old
    assert "may be out of date" in text
    assert dashboard.page.locator('[data-testid="stPlotlyChart"]').count() >= 1
    dashboard.screenshot("02a-signposts-board")
    dashboard.assert_healthy()


def test_alerts_page_is_alive_on_first_start_and_works_an_alert(dashboard: Dashboard) -> None:
    """The demo's first start raises what its shipped indicator history says, before anyone
    checks: the two GPR signposts amber since 2025-12 (warnings, listed first) and both GPR
    series stale (their history ends in 2025-12). "Check now" then finds nothing new; one
    alert is acknowledged and leaves the open list."""
    page = dashboard.page
    dashboard.open("/alerts")
    text = page.inner_text('[data-testid="stMain"]')
    assert "amber since 2025-12" in text  # the detail of the first (a signpost) alert
    page.get_by_role("button", name="Check now").click()
    page.get_by_text("No new alerts").wait_for()
    dashboard.wait_ready()
    picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Alert")
    picker.click()
    options = page.locator('[role="option"]').all_inner_texts()
    page.keyboard.press("Escape")
    assert sum("Signpost amber" in o for o in options) == 2, options
    assert sum("Data stale" in o for o in options) == 2, options
    assert all("Signpost amber" in o for o in options[:2]), options  # warnings first
    assert len(options) == 4, options  # nothing else
    page.get_by_role("button", name="Acknowledge").click()
    dashboard.wait_ready()
    left: list[str] = []
    for _ in range(20):  # the rerun after the click redraws the list
        picker.click()
        left = page.locator('[role="option"]').all_inner_texts()
        page.keyboard.press("Escape")
        if len(left) == 3:
            break
        page.wait_for_timeout(500)
    assert len(left) == 3 and options[0] not in left, left  # the acknowledged one has left
    dashboard.screenshot("02a2-alerts-worked")
    dashboard.assert_healthy()
