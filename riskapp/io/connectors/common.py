"""What the connectors share: periods written in the form of a frequency, values checked as
numbers, and the observations of one indicator turned into a `Series` (or a FetchError
naming the period and what is wrong with it)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from riskapp.domain.indicators import Frequency, Observation, Series, period_problem
from riskapp.io.connectors.config import Feed
from riskapp.io.connectors.http import FetchError

MAX_PROBLEMS = 5


@dataclass(frozen=True)
class Fetched:
    """A connector's result: the series and the URL it came from (the first one asked)."""

    series: Series
    url: str
    connector: str


def period_of(day: date, frequency: Frequency) -> str:
    """The period of a frequency that `day` falls in, in the form the store expects."""
    if frequency is Frequency.ANNUAL:
        return f"{day.year:04d}"
    if frequency is Frequency.QUARTERLY:
        return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"
    if frequency is Frequency.MONTHLY:
        return f"{day.year:04d}-{day.month:02d}"
    if frequency is Frequency.WEEKLY:
        year, week, _ = day.isocalendar()
        return f"{year:04d}-W{week:02d}"
    return day.isoformat()


_COMPACT = (
    (re.compile(r"^(\d{4})-?M(\d{2})$"), "{0}-{1}"),  # 2023M01 (World Bank, older Eurostat)
    (re.compile(r"^(\d{4})-?Q([1-4])$"), "{0}-Q{1}"),  # 2023Q1, 2023-Q1
    (re.compile(r"^(\d{4})-?W(\d{2})$"), "{0}-W{1}"),  # 2023W05, 2023-W05
)


def normal_period(text: str) -> str:
    """A publisher's period code in ISO form (2023M01 -> 2023-01, 2023Q1 -> 2023-Q1)."""
    text = text.strip()
    for pattern, form in _COMPACT:
        m = pattern.match(text)
        if m:
            return form.format(*m.groups())
    return text


def number(value: Any) -> float | None:
    """A JSON or text value as a finite float; None for a missing value (null, empty);
    ValueError for anything else."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected a number; got {value!r}")
    if isinstance(value, int | float):
        out = float(value)
    elif isinstance(value, str):
        text = value.strip()
        if text in ("", ":", "..", "NA", "n/a"):
            return None
        try:
            out = float(text)
        except ValueError:
            raise ValueError(f"expected a number; got {text[:40]!r}") from None
    else:
        raise ValueError(f"expected a number; got {type(value).__name__}")
    if not math.isfinite(out):
        raise ValueError(f"expected a finite number; got {value!r}")
    return out


def when(text: Any) -> datetime | None:
    """A publisher's 'last updated' stamp as a datetime, or None when it is not one."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # a bare date: UTC


def to_series(
    feed: Feed,
    points: list[tuple[str, float]],
    url: str,
    connector: str,
    published_at: datetime | None = None,
) -> Fetched:
    """The observations of `feed` as a Series; FetchError for a period of the wrong form,
    the same period twice with different values, or no values at all."""
    if not points:
        raise FetchError(url, "empty result: the answer holds no values for this indicator")
    problems: list[str] = []
    seen: dict[str, float] = {}
    for period, value in points:
        wrong = period_problem(period, feed.frequency)
        if wrong:
            problems.append(f"period {period!r}: {wrong}")
        elif period in seen and seen[period] != value:
            problems.append(f"period {period}: two different values ({seen[period]}, {value})")
        seen[period] = value
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise FetchError(url, "unexpected data: " + "; ".join(problems))
    try:
        series = Series(
            indicators=[feed.indicator()],
            observations=[
                Observation(indicator=feed.id, period=p, value=v, published_at=published_at)
                for p, v in seen.items()
            ],
        )
    except ValidationError as exc:  # checked above; kept so nothing odd reaches the store
        raise FetchError(url, f"unexpected data: {exc.errors()[0]['msg']}") from None
    return Fetched(series, url, connector)


def schema_error(url: str, what: str) -> FetchError:
    return FetchError(url, f"the answer's structure changed: {what}")
