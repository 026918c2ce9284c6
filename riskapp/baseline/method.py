"""The methodology file: how baseline factor intensities are built from published indicators.

A methodology is a tree per factor. Leaves are **indicators** (a published series, a window of
time, transformations and a normalisation to 0-10); inner **nodes** aggregate their children
(arithmetic or weighted mean, geometric mean, maximum, scaled maximum, complement product,
minimum or first available) with weights and a rule for missing data. Every model here is frozen
and rejects unknown fields, like the rest of the domain; `method_problems` checks the references
between parts of the file (indicator ids, group ids, sources and series) and returns the location
of each problem so that the loader can name the line. No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, model_validator

from riskapp.domain.common import (
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
"""The series each source offers (see riskapp.baseline.sources for their definitions)."""


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

    @model_validator(mode="after")
    def _consistent(self) -> Adjustment:
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
    """

    id: Slug
    name: ShortText
    description: Text = ""
    source: Source
    series: Annotated[str, Field(max_length=64)] = ""
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
            if not self.series:
                raise ValueError(f"source {self.source.value!r} needs a series")
            if self.window is None:
                raise ValueError(f"source {self.source.value!r} needs a window")
            if self.normalise is None:
                raise ValueError(f"source {self.source.value!r} needs a normalise step")
            if self.values or self.default is not None:
                raise ValueError("values and default apply only to source: table")
        return self

    @property
    def normaliser(self) -> Normalise:
        return self.normalise or Normalise(method=NormaliseMethod.IDENTITY)


class Aggregation(StrEnum):
    MEAN = "mean"
    GEOMETRIC_MEAN = "geometric_mean"
    COMPLEMENT_PRODUCT = "complement_product"
    MAX = "max"
    SCALED_MAX = "scaled_max"
    MIN = "min"
    FIRST = "first"


class Impute(Strict):
    """One imputation step: the mean score of a group's members that have a computed (not
    imputed) score, or a fixed value; `reliability` is the reliability given to the result."""

    group: Slug | None = None
    value: Score | None = None
    reliability: Share = 0.5

    @model_validator(mode="after")
    def _one(self) -> Impute:
        if (self.group is None) == (self.value is None):
            raise ValueError("give either group or value")
        return self


class Missing(Strict):
    """What a node does when some of its children have no score for a country.

    Coverage is the weight share of the children that have a score. If it is at least
    `min_coverage` (and above 0), the node aggregates the children it has, their weights
    re-normalised (re-weighting). Otherwise the node has no computed score, and the `impute`
    steps are tried in order (region-group mean, then a fixed value, ...) until one gives a
    value. A country that none gives a value to stays without a score, and its parent treats
    the node as missing.
    """

    min_coverage: Share = 0.5
    impute: list[Impute] = Field(default_factory=list)


class Scope(Strict):
    """Restrict a node to some countries; every other country gets `outside` (reliability 1:
    the factor does not apply there by definition)."""

    group: Slug | None = None
    countries: list[CountryCode] = Field(default_factory=list)
    outside: Score = 0.0

    @model_validator(mode="after")
    def _one(self) -> Scope:
        if (self.group is None) == (not self.countries):
            raise ValueError("give either group or countries")
        return self


class Node(Strict):
    """A node of a factor's tree: either a leaf naming an `indicator`, or a component that
    aggregates its `children`. `weight` is the node's weight within its parent (for
    `scaled_max` it is the scale factor, for `complement_product` the exponent)."""

    id: Slug | None = Field(
        default=None, description="Required for components; leaves default to their indicator id."
    )
    name: Annotated[str, Field(max_length=200)] = ""
    description: Text = ""
    indicator: Slug | None = None
    weight: Weight = 1.0
    aggregation: Aggregation | None = None
    offset: Annotated[float, NoBool, Field(ge=0.0, le=10.0)] = Field(
        default=0.0, description="geometric_mean only: mean of (x + offset), minus offset."
    )
    children: list[Node] = Field(default_factory=list)
    missing: Missing = Field(default_factory=Missing)
    scope: Scope | None = None

    @model_validator(mode="after")
    def _leaf_or_component(self) -> Node:
        if self.indicator is not None:
            if self.children or self.aggregation is not None:
                raise ValueError("a leaf (indicator) has no children or aggregation")
        else:
            if not self.children:
                raise ValueError("a component needs children (or give an indicator)")
            if self.aggregation is None:
                raise ValueError("a component needs an aggregation")
            if self.id is None:
                raise ValueError("a component needs an id")
        if self.offset and self.aggregation is not Aggregation.GEOMETRIC_MEAN:
            raise ValueError("offset applies only to geometric_mean")
        return self

    @property
    def key(self) -> str:
        """The node's id (a leaf without one is named after its indicator)."""
        key = self.id or self.indicator
        assert key is not None
        return key

    @property
    def is_leaf(self) -> bool:
        return self.indicator is not None


class Group(Strict):
    """Countries used for imputation and scopes (`world` is built in: every country)."""

    id: Slug
    name: Annotated[str, Field(max_length=200)] = ""
    description: Text = ""
    members: list[CountryCode] = Field(min_length=1)


