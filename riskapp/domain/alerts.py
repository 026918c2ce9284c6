"""Alerts: what changed that someone should act on (a signpost crossing, a plan triggering, a
plan review falling overdue, a scenario's probability moving, an indicator going stale), raised
once per event (its key) and worked in the team database: acknowledged, assigned, commented."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class AlertKind(StrEnum):
    SIGNPOST = "signpost"
    PLAN_TRIGGERED = "plan_triggered"
    REVIEW_OVERDUE = "review_overdue"
    PROBABILITY_MOVED = "probability_moved"
    DATA_STALE = "data_stale"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


@dataclass(frozen=True)
class AlertEvent:
    """One event that calls for an alert. `key` names the event itself (the same signpost
    turning red in the same month has the same key), so it is raised once however often the
    check runs."""

    key: str
    kind: AlertKind
    severity: Severity
    title: str
    detail: str
    subject: str = ""  # the scenario, plan or series it is about
