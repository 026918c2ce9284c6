"""The methodology file: how baseline factor intensities are built from published indicators.

A methodology is a tree per factor. Leaves are **indicators** (a published series, a window of
time, transformations and a normalisation to 0-10); inner **nodes** aggregate their children
(arithmetic or weighted mean, geometric mean, INFORM's complement-geometric rule, maximum,
scaled maximum, complement product, minimum or first available) with weights, a rule for missing
data and, optionally, rounding of each node's result before its parent uses it. Every model here
is frozen and rejects unknown fields, like the rest of the domain; `method_problems` checks the
references between parts of the file (indicator ids, group ids, sources and series) and returns
the location of each problem so that the loader can name the line. No I/O here.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from riskapp.baseline.indicator_spec import (  # the leaves, re-exported: one import for a method
    SOURCE_FREQUENCY,
    SOURCE_SERIES,
    WORLD,
    Adjustment,
    AdjustmentAction,
    Direction,
    Finite,
    Frequency,
    Indicator,
    Normalise,
    NormaliseMethod,
    ReferencePeriod,
    Score,
    Share,
    Source,
    Statistic,
    Transform,
    TransformOp,
    Weight,
    Window,
)
from riskapp.domain.common import (
    CountryCode,
    NoBool,
    ShortText,
    Slug,
    Strict,
    Text,
)

__all__ = [
    "SOURCE_FREQUENCY",
    "SOURCE_SERIES",
    "WORLD",
    "Adjustment",
    "AdjustmentAction",
    "Aggregation",
    "ChildRule",
    "Direction",
    "Finite",
    "Frequency",
    "Group",
    "Impute",
    "Indicator",
    "Method",
    "Missing",
    "Node",
    "Normalise",
    "NormaliseMethod",
    "ReferencePeriod",
    "RoundMode",
    "Rounding",
    "Scope",
    "Score",
    "Share",
    "Source",
    "Statistic",
    "Transform",
    "TransformOp",
    "Weight",
    "Window",
    "method_json_schema",
    "method_problems",
    "walk",
]


class Aggregation(StrEnum):
    MEAN = "mean"
    GEOMETRIC_MEAN = "geometric_mean"
    COMPLEMENT_GEOMETRIC = "complement_geometric"
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


WEIGHTED = frozenset(
    {Aggregation.MEAN, Aggregation.GEOMETRIC_MEAN, Aggregation.COMPLEMENT_GEOMETRIC}
)
"""Aggregations whose weights are shares of the node: they can re-normalise over the children
present, or count a missing child as 0."""


class ChildRule(StrEnum):
    """How a node computes its score from the children it has, when some are missing."""

    RENORMALISE = "renormalise"
    ZERO = "zero"


class Missing(Strict):
    """What a node does when some of its children have no score for a country.

    Coverage is the weight share of the children that have a score. If it is at least
    `min_coverage` (and above 0), the node aggregates the children it has by its `rule`:
    `renormalise` leaves the missing children out and re-normalises the weights of the others
    so that they add up to the same total (what INFORM does); `zero` counts each missing child
    as a score of 0 with its full weight. Without a rule, a mean, geometric mean or
    complement-geometric node renormalises; a complement product counts a missing child as 0
    (its weights are exponents, not shares, so it has nothing to renormalise and refuses
    `renormalise`); max, scaled max, min and first take the children present and accept no
    rule. Below `min_coverage` the node has no computed score, and the `impute` steps are tried
    in order (region-group mean, then a fixed value, ...) until one gives a value. A country
    that none gives a value to stays without a score, and its parent treats the node as
    missing. `missing: renormalise` is short for `missing: {rule: renormalise}`.
    """

    min_coverage: Share = 0.5
    rule: ChildRule | None = None
    impute: list[Impute] = Field(default_factory=list)


class RoundMode(StrEnum):
    HALF_UP = "half_up"
    HALF_EVEN = "half_even"


class Rounding(Strict):
    """Rounding of a node's score before its parent aggregates it (INFORM rounds every level
    to one decimal). `half_up` rounds a 5 in the next decimal away from zero (2.25 -> 2.3,
    2.35 -> 2.4), as a spreadsheet's ROUND does; `half_even` rounds it to the even digit
    (2.25 -> 2.2). The value rounded is the score as written with 15 significant digits, as a
    spreadsheet shows it, so that 2.2499999999999996 (the float a sum gives for 2.25) counts
    as 2.25."""

    decimals: Annotated[int, NoBool, Field(ge=0, le=6)] = 1
    mode: RoundMode = RoundMode.HALF_UP


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
    `scaled_max` it is the scale factor, for `complement_product` the exponent). `round`
    rounds the node's score before its parent uses it."""

    id: Slug | None = Field(
        default=None, description="Required for components; leaves default to their indicator id."
    )
    name: Annotated[str, Field(max_length=200)] = ""
    description: Text = ""
    indicator: Slug | None = None
    weight: Weight = 1.0
    aggregation: Aggregation | None = None
    offset: Annotated[float, NoBool, Field(ge=0.0, le=10.0)] | None = Field(
        default=None,
        description="geometric_mean: mean of (x + offset), minus offset (default 0); "
        "complement_geometric: (10 + offset) - mean of (10 + offset - x) (default 1, INFORM's "
        "11 - mean of (11 - x)).",
    )
    children: list[Node] = Field(default_factory=list)
    missing: Missing = Field(
        default_factory=Missing,
        description="Missing-data rule; `missing: renormalise` is short for "
        "`missing: {rule: renormalise}`.",
    )
    scope: Scope | None = None
    round: Rounding | None = Field(
        default=None, description="Round the node's score before its parent uses it."
    )

    @field_validator("missing", mode="before")
    @classmethod
    def _rule_shorthand(cls, value: Any) -> Any:
        return {"rule": value} if isinstance(value, str) else value

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
        if self.offset is not None and self.aggregation not in {
            Aggregation.GEOMETRIC_MEAN,
            Aggregation.COMPLEMENT_GEOMETRIC,
        }:
            raise ValueError("offset applies only to geometric_mean and complement_geometric")
        self._check_rule()
        return self

    def _check_rule(self) -> None:
        rule = self.missing.rule
        if rule is None:
            return
        if self.aggregation is None:
            raise ValueError(
                "missing.rule applies to components: a leaf has no children to renormalise"
            )
        if self.aggregation is Aggregation.COMPLEMENT_PRODUCT and rule is ChildRule.RENORMALISE:
            raise ValueError(
                "complement_product cannot renormalise: its weights are exponents, not shares, "
                "so a missing child simply adds no hazard (it counts as 0); use rule: zero, or "
                "complement_geometric, which renormalises (INFORM's rule)"
            )
        if self.aggregation not in WEIGHTED and self.aggregation is not (
            Aggregation.COMPLEMENT_PRODUCT
        ):
            raise ValueError(
                f"{self.aggregation.value} takes one of the children present; a missing child "
                "is left out and there are no shares to renormalise: remove missing.rule"
            )

    @property
    def shift(self) -> float:
        """The offset in effect: as given, else 1 for complement_geometric and 0 otherwise."""
        if self.offset is not None:
            return self.offset
        return 1.0 if self.aggregation is Aggregation.COMPLEMENT_GEOMETRIC else 0.0

    @property
    def child_rule(self) -> ChildRule | None:
        """The missing-children rule in effect (None for the selecting aggregations, which
        take the children present)."""
        if self.missing.rule is not None:
            return self.missing.rule
        if self.aggregation in WEIGHTED:
            return ChildRule.RENORMALISE
        if self.aggregation is Aggregation.COMPLEMENT_PRODUCT:
            return ChildRule.ZERO
        return None

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
    round: Rounding | None = Field(
        default=None,
        description="Rounding of every node (indicators included) that gives no round of its "
        "own: `round: {decimals: 1}` rounds each level half up to one decimal, as INFORM does.",
    )

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
        if ind.source not in (Source.TABLE, Source.FILE):
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
    missing = schema["$defs"]["Node"]["properties"]["missing"]
    shorthand = {"enum": [r.value for r in ChildRule]}  # `missing: renormalise`
    missing["anyOf"] = [{"$ref": missing.pop("$ref")}, shorthand]
    return schema
