"""Dependency cascades on small hand-built graphs, every figure worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from riskapp.domain import Workspace
from riskapp.domain.assets import DependencyLink, DependencyTable
from riskapp.engine import score
from riskapp.engine.cascade import build_graph, cascade_losses


def link(a: str, b: str, share: float, group: str | None = None) -> DependencyLink:
    return DependencyLink(asset_id=a, depends_on=b, share=share, redundancy_group=group)


def total(
    ids: list[str], links: list[DependencyLink], direct: dict[str, float]
) -> dict[str, float]:
    """Propagate one case and return every node's total damage by asset id."""
    graph = build_graph(ids, links)
    d = np.array([[direct.get(ids[a], 0.0) for a in graph.assets]])
    out = graph.propagate(d)[0]
    return {ids[a]: float(v) for a, v in zip(graph.assets, out, strict=True)}


def test_chain_propagates_totals_not_direct_damage() -> None:
    # port <- plant (0.5) <- warehouse (0.4)
    ids = ["port", "plant", "warehouse"]
    links = [link("plant", "port", 0.5), link("warehouse", "plant", 0.4)]
    got = total(ids, links, {"port": 0.6, "plant": 0.1})
    assert got["port"] == pytest.approx(0.6)
    assert got["plant"] == pytest.approx(0.1 + 0.5 * 0.6)  # 0.4
    assert got["warehouse"] == pytest.approx(0.4 * 0.4)  # 0.16, via the plant's total


def test_diamond_adds_both_paths() -> None:
    # a feeds b (0.5) and c (0.5); d depends on b (0.3) and c (0.2)
    ids = ["d", "c", "b", "a"]  # register order does not matter
    links = [
        link("b", "a", 0.5),
        link("c", "a", 0.5),
        link("d", "b", 0.3),
        link("d", "c", 0.2),
    ]
    got = total(ids, links, {"a": 0.8})
    assert got["b"] == pytest.approx(0.4) and got["c"] == pytest.approx(0.4)
    assert got["d"] == pytest.approx(0.3 * 0.4 + 0.2 * 0.4)


def test_redundant_pair_needs_both_to_fail() -> None:
    ids = ["dc", "cable_1", "cable_2"]
    links = [link("dc", "cable_1", 0.6, "cables"), link("dc", "cable_2", 0.6, "cables")]
    assert total(ids, links, {"cable_1": 1.0})["dc"] == 0.0  # one cable cut: no loss
    assert total(ids, links, {"cable_1": 1.0, "cable_2": 1.0})["dc"] == pytest.approx(0.6)
    assert total(ids, links, {"cable_1": 0.5, "cable_2": 1.0})["dc"] == pytest.approx(0.3)
    # the same two cables as single links: each counts on its own
    single = [link("dc", "cable_1", 0.6), link("dc", "cable_2", 0.6)]
    assert total(ids, single, {"cable_1": 1.0})["dc"] == pytest.approx(0.6)


def test_redundant_group_next_to_a_single_link() -> None:
    ids = ["dc", "cable_1", "cable_2", "grid"]
    links = [
        link("dc", "cable_1", 0.5, "cables"),
        link("dc", "cable_2", 0.5, "cables"),
        link("dc", "grid", 0.2),
    ]
    got = total(ids, links, {"cable_1": 0.5, "cable_2": 0.4, "grid": 0.5, "dc": 0.1})
    assert got["dc"] == pytest.approx(0.1 + 0.5 * 0.5 * 0.4 + 0.2 * 0.5)


def test_total_damage_is_capped_at_one() -> None:
    ids = ["plant", "port"]
    got = total(ids, [link("plant", "port", 0.5)], {"plant": 0.9, "port": 1.0})
    assert got["plant"] == 1.0


def test_several_cases_at_once_and_zero_shares() -> None:
    ids = ["a", "b", "c"]
    graph = build_graph(ids, [link("b", "a", 0.5), link("c", "a", 0.0)])
    assert [ids[a] for a in graph.assets] == ["a", "b"]  # a share of 0 propagates nothing
    out = graph.propagate(np.array([[0.2, 0.0], [1.0, 0.7], [0.0, 0.0]]))
    assert out[:, 1] == pytest.approx([0.1, 1.0, 0.0])


def test_cycles_and_unknown_assets_are_refused() -> None:
    with pytest.raises(ValueError, match="dependency cycle"):
        build_graph(["a", "b"], [link("a", "b", 0.5), link("b", "a", 0.5)])
    with pytest.raises(ValueError, match="no asset 'z'"):
        build_graph(["a"], [link("a", "z", 0.5)])


def test_dependency_table_checks(tiny: Workspace) -> None:
    with pytest.raises(ValidationError, match="defined more than once"):
        DependencyTable(links=[link("P2", "P1", 0.5), link("P2", "P1", 0.3)])
    with pytest.raises(ValidationError, match="states different shares"):
        DependencyTable(links=[link("x", "a", 0.5, "g"), link("x", "b", 0.3, "g")])
    with pytest.raises(ValidationError):
        link("P2", "P1", 1.5)
    table = DependencyTable(
        links=[link("P2", "P1", 0.5), link("P1", "O1", 0.5), link("Q", "P1", 1)]
    )
    problems = table.problems(tiny.portfolio)
    assert [(i, f) for i, f, _ in problems] == [(1, "depends_on"), (2, "asset_id")]
    assert "does not list 'O1' in depends_on" in problems[0][2]


def test_cascade_losses_on_the_tiny_workspace(tiny: Workspace) -> None:
    # P2 (exposed 250) depends on P1 in assets.csv; half of its value rides on it.
    # What propagates is each scenario's damage above the status quo (base: P1 0.2, P2 0.46),
    # so the status quo is not counted again in every scenario (it was: 25 in each):
    # base: no increment: 0
    # s1:   P1 0.6 - 0.2 = 0.4, P2 0.88 - 0.46 = 0.42 -> min(1, 0.42 + 0.5 x 0.4) = 0.62:
    #       cascade 0.2 x 250 = 50
    # s2:   P1 and P2 as base: 0
    result = score(tiny)
    casc = cascade_losses(tiny, result, [link("P2", "P1", 0.5)])
    assert casc.asset_ids == ["P2"]
    assert casc.cascade_loss[0] == pytest.approx([0.0, 50.0, 0.0])
    assert casc.direct_loss[0] == pytest.approx([0.0, 105.0, 0.0])
    assert casc.cascade_share()[0, 1] == pytest.approx(50.0 / 155.0)
    assert casc.cascade_eal()[0] == pytest.approx(0.1 * 50)
    table = casc.table()
    assert list(table["scenario_id"]) == ["base", "s1", "s2"]
    assert table["total_loss"].tolist() == pytest.approx([0.0, 155.0, 0.0])
