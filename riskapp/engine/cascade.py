"""Dependency cascades: an asset loses part of its value when what it depends on is damaged.

A dependency link (see `DependencyLink`) says which share of a dependent's exposed value rides
on one provider (a plant on a port, a data centre on a cable). Within one scenario, with d[a]
the damage ratio an asset takes directly above the status quo (the scenario's increment, as
the expected annual loss counts it, on both loss bases) and D[a] its total damage ratio:

    cascade[a] = sum over single links k of a:        share_k x D[provider_k]
               + sum over redundancy groups R of a:   share_R x prod_{k in R} D[provider_k]
    D[a]       = min(1, d[a] + cascade[a])

A provider's damage ratio is read as the fraction of what it delivers that is lost (or the
probability that it fails); redundant providers fail independently, so a group of them is lost
only as far as all fail together (two cables each cut at 0.5: 0.25 of the group's share is
lost). Assets are evaluated dependency-first (providers before the assets that rely on them),
so cascades run along chains: an asset that depends on a damaged asset passes its own total
damage on. The total is capped at 1, as no asset loses more than its exposed value in one
scenario.

The cascade loss of an asset is `exposed_value x (D - d)`, the part of its loss that arrives
through its dependencies; its share of the asset's loss is `(D - d) / D`. Assets without links
(or with links of share 0) take only their direct damage. Cascades are evaluated per scenario:
in a simulated year with several scenarios each scenario's cascade is computed on its own
damage, and the years' losses add up. What cascades is what a scenario adds: the status quo's
own damage is not propagated (on the absolute basis the status-quo loss is counted once, on the
assets themselves, without the losses it may pass on through dependencies).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskapp.domain.assets import DependencyLink
from riskapp.domain.workspace import Workspace
from riskapp.engine.scoring import ScoreResult

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class CascadeGraph:
    """The dependency graph as arrays, nodes dependency-first.

    `assets[k]`: register row of node k. A *term* is one single link or one redundancy group
    of a dependent: `term_share[m]`, its providers `member_node[term_ptr[m]:term_ptr[m + 1]]`.
    `dependents` are the nodes with terms, ordered by level (a node's level is one more than
    its providers' highest; nodes without terms have level 0); terms are ordered by
    dependent. `level_terms[l]` and `level_dependents[l]` are the slices of level l + 1.
    """

    assets: IntArray  # (K,)
    dependents: IntArray  # (D,) node indices
    term_share: FloatArray  # (M,)
    term_ptr: IntArray  # (M + 1,)
    member_node: IntArray  # (L,)
    dependent_term_start: IntArray  # (D,) first term of each dependent
    level_terms: list[tuple[int, int]]
    level_dependents: list[tuple[int, int]]

    @property
    def size(self) -> int:
        return len(self.assets)

    @property
    def dependent_assets(self) -> IntArray:
        """Register rows of the dependents (the assets that can take cascade losses)."""
        result: IntArray = self.assets[self.dependents]
        return result

    @functools.cached_property
    def _padded(self) -> list[tuple[IntArray, FloatArray, IntArray, IntArray]]:
        """Per level: the terms' member nodes (M, S), padded with the row of ones K; their
        shares (M,); each dependent's terms (D, R) within the level, padded with the row of
        zeros M; the dependents' nodes (D,). Built once per graph."""
        out = []
        n_terms = len(self.term_share)
        for (t0, t1), (d0, d1) in zip(self.level_terms, self.level_dependents, strict=True):
            sizes = np.diff(self.term_ptr[t0 : t1 + 1])
            members = np.full((t1 - t0, int(sizes.max())), self.size, dtype=np.int64)
            which = np.repeat(np.arange(t1 - t0), sizes)
            slot = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
            lo = int(self.term_ptr[t0])
            members[which, slot] = self.member_node[lo : lo + int(sizes.sum())]
            starts = self.dependent_term_start[d0:d1]
            stops = np.r_[self.dependent_term_start[d0 + 1 : d1 + 1], n_terms][: d1 - d0]
            stops = np.minimum(stops, t1)
            count = stops - starts
            terms = np.full((d1 - d0, int(count.max())), t1 - t0, dtype=np.int64)
            which = np.repeat(np.arange(d1 - d0), count)
            slot = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
            terms[which, slot] = np.arange(int(count.sum()))
            out.append((members, self.term_share[t0:t1], terms, self.dependents[d0:d1]))
        return out

    def propagate(self, direct: FloatArray) -> FloatArray:
        """Total damage ratio of every node, shape (n, K), from direct damage (n, K).

        Rows are independent cases (scenarios, or simulated (trial, scenario) pairs). Worked
        with the cases along the rows of a working array (node rows contiguous), products and
        sums over the padded terms of each level.
        """
        n = direct.shape[0]
        if n == 0:
            return np.array(direct, dtype=float, copy=True)
        work = np.empty((self.size + 1, n))
        work[: self.size] = np.asarray(direct, dtype=float).T
        self._levels(work)
        result: FloatArray = np.ascontiguousarray(work[: self.size].T)
        return result

    def dependent_cascade(self, damage: FloatArray, node_group: IntArray) -> FloatArray:
        """(n, D) what reaches each dependent through its dependencies, total - direct damage
        ratio, when node k takes the damage of group `node_group[k]` of (n, G) group damage:
        `propagate` without building the (n, K) node arrays."""
        n = damage.shape[0]
        if n == 0:
            return np.zeros((0, len(self.dependents)))
        by_group = np.ascontiguousarray(np.asarray(damage, dtype=float).T)  # (G, n)
        work = np.empty((self.size + 1, n))
        work[: self.size] = by_group[node_group]
        self._levels(work)
        dep = self.dependents
        result: FloatArray = (work[dep] - by_group[node_group[dep]]).T
        return result

    def _levels(self, work: FloatArray) -> None:
        """Propagate in place: `work` (K + 1, n) holds direct damage in its first K rows."""
        n = work.shape[1]
        work[self.size] = 1.0  # the padding of the members: multiplies by 1
        for members, share, terms, nodes in self._padded:
            contrib = np.empty((len(share) + 1, n))
            prod = work[members[:, 0]]
            for k in range(1, members.shape[1]):
                prod *= work[members[:, k]]
            contrib[:-1] = prod * share[:, np.newaxis]
            contrib[-1] = 0.0  # the padding of the terms: adds 0
            cascade = contrib[terms[:, 0]]
            for k in range(1, terms.shape[1]):
                cascade += contrib[terms[:, k]]
            work[nodes] = np.minimum(work[nodes] + cascade, 1.0)


def build_graph(
    asset_ids: Sequence[str] | pd.Series, links: Sequence[DependencyLink]
) -> CascadeGraph:
    """Compile links into a `CascadeGraph` over the register `asset_ids` (links of share 0 are
    dropped; a link naming an unknown asset or closing a cycle raises ValueError).

    A term is one (dependent, redundancy group) of the links (a link outside a group is a term
    of its own) with the share of its first link and its providers in link order; terms are in
    the order their first link comes, nodes sorted by (level, register row). Worked out on
    arrays: one pass reads the links' fields, the rest is numpy."""
    n_links = len(links)
    dep_id = np.empty(n_links, dtype=object)
    prov_id = np.empty(n_links, dtype=object)
    group_of = np.empty(n_links, dtype=object)
    dep_id[:] = [link.asset_id for link in links]
    prov_id[:] = [link.depends_on for link in links]
    group_of[:] = [link.redundancy_group or None for link in links]
    share = np.fromiter((link.share for link in links), dtype=float, count=n_links)
    index = pd.Index(asset_ids)
    dep_row = index.get_indexer(pd.Index(dep_id)) if n_links else np.zeros(0, np.int64)
    prov_row = index.get_indexer(pd.Index(prov_id)) if n_links else np.zeros(0, np.int64)
    kept = np.flatnonzero(share > 0)
    unknown = kept[(dep_row[kept] < 0) | (prov_row[kept] < 0)]
    if len(unknown):
        n = int(unknown[0])
        missing = dep_id[n] if dep_row[n] < 0 else prov_id[n]
        raise ValueError(f"dependency link {n}: no asset {missing!r} in the register")
    dep_row, prov_row = dep_row[kept].astype(np.int64), prov_row[kept].astype(np.int64)
    share, group_of = share[kept], group_of[kept]
    n_rows = len(index)

    # terms: (dependent, group) for grouped links, (dependent, provider) for the others, in
    # the order of their first link
    grouped = pd.notna(group_of)
    group_code = pd.factorize(group_of)[0]  # -1 outside a group
    tag = np.where(grouped, group_code, group_code.max(initial=-1) + 1 + prov_row)
    term_of, _ = pd.factorize(dep_row * (int(tag.max(initial=0)) + 1) + tag)
    n_terms = int(term_of.max(initial=-1)) + 1
    first = np.full(n_terms, len(term_of), dtype=np.int64)
    np.minimum.at(first, term_of, np.arange(len(term_of)))
    term_dep = dep_row[first]  # register row of each term's dependent

    # levels: a node's is one more than its providers' highest (0 without terms)
    nodes = np.unique(np.concatenate([dep_row, prov_row]))
    level = _levels(n_rows, dep_row, prov_row, nodes, asset_ids, term_of, term_dep)
    node_level = level[nodes]
    order = np.lexsort((nodes, node_level))
    nodes, node_level = nodes[order], node_level[order]
    node_index = np.full(n_rows, -1, dtype=np.int64)
    node_index[nodes] = np.arange(len(nodes))
    dependents = np.flatnonzero(node_level > 0)

    # terms by dependent (then in the order of their first link), members in link order
    term_order = np.argsort(node_index[term_dep], kind="stable")
    term_rank = np.empty(n_terms, dtype=np.int64)
    term_rank[term_order] = np.arange(n_terms)
    link_order = np.argsort(term_rank[term_of], kind="stable")
    counts = np.bincount(term_rank[term_of], minlength=n_terms)
    sorted_dep = node_index[term_dep[term_order]]
    dep_start = np.searchsorted(sorted_dep, dependents)
    dep_levels = node_level[dependents]
    levels = np.arange(1, int(dep_levels.max(initial=0)) + 1)
    d_lo = np.searchsorted(dep_levels, levels, side="left")
    d_hi = np.searchsorted(dep_levels, levels, side="right")
    t_lo = np.searchsorted(sorted_dep, dependents[d_lo]) if len(levels) else d_lo
    t_hi = np.r_[t_lo[1:], n_terms] if len(levels) else d_hi
    return CascadeGraph(
        assets=nodes.astype(np.int64),
        dependents=dependents.astype(np.int64),
        term_share=share[first[term_order]].astype(float),
        term_ptr=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        member_node=node_index[prov_row[link_order]],
        dependent_term_start=dep_start.astype(np.int64),
        level_terms=list(zip(t_lo.tolist(), t_hi.tolist(), strict=True)),
        level_dependents=list(zip(d_lo.tolist(), d_hi.tolist(), strict=True)),
    )


LEVEL_ROUNDS = 64
"""Rounds of `_levels`' relaxation before it hands over to the walk that finds a cycle (real
dependency chains are a few links deep)."""


def _levels(
    n_rows: int,
    dep_row: IntArray,
    prov_row: IntArray,
    nodes: IntArray,
    asset_ids: Sequence[str] | pd.Series,
    term_of: IntArray,
    term_dep: IntArray,
) -> IntArray:
    """Each register row's level (0 where it depends on nothing), by rounds over all the links
    at once: a dependent's level becomes one more than its providers' highest until none
    changes. A graph still changing after LEVEL_ROUNDS rounds has a cycle or a very long
    chain: `_walk_levels` tells which (and words the cycle)."""
    level = np.zeros(n_rows, dtype=np.int64)
    for _ in range(LEVEL_ROUNDS):
        new = level.copy()
        np.maximum.at(new, dep_row, level[prov_row] + 1)
        if np.array_equal(new, level):
            return level
        level = new
    ids = np.asarray(asset_ids, dtype=object)
    return _walk_levels(n_rows, ids, dep_row, prov_row, nodes, term_of, term_dep)


def _walk_levels(
    n_rows: int,
    ids: npt.NDArray[np.object_],
    dep_row: IntArray,
    prov_row: IntArray,
    nodes: IntArray,
    term_of: IntArray,
    term_dep: IntArray,
) -> IntArray:
    """Levels by a depth-first walk from each node in register order (providers of a term in
    link order): ValueError naming the first cycle it meets."""
    providers: dict[int, list[int]] = {}
    by_term = np.argsort(term_of, kind="stable")  # terms in order, each one's links in order
    for t, p in zip(term_of[by_term].tolist(), prov_row[by_term].tolist(), strict=True):
        providers.setdefault(int(term_dep[t]), []).append(p)
    level: dict[int, int] = {}

    def level_of(node: int, path: tuple[int, ...]) -> int:
        if node in level:
            return level[node]
        if node in path:
            raise ValueError("dependency cycle: " + " -> ".join(str(ids[a]) for a in (*path, node)))
        below = [level_of(m, (*path, node)) for m in providers.get(node, [])]
        level[node] = 1 + max(below) if below else 0
        return level[node]

    for node in nodes.tolist():
        level_of(node, ())
    out = np.zeros(n_rows, dtype=np.int64)
    out[list(level)] = list(level.values())
    return out


@dataclass(frozen=True)
class CascadeResult:
    """Direct and cascade loss of every dependent asset in every scenario."""

    asset_ids: list[str]  # the dependents
    scenario_ids: list[str]
    frequencies: FloatArray  # (S,)
    direct_loss: FloatArray  # (D, S)
    cascade_loss: FloatArray  # (D, S)

    @property
    def total_loss(self) -> FloatArray:
        result: FloatArray = self.direct_loss + self.cascade_loss
        return result

    def cascade_share(self) -> FloatArray:
        """(D, S) share of each asset's loss that arrives through its dependencies."""
        total = self.total_loss
        result: FloatArray = np.divide(
            self.cascade_loss, total, out=np.zeros_like(total), where=total > 0
        )
        return result

    def scenario_cascade_loss(self) -> FloatArray:
        """(S,) portfolio cascade loss per scenario (to add to the scenario's direct loss)."""
        result: FloatArray = self.cascade_loss.sum(axis=0)
        return result

    def cascade_eal(self) -> FloatArray:
        """(D,) expected annual cascade loss of each dependent."""
        result: FloatArray = self.cascade_loss @ self.frequencies
        return result

    def table(self) -> pd.DataFrame:
        """One row per (scenario, dependent asset): direct, cascade and total loss, share."""
        n_d, n_s = self.direct_loss.shape
        return pd.DataFrame(
            {
                "scenario_id": np.repeat(np.asarray(self.scenario_ids, dtype=object), n_d),
                "asset_id": np.tile(np.asarray(self.asset_ids, dtype=object), n_s),
                "direct_loss": self.direct_loss.T.reshape(-1),
                "cascade_loss": self.cascade_loss.T.reshape(-1),
                "total_loss": self.total_loss.T.reshape(-1),
                "cascade_share": self.cascade_share().T.reshape(-1),
            }
        )


def cascade_losses(
    ws: Workspace, result: ScoreResult, links: Sequence[DependencyLink]
) -> CascadeResult:
    """Cascade loss of every dependent asset in every scenario of a deterministic score.

    What propagates is each scenario's damage above the status quo (`ScoreResult.increment`),
    on both loss bases, as in the Monte Carlo: cascades are disruptions a scenario causes; the
    status quo's own damage is not propagated."""
    graph = build_graph(ws.portfolio.series("id"), links)
    groups = result.inputs.groups.of_asset
    exposed = result.inputs.exposed_value
    direct = result.increment[:, groups[graph.assets]]  # (S, K)
    total = graph.propagate(direct)
    dep = graph.dependents
    value = exposed[graph.assets[dep]]
    ids = ws.portfolio.series("id").to_numpy(dtype=object)
    return CascadeResult(
        asset_ids=[str(a) for a in ids[graph.assets[dep]]],
        scenario_ids=list(result.scenario_ids),
        frequencies=result.frequencies,
        direct_loss=(direct[:, dep] * value).T.copy(),
        cascade_loss=((total[:, dep] - direct[:, dep]) * value).T.copy(),
    )
