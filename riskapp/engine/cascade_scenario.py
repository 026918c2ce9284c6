"""One scenario's compiled cascade: a `PortfolioCascade` restricted to the cases in which only
the scenario's range-driven groups depart from its deterministic damage, everything those
groups cannot move folded into constants (`restrict`, called by `PortfolioCascade.restrict`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from riskapp.engine.cascade_compiled import (
    PortfolioCascade,
    Terms,
    concat_ranges,
    padded_index,
    padded_sums,
    run_starts,
    sum_rows,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

CAP_MARGIN = 1e-9  # a leaf is checked against its cap where its bound comes this close to 1


# -- one scenario's cascade, its fixed part folded -----------------------------------------------


@dataclass(frozen=True)
class _LocalLevel:
    """The inner dependents of one level whose total varies, over the local rows: each one's
    terms with a varying member (weight: share x the product of the fixed members), the fixed
    part of its direct damage + cascade, and its direct damage (a varying row, or the row of
    zeros and a fixed value)."""

    terms: Terms
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

    terms: Terms  # weight: share x the product of the fixed members
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
            concat_ranges(self.starts[leaves], self.starts[leaves] + self.counts[leaves])
        )
        cascade = padded_sums(
            terms.values(sub) * terms.weight[:, np.newaxis], padded_index(self.counts[leaves])
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
    products: Terms  # the leaves' products of two or more varying rows (weighted)
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
            x = padded_sums(terms, lv.by_dependent) + (work[lv.direct] + lv.fixed[:, np.newaxis])
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


def restrict(pc: PortfolioCascade, vary: IntArray, damage: FloatArray) -> ScenarioCascade:
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
                terms=Terms(rows[keep], weight[keep]),
                by_dependent=padded_index(moving.sum(axis=1)),
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
                terms=Terms(rows[t], weight[t]),
                starts=run_starts(counts),
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
        products=Terms(
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
