"""Compiled cascades for the Monte Carlo: the dependency graph of `riskapp.engine.cascade`
made ready to propagate many simulated (year, scenario) pairs at once.

`PortfolioCascade` (`portfolio_cascade`) holds the graph's levels as padded term tables, so a
batch of pairs propagates with array operations and each pair's portfolio cascade loss comes out
with sums that do not depend on how the pairs are batched. `ScenarioCascade`
(`riskapp.engine.cascade_scenario`) folds into constants what one scenario's shock ranges cannot
move, so that a simulated year only propagates the groups its ranges drive. The rule is the one
of `riskapp.engine.cascade`; tests compare both with the plain propagation on random graphs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from riskapp.engine.cascade import CascadeGraph

if TYPE_CHECKING:
    from riskapp.engine.cascade_scenario import ScenarioCascade

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def concat_ranges(starts: IntArray, stops: IntArray) -> IntArray:
    """The integers of the ranges starts[i]:stops[i], concatenated (no Python loop)."""
    lengths = stops - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.cumsum(np.r_[0, lengths[:-1]]), lengths)
    result: IntArray = (offsets + np.arange(total)).astype(np.int64)
    return result


@dataclass(frozen=True)
class Terms:
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

    def subset(self, index: IntArray) -> Terms:
        return Terms(self.members[index], self.weight[index])


def _terms(
    graph: CascadeGraph,
    term_index: IntArray,
    row_of_node: IntArray,
    weight: FloatArray,
    one: int,
) -> Terms:
    """The terms `term_index` of the graph over working-array rows (`row_of_node`), padded
    with the row of ones `one`."""
    lo, hi = graph.term_ptr[term_index], graph.term_ptr[term_index + 1]
    size = hi - lo
    members = np.full((len(term_index), int(size.max()) if len(size) else 1), one, dtype=np.int64)
    which = np.repeat(np.arange(len(term_index)), size)
    slot = np.arange(int(size.sum())) - np.repeat(np.cumsum(size) - size, size)
    members[which, slot] = row_of_node[graph.member_node[concat_ranges(lo, hi)]]
    return Terms(members, np.asarray(weight, dtype=float))


def _merged(terms: Terms) -> tuple[Terms, IntArray]:
    """The same weighted sum with terms of the same members merged (their weights added):
    redundancy groups of providers that take the same damage share one product. Also gives
    each term's merged term."""
    if not terms.count:
        return terms, np.zeros(0, dtype=np.int64)
    key = np.sort(terms.members, axis=1)
    unique, inverse = np.unique(key, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1).astype(np.int64)
    weight = np.bincount(inverse, weights=terms.weight, minlength=len(unique))
    return Terms(unique.astype(np.int64), weight.astype(float)), inverse


def run_starts(counts: IntArray) -> IntArray:
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


def padded_sums(terms: FloatArray, index: IntArray) -> FloatArray:
    """(P, n) for each row of `index` (P, R), the sum of the rows of `terms` (M, n) it names,
    padded with M (a row of zeros): elementwise additions, the same per case whatever the other
    cases."""
    rows = np.concatenate([terms, np.zeros((1, terms.shape[1]))])
    out = rows[index[:, 0]]
    for k in range(1, index.shape[1]):
        out += rows[index[:, k]]
    return out


def padded_index(counts: IntArray) -> IntArray:
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

    terms: Terms  # weight: share
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
    leaf_groups: Terms  # the leaves' redundancy groups, merged, weight share x value
    leaf_terms: Terms  # every term of the leaves, weight share (the exact path)
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
            cascade = padded_sums(terms, lv.by_dependent)
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
        from riskapp.engine.cascade_scenario import restrict

        return restrict(self, np.asarray(changed_groups, dtype=np.int64), damage)

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
        terms = self.leaf_terms.subset(concat_ranges(self.leaf_starts[leaves], stops[leaves]))
        cascade = np.add.reduceat(
            terms.values(sub) * terms.weight[:, np.newaxis],
            run_starts(stops[leaves] - self.leaf_starts[leaves]),
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
        index = concat_ranges(lo, hi)
        levels.append(
            _Level(
                terms=_terms(graph, index, row_of_node, graph.term_share[index], width),
                by_dependent=padded_index(hi - lo),
                rows=row_of_node[deps[pick]],
                group=group_of[deps[pick]],
            )
        )
    inner_index = np.flatnonzero(inner).astype(np.int64)
    leaves = np.flatnonzero(~inner).astype(np.int64)
    lo, hi = graph.dependent_term_start[leaves], term_stop[leaves]
    index = concat_ranges(lo, hi)
    share = graph.term_share[index]
    weighted = share * np.repeat(value[leaves], hi - lo)
    every = _terms(graph, index, row_of_node, share, width)
    single = (every.members[:, 1:] == width).all(axis=1)
    merged, merged_index = _merged(Terms(every.members[~single], weighted[~single]))
    feature = np.empty(every.count, dtype=np.int64)
    feature[single] = every.members[single, 0]
    feature[~single] = width + merged_index
    leaf_weight = np.bincount(
        every.members[single, 0], weights=weighted[single], minlength=width
    ).astype(float)
    leaf_group = group_of[deps[leaves]]
    leaf_cap = 1.0 - np.add.reduceat(share, run_starts(hi - lo)) if len(leaves) else np.zeros(0)
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
        leaf_starts=run_starts(hi - lo),
        leaf_group=leaf_group,
        leaf_value=value[leaves],
        leaf_index=leaves,
        leaf_cap=leaf_cap,
        group_cap=group_cap,
    )
