"""Indicators: the time series signposts watch (gas prices, storage levels, incident counts,
the GPR index). An observation is one value of one period; a revised value is kept as a new
vintage, never written over the one it revises."""

from __future__ import annotations

import calendar
import math
import re
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from riskapp.domain.common import Identifier, Label, ShortText, Strict


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUAL = "annual"
    IRREGULAR = "irregular"


# how a period is written for each frequency (ISO 8601 forms)
PERIOD_FORMS: dict[Frequency, tuple[re.Pattern[str], str]] = {
    Frequency.DAILY: (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "a date such as 2026-03-31"),
    Frequency.WEEKLY: (re.compile(r"^\d{4}-W\d{2}$"), "an ISO week such as 2026-W13"),
    Frequency.MONTHLY: (re.compile(r"^\d{4}-\d{2}$"), "a month such as 2026-03"),
    Frequency.QUARTERLY: (re.compile(r"^\d{4}-Q[1-4]$"), "a quarter such as 2026-Q1"),
    Frequency.ANNUAL: (re.compile(r"^\d{4}$"), "a year such as 2026"),
    Frequency.IRREGULAR: (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "a date such as 2026-03-31"),
}


class Indicator(Strict):
    """A series: what it measures, in which unit, how often, from where."""

    id: Identifier
    name: ShortText
    unit: Annotated[str, Field(max_length=64)] = ""
    frequency: Frequency
    source: Label = ""


class Observation(Strict):
    """One value of one period of an indicator, and when it was published (if known)."""

    indicator: Identifier
    period: Annotated[str, Field(min_length=4, max_length=10)]
    value: float
    published_at: datetime | None = None

    @field_validator("value")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("expected a finite number")
        return value


def period_problem(period: str, frequency: Frequency) -> str | None:
    """What is wrong with a period for a frequency (None: nothing)."""
    pattern, words = PERIOD_FORMS[frequency]
    if not pattern.match(period):
        return f"expected {words} for a {frequency.value} series; got {period!r}"
    return None


def period_end(period: str, frequency: Frequency) -> date:
    """The last day of a period written in its frequency's form (2025-12 -> 2025-12-31,
    2025-Q4 -> 2025-12-31, 2025-W01 -> that week's Sunday, 2025 -> 2025-12-31, a date -> itself).
    The period must have passed `period_problem`."""
    if frequency is Frequency.MONTHLY:
        y, m = int(period[:4]), int(period[5:7])
        return date(y, m, calendar.monthrange(y, m)[1])
    if frequency is Frequency.QUARTERLY:
        y, q = int(period[:4]), int(period[-1])
        return date(y, 3 * q, calendar.monthrange(y, 3 * q)[1])
    if frequency is Frequency.WEEKLY:
        return date.fromisocalendar(int(period[:4]), int(period[6:8]), 7)
    if frequency is Frequency.ANNUAL:
        return date(int(period), 12, 31)
    return date.fromisoformat(period)


# how long after its period's end a series' latest value may be before it is stale (a monthly
# index is published within weeks of its month; an annual one within months of its year)
STALE_AFTER = {
    Frequency.DAILY: timedelta(days=4),
    Frequency.WEEKLY: timedelta(days=10),
    Frequency.MONTHLY: timedelta(days=45),
    Frequency.QUARTERLY: timedelta(days=120),
    Frequency.ANNUAL: timedelta(days=400),
    Frequency.IRREGULAR: timedelta(days=90),
}


def stale_days(latest_period: str, frequency: Frequency, today: date) -> int | None:
    """How many days ago the latest value's period ended, if that is longer than its frequency
    allows (STALE_AFTER); None while the series is fresh."""
    age = today - period_end(latest_period, frequency)
    return age.days if age > STALE_AFTER[frequency] else None


class Series(Strict):
    """Indicators with their observations, as a file or a connector gives them."""

    indicators: list[Indicator]
    observations: list[Observation]

    @model_validator(mode="after")
    def _consistent(self) -> Series:
        known = {i.id: i for i in self.indicators}
        for o in self.observations:
            if o.indicator not in known:
                raise ValueError(f"observation of unknown indicator {o.indicator!r}")
            wrong = period_problem(o.period, known[o.indicator].frequency)
            if wrong:
                raise ValueError(wrong)
        return self
