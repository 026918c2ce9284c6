"""Methodology files: validation with file, line and field; schema; what-if weights."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from riskapp.baseline.build import DEFAULT_METHOD, load_method, method_tree
from riskapp.baseline.method import Method, method_json_schema
from riskapp.io.errors import InputError

GOOD = """\
id: small
version: "1"
title: Small method
groups:
  - {id: g, members: [FIN, SWE]}
indicators:
  - id: pv
    name: Political instability
    source: wgi
    series: PV.EST
    window: {unit: year, last: 5, statistic: latest}
    normalise: {method: minmax, min: -2.5, max: 2.5}
    direction: higher_is_better
  - id: judgement
    name: Expert table
    source: table
    default: 1
    values: {FIN: 4, g: 3}
factors:
  - id: military_escalation
    aggregation: mean
    children:
      - {indicator: pv, weight: 0.5}
      - {indicator: judgement, weight: 0.5}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "method.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(InputError) as info:
        load_method(write(tmp_path, text))
    return [str(p) for p in info.value.problems]


def test_small_method_loads(tmp_path: Path) -> None:
    method = load_method(write(tmp_path, GOOD))
    assert method.factor_ids == ["military_escalation"]
    assert method.indicator("judgement").default == 1


def test_unknown_field_names_line_and_suggests(tmp_path: Path) -> None:
    found = problems_of(tmp_path, GOOD.replace("direction: higher", "directon: higher"))
    assert len(found) == 1
    assert "method.yaml, line 13 [indicators[0].directon]" in found[0]
    assert "did you mean 'direction'" in found[0]


def test_bad_aggregation_names_line(tmp_path: Path) -> None:
    found = problems_of(tmp_path, GOOD.replace("aggregation: mean", "aggregation: average"))
    assert "line 21 [factors[0].aggregation]" in found[0]
    assert "complement_product" in found[0]


def test_unknown_indicator_and_group_references(tmp_path: Path) -> None:
    text = GOOD.replace("{indicator: judgement, weight: 0.5}", "{indicator: judgment, weight: 0.5}")
    text = text.replace("values: {FIN: 4, g: 3}", "values: {FIN: 4, h: 3}")
    found = problems_of(tmp_path, text)
    assert any(
        "line 24 [factors[0].children[1].indicator]: unknown indicator 'judgment'" in p
        for p in found
    ), found
    assert any("[indicators[1].values.h]" in p and "line 18" in p for p in found), found


def test_unknown_series_and_wrong_window_unit(tmp_path: Path) -> None:
    text = GOOD.replace("series: PV.EST", "series: PV.ESTIMATE").replace(
        "unit: year", "unit: month"
    )
    found = problems_of(tmp_path, text)
    assert any("line 10 [indicators[0].series]: unknown series 'PV.ESTIMATE'" in p
               for p in found), found  # fmt: skip
    assert any("line 11 [indicators[0].window.unit]" in p and "set unit: year" in p
               for p in found), found  # fmt: skip


def test_leaf_with_children_and_component_without_aggregation(tmp_path: Path) -> None:
    text = GOOD.replace(
        "      - {indicator: pv, weight: 0.5}",
        "      - {id: sub, children: [{indicator: pv}], weight: 0.5}",
    )
    found = problems_of(tmp_path, text)
    assert any("[factors[0].children[0]]" in p and "needs an aggregation" in p for p in found)


def test_duplicate_ids_and_bad_transform_params(tmp_path: Path) -> None:
    text = GOOD.replace("id: judgement", "id: pv")
    found = problems_of(tmp_path, text)
    assert any("[indicators[1].id]" in p and "more than once" in p for p in found), found
    text = GOOD.replace(
        "    normalise: {method: minmax, min: -2.5, max: 2.5}",
        "    transform: [{op: log, upper: 3}]\n"
        "    normalise: {method: minmax, min: -2.5, max: 2.5}",
    )
    found = problems_of(tmp_path, text)
    assert any("[indicators[0].transform[0]]" in p and "remove upper" in p for p in found)


def test_country_codes_are_checked(tmp_path: Path) -> None:
    found = problems_of(tmp_path, GOOD.replace("[FIN, SWE]", "[FIN, SWD]"))
    assert "line 5 [groups[0].members[1]]" in found[0]
    assert "ISO 3166-1 alpha-3" in found[0]


def test_dated_adjustment_needs_a_source_and_a_set(tmp_path: Path) -> None:
    dated = GOOD.replace(
        "    direction: higher_is_better\n",
        "    direction: higher_is_better\n"
        "    adjustments:\n"
        "      - {country: FIN, action: ACTION, value: 1, as_of: '2024-01-01', reason: r SOURCE}\n",
    )
    ok = dated.replace("ACTION", "set").replace(" SOURCE}", ", source: analyst judgement}")
    adj = load_method(write(tmp_path, ok)).indicator("pv").adjustments[0]
    assert adj.as_of is not None and adj.as_of.isoformat() == "2024-01-01"
    found = problems_of(tmp_path, dated.replace("ACTION", "set").replace(" SOURCE", ""))
    assert any("a dated adjustment (as_of) needs a source" in p for p in found), found
    no_value = dated.replace("ACTION", "exclude").replace("value: 1, ", "")
    found = problems_of(tmp_path, no_value.replace(" SOURCE}", ", source: x}"))
    assert any("as_of applies only to action 'set'" in p for p in found), found


def test_bad_yaml_is_reported_not_raised(tmp_path: Path) -> None:
    found = problems_of(tmp_path, GOOD + "  - [unclosed\n")
    assert "malformed YAML" in found[0]


def test_shipped_default_covers_the_demo_factors(default_method: Method) -> None:
    demo = yaml.safe_load(
        (DEFAULT_METHOD.parent.parent / "demo" / "factors.yaml").read_text(encoding="utf-8")
    )
    assert sorted(default_method.factor_ids) == sorted(f["id"] for f in demo["factors"])


def test_json_schema_accepts_the_default_and_rejects_typos() -> None:
    schema = method_json_schema()
    data = yaml.safe_load(DEFAULT_METHOD.read_text(encoding="utf-8"))
    jsonschema.validate(data, schema)
    data["factors"][0]["agregation"] = "mean"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)
    json.dumps(schema)  # serialisable


def test_with_weights_changes_only_the_named_node(default_method: Method) -> None:
    changed = default_method.with_weights({"military_escalation/wgi_pv": 0.7})
    tree = method_tree(changed).set_index("path")
    assert tree.loc["military_escalation/wgi_pv", "weight"] == 0.7
    assert tree.loc["military_escalation/tension", "weight"] == 0.35
    assert method_tree(default_method).set_index("path").loc[
        "military_escalation/wgi_pv", "weight"
    ] == 0.2  # fmt: skip
    with pytest.raises(KeyError):
        default_method.with_weights({"military_escalation/nope": 1})


def test_hierarchy_shares_sum_to_one_per_parent(default_method: Method) -> None:
    tree = method_tree(default_method)
    for (_, parent), rows in tree[tree["parent"] != ""].groupby(["factor", "parent"]):
        parent_share = tree.set_index("path").loc[parent, "share"]
        assert rows["share"].sum() == pytest.approx(parent_share)
    assert (tree[tree["depth"] == 0]["share"] == 1.0).all()
    assert tree[tree["kind"] == "indicator"]["source"].ne("").all()
