"""One indicator of a baseline methodology: which published series it reads, over which window,
how it is transformed and adjusted, and how it is normalised to the 0-10 scale. `method.py`
builds the factor trees from these leaves. No I/O here.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import Field, model_validator

from riskapp.domain.common import (
    PRINTABLE,
    CountryCode,
    NoBool,
    ShortText,
    Slug,
    Strict,
    Text,
)

Weight = Annotated[float, NoBool, Field(ge=0.0, le=1e6)]
Score = Annotated[float, NoBool, Field(ge=0.0, le=10.0)]
Share = Annotated[float, NoBool, Field(ge=0.0, le=1.0)]
Finite = Annotated[float, NoBool, Field(ge=-1e12, le=1e12)]

WORLD = "world"
"""Built-in group id: every country of the build (for a last-resort imputation)."""


class Source(StrEnum):
    """Where an indicator's values come from."""

    GPR = "gpr"
    WGI = "wgi"
    EUROSTAT_GAS = "eurostat_gas"
    UCDP = "ucdp"
    TABLE = "table"
    FILE = "file"


class Frequency(StrEnum):
    MONTH = "month"
    YEAR = "year"


SOURCE_FREQUENCY: dict[Source, Frequency] = {
    Source.GPR: Frequency.MONTH,
    Source.WGI: Frequency.YEAR,
    Source.EUROSTAT_GAS: Frequency.YEAR,
    Source.UCDP: Frequency.YEAR,
}

_WGI_CODES = ("CC", "GE", "PV", "RQ", "RL", "VA")
_WGI_STATS = ("EST", "NO.SRC", "PER.RNK", "PER.RNK.LOWER", "PER.RNK.UPPER", "STD.ERR")

SOURCE_SERIES: dict[Source, tuple[str, ...]] = {
    # GPRC: recent country series (share of articles, from 1985); GPRHC: historical (from 1900)
    Source.GPR: ("GPRC", "GPRHC"),
    Source.WGI: tuple(f"{c}.{s}" for c in _WGI_CODES for s in _WGI_STATS),
    Source.EUROSTAT_GAS: (
        "natural_gas_share_russia",
        "lng_share_russia",
        "natural_gas_imports_russia_tj",
        "natural_gas_imports_total_tj",
        "lng_imports_russia_tj",
        "lng_imports_total_tj",
    ),
    Source.UCDP: (
        "conflicts_on_territory",
        "max_intensity_on_territory",
        "war_on_territory",
        "interstate_on_territory",
        "conflicts_as_party",
        "max_intensity_as_party",
        "conflicts_as_primary_party",
        "max_intensity_as_primary_party",
    ),
}
"""The series each source offers (see riskapp.baseline.sources for their definitions); a `file`
source offers the indicators its table lists, and is checked when the table is read."""


class Statistic(StrEnum):
    MEAN = "mean"
    MAX = "max"
    MIN = "min"
    SUM = "sum"
    LATEST = "latest"


class ReferencePeriod(Strict):
    """A fixed span of periods (inclusive) whose mean is the country's own 'normal' level."""

    start: Annotated[int, NoBool, Field(ge=1800, le=2200)] = Field(
        description="First year of the reference span (for monthly series: January of it)."
    )
    end: Annotated[int, NoBool, Field(ge=1800, le=2200)] = Field(
        description="Last year of the reference span (for monthly series: December of it)."
    )

    @model_validator(mode="after")
    def _ordered(self) -> ReferencePeriod:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) must not be before start ({self.start})")
        return self


class Window(Strict):
    """Which observations of a series make a country's value, and how they are summarised.

    The window ends at the latest period the source has on or before the as-of date (or before
    the end of `year`, when given); only periods that had ended by then count. It covers the
    `last` periods up to that end; `statistic` summarises each country's observations in it
    (`latest` takes the most recent non-missing one). A country with fewer than `min_periods`
    observations in the window has no value. If the window's end lies more than `max_age`
    periods before the as-of date, the data are stale and the indicator is missing everywhere.
    With `relative_to`, the value is divided by the country's own mean over a fixed reference
    span (e.g. GPR now relative to 1985-2019), which measures a surge rather than a level.
    """

    unit: Frequency = Field(
        default=Frequency.YEAR, description="month or year; must match the source's frequency."
    )
    last: Annotated[int, NoBool, Field(ge=1, le=1200)] = 1
    statistic: Statistic = Statistic.MEAN
    min_periods: Annotated[int, NoBool, Field(ge=1, le=1200)] = 1
    max_age: Annotated[int, NoBool, Field(ge=0, le=1200)] | None = Field(
        default=None, description="Largest allowed lag (in `unit`s) of the window's end."
    )
    year: Annotated[int, NoBool, Field(ge=1800, le=2200)] | None = Field(
        default=None, description="Fix the window to end in this year instead of at the as-of."
    )
    relative_to: ReferencePeriod | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Window:
        if self.min_periods > self.last:
            raise ValueError(
                f"min_periods ({self.min_periods}) cannot exceed the window length ({self.last})"
            )
        return self


