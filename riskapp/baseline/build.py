"""Build baseline intensities from the reference data with a methodology, and write them.

    method = load_method(DEFAULT_METHOD)             # InputError names file, line and field
    sources = load_sources_for(method)               # the slow part: read the data once
    result = compute(method, sources, as_of)         # fast: re-run it for what-if weights
    result.baseline()                                # country, factor, intensity, source
    result.nodes                                     # every node's score for every country
    result.breakdown("FIN", "energy_weaponization")  # one country, indicators up to the score
    result.hierarchy()                               # the method tree with its weights

`write_baseline` writes a baseline.csv that a workspace loads as it is; `write_details` the
provenance table (CSV, Parquet or JSON).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from riskapp import resources
from riskapp.baseline.compose import (
    OBSERVED,
    attribution,
    evaluate,
    normalise,
    preorder,
    scores_frame,
)
from riskapp.baseline.indicators import DATED_PREFIX, IndicatorValues, SourceData, extract
from riskapp.baseline.method import (
    WORLD,
    ChildRule,
    Method,
    Node,
    Rounding,
    RoundMode,
    Source,
    method_problems,
    walk,
)
from riskapp.baseline.sources import load_sources
from riskapp.baseline.table_source import load_file_sources
from riskapp.domain.baseline import BaselineEntry
from riskapp.domain.common import iso_alpha3_codes
from riskapp.io.errors import InputError, Problem, loc_to_field

DEFAULT_DATA_DIR = resources.REFDATA
DEFAULT_METHOD = resources.DEFAULT_METHOD
SOURCE_MAX_CHARS = 500

SOURCE_LABELS = {
    Source.GPR: "GPR",
    Source.WGI: "WGI",
    Source.EUROSTAT_GAS: "Eurostat",
    Source.UCDP: "UCDP",
    Source.TABLE: "expert table",
    Source.FILE: "own table",
}


def load_method(path: Path) -> Method:
    """Read and check a methodology file; InputError lists every problem with its line.

    The `file` of a `source: file` indicator is resolved against the method file's folder
    (the loaded method holds the resolved path) and must name an existing .csv or .xlsx file."""
    from riskapp.io.workspace import display, load_model

    method, lines = load_model(path, Method)
    problems = [
        Problem(display(path), lines.line(loc), loc_to_field(loc), message)
        for loc, message in method_problems(method)
    ]
    indicators = []
    for i, ind in enumerate(method.indicators):
        if ind.source is Source.FILE:
            table = (path.parent / ind.file).resolve()
            loc = ("indicators", i, "file")
            if table.suffix.lower() not in {".csv", ".xlsx"}:
                problems.append(
                    Problem(display(path), lines.line(loc), loc_to_field(loc), "expected a "
                            f".csv or .xlsx table; got {ind.file!r}")
                )  # fmt: skip
            elif not table.is_file():
                problems.append(
                    Problem(display(path), lines.line(loc), loc_to_field(loc), f"no file "
                            f"{ind.file!r} next to the method file (looked for {table})")
                )  # fmt: skip
            indicators.append(ind.model_copy(update={"file": str(table)}))
        else:
            indicators.append(ind)
    if problems:
        raise InputError(problems)
    return method.model_copy(update={"indicators": indicators})


def sources_used(method: Method) -> set[Source]:
    return {ind.source for ind in method.indicators} - {Source.TABLE}


def load_sources_for(method: Method, data_dir: Path | None = None) -> dict[Source, SourceData]:
    """Load the sources a method uses (from data/refdata unless told otherwise), and the
    user's own indicator tables it names (`source: file`)."""
    folder = data_dir or DEFAULT_DATA_DIR
    out = load_sources(folder, sources_used(method))
    tables = load_file_sources(method.indicators)
    if tables is not None:
        out[Source.FILE] = tables
    return out


def country_universe(method: Method, sources: Mapping[Source, SourceData]) -> list[str]:
    """Every ISO3 country that a used source covers, that a table names or a group lists."""
    found: set[str] = set()
    for source in sources_used(method):
        if source in sources:
            found.update(sources[source].countries)
    for ind in method.indicators:
        found.update(k for k in ind.values if k.isupper())  # noqa: PD011 (a mapping)
    for group in method.groups:
        found.update(group.members)
    return sorted(found & iso_alpha3_codes())


