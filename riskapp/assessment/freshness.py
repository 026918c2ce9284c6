"""How old the baseline data is: the vintage of every baseline value and, per factor, the range
of vintages and a warning when data are older than the configured maximum age
(`Settings.max_data_age_months`, RISKAPP_MAX_DATA_AGE_MONTHS).

A value's vintage is the newest period named in its `source` text: a built baseline writes the
periods behind each value ("Eurostat natural_gas_share_russia 2018..2020 w1.00",
"gas_russia_share dated adjustment as of 2025-01-01"), an analyst's baseline says when it was
judged ("analyst judgement 2025-Q4"). The build date a built baseline appends ("method default
v1, as of 2026-01-15") is when it was computed, not how old its data are, and is left out. A
source naming no period is undated (and warned about).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from riskapp.assessment.core import Assessment
from riskapp.domain.baseline import BaselineEntry

# a year, a quarter (2025-Q4), a month (2025-12) or a day (2025-01-01); after a range's '..'
_PERIOD = re.compile(
    r"(?:(?<=\.\.)|(?<![\w.]))((?:19|20|21)\d\d)(?:-(Q[1-4]|\d\d)(?:-(\d\d))?)?(?!\w)"
)
_BUILD_DATE = re.compile(r"method \S+ v\S+, as of \d{4}-\d{2}-\d{2}")
UNDATED = "undated"


@dataclass(frozen=True)
class Vintage:
    """The newest period named in a source text: as written, and the day that period ends."""

    label: str
    end: dt.date


def vintage_of(source: str) -> Vintage | None:
    """The vintage of one baseline value's source text, or None when it names no period."""
    found: list[Vintage] = []
    for m in _PERIOD.finditer(_BUILD_DATE.sub("", source)):
        year, part, day = int(m.group(1)), m.group(2), m.group(3)
        try:
            if part is None:
                end = dt.date(year, 12, 31)
            elif part.startswith("Q"):
                month = 3 * int(part[1])
                end = dt.date(year, month, calendar.monthrange(year, month)[1])
            elif day is None:
                end = dt.date(year, int(part), calendar.monthrange(year, int(part))[1])
            else:
                end = dt.date(year, int(part), int(day))
        except ValueError:  # 2025-13 or 2025-02-30: not a period
            continue
        found.append(Vintage(m.group(0), end))
    return max(found, key=lambda v: v.end) if found else None


@dataclass(frozen=True)
class FactorVintage:
    """The vintages of one factor's baseline values: newest and oldest, how many values are
    older than the maximum age or undated, and the warning to show ('' when none)."""

    factor: str
    name: str
    newest: str  # label of the newest vintage, or 'undated'
    oldest: str
    values: int
    stale: int
    undated: int
    max_age_months: int

    @property
    def vintage(self) -> str:
        return self.newest if self.newest == self.oldest else f"{self.oldest} to {self.newest}"

    @property
    def warning(self) -> str:
        parts = []
        if self.stale:
            parts.append(
                f"the newest data behind {self.stale} of {self.values} values are older than "
                f"{self.max_age_months} month{'' if self.max_age_months == 1 else 's'} "
                f"(oldest: {self.oldest})"
            )
        if self.undated:
            parts.append(f"{self.undated} of {self.values} values do not say how old they are")
        return "; ".join(parts)

    @property
    def text(self) -> str:
        """One line for a report: the vintage and, if any, the warning."""
        return self.vintage + (f". WARNING: {self.warning}" if self.warning else "")


Values = Iterable[BaselineEntry] | pd.DataFrame  # entries, or a frame: country, factor, source


