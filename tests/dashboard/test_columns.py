"""The wide tables' column layouts: nothing of the data is left out, and the columns a user
decides on end inside the main area of a 1,500 px window."""

from __future__ import annotations

import pytest

from riskapp.dashboard.columns import MAIN_WIDTH_PX, PLANS, REGISTER, Layout
from riskapp.domain.assets import ASSET_COLUMNS


def test_the_register_layout_shows_every_asset_column() -> None:
    assert sorted(REGISTER.order) == sorted(ASSET_COLUMNS)


@pytest.mark.parametrize("layout", [PLANS, REGISTER], ids=["plans", "register"])
def test_decision_columns_end_inside_the_main_area(layout: Layout) -> None:
    for key in layout.must_show:
        assert layout.right_edge_px(key) <= MAIN_WIDTH_PX, key
    assert len(set(layout.order)) == len(layout.order)


def test_the_plans_layout_names_columns_of_the_plan_register() -> None:
    from riskapp.assessment.core import assess
    from riskapp.assessment.sources import FileSource
    from riskapp.assessment.tables import plan_register
    from tests.conftest import DEMO

    a = assess(FileSource(DEMO))
    frame = plan_register(a, a.ws.scenarios[0].id)
    frame["number"] = range(1, len(frame) + 1)
    assert set(PLANS.order) <= set(frame.columns)