@dataclass(frozen=True)
class BaselineResult:
    """Baseline intensities with everything behind them.

    `nodes` is a tidy table with one row per (country, node of a factor tree), parents first:
    country, factor, path ('factor/component/indicator'), parent, depth, order, node, kind
    (factor | component | indicator), name, aggregation, weight (within its parent), share
    (nominal share in the factor: product of normalised weights down the path), used (whether
    the value enters the country's factor score), effective_share (share after re-weighting
    over the children present; 0 when not used), score (0-10), coverage, reliability, status
    (observed | imputed: ... | outside scope | missing | below coverage), and for indicators:
    source, series, period, n_obs, raw (value after window and adjustments, before
    transformation), note. `indicators` has one row per (country, indicator) with the same
    provenance and the indicator's 0-10 score.
    """

    method: Method
    as_of: dt.date
    countries: list[str]
    nodes: pd.DataFrame
    indicators: pd.DataFrame
    warnings: tuple[str, ...] = ()
    citations: dict[str, str] = field(default_factory=dict)

    def factor_scores(self) -> pd.DataFrame:
        """Countries x factors table of intensities (NaN where a country has none)."""
        roots = self.nodes[self.nodes["depth"] == 0]
        wide = roots.pivot_table(index="country", columns="factor", values="score", dropna=False)
        return wide.reindex(index=self.countries, columns=self.method.factor_ids)

    def baseline(self, decimals: int = 2) -> pd.DataFrame:
        """country, factor, intensity, source: the baseline.csv a workspace loads. A country
        without a score for a factor (no data and no imputation) has no row."""
        roots = self.nodes[(self.nodes["depth"] == 0) & self.nodes["score"].notna()]
        sources = self._source_strings()
        out = pd.DataFrame(
            {
                "country": roots["country"].to_numpy(),
                "factor": roots["factor"].to_numpy(),
                "intensity": np.round(roots["score"].to_numpy(dtype=float), decimals),
                "source": [
                    sources[(c, f)] for c, f in zip(roots["country"], roots["factor"], strict=True)
                ],
            }
        )
        order = {f: i for i, f in enumerate(self.method.factor_ids)}
        out["_f"] = out["factor"].map(order)
        return out.sort_values(["country", "_f"]).drop(columns="_f").reset_index(drop=True)

    def entries(self) -> list[BaselineEntry]:
        """The baseline as validated domain entries."""
        return [
            BaselineEntry(
                country=r.country, factor=r.factor, intensity=r.intensity, source=r.source
            )
            for r in self.baseline().itertuples(index=False)
        ]

    def breakdown(self, country: str, factor: str | None = None) -> pd.DataFrame:
        """One country's tree: every node from the factor score down to the indicators."""
        rows = self.nodes[self.nodes["country"] == country.upper()]
        if factor is not None:
            rows = rows[rows["factor"] == factor]
        return rows.sort_values(["factor_order", "order"]).reset_index(drop=True)

    def hierarchy(self) -> pd.DataFrame:
        """The method's trees without countries: path, kind, aggregation, weights, indicators."""
        return method_tree(self.method)

    def details(self) -> pd.DataFrame:
        """The provenance table written by `write_details`."""
        return self.nodes.drop(columns=["factor_order"])

    def _source_strings(self) -> dict[tuple[str, str], str]:
        tail = f"{self.method.label}, as of {self.as_of.isoformat()}"
        nodes = self.nodes
        # indicators used, and components used as a whole (imputed or outside their scope)
        shown = nodes["used"] & (nodes["depth"] > 0)
        shown &= (nodes["kind"] == "indicator") | (nodes["status"] != OBSERVED)
        leaves = nodes[shown].sort_values(["country", "factor_order", "order"])
        parts: dict[tuple[str, str], list[str]] = {}
        for country, factor, kind, node, source, series, indicator, period, share, status in zip(
            leaves["country"].astype(str),
            leaves["factor"].astype(str),
            leaves["kind"].astype(str),
            leaves["node"].astype(str),
            leaves["source"].astype(str),
            leaves["series"].astype(str),
            leaves["indicator"].astype(str),
            leaves["period"].astype(str),
            leaves["effective_share"].astype(float),
            leaves["status"].astype(str),
            strict=True,
        ):
            if kind == "indicator" and period.startswith(DATED_PREFIX):
                text = f"{indicator} dated adjustment {period}"  # not the source's own data
            elif kind == "indicator":
                text = f"{SOURCE_LABELS[Source(source)]} {series or indicator} {period}".rstrip()
            else:
                text = node
            text += f" w{share:.2f}"
            if status != OBSERVED:
                text += f" ({status})"
            parts.setdefault((country, factor), []).append(text)
        out: dict[tuple[str, str], str] = {}
        roots = nodes[nodes["depth"] == 0]
        for country, factor, status in zip(
            roots["country"].astype(str),
            roots["factor"].astype(str),
            roots["status"].astype(str),
            strict=True,
        ):
            items = parts.get((country, factor), [])
            if status != OBSERVED:
                items = [status, *items]
            text = "; ".join([*items, tail])
            if len(text) > SOURCE_MAX_CHARS:
                keep = SOURCE_MAX_CHARS - len(tail) - 6
                text = "; ".join(items)[:keep].rstrip() + " ...; " + tail
            out[(country, factor)] = text
        return out