def value_vintages(values: Values) -> pd.DataFrame:
    """country, factor, source, vintage (label or 'undated'), vintage_end (date or NaT) for
    every baseline value. Each distinct source text is read once."""
    if isinstance(values, pd.DataFrame):
        frame = values[["country", "factor", "source"]].astype(str).reset_index(drop=True)
    else:
        frame = pd.DataFrame(
            [(e.country, e.factor, e.source) for e in values],
            columns=["country", "factor", "source"],
        )
    parsed = {s: vintage_of(s) for s in frame["source"].unique()}
    frame["vintage"] = frame["source"].map(
        {s: v.label if v else UNDATED for s, v in parsed.items()}
    )
    frame["vintage_end"] = pd.to_datetime(
        frame["source"].map({s: v.end if v else None for s, v in parsed.items()})
    )
    return frame


def factor_vintages(
    entries: Values,
    today: dt.date,
    max_age_months: int,
    names: Mapping[str, str] | None = None,
    countries: Iterable[str] | None = None,
) -> list[FactorVintage]:
    """Per factor (in the order of `names`, then by id): the vintages of its baseline values,
    over `countries` when given (e.g. where the assets are), else over every value."""
    frame = value_vintages(entries)
    if countries is not None:
        frame = frame[frame["country"].isin(set(countries))]
    names = names or {}
    order = [f for f in names if f in set(frame["factor"])]
    order += sorted(set(frame["factor"]) - set(order))
    cutoff = today.year * 12 + today.month - max_age_months  # older: more months than allowed
    out = []
    for factor in order:
        rows = frame[frame["factor"] == factor]
        dated = rows.dropna(subset=["vintage_end"])
        ends = dated["vintage_end"]
        stale = int(((ends.dt.year * 12 + ends.dt.month) < cutoff).sum())
        labels = dated["vintage"].to_numpy()
        newest = labels[ends.to_numpy().argmax()] if len(dated) else UNDATED
        oldest = labels[ends.to_numpy().argmin()] if len(dated) else UNDATED
        out.append(
            FactorVintage(
                factor=factor,
                name=names.get(factor, factor),
                newest=str(newest),
                oldest=str(oldest),
                values=len(rows),
                stale=stale,
                undated=len(rows) - len(dated),
                max_age_months=max_age_months,
            )
        )
    return out


def assessment_vintages(a: Assessment, today: dt.date, max_age_months: int) -> list[FactorVintage]:
    """The factor vintages of an assessment's own baseline over the countries of its assets
    (every value when it has no assets)."""
    countries = set(a.ws.portfolio.frame["country"])
    names = {f.id: f.name for f in a.ws.factors.factors}
    return factor_vintages(a.ws.baseline.entries, today, max_age_months, names, countries or None)


VINTAGE_COLUMNS = [
    "factor",
    "name",
    "workspace_vintage",
    "workspace_warning",
    "built_vintage",
    "built_warning",
]


def vintage_frame(
    a: Assessment,
    built: pd.DataFrame | None,
    today: dt.date,
    built_as_of: dt.date,
    max_age_months: int,
) -> pd.DataFrame:
    """One row per factor of the workspace (the Baseline data page's table): the vintage of
    its own baseline where the assets are, measured against `today`, and of the built baseline
    (`built`: country, factor, source, e.g. BaselineResult.baseline()) over the same
    countries, measured against the build's as-of date; each with its warning ('' if none).
    A factor the method does not build has empty built columns."""
    own = {v.factor: v for v in assessment_vintages(a, today, max_age_months)}
    countries = set(a.ws.portfolio.frame["country"]) or None
    other: dict[str, FactorVintage] = {}
    if built is not None and len(built):
        other = {
            v.factor: v
            for v in factor_vintages(built, built_as_of, max_age_months, countries=countries)
        }
    rows = []
    for f in a.ws.factors.factors:
        mine, theirs = own.get(f.id), other.get(f.id)
        rows.append(
            (
                f.id,
                f.name,
                mine.vintage if mine else "",
                mine.warning if mine else "no baseline values for this factor",
                theirs.vintage if theirs else "",
                theirs.warning if theirs else "",
            )
        )
    return pd.DataFrame(rows, columns=VINTAGE_COLUMNS)
