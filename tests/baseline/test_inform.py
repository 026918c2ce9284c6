"""A published composite index expressed node by node: the shape of the INFORM Risk Index.

INFORM Risk = (Hazard & Exposure x Vulnerability x Lack of coping capacity) ^ (1/3), a geometric
mean of three dimensions; Hazard & Exposure combines its natural and human categories, and the
natural hazards among themselves, by the complement product 10 * (1 - prod(1 - x_i / 10)); the
Vulnerability and Lack-of-coping-capacity categories are arithmetic means. Expert tables stand in
for INFORM's indicators here; the tree is what is being tested.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from riskapp.baseline.build import compute, load_method

INFORM_SHAPED = """\
id: inform_shape
version: "1"
title: INFORM-shaped tree
indicators:
  - {id: earthquake, name: Earthquake, source: table, values: {FIN: 6, SWE: 0}}
  - {id: flood, name: Flood, source: table, values: {FIN: 4, SWE: 2}}
  - {id: conflict, name: Current conflict, source: table, values: {FIN: 5, SWE: 0}}
  - {id: socio_economic, name: Socio-economic vulnerability, source: table,
     values: {FIN: 4, SWE: 2}}
  - {id: vulnerable_groups, name: Vulnerable groups, source: table, values: {FIN: 6}}
  - {id: institutional, name: Institutional, source: table, values: {FIN: 3, SWE: 1}}
  - {id: infrastructure, name: Infrastructure, source: table, values: {FIN: 5, SWE: 3}}
factors:
  - id: inform_risk
    aggregation: geometric_mean
    children:
      - id: hazard_exposure
        aggregation: complement_product
        children:
          - id: natural
            aggregation: complement_product
            children: [{indicator: earthquake}, {indicator: flood}]
          - id: human
            aggregation: mean
            children: [{indicator: conflict}]
      - id: vulnerability
        aggregation: mean
        missing: {min_coverage: 0.5}
        children: [{indicator: socio_economic}, {indicator: vulnerable_groups}]
      - id: lack_of_coping_capacity
        aggregation: mean
        children: [{indicator: institutional}, {indicator: infrastructure}]
"""


def test_inform_shaped_method_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "inform.yaml"
    path.write_text(INFORM_SHAPED, encoding="utf-8")
    method = load_method(path)
    result = compute(method, {}, dt.date(2025, 12, 31), ["FIN", "SWE"])
    nodes = result.nodes.set_index(["country", "path"])
    natural = 10 * (1 - (1 - 0.6) * (1 - 0.4))  # 7.6
    hazard = 10 * (1 - (1 - natural / 10) * (1 - 0.5))  # 8.8
    assert nodes.loc[("FIN", "inform_risk/hazard_exposure/natural"), "score"] == pytest.approx(
        natural
    )
    assert nodes.loc[("FIN", "inform_risk/hazard_exposure"), "score"] == pytest.approx(hazard)
    risk = (hazard * 5.0 * 4.0) ** (1 / 3)  # about 5.60
    assert nodes.loc[("FIN", "inform_risk"), "score"] == pytest.approx(risk)
    # SWE lacks one vulnerability indicator: re-weighted (coverage 0.5), reliability lowered
    swe_v = nodes.loc[("SWE", "inform_risk/vulnerability")]
    assert swe_v["score"] == pytest.approx(2.0) and swe_v["coverage"] == pytest.approx(0.5)
    # no hazard at all in SWE except floods: the geometric mean keeps risk low but not zero
    swe = nodes.loc[("SWE", "inform_risk"), "score"]
    assert swe == pytest.approx(math.pow(2.0 * 2.0 * 2.0, 1 / 3))
    assert nodes.loc[("SWE", "inform_risk"), "reliability"] == pytest.approx((1 + 0.5 + 1) / 3)