class TransformOp(StrEnum):
    LOG = "log"
    CAP = "cap"
    WINSORISE = "winsorise"


class Transform(Strict):
    """One transformation step, applied to every country's raw value in order.

    - `log`: natural logarithm of (value + offset); values at or below -offset become missing.
    - `cap`: clip to [lower, upper] given in the data's units (either bound may be omitted).
    - `winsorise`: clip to the `lower_pct` and `upper_pct` percentiles (0-100) of the values of
      all countries that have one (linear interpolation between order statistics).
    """

    op: TransformOp
    offset: Finite | None = None
    lower: Finite | None = None
    upper: Finite | None = None
    lower_pct: Annotated[float, NoBool, Field(ge=0, le=100)] | None = None
    upper_pct: Annotated[float, NoBool, Field(ge=0, le=100)] | None = None

    @model_validator(mode="after")
    def _params(self) -> Transform:
        allowed = {
            TransformOp.LOG: {"offset"},
            TransformOp.CAP: {"lower", "upper"},
            TransformOp.WINSORISE: {"lower_pct", "upper_pct"},
        }[self.op]
        given = {
            name
            for name in ("offset", "lower", "upper", "lower_pct", "upper_pct")
            if getattr(self, name) is not None
        }
        extra = given - allowed
        if extra:
            raise ValueError(
                f"op {self.op.value!r} takes only {', '.join(sorted(allowed))}; "
                f"remove {', '.join(sorted(extra))}"
            )
        if self.op is not TransformOp.LOG and not given:
            raise ValueError(f"op {self.op.value!r} needs {' and/or '.join(sorted(allowed))}")
        lo, hi = (
            (self.lower, self.upper)
            if self.op is TransformOp.CAP
            else (self.lower_pct, self.upper_pct)
        )
        if lo is not None and hi is not None and hi < lo:
            raise ValueError(f"the upper bound ({hi}) is below the lower bound ({lo})")
        return self


class NormaliseMethod(StrEnum):
    MINMAX = "minmax"
    PERCENTILE_RANK = "percentile_rank"
    IDENTITY = "identity"


class Normalise(Strict):
    """How a transformed value becomes a 0-10 score (before `direction` is applied).

    - `minmax`: 10 * (v - lo) / (hi - lo), clipped to 0-10. `min` and `max` are stated in the
      indicator's raw units and pass through the same transformations as the values (so a
      log-transformed indicator states its bounds as plain numbers; winsorising, which depends
      on the data, does not move stated bounds); when omitted, the lowest
      or highest transformed value among the countries is used.
    - `percentile_rank`: 10 * (rank - 1) / (n - 1) among the n countries with a value, ties
      sharing their average rank; a single country scores 5.
    - `identity`: the value is already a 0-10 score (clipped to 0-10); for expert tables.
    """

    method: NormaliseMethod
    min: Finite | None = None
    max: Finite | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Normalise:
        if self.method is not NormaliseMethod.MINMAX and (
            self.min is not None or self.max is not None
        ):
            raise ValueError(f"min and max apply only to minmax, not {self.method.value!r}")
        if self.min is not None and self.max is not None and self.max <= self.min:
            raise ValueError(f"max ({self.max}) must be greater than min ({self.min})")
        return self


class Direction(StrEnum):
    HIGHER_IS_WORSE = "higher_is_worse"
    HIGHER_IS_BETTER = "higher_is_better"


class AdjustmentAction(StrEnum):
    EXCLUDE = "exclude"
    SET = "set"