def method_tree(method: Method) -> pd.DataFrame:
    """One row per node of every factor tree, parents first: factor, path, parent, depth,
    node, kind, name, aggregation, weight, share, indicator, source, series, window,
    transform, normalise, direction, missing (the node's rule), scope, round (the rounding of
    its score), description."""
    rows = []
    for factor in method.factors:
        shares = {factor.key: 1.0}
        for path, node in walk(factor):
            parent = path.rsplit("/", 1)[0] if "/" in path else ""
            if parent:
                siblings = _node_at(factor, parent).children
                total = sum(c.weight for c in siblings)
                shares[path] = shares[parent] * (node.weight / total if total > 0 else 0.0)
            ind = method.indicator(node.indicator) if node.indicator else None
            rows.append(
                {
                    "factor": factor.key,
                    "path": path,
                    "parent": parent,
                    "depth": path.count("/"),
                    "node": node.key,
                    "kind": "factor" if not parent else "indicator" if ind else "component",
                    "name": node.name or (ind.name if ind else ""),
                    "aggregation": node.aggregation.value if node.aggregation else "",
                    "weight": node.weight,
                    "share": shares[path],
                    "indicator": node.indicator or "",
                    "source": ind.source.value if ind else "",
                    "series": ind.series if ind else "",
                    "window": _describe_window(ind.window) if ind and ind.window else "",
                    "transform": ", ".join(_describe_transform(t) for t in ind.transform)
                    if ind
                    else "",
                    "normalise": _describe_normalise(ind) if ind else "",
                    "direction": ind.direction.value if ind else "",
                    "missing": _describe_missing(node),
                    "scope": _describe_scope(node),
                    "round": _describe_round(node.round or method.round),
                    "description": node.description or (ind.description if ind else ""),
                }
            )
    return pd.DataFrame(rows)


def _node_at(factor: Node, path: str) -> Node:
    node = factor
    for part in path.split("/")[1:]:
        node = next(c for c in node.children if c.key == part)
    return node


def _describe_window(w: object) -> str:
    from riskapp.baseline.method import Window

    assert isinstance(w, Window)
    text = f"{w.statistic.value} of last {w.last} {w.unit.value}(s)"
    if w.year is not None:
        text += f" to {w.year}"
    if w.relative_to is not None:
        text += f", relative to {w.relative_to.start}-{w.relative_to.end} mean"
    if w.max_age is not None:
        text += f", at most {w.max_age} {w.unit.value}(s) old"
    return text


def _describe_transform(t: object) -> str:
    from riskapp.baseline.method import Transform, TransformOp

    assert isinstance(t, Transform)
    if t.op is TransformOp.LOG:
        return f"log(x + {t.offset or 0:g})"
    if t.op is TransformOp.CAP:
        return f"cap [{_g(t.lower)}, {_g(t.upper)}]"
    return f"winsorise [p{_g(t.lower_pct)}, p{_g(t.upper_pct)}]"


def _g(v: float | None) -> str:
    return "-" if v is None else f"{v:g}"


def _describe_normalise(ind: object) -> str:
    from riskapp.baseline.method import Indicator, NormaliseMethod

    assert isinstance(ind, Indicator)
    spec = ind.normaliser
    if spec.method is NormaliseMethod.MINMAX:
        return (
            f"minmax [{_g(spec.min) if spec.min is not None else 'observed min'}, "
            f"{_g(spec.max) if spec.max is not None else 'observed max'}]"
        )
    return spec.method.value


def _describe_missing(node: Node) -> str:
    steps = [
        f"group {s.group} (r {s.reliability:g})"
        if s.group
        else f"value {s.value:g} (r {s.reliability:g})"
        for s in node.missing.impute
    ]
    text = "" if node.is_leaf else f"min coverage {node.missing.min_coverage:g}"
    rule = node.child_rule
    if rule is ChildRule.RENORMALISE:
        text += "; weights renormalised over the parts present"
    elif rule is ChildRule.ZERO:
        text += "; a missing part counts as 0"
    if steps:
        text += ("; " if text else "") + "impute: " + ", then ".join(steps)
    return text


def _describe_round(rounding: Rounding | None) -> str:
    if rounding is None:
        return ""
    mode = "half up" if rounding.mode is RoundMode.HALF_UP else "half to even"
    return f"{rounding.decimals} decimal(s), {mode}"


def _describe_scope(node: Node) -> str:
    if node.scope is None:
        return ""
    who = node.scope.group or ", ".join(node.scope.countries)
    return f"only {who}; elsewhere {node.scope.outside:g}"


# --------------------------------------------------------------------------------------------
# Computing
# --------------------------------------------------------------------------------------------


