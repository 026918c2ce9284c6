"""Alerts (issue 11, item 5, first part): raised once per event from the assessment and the
team database, worked by people, every step audited; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from riskapp.assessment import assess
from riskapp.assessment.alerts import alert_events, check, first_alerts
from riskapp.assessment.scaffold import create_workspace
from riskapp.assessment.sources import StoreSource
from riskapp.domain.alerts import AlertEvent, AlertKind
from riskapp.io.errors import InputError
from riskapp.io.indicators import read_series
from riskapp.store import AccessDenied, Store
from tests.store.conftest import ANALYST, SYSTEM, VIEWER

RED = (
    "indicator,name,unit,frequency,period,value\n"
    "gpr_russia,Geopolitical risk index Russia,% of articles,monthly,2026-01,4.2\n"
)
PLAN = """
  - id: forward_stock_build
    title: Build forward stock ahead of an escalation
    owner: Supply chain director
    status: approved
    trigger:
      signposts: ["Geopolitical risk, Russia"]
    actions:
      - {title: Pre-position three weeks of stock, lead_time_days: 2, one_off_cost: 100000}
    coverage:
      asset_types: [plant]
    effect:
      damage_multiplier: {military_escalation: 0.8}
"""


@pytest.fixture
def demo_store(open_store: object, tmp_path: Path) -> tuple[Store, Path]:
    ws = tmp_path / "ws"
    create_workspace(ws, "demo")
    with (ws / "plans.yaml").open("a", encoding="utf-8") as f:
        f.write(PLAN)
    store = open_store(files=ws)  # type: ignore[operator]
    plan = store.plan("forward_stock_build")
    review = NOW.date() - timedelta(days=10)  # overdue by the time of the checks
    store.update_plan(plan.id, {"review_date": review}, plan.version, SYSTEM)
    return store, ws


# the demo's GPR history ends with 2025-12: on 20 January 2026 it is 20 days old, fresh
NOW = datetime(2026, 1, 20, 12, tzinfo=UTC)


def test_each_event_once(demo_store: tuple[Store, Path], tmp_path: Path) -> None:
    store, ws = demo_store
    a = assess(StoreSource(store, ws))
    now = NOW  # the data fresh, the review 10 days overdue
    first = check(a, store, SYSTEM, now)
    kinds = sorted(x.kind.value for x in first)
    # the two amber GPR signposts, and the new plan's review date is past
    assert kinds == ["review_overdue", "signpost", "signpost"]
    assert check(a, store, SYSTEM, now) == []  # nothing twice
    # January comes in red: the signpost's red alert, the plan it triggers, the probability
    (tmp_path / "jan.csv").write_text(RED)
    store.import_series(read_series(tmp_path / "jan.csv"), SYSTEM, "file jan.csv")
    a = assess(StoreSource(store, ws))
    second = {x.kind for x in check(a, store, SYSTEM, now)}
    assert second == {AlertKind.SIGNPOST, AlertKind.PLAN_TRIGGERED, AlertKind.PROBABILITY_MOVED}
    red = [x for x in store.alerts() if x.title.startswith("Signpost red")]
    assert len(red) == 1 and "4.2 in 2026-01" in red[0].detail


def test_stale_data(demo_store: tuple[Store, Path], tmp_path: Path) -> None:
    """A monthly series is stale once its latest month ended more than 45 days ago, however
    recently it was stored: the demo's history (to 2025-12) was stored today."""
    store, ws = demo_store
    a = assess(StoreSource(store, ws))

    def stale(at: datetime) -> list[AlertEvent]:
        return [e for e in alert_events(a, store, at) if e.kind is AlertKind.DATA_STALE]

    assert stale(datetime(2026, 2, 14, tzinfo=UTC)) == []  # 45 days after 31 December
    late = stale(datetime(2026, 2, 15, tzinfo=UTC))
    assert {e.subject for e in late} == {"gpr_global", "gpr_russia"}
    assert all("2025-12, which ended 46 days ago" in e.detail for e in late)
    # a newer month moves the clock on: only the series still ending in 2025-12 is stale
    (tmp_path / "jan.csv").write_text(RED)
    store.import_series(read_series(tmp_path / "jan.csv"), SYSTEM, "file jan.csv")
    assert {e.subject for e in stale(datetime(2026, 3, 10, tzinfo=UTC))} == {"gpr_global"}


def test_working_an_alert_is_audited(team: Store) -> None:
    from riskapp.domain.alerts import AlertEvent, Severity

    event = AlertEvent("k1", AlertKind.SIGNPOST, Severity.WARNING, "Signpost amber: x", "d", "s")
    (alert,) = team.raise_alerts([event], SYSTEM)
    team.assign_alert(alert.id, "bob", ANALYST)
    team.comment_alert(alert.id, "Looking into it <b>now</b>", ANALYST)
    team.acknowledge_alert(alert.id, ANALYST)
    (done,) = team.alerts(None)
    assert (done.status, done.assignee) == ("acknowledged", "bob")
    assert done.comments[0]["text"] == "Looking into it <b>now</b>"  # kept as text
    steps = [e.action for e in reversed(team.audit()) if e.entity == "alert"]
    assert steps[-3:] == ["assign", "comment", "acknowledge"] and "raise" in steps
    assert team.alerts("open") == []
    with pytest.raises(AccessDenied):
        team.acknowledge_alert(alert.id, VIEWER)
    with pytest.raises(InputError):
        team.comment_alert(alert.id, "   ", ANALYST)
    with pytest.raises(KeyError):
        team.acknowledge_alert(999, ANALYST)


def test_first_start_raises_what_the_shipped_data_says(open_store: object, tmp_path: Path) -> None:
    """A store filled from the demo on opening raises, once, the alerts its indicator history
    calls for (the dashboard does so on its first start): both GPR signposts amber since
    2025-12 and, the history ending in 2025-12, both series stale by now. A store opened again
    did not fill anything and raises nothing on its own."""
    ws = tmp_path / "ws"
    create_workspace(ws, "demo")
    store = open_store(files=ws)  # type: ignore[operator]
    assert store.seeded_now
    raised = first_alerts(assess(StoreSource(store, ws)), store)
    assert sorted(x.kind.value for x in raised) == [
        "data_stale",
        "data_stale",
        "signpost",
        "signpost",
    ]
    assert {x.updated_by for x in raised} == {"system:seed"}
    again = open_store(files=ws)  # type: ignore[operator]
    assert not again.seeded_now
