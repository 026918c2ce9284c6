"""Dependency cascades on small hand-built graphs, every figure worked out by hand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from riskapp.domain import Workspace
from riskapp.domain.assets import DependencyLink, DependencyTable
from riskapp.engine import score
from riskapp.engine.cascade import CascadeGraph, build_graph, cascade_losses


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
    # a link need not be listed in the register's depends_on (P1 -> O1 is not): it is
    # derived from the file; both ends must be assets of the register
    table = DependencyTable(
        links=[
            link("P2", "P1", 0.5),
            link("P1", "O1", 0.5),
            link("P1", "GHOST", 0.5),
            link("Q", "P1", 1),
        ]
    )
    problems = table.problems(tiny.portfolio)
    assert [(i, f) for i, f, _ in problems] == [(2, "depends_on"), (3, "asset_id")]
    assert problems[0][2] == "no asset 'GHOST' in the register"


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


# -- build_graph against the link-by-link compilation it replaced ------------------------------


def reference_graph(
    asset_ids: Sequence[str] | pd.Series, links: Sequence[DependencyLink]
) -> CascadeGraph:
    """The graph as `build_graph` compiled it before it worked on arrays: a pass over the
    links with dicts and a depth-first walk for the levels (kept here as the reference)."""
    named = list(dict.fromkeys(a for link in links for a in (link.asset_id, link.depends_on)))
    found = pd.Index(asset_ids).get_indexer(pd.Index(named))  # rows of the linked assets only
    row = {a: int(i) for a, i in zip(named, found, strict=True) if i >= 0}
    terms: dict[tuple[str, str], tuple[float, list[str]]] = {}
    for n, link in enumerate(links):
        if link.share <= 0:
            continue
        for a in (link.asset_id, link.depends_on):
            if a not in row:
                raise ValueError(f"dependency link {n}: no asset {a!r} in the register")
        key = (link.asset_id, link.redundancy_group or f"\0{link.depends_on}")
        share, members = terms.setdefault(key, (link.share, []))
        members.append(link.depends_on)
    providers: dict[str, list[list[str]]] = {}
    for (dep, _), (_, members) in terms.items():
        providers.setdefault(dep, []).append(members)
    level: dict[str, int] = {}

    def level_of(node: str, path: tuple[str, ...]) -> int:
        if node in level:
            return level[node]
        if node in path:
            raise ValueError("dependency cycle: " + " -> ".join([*path, node]))
        below = [level_of(m, (*path, node)) for ms in providers.get(node, []) for m in ms]
        level[node] = 1 + max(below) if below else 0
        return level[node]

    nodes = sorted(
        {n for (dep, _), (_, ms) in terms.items() for n in (dep, *ms)}, key=lambda a: row[a]
    )
    for node in nodes:
        level_of(node, ())
    nodes.sort(key=lambda a: (level[a], row[a]))
    node_index = {a: k for k, a in enumerate(nodes)}
    dependents = [a for a in nodes if level[a] > 0]
    by_dep: dict[str, list[tuple[float, list[str]]]] = {}
    for (dep, _), term in terms.items():
        by_dep.setdefault(dep, []).append(term)
    shares: list[float] = []
    ptr: list[int] = [0]
    members_flat: list[int] = []
    dep_start: list[int] = []
    level_terms: list[tuple[int, int]] = []
    level_deps: list[tuple[int, int]] = []
    for d_i, dep in enumerate(dependents):
        lvl = level[dep]
        if len(level_deps) < lvl:
            level_terms.append((len(shares), len(shares)))
            level_deps.append((d_i, d_i))
        dep_start.append(len(shares))
        for share, ms in by_dep[dep]:
            shares.append(share)
            members_flat.extend(node_index[m] for m in ms)
            ptr.append(len(members_flat))
        level_terms[-1] = (level_terms[-1][0], len(shares))
        level_deps[-1] = (level_deps[-1][0], d_i + 1)
    return CascadeGraph(
        assets=np.array([row[a] for a in nodes], dtype=np.int64),
        dependents=np.array([node_index[a] for a in dependents], dtype=np.int64),
        term_share=np.array(shares, dtype=float),
        term_ptr=np.array(ptr, dtype=np.int64),
        member_node=np.array(members_flat, dtype=np.int64),
        dependent_term_start=np.array(dep_start, dtype=np.int64),
        level_terms=level_terms,
        level_dependents=level_deps,
    )


def random_links(
    rng: np.random.Generator, cycle: bool = False
) -> tuple[list[str], list[DependencyLink]]:
    """Up to 60 assets, links from later to earlier rows of a shuffled order (so no cycle unless
    asked), single links and redundancy groups (group names shared between dependents), links
    of share 0, a provider listed twice in a group, dependents before or after their
    providers in the register and in the links."""
    n = int(rng.integers(2, 60))
    ids = [f"a{i}" for i in range(n)]
    rank = rng.permutation(n)  # the dependency order, not the register's
    links = []
    for a in range(n):
        below = np.flatnonzero(rank < rank[a])
        if not len(below) or rng.random() < 0.3:
            continue
        providers = rng.choice(below, size=min(len(below), int(rng.integers(1, 5))))
        group = str(rng.choice(["g", "h"])) if rng.random() < 0.5 else None
        share = float(rng.choice([0.0, 0.1, 0.25, 0.5]))
        for b in providers.tolist():
            links.append(
                DependencyLink(
                    asset_id=ids[a],
                    depends_on=ids[b],
                    share=share if group else float(rng.choice([0.0, 0.2, 0.4])),
                    redundancy_group=group,
                )
            )
    order = rng.permutation(len(links))
    links = [links[i] for i in order.tolist()]
    if cycle and links:
        first = links[int(rng.integers(len(links)))]
        back = DependencyLink(asset_id=first.depends_on, depends_on=first.asset_id, share=0.3)
        links.insert(int(rng.integers(len(links) + 1)), back)
    return ids, links


def same_graph(a: CascadeGraph, b: CascadeGraph) -> None:
    for f in fields(CascadeGraph):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype, f.name
            np.testing.assert_array_equal(x, y, err_msg=f.name)
        else:
            assert x == y, f.name


@pytest.mark.parametrize("seed", range(300))
def test_build_graph_is_the_link_by_link_compilation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ids, links = random_links(rng, cycle=seed % 5 == 0)
    register = list(ids) if seed % 2 else pd.Series(ids[::-1])
    try:
        expected = reference_graph(register, links)
    except ValueError as exc:
        with pytest.raises(ValueError) as caught:
            build_graph(register, links)
        assert str(caught.value) == str(exc)
        return
    same_graph(build_graph(register, links), expected)


def test_build_graph_names_the_first_unknown_asset_as_before() -> None:
    links = [link("a", "b", 0.0), link("x", "a", 0.0), link("a", "y", 0.5), link("z", "a", 0.5)]
    with pytest.raises(ValueError) as caught:
        build_graph(["a", "b"], links)
    with pytest.raises(ValueError) as expected:
        reference_graph(["a", "b"], links)
    assert (
        str(caught.value)
        == str(expected.value)
        == ("dependency link 2: no asset 'y' in the register")
    )
    same_graph(build_graph(["a"], []), reference_graph(["a"], []))


def test_build_graph_on_the_demo_and_a_long_chain() -> None:
    from riskapp.io import load_workspace
    from riskapp.io.dependencies import load_dependencies
    from tests.conftest import DEMO

    ws = load_workspace(DEMO)
    links = load_dependencies(DEMO / "dependencies.csv", ws.portfolio)
    ids = ws.portfolio.series("id")
    same_graph(build_graph(ids, links), reference_graph(ids, links))
    # deeper than the rounds of the relaxation: the walk takes over and agrees
    chain_ids = [f"c{i}" for i in range(200)]
    chain = [link(chain_ids[i + 1], chain_ids[i], 0.5) for i in range(199)]
    graph = build_graph(chain_ids, chain)
    same_graph(graph, reference_graph(chain_ids, chain))
    assert len(graph.level_terms) == 199