def indicator_scores(
    method: Method,
    sources: Mapping[Source, SourceData],
    countries: list[str],
    as_of: dt.date,
) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, IndicatorValues], list[str]]:
    """Each indicator's (0-10 score, reliability) over the countries, its raw values and
    any warnings (stale data, nothing on or before the as-of date)."""
    groups = method.group_members()
    groups[WORLD] = list(countries)
    leaves: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    raw: dict[str, IndicatorValues] = {}
    warnings: list[str] = []
    for ind in method.indicators:
        values = extract(ind, sources.get(ind.source), countries, as_of, groups)
        try:
            score = normalise(values.raw, ind.normaliser, ind.transform, ind.direction)
        except ValueError as exc:
            raise ValueError(f"indicator {ind.id!r}: {exc}") from None
        leaves[ind.id] = (score, values.reliability)
        raw[ind.id] = values
        if values.warning:
            warnings.append(f"indicator {ind.id}: {values.warning}")
    return leaves, raw, warnings


def compute(
    method: Method,
    sources: Mapping[Source, SourceData],
    as_of: dt.date,
    countries: list[str] | None = None,
) -> BaselineResult:
    """Baseline intensities of every factor for every country at the as-of date."""
    if countries is None:
        countries = country_universe(method, sources)
    leaves, raw, warnings = indicator_scores(method, sources, countries, as_of)
    nodes = evaluate(method, countries, leaves)
    frame = scores_frame(countries, nodes)
    used, effective = attribution(nodes)
    frame["used"] = used
    frame["effective_share"] = effective
    order = {s.path: i for i, s in enumerate(preorder(nodes))}
    frame["order"] = frame["path"].map(order)
    frame["factor_order"] = frame["factor"].map({f: i for i, f in enumerate(method.factor_ids)})
    ind_frame = _indicator_frame(method, countries, leaves, raw)
    prov = ind_frame[["country", "indicator", "source", "series", "period", "n_obs", "raw", "note"]]
    frame = frame.merge(prov, on=["country", "indicator"], how="left")
    for col in ("source", "series", "period", "note"):
        frame[col] = frame[col].fillna("").astype(str)
    frame["n_obs"] = frame["n_obs"].fillna(0).astype(int)
    frame = frame.sort_values(["country", "factor_order", "order"]).reset_index(drop=True)
    columns = [
        "country", "factor", "path", "parent", "depth", "order", "factor_order", "node", "kind",
        "name", "aggregation", "weight", "share", "used", "effective_share", "score",
        "coverage", "reliability", "status", "indicator", "source", "series", "period",
        "n_obs", "raw", "note",
    ]  # fmt: skip
    citations = {s.value: d.citation for s, d in sources.items() if s in sources_used(method)}
    notes = [f"{s.value}: {n}" for s, d in sources.items() for n in d.notes]
    return BaselineResult(
        method=method,
        as_of=as_of,
        countries=list(countries),
        nodes=frame[columns],
        indicators=ind_frame,
        warnings=tuple(warnings + notes),
        citations=citations,
    )


def _indicator_frame(
    method: Method,
    countries: list[str],
    leaves: Mapping[str, tuple[np.ndarray, np.ndarray]],
    raw: Mapping[str, IndicatorValues],
) -> pd.DataFrame:
    parts = []
    for ind in method.indicators:
        v = raw[ind.id]
        score, rel = leaves[ind.id]
        parts.append(
            pd.DataFrame(
                {
                    "country": countries,
                    "indicator": ind.id,
                    "source": ind.source.value,
                    "series": ind.series,
                    "window": v.window,
                    "period": v.periods,
                    "n_obs": v.n_obs,
                    "raw": v.raw,
                    "score": score,
                    "reliability": np.where(np.isnan(score), 0.0, rel),
                    "note": v.notes,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def build(
    method_path: Path | None = None,
    as_of: dt.date | None = None,
    data_dir: Path | None = None,
    countries: list[str] | None = None,
) -> BaselineResult:
    """Load a method file and the data it needs, and compute the baseline."""
    method = load_method(method_path or DEFAULT_METHOD)
    sources = load_sources_for(method, data_dir)
    return compute(method, sources, as_of or dt.date.today(), countries)


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def write_baseline(result: BaselineResult, path: Path) -> None:
    """Write baseline.csv (country, factor, intensity, source), atomically."""
    from riskapp.io.export import write_table

    if path.suffix.lower() != ".csv":
        raise ValueError(f"{path}: a baseline is written as .csv (the workspace reads it)")
    write_table(result.baseline(), path)


def write_details(result: BaselineResult, path: Path) -> None:
    """Write the provenance table (.csv, .parquet or .json), atomically."""
    from riskapp.io.export import write_table

    write_table(result.details(), path)
