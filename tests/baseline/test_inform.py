"""A published composite index expressed node by node: the INFORM Risk Index.

INFORM's published methodology (JRC, INFORM Concept and Methodology):
- Risk = Hazard & Exposure ^ (1/3) x Vulnerability ^ (1/3) x Lack of coping capacity ^ (1/3),
  a geometric mean of the three dimensions with equal weights;
- the dimensions, and categories such as natural hazards, combine their parts by "11 minus the
  geometric mean of (11 - x)" (`complement_geometric` here), on a 0-10 scale;
- other categories are arithmetic means, some weighted (socio-economic vulnerability: development
  & deprivation 50 %, inequality 25 %, aid dependency 25 %);
- every level is rounded to one decimal, half up, before the next level aggregates it;
- a missing part leaves the others' weights renormalised over the parts present.

The indicator values below are invented, read from a CSV table as a user would supply them
(`source: file`); the tree and its rules are INFORM's. Every expected value is worked by hand in
the comments, to one decimal, with the rounding at each level.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pytest

from riskapp.baseline.build import compute, load_method, load_sources_for
from riskapp.baseline.method import Aggregation, ChildRule, Rounding, RoundMode
from riskapp.baseline.operators import aggregate, complement_geometric, round_scores
from riskapp.io.errors import InputError

VALUES = {
    # natural hazards: earthquake, tsunami, flood, tropical cyclone, drought; human hazards:
    # current and projected conflict; socio-economic: development & deprivation, inequality,
    # aid dependency; vulnerable groups: uprooted people, other vulnerable groups; institutional:
    # disaster risk reduction, governance; infrastructure: communication, physical, access to
    # health care
    "HTI": {
        "EQ": 7.2, "TS": 3.1, "FL": 5.4, "TC": 6.8, "DR": 2.9, "CC": 6.0, "PC": 5.5,
        "DD": 7.9, "INEQ": 6.6, "AID": 8.1, "UP": 4.2, "OV": 6.3, "DRR": 7.5, "GOV": 8.2,
        "COM": 7.7, "PHY": 8.0, "HEA": 7.1,
    },
    "FIN": {
        "EQ": 0.1, "TS": 0.0, "FL": 2.3, "TC": 0.0, "DR": 1.0, "CC": 0.0, "PC": 1.2,
        "DD": 0.5, "INEQ": 1.4, "AID": 0.0, "UP": 1.8, "OV": 1.1, "DRR": 1.2, "GOV": 0.9,
        "COM": 0.4, "PHY": 1.0, "HEA": 0.6,
    },
    # SWE has no drought row: its natural-hazard category renormalises over the other four
    "SWE": {
        "EQ": 0.0, "TS": 0.0, "FL": 1.9, "TC": 0.0, "CC": 0.0, "PC": 0.8,
        "DD": 0.4, "INEQ": 1.6, "AID": 0.0, "UP": 2.1, "OV": 1.0, "DRR": 1.0, "GOV": 0.7,
        "COM": 0.3, "PHY": 0.8, "HEA": 0.5,
    },
}  # fmt: skip

INDICATORS = "\n".join(
    f"  - {{id: {code.lower()}, name: {code}, source: file, file: inform.csv, series: {code},"
    " window: {unit: year, last: 1, statistic: latest}, normalise: {method: identity}}"
    for code in VALUES["HTI"]
)


def leaves(*codes: str) -> str:
    return "[" + ", ".join(f"{{indicator: {c.lower()}}}" for c in codes) + "]"


INFORM = f"""\
id: inform
version: "2025"
title: INFORM Risk Index (structure of INFORM's published methodology)
round: {{decimals: 1, mode: half_up}}
indicators:
{INDICATORS}
factors:
  - id: inform_risk
    aggregation: geometric_mean
    children:
      - id: hazard_exposure
        aggregation: complement_geometric
        children:
          - id: natural
            aggregation: complement_geometric
            missing: {{min_coverage: 0.5, rule: renormalise}}
            children: {leaves("EQ", "TS", "FL", "TC", "DR")}
          - id: human
            aggregation: complement_geometric
            children: {leaves("CC", "PC")}
      - id: vulnerability
        aggregation: complement_geometric
        children:
          - id: socio_economic
            aggregation: mean
            children:
              - {{indicator: dd, weight: 2}}
              - {{indicator: ineq, weight: 1}}
              - {{indicator: aid, weight: 1}}
          - id: vulnerable_groups
            aggregation: complement_geometric
            children: {leaves("UP", "OV")}
      - id: lack_of_coping_capacity
        aggregation: complement_geometric
        children:
          - id: institutional
            aggregation: mean
            children: {leaves("DRR", "GOV")}
          - id: infrastructure
            aggregation: mean
            children: {leaves("COM", "PHY", "HEA")}
"""


def write_inform(folder: Path, method: str = INFORM) -> Path:
    rows = ["country,indicator,period,value"]
    for country, values in VALUES.items():
        rows += [f"{country},{code},2024,{value}" for code, value in values.items()]
    (folder / "inform.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    path = folder / "inform.yaml"
    path.write_text(method, encoding="utf-8")
    return path


@pytest.fixture
def inform(tmp_path: Path) -> dict[tuple[str, str], float]:
    method = load_method(write_inform(tmp_path))
    result = compute(method, load_sources_for(method), dt.date(2025, 12, 31))
    assert result.countries == ["FIN", "HTI", "SWE"]
    nodes = result.nodes
    return {
        (c, p.removeprefix("inform_risk/").removeprefix("inform_risk")): float(s)
        for c, p, s in zip(nodes["country"], nodes["path"], nodes["score"], strict=True)
    }


# -- the INFORM tree, worked by hand ------------------------------------------------------------


def test_haiti_by_hand(inform: dict[tuple[str, str], float]) -> None:
    s = {path: v for (c, path), v in inform.items() if c == "HTI"}
    # natural: 11 - (3.8 x 7.9 x 5.6 x 4.2 x 8.1) ^ (1/5) = 11 - 5.642 = 5.358 -> 5.4
    assert s["hazard_exposure/natural"] == 5.4
    # human: 11 - (5.0 x 5.5) ^ (1/2) = 11 - 5.244 = 5.756 -> 5.8
    assert s["hazard_exposure/human"] == 5.8
    # hazard & exposure: 11 - (5.6 x 5.2) ^ (1/2) = 11 - 5.396 = 5.604 -> 5.6
    assert s["hazard_exposure"] == 5.6
    # socio-economic: (2 x 7.9 + 6.6 + 8.1) / 4 = 7.625 -> 7.6
    assert s["vulnerability/socio_economic"] == 7.6
    # vulnerable groups: 11 - (6.8 x 4.7) ^ (1/2) = 11 - 5.653 = 5.347 -> 5.3
    assert s["vulnerability/vulnerable_groups"] == 5.3
    # vulnerability: 11 - (3.4 x 5.7) ^ (1/2) = 11 - 4.402 = 6.598 -> 6.6
    assert s["vulnerability"] == 6.6
    # institutional: (7.5 + 8.2) / 2 = 7.85 -> 7.9 half up (Python's round(7.85, 1) gives 7.8:
    # the float 7.85 is 7.8499999999999996...)
    assert s["lack_of_coping_capacity/institutional"] == 7.9
    assert round(7.85, 1) == 7.8
    # infrastructure: (7.7 + 8.0 + 7.1) / 3 = 7.6
    assert s["lack_of_coping_capacity/infrastructure"] == 7.6
    # lack of coping capacity: 11 - (3.1 x 3.4) ^ (1/2) = 11 - 3.247 = 7.753 -> 7.8
    assert s["lack_of_coping_capacity"] == 7.8
    # risk: (5.6 x 6.6 x 7.8) ^ (1/3) = 288.288 ^ (1/3) = 6.606 -> 6.6
    assert s[""] == 6.6


def test_finland_by_hand(inform: dict[tuple[str, str], float]) -> None:
    s = {path: v for (c, path), v in inform.items() if c == "FIN"}
    # natural: 11 - (10.9 x 11.0 x 8.7 x 11.0 x 10.0) ^ (1/5) = 11 - 10.279 = 0.721 -> 0.7
    assert s["hazard_exposure/natural"] == 0.7
    # human: 11 - (11.0 x 9.8) ^ (1/2) = 11 - 10.383 = 0.617 -> 0.6
    assert s["hazard_exposure/human"] == 0.6
    # hazard & exposure: 11 - (10.3 x 10.4) ^ (1/2) = 11 - 10.350 = 0.650 -> 0.7
    assert s["hazard_exposure"] == 0.7
    # socio-economic: (2 x 0.5 + 1.4 + 0.0) / 4 = 0.6
    assert s["vulnerability/socio_economic"] == 0.6
    # vulnerable groups: 11 - (9.2 x 9.9) ^ (1/2) = 11 - 9.544 = 1.456 -> 1.5
    assert s["vulnerability/vulnerable_groups"] == 1.5
    # vulnerability: 11 - (10.4 x 9.5) ^ (1/2) = 11 - 9.940 = 1.060 -> 1.1
    assert s["vulnerability"] == 1.1
    # institutional: (1.2 + 0.9) / 2 = 1.05 -> 1.1 half up
    assert s["lack_of_coping_capacity/institutional"] == 1.1
    # infrastructure: (0.4 + 1.0 + 0.6) / 3 = 0.667 -> 0.7
    assert s["lack_of_coping_capacity/infrastructure"] == 0.7
    # lack of coping capacity: 11 - (9.9 x 10.3) ^ (1/2) = 11 - 10.098 = 0.902 -> 0.9
    assert s["lack_of_coping_capacity"] == 0.9
    # risk: (0.7 x 1.1 x 0.9) ^ (1/3) = 0.693 ^ (1/3) = 0.885 -> 0.9
    assert s[""] == 0.9


def test_a_missing_hazard_renormalises_over_the_hazards_present(
    inform: dict[tuple[str, str], float], tmp_path: Path
) -> None:
    s = {path: v for (c, path), v in inform.items() if c == "SWE"}
    # no drought value: natural = 11 - (11.0 x 11.0 x 9.1 x 11.0) ^ (1/4) = 11 - 10.491 = 0.509
    # -> 0.5 (the four exponents are 1/4, not 1/5: the weights renormalised)
    assert s["hazard_exposure/natural"] == 0.5
    # counting the missing drought as 0 instead (rule: zero): 11 - (11^4 x 9.1) ^ (1/5)
    # = 11 - 10.591 = 0.409 -> 0.4; Finland, with all five hazards, keeps 0.7
    zero = INFORM.replace("rule: renormalise", "rule: zero")
    (tmp_path / "zero").mkdir()
    method = load_method(write_inform(tmp_path / "zero", zero))
    rows = compute(method, load_sources_for(method), dt.date(2025, 12, 31)).nodes
    natural = rows[rows["path"] == "inform_risk/hazard_exposure/natural"].set_index("country")
    assert natural.loc["SWE", "score"] == 0.4 and natural.loc["FIN", "score"] == 0.7
    # the missing hazard keeps its share (1/5) in the provenance, at 0; under renormalise the
    # four present would take 1/4 each
    shares = rows[(rows["country"] == "SWE") & (rows["parent"] == natural.loc["SWE", "path"])]
    assert shares.set_index("node")["effective_share"]["fl"] == pytest.approx(
        natural.loc["SWE", "effective_share"] / 5
    )
    # human: 11 - (11.0 x 10.2) ^ (1/2) = 0.408 -> 0.4; H&E: 11 - (10.5 x 10.6) ^ (1/2) = 0.450
    # -> 0.5 (0.45011..., above the tie)
    assert s["hazard_exposure/human"] == 0.4
    assert s["hazard_exposure"] == 0.5
    # institutional: (1.0 + 0.7) / 2 = 0.85 -> 0.9 half up (round(0.85, 1) gives 0.8)
    assert s["lack_of_coping_capacity/institutional"] == 0.9
    # infrastructure 0.533 -> 0.5; LCC: 11 - (10.1 x 10.5) ^ (1/2) = 0.702 -> 0.7
    assert s["lack_of_coping_capacity"] == 0.7
    # socio-economic (2 x 0.4 + 1.6 + 0) / 4 = 0.6; vulnerable groups 11 - (8.9 x 10) ^ (1/2)
    # = 1.566 -> 1.6; vulnerability 11 - (10.4 x 9.4) ^ (1/2) = 1.113 -> 1.1
    assert s["vulnerability"] == 1.1
    # risk: (0.5 x 1.1 x 0.7) ^ (1/3) = 0.385 ^ (1/3) = 0.727 -> 0.7
    assert s[""] == 0.7


def test_rounding_each_level_is_not_rounding_the_end(tmp_path: Path) -> None:
    """Finland's risk is 0.9 with INFORM's rounding at each level, but 0.842 (0.8 at one
    decimal) when only the end result would be rounded: the per-level rule matters."""
    method = load_method(
        write_inform(tmp_path, INFORM.replace("round: {decimals: 1, mode: half_up}\n", ""))
    )
    result = compute(method, load_sources_for(method), dt.date(2025, 12, 31))
    rows = result.nodes.set_index(["country", "path"])["score"]
    # unrounded: natural 0.72111, human 0.61732 -> H&E 11 - (10.27889 x 10.38268) ^ (1/2)
    # = 0.66935; vulnerability 11 - (10.4 x 9.54358) ^ (1/2) = 1.03741 (socio-economic is 0.6
    # exactly); LCC 11 - (9.95 x 10.33333) ^ (1/2) = 0.86014
    assert rows[("FIN", "inform_risk/hazard_exposure")] == pytest.approx(0.669346, abs=1e-6)
    assert rows[("FIN", "inform_risk/vulnerability")] == pytest.approx(1.037406, abs=1e-6)
    assert rows[("FIN", "inform_risk/lack_of_coping_capacity")] == pytest.approx(0.860145, abs=1e-6)
    # risk (0.66935 x 1.03741 x 0.86014) ^ (1/3) = 0.84215
    assert rows[("FIN", "inform_risk")] == pytest.approx(0.842152, abs=1e-6)
    assert set(result.hierarchy()["round"]) == {""}


def test_a_node_rounding_overrides_the_method_rounding(tmp_path: Path) -> None:
    text = INFORM.replace(
        "      - id: hazard_exposure\n        aggregation: complement_geometric\n",
        "      - id: hazard_exposure\n        aggregation: complement_geometric\n"
        "        round: {decimals: 2}\n",
    )
    method = load_method(write_inform(tmp_path, text))
    result = compute(method, load_sources_for(method), dt.date(2025, 12, 31))
    rows = result.nodes.set_index(["country", "path"])["score"]
    # HTI: 11 - (5.6 x 5.2) ^ (1/2) = 5.6037 -> 5.60 with two decimals
    assert rows[("HTI", "inform_risk/hazard_exposure")] == 5.6
    # FIN: 11 - (10.3 x 10.4) ^ (1/2) = 0.6501 -> 0.65 (one decimal gave 0.7)
    assert rows[("FIN", "inform_risk/hazard_exposure")] == 0.65
    assert "2 decimal(s), half up" in set(result.hierarchy()["round"])


# -- the operators on their own -----------------------------------------------------------------


def test_complement_geometric_formula() -> None:
    x = np.array([[4.0, 8.0], [5.0, 5.0], [10.0, 10.0], [0.0, 0.0], [10.0, 0.0]])
    w = np.array([1.0, 1.0])
    got = complement_geometric(x, w)
    # 11 - (7 x 3) ^ (1/2) = 6.417; equal parts give their value; only all-10 gives 10;
    # 10 and 0: 11 - (1 x 11) ^ (1/2) = 7.683
    np.testing.assert_allclose(got, [6.41742, 5.0, 10.0, 0.0, 7.68338], atol=1e-5)
    # weighted: 11 - (7 ^ 3 x 3) ^ (1/4) = 11 - 5.6904 = 5.3096
    weighted = complement_geometric(np.array([[4.0, 8.0]]), np.array([3.0, 1.0]))
    assert weighted[0] == pytest.approx(11 - (7.0**3 * 3.0) ** 0.25)
    # offset 0: 10 - geometric mean of (10 - x); a single 10 makes it 10
    assert complement_geometric(np.array([[10.0, 0.0]]), w, offset=0.0)[0] == 10.0


def test_missing_children_rules() -> None:
    x = np.array([[4.0, np.nan]])
    w = np.array([1.0, 1.0])
    # renormalise: the child present alone, with all the weight
    assert aggregate(Aggregation.MEAN, x, w, rule=ChildRule.RENORMALISE)[0] == 4.0
    assert aggregate(Aggregation.COMPLEMENT_GEOMETRIC, x, w, 1.0)[0] == pytest.approx(4.0)
    # zero: the missing child counts 0 with its weight: (4 + 0) / 2; 11 - (7 x 11) ^ (1/2)
    assert aggregate(Aggregation.MEAN, x, w, rule=ChildRule.ZERO)[0] == 2.0
    got = aggregate(Aggregation.COMPLEMENT_GEOMETRIC, x, w, 1.0, ChildRule.ZERO)[0]
    assert got == pytest.approx(11 - 77**0.5)


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (2.25, 1, 2.3),  # exact binary tie: Python's round() gives 2.2
        (2.35, 1, 2.4),
        (7.85, 1, 7.9),  # the float is 7.8499999..., round() gives 7.8
        (0.85, 1, 0.9),
        (1.05, 1, 1.1),
        (2.2499999999999996, 1, 2.3),  # a sum's float for 2.25 still counts as the tie
        (2.24, 1, 2.2),
        (0.125, 2, 0.13),
        (9.95, 1, 10.0),
        (6.5, 0, 7.0),
    ],
)
def test_half_up_rounding(value: float, decimals: int, expected: float) -> None:
    rounding = Rounding(decimals=decimals, mode=RoundMode.HALF_UP)
    assert round_scores(np.array([value]), rounding)[0] == expected
    shown = Decimal(f"{value:.15g}").quantize(Decimal(10) ** -decimals, ROUND_HALF_UP)
    assert float(shown) == expected  # the rule as stated, independently of round_scores


@pytest.mark.parametrize("mode", [RoundMode.HALF_UP, RoundMode.HALF_EVEN])
@pytest.mark.parametrize("decimals", [0, 1, 2])
def test_vectorised_rounding_matches_the_decimal_rule(decimals: int, mode: RoundMode) -> None:
    """Every tie on the 0-10 grid (sums like 0.1 + 0.2 included) and random floats: the fast
    path and the decimal rule agree exactly."""
    rng = np.random.default_rng(7)
    step = 10.0 ** -(decimals + 1)
    ties = np.arange(0, 100_001) * step * 5 if decimals else np.arange(0, 21) * 0.5
    sums = np.array([0.1 + 0.2, 1.1 + 1.15, 2.675, 1.005, 0.1 * 3, 7.7 + 8.0 + 7.1])
    values = np.concatenate([ties[ties <= 10], sums, rng.uniform(0, 10, 20_000)])
    how = ROUND_HALF_UP if mode is RoundMode.HALF_UP else ROUND_HALF_EVEN
    quantum = Decimal(10) ** -decimals
    want = [float(Decimal(f"{v:.15g}").quantize(quantum, how)) for v in values]
    got = round_scores(values, Rounding(decimals=decimals, mode=mode))
    np.testing.assert_array_equal(got, want)


def test_half_up_differs_from_bankers_rounding() -> None:
    values = np.array([2.25, 0.125, 6.5, np.nan])
    assert [round(v, d) for v, d in ((2.25, 1), (0.125, 2), (6.5, 0))] == [2.2, 0.12, 6.0]
    up = round_scores(values, Rounding(decimals=1))
    np.testing.assert_array_equal(up[:3], [2.3, 0.1, 6.5])
    assert np.isnan(up[3])
    even = round_scores(values, Rounding(decimals=1, mode=RoundMode.HALF_EVEN))
    np.testing.assert_array_equal(even[:3], [2.2, 0.1, 6.5])


# -- rules that make no sense are refused, naming the line -------------------------------------


@pytest.mark.parametrize(
    ("aggregation", "rule", "message"),
    [
        ("complement_product", "renormalise", "complement_product cannot renormalise"),
        ("max", "renormalise", "max takes one of the children present"),
        ("first", "zero", "first takes one of the children present"),
    ],
)
def test_a_rule_an_aggregation_cannot_follow_is_refused(
    tmp_path: Path, aggregation: str, rule: str, message: str
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        f"""\
id: m
version: "1"
title: m
indicators:
  - {{id: a, name: A, source: table, values: {{FIN: 1}}}}
  - {{id: b, name: B, source: table, values: {{FIN: 2}}}}
factors:
  - id: f
    aggregation: {aggregation}
    missing: {rule}
    children: [{{indicator: a}}, {{indicator: b}}]
""",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as exc:
        load_method(path)
    (problem,) = exc.value.problems
    assert message in problem.message
    assert problem.line == 8 and "m.yaml" in problem.file


def test_complement_product_keeps_treating_a_missing_child_as_zero(tmp_path: Path) -> None:
    """The old behaviour stays the default: 10 x (1 - (1 - 0.6)) = 6 with the other child
    missing; `rule: zero` says so explicitly and gives the same."""
    for missing in ("{min_coverage: 0.5}", "{min_coverage: 0.5, rule: zero}"):
        path = tmp_path / "m.yaml"
        path.write_text(
            f"""\
id: m
version: "1"
title: m
indicators:
  - {{id: a, name: A, source: table, values: {{FIN: 6}}}}
  - {{id: b, name: B, source: table, values: {{SWE: 2}}}}
factors:
  - id: f
    aggregation: complement_product
    missing: {missing}
    children: [{{indicator: a}}, {{indicator: b}}]
""",
            encoding="utf-8",
        )
        result = compute(load_method(path), {}, dt.date(2025, 12, 31), ["FIN"])
        assert float(result.nodes["score"].iloc[0]) == pytest.approx(6.0)


def test_the_json_schema_accepts_the_inform_method(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    from riskapp.baseline.method import method_json_schema

    schema = method_json_schema()
    data = yaml.safe_load(INFORM.replace("{min_coverage: 0.5, rule: renormalise}", "renormalise"))
    jsonschema.validate(data, schema)  # `missing: renormalise`, `round` and the new aggregation
    assert load_method(write_inform(tmp_path, yaml.safe_dump(data))).factors
    data["factors"][0]["children"][0]["missing"] = "renormalize"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)
