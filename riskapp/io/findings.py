"""Problems grouped by rule, for people (a heading per rule with its count and first rows) and
for scripts (a stable JSON document).

Each problem keeps its own wording (`Problem`); here it is classified by rule, its offending
value and what was expected are read from it, and a "did you mean" is added. The work is done
per distinct message and per distinct bad value, then spread over the rows with pandas, so a
million problems of eight kinds cost eight classifications.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskapp.io.errors import Problem
from riskapp.io.suggest import suggest_all, suggestion_in

JSON_VERSION = 1
SHOWN = 5  # rows (or values) shown under each rule unless every problem is asked for


@dataclass(frozen=True)
class Rule:
    """A kind of problem: its stable id (for scripts), a heading, the message pattern that
    names it (with the offending value as group `value`, and `choices` when the message lists
    the known ones), what is expected and where suggestions come from (`kind`)."""

    id: str
    title: str
    pattern: re.Pattern[str]
    expected: str
    kind: str = ""


_QUOTED = r"(?P<value>'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"

RULES = [
    Rule(
        "asset-type-without-curve",
        "asset types have no vulnerability curve",
        re.compile(r"^asset type " + _QUOTED + r" has no vulnerability curve; known types: "),
        "an asset type that has curves (curves.yaml)",
        "asset_type",
    ),
    Rule(
        "currency-without-rate",
        "currencies have no exchange rate",
        re.compile(r"^no exchange rate for (?P<value>\S+); add it to fx_rates"),
        "a currency with a rate in fx_rates of workspace.yaml",
        "currency",
    ),
    Rule(
        "unknown-asset",
        "references to assets not in the register",
        re.compile(r"^no asset " + _QUOTED + r" in the register"),
        "an asset id of the register",
        "asset",
    ),
    Rule(
        "unknown-country",
        "unknown countries (codes or names)",
        # (any wording that expects a country and says what it got, e.g. names accepted too)
        re.compile(r"^expected an? [^;]*\bcountry\b[^;]*; got " + _QUOTED),
        "",  # what the message says it expected
        "country",
    ),
    Rule(
        "unknown-country",
        "unknown countries (codes or names)",
        # the register's locations reader: a near miss or a name several countries answer to
        # (its message names the candidates)
        re.compile(
            r"^" + _QUOTED + r" is (?:not a country name or code riskapp knows|a name several "
            r"countries answer to)"
        ),
        "a country riskapp knows: an ISO 3166-1 alpha-3 code, to confirm a candidate",
    ),
    Rule(
        "unknown-factor",
        "unknown factors",
        re.compile(r"^unknown factor " + _QUOTED + r"; expected one of "),
        "a factor id of factors.yaml",
        "factor",
    ),
    Rule(
        "unknown-place",
        "unknown places (shock targets, plan regions, group members, zones)",
        re.compile(r"^unknown (?:target|region|member|zone) " + _QUOTED),
        "a country code, region group, zone, sea area or ISO 3166-2 subdivision",
        "place",
    ),
    Rule(
        "unknown-scenario",
        "unknown scenarios",
        re.compile(r"^unknown scenario " + _QUOTED),
        "a scenario id of the workspace",
        "scenario",
    ),
    Rule(
        "duplicate-id",
        "duplicate asset ids",
        re.compile(r"^duplicate id " + _QUOTED),
        "each asset id once",
    ),
    Rule(
        "dependencies-declared-twice",
        "dependencies declared in two places",
        re.compile(r"^dependencies are declared both in "),
        "dependencies declared in one place",
    ),
]

_GOT = re.compile(r" \(got (?P<value>.*)\)$")
_GOT_TAIL = re.compile(r"; got (?P<value>.*)$")
_INDEX = re.compile(r"\[\d+\]")
_QUOTES = re.compile(r"'(?:[^'\\]|\\.)*'")


def _literal(text: str) -> str:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return value if isinstance(value, str) else text


def classify(field: str, message: str) -> tuple[str, str, str, str, str]:
    """(rule id, heading, value, expected, suggestion kind) of one problem's wording."""
    for rule in RULES:
        found = rule.pattern.match(message)
        if found:
            value = found.groupdict().get("value") or ""
            expected = rule.expected or message[: found.start("value")].removesuffix("; got ")
            return (
                rule.id,
                rule.title,
                _literal(value),
                expected.removeprefix("expected "),
                rule.kind,
            )
    where = _INDEX.sub("[]", field)
    value = ""
    expected = message
    got = _GOT.search(message) or _GOT_TAIL.search(message)
    if got:
        value = _literal(got["value"])
        expected = message[: got.start()]
    template = _QUOTES.sub("'...'", expected)
    title = f"{where}: {template}" if where else template
    return title, title, value, expected, ""


COLUMNS = ["rule", "title", "file", "row", "unit", "field", "value", "expected", "suggestion"]


def tabulate(problems: Sequence[Problem], choices: dict[str, Sequence[str]]) -> pd.DataFrame:
    """One row per problem (in the order given) with its rule, value, what was expected and a
    suggestion, plus its `message`. Classified per distinct (field, message); suggested per
    distinct (kind, value)."""
    frame = pd.DataFrame(
        {
            "file": [p.file for p in problems],
            "row": pd.array([p.line for p in problems], dtype="Int64"),
            "unit": [p.unit for p in problems],
            "field": [p.field for p in problems],
            "message": [p.message for p in problems],
        }
    )
    if not len(frame):
        return frame.assign(**{c: pd.Series(dtype=object) for c in COLUMNS if c not in frame})
    keys = pd.MultiIndex.from_frame(frame[["field", "message"]])
    codes, distinct = pd.factorize(keys)
    parts = [classify(str(f), str(m)) for f, m in distinct]
    hints = [suggestion_in(str(m)) for _, m in distinct]
    wanted = [(kind, value) for _, _, value, _, kind in parts if kind and value]
    found = suggest_all(wanted, choices)
    suggestion = [
        hint or (found.get((kind, value)) if kind and value else None)
        for (_, _, value, _, kind), hint in zip(parts, hints, strict=True)
    ]
    take = np.asarray(codes)
    for i, name in enumerate(("rule", "title", "value", "expected")):
        frame[name] = np.array([p[i] for p in parts], dtype=object)[take]
    frame["suggestion"] = np.array(suggestion, dtype=object)[take]
    return frame


