"""The dependency graph peeled in arrays (`peels_bare`) before a walk in Python (`find_cycle`):
bare only where the walk finds no cycle, and bare for every acyclic graph no deeper than the
rounds it peels."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from riskapp.domain.assets import PEEL_ROUNDS, find_cycle, peels_bare


def depth(n: int, edges: list[tuple[int, int]]) -> int:
    """The longest path's number of edges in an acyclic graph."""
    out: dict[int, list[int]] = {}
    for a, b in edges:
        out.setdefault(a, []).append(b)
    memo: dict[int, int] = {}

    def longest(v: int) -> int:
        if v not in memo:
            memo[v] = max((1 + longest(w) for w in out.get(v, [])), default=0)
        return memo[v]

    return max((longest(v) for v in range(n)), default=0)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 12).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(-1, n - 1)), max_size=30),
        )
    )
)
def test_bare_only_without_a_cycle_and_always_for_a_shallow_acyclic_graph(case) -> None:  # type: ignore[no-untyped-def]
    n, edges = case
    edges = [(a, b) for a, b in edges if a != b]
    source = np.array([a for a, _ in edges], dtype=np.int64)
    target = np.array([b for _, b in edges], dtype=np.int64)
    graph: dict[str, list[str]] = {}
    for a, b in edges:
        if b >= 0:  # an edge to -1 leads nowhere
            graph.setdefault(str(a), []).append(str(b))
    cycle = find_cycle(graph)
    bare = peels_bare(source, target, n)
    if cycle is not None:
        assert not bare
    elif depth(n, [(a, b) for a, b in edges if b >= 0]) <= PEEL_ROUNDS:
        assert bare


def test_a_chain_deeper_than_the_rounds_is_left_to_the_walk() -> None:
    n = PEEL_ROUNDS + 5
    chain = np.arange(n - 1, dtype=np.int64)
    assert not peels_bare(chain, chain + 1, n)  # acyclic, but find_cycle must say so
    assert find_cycle({str(i): [str(i + 1)] for i in range(n - 1)}) is None
    assert peels_bare(chain[:PEEL_ROUNDS], chain[:PEEL_ROUNDS] + 1, n)
