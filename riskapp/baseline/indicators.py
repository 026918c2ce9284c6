"""From a source's long series to one raw value per country and indicator (pure, no I/O).

A source is held as a long table (series, country, period, value) with periods numbered as
integers: the year for yearly data, year * 12 + month - 1 for monthly data. `extract` applies an
indicator's adjustments and window and records, per country, which periods the value rests on.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskapp.baseline.method import (
    AdjustmentAction,
    Frequency,
    Indicator,
    Source,
    Statistic,
)

DATA_COLUMNS = ["series", "country", "period", "value"]


def file_series(file: str, series: str) -> str:
    """The key of a series of a user's indicator table: tables are held together, keyed by
    file, so that two tables may use the same indicator names."""
    return f"{file}::{series}"


def series_key(indicator: Indicator) -> str:
    """The `series` value of an indicator's rows in its source's data."""
    if indicator.source is Source.FILE:
        return file_series(indicator.file, indicator.series)
    return indicator.series


def empty_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "series": pd.Series(dtype=object),
            "country": pd.Series(dtype=object),
            "period": pd.Series(dtype="int64"),
            "value": pd.Series(dtype="float64"),
        }
    )


@dataclass(frozen=True)
class SourceData:
    """One loaded source: country rows in `data`, aggregates (EU27, world, ...) kept apart."""

    source: Source
    frequency: Frequency
    data: pd.DataFrame  # series, country (ISO3), period (int), value (float, never NaN)
    aggregates: pd.DataFrame = field(default_factory=empty_frame)  # country = aggregate code
    path: str = ""
    citation: str = ""
    notes: tuple[str, ...] = ()

    @property
    def countries(self) -> list[str]:
        return sorted(self.data["country"].unique().tolist())

    def last_period(self) -> int | None:
        return None if self.data.empty else int(self.data["period"].max())


def month_period(year: int, month: int) -> int:
    return year * 12 + month - 1


def as_of_period(as_of: dt.date, frequency: Frequency) -> int:
    """The last period that had ended on or before the as-of date."""
    if frequency is Frequency.YEAR:
        return as_of.year if (as_of.month, as_of.day) == (12, 31) else as_of.year - 1
    last_day = calendar.monthrange(as_of.year, as_of.month)[1]
    current = month_period(as_of.year, as_of.month)
    return current if as_of.day == last_day else current - 1


def year_end_period(year: int, frequency: Frequency) -> int:
    return year if frequency is Frequency.YEAR else month_period(year, 12)


def period_year(period: int, frequency: Frequency) -> int:
    return period if frequency is Frequency.YEAR else period // 12


def period_label(period: int, frequency: Frequency) -> str:
    """'2022' for a year, '2023-01' for a month."""
    if frequency is Frequency.YEAR:
        return str(period)
    return f"{period // 12}-{period % 12 + 1:02d}"


def span_label(start: int, end: int, frequency: Frequency) -> str:
    if start == end:
        return period_label(end, frequency)
    return f"{period_label(start, frequency)}..{period_label(end, frequency)}"


DATED_PREFIX = "as of "
"""Start of the period label of a value set by a dated adjustment (`as_of`) of the method."""


@dataclass(frozen=True)
class IndicatorValues:
    """Raw (windowed, adjusted, not yet transformed) values of one indicator per country."""

    indicator: str
    raw: np.ndarray  # float, NaN where missing
    reliability: np.ndarray  # reliability of each observed value
    periods: np.ndarray  # object: label of the periods behind each value ('' if none)
    n_obs: np.ndarray  # int: observations behind each value
    notes: np.ndarray  # object: adjustments and other remarks per country
    window: str = ""  # label of the window (same for all countries), '' for tables
    warning: str = ""  # e.g. stale data


def extract(
    indicator: Indicator,
    data: SourceData | None,
    countries: list[str],
    as_of: dt.date,
    groups: Mapping[str, list[str]] | None = None,
) -> IndicatorValues:
    """Raw value of an indicator for each country at the as-of date (see `Window`)."""
    if indicator.source is Source.TABLE:
        return _table(indicator, countries, groups or {})
    if data is None:
        raise ValueError(
            f"indicator {indicator.id!r}: source {indicator.source.value!r} not loaded"
        )
    window = indicator.window
    assert window is not None
    freq = data.frequency
    n = len(countries)
    raw = np.full(n, np.nan)
    rel = np.full(n, indicator.reliability)
    periods = np.full(n, "", dtype=object)
    n_obs = np.zeros(n, dtype=int)
    notes = np.full(n, "", dtype=object)
    index = {c: i for i, c in enumerate(countries)}

    rows = data.data[data.data["series"] == series_key(indicator)]
    anchor = as_of_period(as_of, freq)
    if window.year is not None:
        anchor = min(anchor, year_end_period(window.year, freq))
    available = rows["period"][rows["period"] <= anchor]
    if available.empty:
        warning = f"no {indicator.series} data on or before {period_label(anchor, freq)}"
        return IndicatorValues(indicator.id, raw, rel, periods, n_obs, notes, "", warning)
    end = int(available.max())
    start = end - window.last + 1
    label = span_label(start, end, freq)
    age = anchor - end
    if window.max_age is not None and age > window.max_age:
        warning = (
            f"stale: latest {indicator.series} data {period_label(end, freq)} is {age} "
            f"{freq.value}s before {period_label(anchor, freq)} (max_age {window.max_age})"
        )
        return IndicatorValues(indicator.id, raw, rel, periods, n_obs, notes, label, warning)

    for adj in indicator.adjustments:
        if adj.action is not AdjustmentAction.EXCLUDE:
            continue
        years = rows["period"] if freq is Frequency.YEAR else rows["period"] // 12
        drop = rows["country"] == adj.country
        if adj.years:
            drop &= years.between(adj.years[0], adj.years[1])
        rows = rows[~drop]
        i = index.get(adj.country)
        if i is not None:
            span = f" {adj.years[0]}-{adj.years[1]}" if adj.years else ""
            notes[i] = _join(notes[i], f"excluded{span}: {adj.reason}")
            if adj.reliability is not None:
                rel[i] = adj.reliability

    in_window = rows[(rows["period"] >= start) & (rows["period"] <= end)]
    matrix = (
        in_window.pivot_table(index="period", columns="country", values="value", aggfunc="last")
        .reindex(index=range(start, end + 1), columns=countries)
        .to_numpy(dtype=float)
    )
    present = ~np.isnan(matrix)
    count = present.sum(axis=0)
    enough = count >= window.min_periods
    with np.errstate(invalid="ignore"):
        if window.statistic is Statistic.LATEST:
            last_row = np.where(present, np.arange(matrix.shape[0])[:, None], -1).max(axis=0)
            value = np.where(
                last_row >= 0, matrix[np.maximum(last_row, 0), np.arange(matrix.shape[1])], np.nan
            )
            observed_at = start + last_row
        else:
            filled = {
                Statistic.MEAN: np.where(present, matrix, 0.0).sum(axis=0) / np.maximum(count, 1),
                Statistic.SUM: np.where(present, matrix, 0.0).sum(axis=0),
                Statistic.MAX: np.where(present, matrix, -np.inf).max(axis=0),
                Statistic.MIN: np.where(present, matrix, np.inf).min(axis=0),
            }
            value = filled[window.statistic]
            observed_at = np.full(len(countries), end)
    value = np.where(enough & (count > 0), value, np.nan)

    if window.relative_to is not None:
        ref = window.relative_to
        lo, hi = year_end_period(ref.start - 1, freq) + 1, year_end_period(ref.end, freq)
        ref_rows = rows[(rows["period"] >= lo) & (rows["period"] <= hi)]
        ref_mean = ref_rows.groupby("country")["value"].mean().reindex(countries).to_numpy()
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(ref_mean > 0, value / np.where(ref_mean > 0, ref_mean, 1.0), np.nan)

    raw[:] = value
    n_obs[:] = count
    suffix = (
        f" vs {window.relative_to.start}-{window.relative_to.end}" if window.relative_to else ""
    )
    for pos in np.flatnonzero(~np.isnan(raw)):
        if window.statistic is Statistic.LATEST:
            periods[pos] = period_label(int(observed_at[pos]), freq) + suffix
        else:
            periods[pos] = label + suffix

    for adj in indicator.adjustments:
        if adj.action is not AdjustmentAction.SET:
            continue
        i = index.get(adj.country)
        if i is None or (adj.as_of is not None and adj.as_of > as_of):
            continue  # a dated figure applies from its date on
        raw[i] = adj.value
        n_obs[i] = 0
        if adj.as_of is None:
            periods[i] = "set by method"
            notes[i] = _join(notes[i], f"set to {adj.value:g}: {adj.reason}")
        else:
            periods[i] = f"{DATED_PREFIX}{adj.as_of.isoformat()}"
            notes[i] = _join(
                notes[i],
                f"set to {adj.value:g} as of {adj.as_of.isoformat()} "
                f"(source: {adj.source}): {adj.reason}",
            )
        if adj.reliability is not None:
            rel[i] = adj.reliability
    return IndicatorValues(indicator.id, raw, rel, periods, n_obs, notes, label + suffix, "")


def _table(
    indicator: Indicator, countries: list[str], groups: Mapping[str, list[str]]
) -> IndicatorValues:
    n = len(countries)
    default = np.nan if indicator.default is None else indicator.default
    raw = np.full(n, default, dtype=float)
    notes = np.full(n, "" if indicator.default is None else "default", dtype=object)
    index = pd.Index(countries)
    table: dict[str, float] = dict(indicator.values)
    # groups first, in reverse order so that the first group listed wins; then countries
    group_keys = [k for k in table if k in groups]
    for key in reversed(group_keys):
        member = index.isin(groups[key])
        raw[member] = table[key]
        notes[member] = f"group {key}"
    position = {c: i for i, c in enumerate(countries)}
    for key, value in table.items():
        if key in groups or key not in position:
            continue
        raw[position[key]] = value
        notes[position[key]] = ""
    present = ~np.isnan(raw)
    periods = np.where(present, indicator.period or "expert judgement", "").astype(object)
    return IndicatorValues(
        indicator.id,
        raw,
        np.full(n, indicator.reliability),
        periods,
        present.astype(int),
        notes,
        "",
        "",
    )


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b