@dataclass(frozen=True)
class RuleGroup:
    """The problems of one rule: their count, the distinct values and the rows."""

    rule: str
    title: str
    table: pd.DataFrame  # this rule's rows of `tabulate`, in order

    @property
    def count(self) -> int:
        return len(self.table)

    @property
    def by_value(self) -> pd.DataFrame:
        """Per distinct value (in order of first appearance): its count, file, field, first
        rows and suggestion."""
        t = self.table
        return (
            t.groupby("value", sort=False)
            .agg(
                count=("value", "size"),
                file=("file", "first"),
                field=("field", "first"),
                unit=("unit", "first"),
                rows=("row", lambda r: r.dropna().head(SHOWN).astype(int).tolist()),
                suggestion=("suggestion", "first"),
            )
            .reset_index()
        )


def group(table: pd.DataFrame) -> list[RuleGroup]:
    """The problems by rule, rules in order of their first problem."""
    if not len(table):
        return []
    return [
        RuleGroup(str(rule), str(part["title"].iloc[0]), part)
        for rule, part in table.groupby("rule", sort=False)
    ]


def _count(n: int, one: str, many: str) -> str:
    from riskapp.format import NumberFormat

    return f"{NumberFormat().number(n)} {one if n == 1 else many}"


def _row(value: Any) -> int | None:
    return None if value is None or value is pd.NA else int(value)


def _line(p: Any) -> str:
    """One problem (a row of `tabulate`, as a named tuple) as `Problem` words it."""
    return str(Problem(str(p.file), _row(p.row), str(p.field), str(p.message), str(p.unit)))


def text_lines(
    groups: list[RuleGroup],
    every: bool = False,
    shown: int = SHOWN,
    more: str = "--all lists every one",
) -> list[str]:
    """The grouped listing: per rule a heading with its count, then its first `shown` problems
    (each as `file, row N [field]: message`) or, for a rule with more problems than that which
    names values, its first values with their rows and suggestion. `every`: each problem;
    `more`: how to see the rest, after a rule cut short."""
    lines: list[str] = []
    for g in groups:
        t = g.table
        named = bool((t["value"] != "").all())
        head = f"{g.title}: {_count(g.count, 'problem', 'problems')}"
        values = g.by_value if named else None
        if values is not None and (len(values) > 1 or g.count > 1):
            head += f", {_count(len(values), 'distinct value', 'distinct values')}"
        lines.append(head)
        if every or g.count <= shown or values is None:
            for p in (t if every else t.head(shown)).itertuples(index=False):
                lines.append(f"  {_line(p)}")
                if isinstance(p.suggestion, str):
                    lines.append(f"    did you mean {p.suggestion!r}?")
            if not every and g.count > shown:
                lines.append(f"  ... and {g.count - shown:,} more ({more})")
            continue
        lines.append(f"  expected: {t['expected'].iloc[0]}")
        for _, v in values.head(shown).iterrows():
            unit = "row" if v["unit"] == "row" else "line"
            rows = ", ".join(str(r) for r in v["rows"]) + (", ..." if v["count"] > shown else "")
            units = unit if len(v["rows"]) == 1 else unit + "s"
            where = f"{v['file']} [{v['field']}] {units} {rows}" if rows else str(v["file"])
            text = f"  {v['value']!r} ({_count(int(v['count']), unit, unit + 's')}: {where})"
            if isinstance(v["suggestion"], str):
                text += f": did you mean {v['suggestion']!r}?"
            lines.append(text)
        if len(values) > shown:
            lines.append(f"  ... and {len(values) - shown:,} more values ({more})")
    return lines


def json_document(
    groups: list[RuleGroup],
    paths: list[dict[str, Any]],
    warnings: list[str],
    every: bool = False,
    shown: int = SHOWN,
) -> dict[str, Any]:
    """The stable JSON form: version, ok, error count, the paths checked, and per rule its id,
    heading, count and problems (file, row, unit, field, value, expected, suggestion,
    message); every problem with `every`, else the first `shown` of each rule."""
    rules = []
    for g in groups:
        t = g.table if every else g.table.head(shown)
        problems = [
            {
                "file": str(r.file),
                "row": _row(r.row),
                "unit": str(r.unit),
                "field": str(r.field),
                "value": str(r.value),
                "expected": str(r.expected),
                "suggestion": r.suggestion if isinstance(r.suggestion, str) else None,
                "message": str(r.message),
            }
            for r in t.itertuples(index=False)
        ]
        rules.append(
            {
                "rule": g.rule,
                "title": g.title,
                "count": g.count,
                "shown": len(problems),
                "problems": problems,
            }
        )
    errors = sum(g.count for g in groups)
    return {
        "version": JSON_VERSION,
        "ok": errors == 0,
        "errors": errors,
        "paths": paths,
        "rules": rules,
        "warnings": warnings,
    }