class Method(Strict):
    """A baseline methodology: groups, indicators and one tree per factor (the factor's id is
    the root node's id)."""

    id: Slug
    version: Annotated[str, Field(min_length=1, max_length=40)]
    title: ShortText
    description: Text = ""
    groups: list[Group] = Field(default_factory=list)
    indicators: list[Indicator] = Field(min_length=1)
    factors: list[Node] = Field(min_length=1)

    def indicator(self, indicator_id: str) -> Indicator:
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise KeyError(indicator_id)

    def group_members(self) -> dict[str, list[str]]:
        return {g.id: list(g.members) for g in self.groups}

    @property
    def factor_ids(self) -> list[str]:
        return [f.key for f in self.factors]

    @property
    def label(self) -> str:
        return f"method {self.id} v{self.version}"

    def with_weights(self, weights: dict[str, float]) -> Method:
        """A copy with the weights of some nodes changed, by path ('factor/child/...');
        for what-if analysis. Unknown paths raise KeyError."""
        left = dict(weights)

        def rebuild(node: Node, path: str) -> Node:
            children = [rebuild(c, f"{path}/{c.key}") for c in node.children]
            update: dict[str, Any] = {"children": children}
            if path in left:
                update["weight"] = float(left.pop(path))
            return node.model_copy(update=update)

        factors = [rebuild(f, f.key) for f in self.factors]
        if left:
            raise KeyError(", ".join(sorted(left)))
        return self.model_copy(update={"factors": factors})


def walk(node: Node, path: str = "") -> Iterator[tuple[str, Node]]:
    """(path, node) of a node and all its descendants, parents first."""
    here = f"{path}/{node.key}" if path else node.key
    yield here, node
    for child in node.children:
        yield from walk(child, here)


Loc = tuple[str | int, ...]


def method_problems(method: Method) -> list[tuple[Loc, str]]:
    """Problems between the parts of a method file, each with its location in the file:
    duplicate ids, unknown indicator or group ids, unknown series, windows in the wrong unit,
    siblings without any positive weight."""
    out: list[tuple[Loc, str]] = []
    group_ids: dict[str, int] = {}
    for i, g in enumerate(method.groups):
        if g.id == WORLD:
            out.append((("groups", i, "id"), f"group id {WORLD!r} is built in; choose another"))
        if g.id in group_ids:
            out.append(
                (
                    ("groups", i, "id"),
                    f"group id {g.id!r} is defined more than once "
                    f"(groups[{group_ids[g.id]}] and groups[{i}])",
                )
            )
        group_ids.setdefault(g.id, i)
    known_groups = set(group_ids) | {WORLD}

    def check_group(loc: Loc, gid: str | None) -> None:
        if gid is not None and gid not in known_groups:
            out.append(
                (loc, f"unknown group {gid!r}; expected one of {', '.join(sorted(known_groups))}")
            )

    ind_ids: dict[str, int] = {}
    for i, ind in enumerate(method.indicators):
        loc: Loc = ("indicators", i)
        if ind.id in ind_ids:
            out.append(
                (
                    (*loc, "id"),
                    f"indicator id {ind.id!r} is defined more than once "
                    f"(indicators[{ind_ids[ind.id]}] and indicators[{i}])",
                )
            )
        ind_ids.setdefault(ind.id, i)
        if ind.source is not Source.TABLE:
            series = SOURCE_SERIES[ind.source]
            if ind.series not in series:
                out.append(
                    (
                        (*loc, "series"),
                        f"unknown series {ind.series!r} for source "
                        f"{ind.source.value!r}; expected one of {', '.join(series)}",
                    )
                )
            assert ind.window is not None
            freq = SOURCE_FREQUENCY[ind.source]
            if ind.window.unit is not freq:
                out.append(
                    (
                        (*loc, "window", "unit"),
                        f"source {ind.source.value!r} is "
                        f"{'monthly' if freq is Frequency.MONTH else 'yearly'}; set unit: "
                        f"{freq.value}",
                    )
                )
        for key in ind.values:
            if key not in known_groups and not _is_country(key):
                out.append(
                    (
                        (*loc, "values", key),
                        f"{key!r} is neither an ISO 3166-1 alpha-3 country code nor a group id",
                    )
                )

    factor_ids: dict[str, int] = {}
    for f_i, factor in enumerate(method.factors):
        if factor.key in factor_ids:
            out.append(
                (
                    ("factors", f_i, "id"),
                    f"factor {factor.key!r} is defined more than once "
                    f"(factors[{factor_ids[factor.key]}] and factors[{f_i}])",
                )
            )
        factor_ids.setdefault(factor.key, f_i)
        if factor.id is None:
            out.append((("factors", f_i, "id"), "a factor needs an id (the factor id)"))
        _check_node(factor, ("factors", f_i), ind_ids, check_group, out)
    return out


def _check_node(
    node: Node,
    loc: Loc,
    ind_ids: dict[str, int],
    check_group: Any,
    out: list[tuple[Loc, str]],
) -> None:
    if node.indicator is not None and node.indicator not in ind_ids:
        out.append(
            (
                (*loc, "indicator"),
                f"unknown indicator {node.indicator!r}; expected one of "
                f"{', '.join(sorted(ind_ids)) or '(none defined)'}",
            )
        )
    for j, step in enumerate(node.missing.impute):
        check_group((*loc, "missing", "impute", j, "group"), step.group)
    if node.scope is not None:
        check_group((*loc, "scope", "group"), node.scope.group)
    if node.children and not any(c.weight > 0 for c in node.children):
        out.append(((*loc, "children"), "at least one child needs a weight above 0"))
    seen: dict[str, int] = {}
    for j, child in enumerate(node.children):
        if child.key in seen:
            out.append(
                (
                    (*loc, "children", j, "id"),
                    f"two children named {child.key!r} "
                    f"(children[{seen[child.key]}] and children[{j}]); give one an id",
                )
            )
        seen.setdefault(child.key, j)
        _check_node(child, (*loc, "children", j), ind_ids, check_group, out)


def _is_country(code: str) -> bool:
    from riskapp.domain.common import iso_alpha3_codes

    return code in iso_alpha3_codes()


def method_json_schema() -> dict[str, Any]:
    """JSON Schema of a methodology file, for editors to validate against."""
    schema = Method.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
