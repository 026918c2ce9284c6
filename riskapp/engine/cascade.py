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
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskapp.domain.assets import DependencyLink
from riskapp.domain.workspace import Workspace
from riskapp.engine.scoring import ScoreResult

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

CAP_MARGIN = 1e-9  # a leaf is checked against its cap where its bound comes this close to 1


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
    dropped; a link naming an unknown asset or closing a cycle raises ValueError)."""
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


def _ranges(starts: IntArray, stops: IntArray) -> IntArray:
    """The integers of the ranges starts[i]:stops[i], concatenated (no Python loop)."""
    lengths = stops - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.cumsum(np.r_[0, lengths[:-1]]), lengths)
    result: IntArray = (offsets + np.arange(total)).astype(np.int64)
    return result


@dataclass(frozen=True)
class _Terms:
    """Terms over the rows of a working array (cases in columns): term m multiplies the rows
    `members[m]` (one for a single link, several for a redundancy group; padded with the
    working array's last row, all ones) and carries the weight `weight[m]`."""

    members: IntArray  # (M, S)
    weight: FloatArray  # (M,)

    @property
    def count(self) -> int:
        return len(self.weight)

    def values(self, work: FloatArray) -> FloatArray:
        """(M, n) each term's product of its members' rows of `work` (width + 1, n)."""
        out: FloatArray = work[self.members[:, 0]]
        for k in range(1, self.members.shape[1]):
            out *= work[self.members[:, k]]
        return out

    def subset(self, index: IntArray) -> _Terms:
        return _Terms(self.members[index], self.weight[index])


def _terms(
    graph: CascadeGraph,
    term_index: IntArray,
    row_of_node: IntArray,
    weight: FloatArray,
    one: int,
) -> _Terms:
    """The terms `term_index` of the graph over working-array rows (`row_of_node`), padded
    with the row of ones `one`."""
    lo, hi = graph.term_ptr[term_index], graph.term_ptr[term_index + 1]
    size = hi - lo
    members = np.full((len(term_index), int(size.max()) if len(size) else 1), one, dtype=np.int64)
    which = np.repeat(np.arange(len(term_index)), size)
    slot = np.arange(int(size.sum())) - np.repeat(np.cumsum(size) - size, size)
    members[which, slot] = row_of_node[graph.member_node[_ranges(lo, hi)]]
    return _Terms(members, np.asarray(weight, dtype=float))


def _merged(terms: _Terms) -> tuple[_Terms, IntArray]:
    """The same weighted sum with terms of the same members merged (their weights added):
    redundancy groups of providers that take the same damage share one product. Also gives
    each term's merged term."""
    if not terms.count:
        return terms, np.zeros(0, dtype=np.int64)
    key = np.sort(terms.members, axis=1)
    unique, inverse = np.unique(key, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1).astype(np.int64)
    weight = np.bincount(inverse, weights=terms.weight, minlength=len(unique))
    return _Terms(unique.astype(np.int64), weight.astype(float)), inverse


def _starts(counts: IntArray) -> IntArray:
    result: IntArray = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
    return result


def sum_rows(rows: FloatArray) -> FloatArray:
    """(n,) the sum of the rows of (m, n) `rows`, added by halves with elementwise additions:
    each case's (column's) sum is the same whatever the other cases of the array, so that a
    simulated year's loss does not depend on how the years are batched (a matrix-vector product
    or a reduction along the rows gives no such guarantee: both group the terms differently
    for different numbers of columns)."""
    if not rows.shape[0]:
        return np.zeros(rows.shape[1])
    while rows.shape[0] > 1:
        half = rows.shape[0] // 2
        top = rows[:half] + rows[half : 2 * half]
        if rows.shape[0] % 2:
            top[-1] += rows[-1]
        rows = top
    result: FloatArray = rows[0]
    return result


def _padded_sums(terms: FloatArray, index: IntArray) -> FloatArray:
    """(P, n) for each row of `index` (P, R), the sum of the rows of `terms` (M, n) it names,
    padded with M (a row of zeros): elementwise additions, the same per case whatever the other
    cases."""
    rows = np.concatenate([terms, np.zeros((1, terms.shape[1]))])
    out = rows[index[:, 0]]
    for k in range(1, index.shape[1]):
        out += rows[index[:, k]]
    return out


def _padded_index(counts: IntArray) -> IntArray:
    """(P, R) the consecutive items of P runs of `counts` items (R = the longest run), padded
    with the number of items."""
    total = int(counts.sum())
    longest = max(1, int(counts.max())) if len(counts) else 1
    out = np.full((len(counts), longest), total, dtype=np.int64)
    which = np.repeat(np.arange(len(counts)), counts)
    slot = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    out[which, slot] = np.arange(total)
    return out


@dataclass(frozen=True)
class _Level:
    """The inner dependents of one level (dependents that others depend on in turn)."""

    terms: _Terms  # weight: share
    by_dependent: IntArray  # (P, R) each dependent's terms, padded with the number of terms
    rows: IntArray  # (P,) their rows in the working array
    group: IntArray  # (P,) their damage group


@dataclass(frozen=True)
class PortfolioCascade:
    """The portfolio's cascade loss, sum over dependents of exposed value x (D - d) as the
    module describes it, as a function of the damage of each asset group, compiled once.

    It gives the figure `CascadeGraph.propagate` gives summed over the dependents (to rounding),
    without the per-dependent table. A node's direct damage is its group's, so the providers
    without links of their own are read from the group damage; the totals of the *inner*
    dependents (dependents that others depend on) are propagated level by level; the *leaves*
    (dependents nothing depends on) add up as a weighted sum of their providers' totals (share x
    exposed value per link; redundancy groups over the same providers' damage merged). A leaf's
    total is capped at 1: for the leaves and cases where the leaf's direct damage plus the sum of
    its shares exceeds 1 (where the cap can bind) its cascade is computed exactly. Work per case
    grows with the groups, the inner dependents and the redundancy groups, not with the number
    of dependents. Each case's figure is the same whatever the other cases computed with it.

    `dependent_sums` gives each dependent's cascade loss summed over the cases, by the same
    decomposition: a leaf's cascade is linear in its providers' totals and its redundancy
    groups' products wherever its cap does not bind, so those are summed over the cases first.
    """

    n_groups: int
    levels: list[_Level]
    inner_rows: IntArray  # (I,) rows of the inner dependents (n_groups to width - 1)
    inner_group: IntArray  # (I,)
    inner_value: FloatArray  # (I,)
    inner_index: IntArray  # (I,) their positions among the graph's dependents
    leaf_rows: IntArray  # rows read by the leaves' single links
    leaf_weight: FloatArray  # (W,) share x value of the leaves' single links, per row
    leaf_groups: _Terms  # the leaves' redundancy groups, merged, weight share x value
    leaf_terms: _Terms  # every term of the leaves, weight share (the exact path)
    leaf_feature: IntArray  # each leaf term's row (a single link) or width + merged group
    leaf_starts: IntArray  # (L,) first term of each leaf in leaf_terms
    leaf_group: IntArray  # (L,)
    leaf_value: FloatArray  # (L,)
    leaf_index: IntArray  # (L,) their positions among the graph's dependents
    leaf_cap: FloatArray  # (L,) 1 - the sum of the leaf's shares: the cap can bind above it
    group_cap: FloatArray  # (G,) the lowest cap of the leaves in each group (inf: none)

    @property
    def width(self) -> int:
        return len(self.leaf_weight)

    @property
    def n_dependents(self) -> int:
        return len(self.inner_index) + len(self.leaf_index)

    @property
    def case_floats(self) -> int:
        """About the floats of working memory `loss` needs per case."""
        terms = sum(lv.terms.count for lv in self.levels) + self.leaf_groups.count
        return self.width + 1 + 2 * terms + len(self.inner_rows)

    def work(self, damage: FloatArray) -> FloatArray:
        """(width + 1, n) working array for (n, G) group damage: the groups' damage, then the
        inner dependents' totals (propagated level by level), then a row of ones."""
        n = damage.shape[0]
        work = np.empty((self.width + 1, n))
        work[: self.n_groups] = damage.T
        work[self.width] = 1.0
        for lv in self.levels:
            terms = lv.terms.values(work) * lv.terms.weight[:, np.newaxis]
            cascade = _padded_sums(terms, lv.by_dependent)
            work[lv.rows] = np.minimum(work[lv.group] + cascade, 1.0)
        return work

    def loss(self, damage: FloatArray) -> FloatArray:
        """(n,) cascade loss of the portfolio for (n, G) damage ratios of the groups (each row
        one case: a scenario, or a simulated (year, scenario) pair)."""
        n = damage.shape[0]
        if n == 0:
            return np.zeros(0)
        work = self.work(damage)
        loss = sum_rows(
            (work[self.inner_rows] - work[self.inner_group]) * self.inner_value[:, np.newaxis]
        )
        loss += sum_rows(work[self.leaf_rows] * self.leaf_weight[self.leaf_rows, np.newaxis])
        if self.leaf_groups.count:
            loss += sum_rows(self.leaf_groups.values(work) * self.leaf_groups.weight[:, np.newaxis])
        cases, leaves, excess = self._excess(work)
        if len(cases):
            # summed in leaf order over the leaves above their cap in each case only, so that
            # a case's figure does not depend on which leaves reach the cap in other cases
            leaf, case = np.nonzero(excess)  # leaf by leaf: each case's entries in leaf order
            amount = excess[leaf, case] * self.leaf_value[leaves[leaf]]
            loss[cases] += np.bincount(case, weights=amount, minlength=len(cases))
        return loss

    def dependent_sums(self, damage: FloatArray) -> FloatArray:
        """(D,) each dependent's cascade loss (exposed value x (D - d)) summed over the (n, G)
        cases, dependents in the graph's order."""
        out = np.zeros(self.n_dependents)
        if damage.shape[0] == 0:
            return out
        work = self.work(damage)
        inner = (work[self.inner_rows] - work[self.inner_group]).sum(axis=1)
        out[self.inner_index] = self.inner_value * inner
        if not len(self.leaf_index):
            return out
        features = np.concatenate(
            [work[: self.width].sum(axis=1), self.leaf_groups.values(work).sum(axis=1)]
        )
        terms = self.leaf_terms.weight * features[self.leaf_feature]
        leaf = np.add.reduceat(terms, self.leaf_starts)
        cases, leaves, excess = self._excess(work)
        if len(cases):
            leaf[leaves] += excess.sum(axis=1)
        out[self.leaf_index] = self.leaf_value * leaf
        return out

    def restrict(self, changed_groups: IntArray, damage: FloatArray) -> ScenarioCascade:
        """The cascade of cases in which only the groups `changed_groups` depart from the
        damage `damage` (G,) (a scenario's simulated years: its range-driven groups vary, the
        others take its deterministic damage), compiled into a `ScenarioCascade`."""
        return _restrict(self, np.asarray(changed_groups, dtype=np.int64), damage)

    def _excess(self, work: FloatArray) -> tuple[IntArray, IntArray, FloatArray]:
        """Where a leaf's total can reach the cap: the cases in which some group's damage
        exceeds the lowest cap of its leaves, the leaves above their cap in some of them, and
        (leaves, cases) min(x, 1) - x, x = the leaf's direct damage + its cascade computed
        exactly (0 where x <= 1)."""
        flagged = work[: self.n_groups] > self.group_cap[:, np.newaxis]
        cases = np.flatnonzero(flagged.any(axis=0)).astype(np.int64)
        if not len(cases):
            return cases, cases, np.zeros((0, 0))
        sub = work[:, cases]
        near = sub[self.leaf_group] > self.leaf_cap[:, np.newaxis]  # (L, cases)
        leaves = np.flatnonzero(near.any(axis=1)).astype(np.int64)
        stops = np.r_[self.leaf_starts[1:], self.leaf_terms.count]
        terms = self.leaf_terms.subset(_ranges(self.leaf_starts[leaves], stops[leaves]))
        cascade = np.add.reduceat(
            terms.values(sub) * terms.weight[:, np.newaxis],
            _starts(stops[leaves] - self.leaf_starts[leaves]),
            axis=0,
        )
        x = sub[self.leaf_group[leaves]] + cascade
        return cases, leaves, np.minimum(x, 1.0) - x


def portfolio_cascade(
    graph: CascadeGraph, node_group: IntArray, dependent_value: FloatArray, n_groups: int
) -> PortfolioCascade:
    """Compile a graph whose node k takes the damage of group `node_group[k]`, with the
    exposed value of each of `graph.dependents`, into a `PortfolioCascade`."""
    deps = graph.dependents
    group_of = np.asarray(node_group, dtype=np.int64)
    value = np.asarray(dependent_value, dtype=float)
    term_stop = np.r_[graph.dependent_term_start[1:], len(graph.term_share)].astype(np.int64)
    provider = np.zeros(graph.size, dtype=bool)
    provider[graph.member_node] = True
    inner = provider[deps]
    width = n_groups + int(inner.sum())
    row_of_node = group_of.copy()
    row_of_node[deps[inner]] = np.arange(n_groups, width)
    levels: list[_Level] = []
    for d0, d1 in graph.level_dependents:
        pick = d0 + np.flatnonzero(inner[d0:d1])
        if not len(pick):
            continue
        lo, hi = graph.dependent_term_start[pick], term_stop[pick]
        index = _ranges(lo, hi)
        levels.append(
            _Level(
                terms=_terms(graph, index, row_of_node, graph.term_share[index], width),
                by_dependent=_padded_index(hi - lo),
                rows=row_of_node[deps[pick]],
                group=group_of[deps[pick]],
            )
        )
    inner_index = np.flatnonzero(inner).astype(np.int64)
    leaves = np.flatnonzero(~inner).astype(np.int64)
    lo, hi = graph.dependent_term_start[leaves], term_stop[leaves]
    index = _ranges(lo, hi)
    share = graph.term_share[index]
    weighted = share * np.repeat(value[leaves], hi - lo)
    every = _terms(graph, index, row_of_node, share, width)
    single = (every.members[:, 1:] == width).all(axis=1)
    merged, merged_index = _merged(_Terms(every.members[~single], weighted[~single]))
    feature = np.empty(every.count, dtype=np.int64)
    feature[single] = every.members[single, 0]
    feature[~single] = width + merged_index
    leaf_weight = np.bincount(
        every.members[single, 0], weights=weighted[single], minlength=width
    ).astype(float)
    leaf_group = group_of[deps[leaves]]
    leaf_cap = 1.0 - np.add.reduceat(share, _starts(hi - lo)) if len(leaves) else np.zeros(0)
    group_cap = np.full(n_groups, np.inf)
    np.minimum.at(group_cap, leaf_group, leaf_cap)
    return PortfolioCascade(
        n_groups=n_groups,
        levels=levels,
        inner_rows=row_of_node[deps[inner_index]],
        inner_group=group_of[deps[inner_index]],
        inner_value=value[inner_index],
        inner_index=inner_index,
        leaf_rows=np.flatnonzero(leaf_weight).astype(np.int64),
        leaf_weight=leaf_weight,
        leaf_groups=merged,
        leaf_terms=every,
        leaf_feature=feature,
        leaf_starts=_starts(hi - lo),
        leaf_group=leaf_group,
        leaf_value=value[leaves],
        leaf_index=leaves,
        leaf_cap=leaf_cap,
        group_cap=group_cap,
    )


# -- one scenario's cascade, its fixed part folded -----------------------------------------------


@dataclass(frozen=True)
class _LocalLevel:
    """The inner dependents of one level whose total varies, over the local rows: each one's
    terms with a varying member (weight: share x the product of the fixed members), the fixed
    part of its direct damage + cascade, and its direct damage (a varying row, or the row of
    zeros and a fixed value)."""

    terms: _Terms
    by_dependent: IntArray  # (P, R) padded with the number of terms
    fixed: FloatArray  # (P,) fixed direct damage + the cascade of the fixed terms
    direct: IntArray  # (P,) local row of the direct damage (the row of zeros if fixed)
    direct_fixed: FloatArray  # (P,) the direct damage if fixed, else 0
    rows: IntArray  # (P,) local rows of their totals
    value: FloatArray  # (P,)
    index: IntArray  # (P,) positions among the graph's dependents


@dataclass(frozen=True)
class _CapTerms:
    """Leaves whose cap can bind, with their varying terms (leaf by leaf): x = fixed + direct
    + those terms, and what the leaf loses to the cap, min(x, 1) - x. A leaf is computed in
    the cases where x can exceed 1: where its direct damage is above its cap (1 - the sum of
    its shares) and its varying terms, which add at most `reach` times the case's largest
    varying damage (every member is at most that, and a product of them too), can take it
    there."""

    terms: _Terms  # weight: share x the product of the fixed members
    starts: IntArray  # (E,) each leaf's first term
    counts: IntArray  # (E,) and its number of terms
    fixed: FloatArray  # (E,) fixed direct damage + the cascade of the fixed terms
    direct: IntArray  # (E,) local row of the direct damage (the row of zeros if fixed)
    above: FloatArray  # (E,) the cap can bind where that row is above this: cap - fixed direct
    reach: FloatArray  # (E,) the sum of the varying terms' weights
    value: FloatArray  # (E,)
    position: IntArray  # (E,) positions among the scenario's varying leaves
    width: int  # the local rows that vary
    rows: IntArray  # varying rows that are some leaf's direct damage
    lowest: FloatArray  # and the lowest `above` of their leaves
    top_above: float  # leaves with fixed direct damage: the lowest largest varying damage
    # at which one of them can reach its cap (inf: none)

    def excess(self, work: FloatArray) -> tuple[IntArray, IntArray, FloatArray]:
        """The cases where some leaf can reach its cap, those leaves and (leaves, cases)
        min(x, 1) - x (0 where x <= 1)."""
        none = np.zeros(0, dtype=np.int64)
        top = work[: self.width].max(axis=0) if self.width else np.zeros(work.shape[1])
        # cases where some leaf may: a varying direct damage above the lowest cap of its
        # leaves, or the largest varying damage high enough for a leaf of fixed damage
        maybe = top > self.top_above
        if len(self.rows):
            maybe |= (work[self.rows] > self.lowest[:, np.newaxis]).any(axis=0)
        cases = np.flatnonzero(maybe)
        if not len(cases):
            return none, none, np.zeros((0, 0))
        sub = work[:, cases]
        direct = sub[self.direct]
        bound = (direct + self.fixed[:, np.newaxis]) + self.reach[:, np.newaxis] * top[cases]
        near = (direct > self.above[:, np.newaxis]) & (bound > 1.0 - CAP_MARGIN)
        keep = near.any(axis=0)
        cases, sub, near = cases[keep].astype(np.int64), sub[:, keep], near[:, keep]
        leaves = np.flatnonzero(near.any(axis=1)).astype(np.int64)
        if not len(cases):
            return none, none, np.zeros((0, 0))
        terms = self.terms.subset(
            _ranges(self.starts[leaves], self.starts[leaves] + self.counts[leaves])
        )
        cascade = _padded_sums(
            terms.values(sub) * terms.weight[:, np.newaxis], _padded_index(self.counts[leaves])
        )
        x = cascade + (sub[self.direct[leaves]] + self.fixed[leaves, np.newaxis])
        return cases, leaves, np.minimum(x, 1.0) - x

    def correction(self, work: FloatArray) -> FloatArray:
        """(n,) the loss the cap takes off, summed in leaf order over the leaves above their
        cap in each case only (so a case's figure does not depend on the other cases)."""
        out = np.zeros(work.shape[1])
        cases, leaves, excess = self.excess(work)
        if len(cases):
            leaf, case = np.nonzero(excess)
            amount = excess[leaf, case] * self.value[leaves[leaf]]
            out[cases] += np.bincount(case, weights=amount, minlength=len(cases))
        return out


@dataclass(frozen=True)
class ScenarioCascade:
    """`PortfolioCascade` for cases in which only some groups' damage varies (a scenario's
    simulated years): every row of the working array that does not depend on them is fixed,
    and so is every term whose members all are; a fixed member of a product is folded into its
    weight, so a redundancy group with one varying member is a weighted row. What is left runs
    on the varying groups, the inner dependents downstream of them and the products of two or
    more varying rows; the loss of all the rest is one constant. The figures are
    `PortfolioCascade`'s for the whole damage (to rounding), each case's the same whatever
    the other cases."""

    n_vary: int  # the varying groups: the first rows of the local working array
    width: int  # local rows: varying groups, then varying inner dependents
    levels: list[_LocalLevel]
    linear_rows: IntArray  # local rows read by the leaves' terms with one varying member
    linear: FloatArray  # their weights: share x exposed value x the fixed members' product
    products: _Terms  # the leaves' products of two or more varying rows (weighted)
    caps: list[_CapTerms]
    constant: float  # the cascade loss of everything fixed
    nominal: FloatArray  # (D,) each dependent's cascade loss at the fixed damage
    leaf_index: IntArray  # (A,) positions of the leaves that vary among the dependents
    leaf_value: FloatArray  # (A,)
    leaf_fixed: FloatArray  # (A,) the cascade of their fixed terms
    term_leaf: IntArray  # (T,) for each varying leaf term: its leaf (among the A)
    term_feature: IntArray  # (T,) its local row (one varying member) or width + product
    term_weight: FloatArray  # (T,) share x the fixed members' product

    @property
    def case_floats(self) -> int:
        """About the floats of working memory `loss` needs per case."""
        terms = sum(lv.terms.count for lv in self.levels) + self.products.count
        return self.width + 2 + 2 * terms + len(self.linear_rows)

    def work(self, damage: FloatArray) -> FloatArray:
        """(width + 2, n) local working array for (n, n_vary) damage of the varying groups:
        those, the varying inner dependents' totals, a row of ones, a row of zeros."""
        n = damage.shape[0]
        work = np.empty((self.width + 2, n))
        work[: self.n_vary] = damage.T
        work[self.width] = 1.0
        work[self.width + 1] = 0.0
        for lv in self.levels:
            terms = lv.terms.values(work) * lv.terms.weight[:, np.newaxis]
            x = _padded_sums(terms, lv.by_dependent) + (work[lv.direct] + lv.fixed[:, np.newaxis])
            work[lv.rows] = np.minimum(x, 1.0)
        return work

    def loss(self, damage: FloatArray) -> FloatArray:
        """(n,) cascade loss of the portfolio for (n, n_vary) damage of the varying groups."""
        if damage.shape[0] == 0:
            return np.zeros(0)
        return self._varying(self.work(damage)) + self.constant

    def _varying(self, work: FloatArray) -> FloatArray:
        loss = np.zeros(work.shape[1])
        for lv in self.levels:
            direct = work[lv.direct] + lv.direct_fixed[:, np.newaxis]
            loss += sum_rows((work[lv.rows] - direct) * lv.value[:, np.newaxis])
        loss += sum_rows(work[self.linear_rows] * self.linear[:, np.newaxis])
        if self.products.count:
            loss += sum_rows(self.products.values(work) * self.products.weight[:, np.newaxis])
        for cap in self.caps:
            loss += cap.correction(work)
        return loss

    def dependent_sums(self, damage: FloatArray) -> FloatArray:
        """(D,) each dependent's cascade loss summed over the (n, n_vary) cases."""
        n = damage.shape[0]
        out: FloatArray = self.nominal * float(n)
        if n == 0:
            return out
        work = self.work(damage)
        for lv in self.levels:
            direct = work[lv.direct] + lv.direct_fixed[:, np.newaxis]
            out[lv.index] = lv.value * (work[lv.rows] - direct).sum(axis=1)
        if not len(self.leaf_index):
            return out
        features = np.concatenate(
            [work[: self.width].sum(axis=1), self.products.values(work).sum(axis=1)]
        )
        leaf = self.leaf_fixed * float(n) + np.bincount(
            self.term_leaf,
            weights=self.term_weight * features[self.term_feature],
            minlength=len(self.leaf_index),
        )
        for cap in self.caps:
            cases, leaves, excess = cap.excess(work)
            if len(cases):
                leaf[cap.position[leaves]] += excess.sum(axis=1)
        out[self.leaf_index] = self.leaf_value * leaf
        return out


def _restrict(pc: PortfolioCascade, vary: IntArray, damage: FloatArray) -> ScenarioCascade:
    """`PortfolioCascade.restrict` (compiled once per scenario, vectorised)."""
    n_g, full_width = pc.n_groups, pc.width
    fixed_work = pc.work(np.asarray(damage, dtype=float)[np.newaxis])[:, 0]  # (W + 1,)
    varies = np.zeros(full_width + 1, dtype=bool)
    varies[vary] = True
    for lv in pc.levels:  # an inner dependent varies with its group or a varying provider
        hit = np.r_[varies[lv.terms.members].any(axis=1), False]
        varies[lv.rows[varies[lv.group] | hit[lv.by_dependent].any(axis=1)]] = True
    inner = np.flatnonzero(varies[n_g:full_width]) + n_g
    width = len(vary) + len(inner)
    one, zero = width, width + 1
    local = np.full(full_width + 1, one, dtype=np.int64)
    local[vary] = np.arange(len(vary))
    local[inner] = len(vary) + np.arange(len(inner))

    def fold(members: IntArray, weight: FloatArray) -> tuple[IntArray, FloatArray, IntArray]:
        """Terms over local rows (varying members first, padded with the row of ones), their
        weights times the product of their fixed members, and their varying members' count."""
        moving = varies[members]
        factor = np.where(moving, 1.0, fixed_work[members]).prod(axis=1)
        rows = np.sort(np.where(moving, local[members], one), axis=1)
        return rows, weight * factor, moving.sum(axis=1)

    def direct_of(groups: IntArray) -> tuple[IntArray, FloatArray]:
        moving = varies[groups]
        return np.where(moving, local[groups], zero), np.where(moving, 0.0, fixed_work[groups])

    levels: list[_LocalLevel] = []
    for lv in pc.levels:
        pick = varies[lv.rows]
        if not pick.any():
            continue
        rows, weight, count = fold(lv.terms.members, lv.terms.weight)
        index = lv.by_dependent[pick]  # (P, R), padded with the number of terms
        real = index < lv.terms.count
        moving = real & (np.r_[count, 0][index] > 0)
        fixed_terms = np.where(real & ~moving, np.r_[weight, 0.0][index], 0.0).sum(axis=1)
        direct, direct_fixed = direct_of(lv.group[pick])
        keep = index[moving]
        at = lv.rows[pick] - n_g
        levels.append(
            _LocalLevel(
                terms=_Terms(rows[keep], weight[keep]),
                by_dependent=_padded_index(moving.sum(axis=1)),
                fixed=direct_fixed + fixed_terms,
                direct=direct,
                direct_fixed=direct_fixed,
                rows=local[lv.rows[pick]],
                value=pc.inner_value[at],
                index=pc.inner_index[at],
            )
        )
    # the leaves: every term folded; a leaf varies with its group or a varying member
    n_leaves = len(pc.leaf_group)
    stops = np.r_[pc.leaf_starts[1:], pc.leaf_terms.count].astype(np.int64)
    term_leaf = np.repeat(np.arange(n_leaves), stops - pc.leaf_starts)
    rows, weight, count = fold(pc.leaf_terms.members, pc.leaf_terms.weight)
    moving = count > 0
    leaf_varies = varies[pc.leaf_group] | (np.bincount(term_leaf[moving], minlength=n_leaves) > 0)
    which = np.flatnonzero(leaf_varies)
    position = np.full(n_leaves, -1, dtype=np.int64)
    position[which] = np.arange(len(which))
    take = moving & leaf_varies[term_leaf]
    value = pc.leaf_value[term_leaf]
    single = take & (count == 1)
    multi = take & (count > 1)
    product_rows, product_of = np.unique(rows[multi], axis=0, return_inverse=True)
    product_of = product_of.reshape(-1)
    feature = np.where(single, rows[:, 0], 0)
    feature[multi] = width + product_of
    linear = np.bincount(rows[single, 0], weights=(weight * value)[single], minlength=width)
    linear_rows = np.flatnonzero(linear)
    fixed_leaf = np.bincount(
        position[term_leaf[leaf_varies[term_leaf] & ~moving]],
        weights=weight[leaf_varies[term_leaf] & ~moving],
        minlength=len(which),
    )
    caps: list[_CapTerms] = []
    direct, direct_fixed = direct_of(pc.leaf_group)
    chosen = leaf_varies & (varies[pc.leaf_group] | (direct_fixed > pc.leaf_cap))
    if chosen.any():
        t = take & chosen[term_leaf]
        chosen_at = np.flatnonzero(chosen)
        counts = np.bincount(term_leaf[t], minlength=n_leaves)[chosen_at].astype(np.int64)
        reach = np.bincount(term_leaf[t], weights=weight[t], minlength=n_leaves)[chosen_at]
        fixed = direct_fixed[chosen_at] + fixed_leaf[position[chosen_at]]
        above = pc.leaf_cap[chosen_at] - direct_fixed[chosen_at]
        own = direct[chosen_at]
        moving_direct = own < zero
        rows_of, inverse = np.unique(own[moving_direct], return_inverse=True)
        lowest = np.full(len(rows_of), np.inf)
        np.minimum.at(lowest, inverse.reshape(-1), above[moving_direct])
        with np.errstate(divide="ignore", invalid="ignore"):
            at_top = (1.0 - CAP_MARGIN - fixed[~moving_direct]) / reach[~moving_direct]
        top_above = float(np.nan_to_num(at_top, nan=np.inf, posinf=np.inf).min(initial=np.inf))
        caps.append(
            _CapTerms(
                terms=_Terms(rows[t], weight[t]),
                starts=_starts(counts),
                counts=counts,
                fixed=fixed,
                direct=own,
                above=above,
                reach=reach.astype(float),
                value=pc.leaf_value[chosen_at],
                position=position[chosen_at],
                width=width,
                rows=rows_of,
                lowest=lowest,
                top_above=top_above,
            )
        )
    out = ScenarioCascade(
        n_vary=len(vary),
        width=width,
        levels=levels,
        linear_rows=linear_rows.astype(np.int64),
        linear=linear[linear_rows].astype(float),
        products=_Terms(
            product_rows.astype(np.int64).reshape(-1, rows.shape[1]),
            np.bincount(
                product_of, weights=(weight * value)[multi], minlength=len(product_rows)
            ).astype(float),
        ),
        caps=caps,
        constant=0.0,
        nominal=pc.dependent_sums(np.asarray(damage, dtype=float)[np.newaxis]),
        leaf_index=pc.leaf_index[which],
        leaf_value=pc.leaf_value[which],
        leaf_fixed=fixed_leaf.astype(float),
        term_leaf=position[term_leaf[take]],
        term_feature=feature[take],
        term_weight=weight[take],
    )
    at_fixed = np.asarray(damage, dtype=float)[vary][np.newaxis]
    constant = float(pc.loss(np.asarray(damage, dtype=float)[np.newaxis])[0])
    constant -= float(out.loss(at_fixed)[0])  # its loss with the constant still 0
    return replace(out, constant=constant)


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