class Adjustment(Strict):
    """A documented correction of one country's data for a known artefact of the source.

    `exclude` drops the country's observations in `years` (all years when omitted) before the
    window is applied, so the window's statistic or the node's missing-data rule takes over.
    `set` replaces the country's raw value (after the window) by `value`. `reliability`, when
    given, becomes the reliability of the adjusted value. `reason` is shown in the provenance.

    A dated `set` (`as_of`, with a `source`) is a newer figure layered over an older series: it
    applies only to baselines built as of that date or later (earlier ones keep the series), and
    its date, not the series' window, becomes the period behind the value. `source` names where
    the figure comes from (or says that it is analyst judgement); both reach the provenance.
    """

    country: CountryCode
    action: AdjustmentAction
    years: Annotated[list[Annotated[int, NoBool, Field(ge=1800, le=2200)]], Field(max_length=2)] = (
        Field(
            default_factory=list,
            description="[first, last] year (inclusive) for exclude; empty means every year.",
        )
    )
    value: Finite | None = None
    reliability: Share | None = None
    reason: ShortText
    as_of: dt.date | None = Field(
        default=None,
        description="For set: the date the value describes; it applies from that date on.",
    )
    source: Annotated[str, Field(max_length=300, pattern=PRINTABLE)] = Field(
        default="", description="Where a dated value comes from (or 'analyst judgement')."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Adjustment:
        if self.as_of is not None and self.action is not AdjustmentAction.SET:
            raise ValueError("as_of applies only to action 'set'")
        if self.as_of is not None and not self.source.strip():
            raise ValueError("a dated adjustment (as_of) needs a source")
        if self.action is AdjustmentAction.SET and self.value is None:
            raise ValueError("action 'set' needs a value")
        if self.action is AdjustmentAction.EXCLUDE and self.value is not None:
            raise ValueError("action 'exclude' takes no value")
        if len(self.years) == 1:
            raise ValueError("years must be [first, last]")
        if len(self.years) == 2 and self.years[1] < self.years[0]:
            raise ValueError("years must be [first, last] with first <= last")
        if self.action is AdjustmentAction.SET and self.years:
            raise ValueError("action 'set' replaces the windowed value; it takes no years")
        return self


class Indicator(Strict):
    """A published series turned into a 0-10 score per country (10 worst).

    Order of work: raw observations -> adjustments (exclude) -> window -> adjustments (set) ->
    transformations -> normalisation -> direction (`higher_is_better` turns s into 10 - s).
    With `source: table` the values are given in the method file itself (`values`, keyed by
    ISO 3166-1 alpha-3 code or by group id, a country's own entry winning over its groups',
    and `default` for every other country); such a table is expert judgement and should say so.
    With `source: file` the values come from the user's own CSV or XLSX table named by `file`
    (relative to the method file's folder), one row per country, indicator and period
    (columns country, indicator, period, value; see riskapp.baseline.table_source.load_table_file);
    `series` names the value of the table's indicator column to read.
    """

    id: Slug
    name: ShortText
    description: Text = ""
    source: Source
    series: Annotated[str, Field(max_length=64)] = ""
    file: Annotated[str, Field(max_length=1000)] = Field(
        default="",
        description="For source: file, the CSV or XLSX table (relative to the method file).",
    )
    window: Window | None = None
    transform: list[Transform] = Field(default_factory=list)
    normalise: Normalise | None = None
    direction: Direction = Direction.HIGHER_IS_WORSE
    adjustments: list[Adjustment] = Field(default_factory=list)
    values: dict[str, Finite] = Field(
        default_factory=dict, description="For source: table, value per country or group id."
    )
    default: Finite | None = Field(
        default=None, description="For source: table, value of every country not listed."
    )
    period: Annotated[str, Field(max_length=40)] = Field(
        default="", description="For source: table, the date of the judgement (provenance)."
    )
    reliability: Share = Field(
        default=1.0, description="Reliability of an observed value (expert tables: below 1)."
    )

    @model_validator(mode="after")
    def _by_source(self) -> Indicator:
        if self.source is Source.TABLE:
            if self.series or self.window is not None:
                raise ValueError("a table indicator takes no series or window")
            if not self.values and self.default is None:
                raise ValueError("a table indicator needs values and/or a default")
        else:
            if self.source is Source.FILE and not self.file.strip():
                raise ValueError("source 'file' needs a file (a .csv or .xlsx table)")
            if not self.series:
                raise ValueError(f"source {self.source.value!r} needs a series")
            if self.window is None:
                raise ValueError(f"source {self.source.value!r} needs a window")
            if self.normalise is None:
                raise ValueError(f"source {self.source.value!r} needs a normalise step")
            if self.values or self.default is not None:
                raise ValueError("values and default apply only to source: table")
        if self.file and self.source is not Source.FILE:
            raise ValueError("file applies only to source: file")
        return self

    @property
    def normaliser(self) -> Normalise:
        return self.normalise or Normalise(method=NormaliseMethod.IDENTITY)
