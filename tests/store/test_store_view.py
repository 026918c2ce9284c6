"""The dashboard's store tables built without Streamlit."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pandas as pd

from riskapp.assessment.register import (
    asset_edits,
    overdue_reviews,
    plan_edits,
    plan_frame,
    register_frame,
)
from riskapp.charts.history import trend_chart
from riskapp.format import NumberFormat
from riskapp.io.tables import load_assets
from riskapp.store import StoredAsset, StoredPlan
from riskapp.store.assessments import KEY_FIGURES
from riskapp.store.workspace import load_files
from tests.store.conftest import TINY

WHEN = datetime(2025, 1, 1, tzinfo=UTC)


def stored_assets() -> list[StoredAsset]:
    return [StoredAsset(a, 3, WHEN, "x") for a in load_assets(TINY / "assets.csv")]


def stored_plans() -> list[StoredPlan]:
    from riskapp.domain import PlanBook
    from riskapp.io.workspace import load_model

    book, _ = load_model(TINY / "plans.yaml", PlanBook)
    reviews = [date(2025, 1, 10), None]
    return [StoredPlan(p, r, 2, WHEN, "x") for p, r in zip(book.plans, reviews, strict=True)]


def test_an_unchanged_grid_asks_for_nothing() -> None:
    stored = stored_assets()
    frame = register_frame(stored)
    changes = asset_edits({s.id: s.version for s in stored}, [s.asset for s in stored], frame)
    assert changes.empty
    assert frame["tags"].tolist() == ["arctic;critical", "critical", ""]


def test_grid_edits_become_versioned_edits() -> None:
    stored = stored_assets()
    frame = register_frame(stored)
    frame.loc[0, "owner"] = "Ops North"
    frame = frame[frame["id"] != "O1"]
    new = {**frame.iloc[0].to_dict(), "id": "P3", "name": "Plant three", "depends_on": ""}
    frame = pd.concat([frame, pd.DataFrame([new])], ignore_index=True)
    changes = asset_edits({s.id: s.version for s in stored}, [s.asset for s in stored], frame)
    assert not changes.problems
    summary = [(e.asset_id, e.expected_version, e.asset is None) for e in changes.edits]
    assert summary == [("P1", 3, False), ("P3", None, False), ("O1", 3, True)]


def test_grid_problems_carry_the_grid_row() -> None:
    stored = stored_assets()
    frame = register_frame(stored)
    frame.loc[2, "depends_on"] = "NOPE"
    changes = asset_edits({s.id: s.version for s in stored}, [s.asset for s in stored], frame)
    assert [(p.line, p.field) for p in changes.problems] == [(4, "depends_on")]


def test_plan_grid_edits() -> None:
    plans = stored_plans()
    frame = plan_frame(plans, date(2025, 2, 1))
    assert frame["overdue"].tolist() == [True, False]
    edited = frame.copy()
    edited.loc[1, "review_date"] = date(2025, 6, 1)
    edited.loc[0, "status"] = "active"
    edits = plan_edits({p.id: p.version for p in plans}, frame, edited)
    assert [(e.plan_id, dict(e.changes), e.expected_version) for e in edits] == [
        ("shield", {"status": "active"}, 2),
        ("armor", {"review_date": date(2025, 6, 1)}, 2),
    ]


def test_overdue_reviews() -> None:
    table = overdue_reviews(stored_plans(), date(2025, 2, 1))
    assert table[["id", "days_overdue"]].to_numpy().tolist() == [["shield", 22]]


def test_trend_chart_draws_one_line_per_key_figure() -> None:
    trend = pd.DataFrame(
        {
            "id": [1, 2],
            "label": ["a", "b"],
            "as_of": pd.to_datetime(["2025-01-01", "2025-02-01"]),
            **{label: [1.0, 2.0] for label in KEY_FIGURES.values()},
        }
    )
    spec = json.loads(trend_chart(trend, NumberFormat()).to_json())
    assert [t["name"] for t in spec["data"]] == [
        "Expected annual loss",
        "Expected annual loss after plans",
        "1-in-100-year loss",
    ]


def test_file_inputs_load_without_a_register_file() -> None:
    files = load_files(TINY)
    assert [s.id for s in files.scenarios] == ["base", "s1", "s2"]


def test_shown_grid_gives_the_same_edits_and_problems_as_parsing_every_row() -> None:
    """`asset_edits(..., shown=)` parses only the rows the editor changed or added; what it
    asks for, and every problem with its grid row, is what parsing the whole grid gives."""
    stored = stored_assets()
    versions = {s.id: s.version for s in stored}
    original = [s.asset for s in stored]
    shown = register_frame(stored)

    def both(edited: pd.DataFrame) -> tuple[object, object]:
        full = asset_edits(versions, original, edited)
        fast = asset_edits(versions, original, edited, shown=shown)
        return (
            [(e.asset_id, e.asset, e.expected_version) for e in fast.edits],
            [(p.line, p.field, p.message) for p in fast.problems],
        ), (
            [(e.asset_id, e.asset, e.expected_version) for e in full.edits],
            [(p.line, p.field, p.message) for p in full.problems],
        )

    owner = shown.copy()
    owner.loc[0, "owner"] = "Ops North"
    dangling = shown.copy()
    dangling.loc[2, "depends_on"] = "NOPE"
    duplicate = shown.copy()
    duplicate.loc[2, "id"] = "P1"  # clashes with an unchanged row
    cycle = shown.copy()
    cycle.loc[0, "depends_on"] = "P2"  # P2 already depends on P1
    bad_cell = shown.copy()
    bad_cell.loc[1, "country"] = "XXX"
    dropped = shown[shown["id"] != "O1"]
    added = pd.concat(
        [dropped, pd.DataFrame([{**shown.iloc[0].to_dict(), "id": "P3", "depends_on": "P1"}])],
        ignore_index=True,  # the new row takes O1's label: compared, found changed, parsed
    )
    blank_row = pd.concat([shown, pd.DataFrame([dict.fromkeys(shown.columns)])])
    empty = shown.iloc[0:0]
    cases = [shown, owner, dangling, duplicate, cycle, bad_cell, dropped, added, blank_row]
    for edited in [*cases, empty]:
        fast, full = both(edited)
        assert fast == full
    # and the cases say what they should
    assert both(shown)[0] == ([], [])
    assert [e[0] for e in both(owner)[0][0]] == ["P1"]
    assert [p[:2] for p in both(dangling)[0][1]] == [(4, "depends_on")]
    assert [p[:2] for p in both(duplicate)[0][1]] == [(4, "id")]
    assert "cycle" in both(cycle)[0][1][0][2]
    assert [p[:2] for p in both(bad_cell)[0][1]] == [(3, "country")]
    assert [(e[0], e[2]) for e in both(added)[0][0]] == [("P3", None), ("O1", 3)]
    assert [p[2] for p in both(empty)[0][1]] == ["the register cannot be empty"]
