"""Benchmark of building the baseline for all countries from the shipped reference data.

Times loading the sources, extracting the indicators, evaluating the factor trees and the whole
`compute` (cold run, then best of `--repeat`), with the peak traced memory of each step, and
compares the vectorised code with a naive per-country loop computed in the same process:

- extraction: for each indicator and each country, filter that country's rows and summarise
  its window in Python (the obvious loop), against `riskapp.baseline.indicators.extract`;
- trees: `riskapp.baseline.reference.reference_evaluate` (one country and child at a time,
  Python floats) against `riskapp.baseline.compose.evaluate`.

Both pairs must agree (rtol 1e-9). A synthetic scale-up (`--synthetic N`, default 20,000
pseudo-countries, e.g. sub-national regions) times the tree evaluation on larger inputs; the
reference runs on `--reference-countries` of them and is scaled linearly.

    .venv/bin/python benchmarks/bench_baseline.py [--as-of 2025-12-31] [--repeat 3]
                                                   [--synthetic 20000] [--reference-countries 500]

Exits 1 if the vectorised and the reference results disagree, else 0.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import math
import platform
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from riskapp.baseline.build import (
    DEFAULT_METHOD,
    compute,
    country_universe,
    indicator_scores,
    load_method,
    load_sources_for,
)
from riskapp.baseline.compose import evaluate
from riskapp.baseline.indicators import (
    SourceData,
    as_of_period,
    period_year,
    year_end_period,
)
from riskapp.baseline.method import AdjustmentAction, Indicator, Method, Source, Statistic
from riskapp.baseline.reference import reference_evaluate


@dataclass(frozen=True)
class Measurement:
    step: str
    cold_s: float
    best_s: float
    peak_mb: float
    rss_mb: float


def maxrss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10


def measure(step: str, fn: Callable[[], Any], repeat: int) -> tuple[Any, Measurement]:
    """Cold run, best of `repeat` further runs, then one run under tracemalloc (peak above
    what was allocated before it started)."""
    gc.collect()
    start = time.perf_counter()
    value = fn()
    cold = time.perf_counter() - start
    times = []
    for _ in range(repeat):
        del value
        gc.collect()
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    del value
    gc.collect()
    tracemalloc.start()
    try:
        value = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return value, Measurement(step, cold, min(times) if times else cold, peak / 2**20, maxrss_mb())


# -------------------------------------------------------------------------------------------
# Naive per-country extraction (the obvious loop), same semantics as `extract`
# -------------------------------------------------------------------------------------------


def naive_extract(
    ind: Indicator,
    src: SourceData | None,
    countries: list[str],
    as_of: dt.date,
    method: Method,
) -> list[float]:
    if ind.source is Source.TABLE:
        table = dict(ind.values)
        groups = {g.id: set(g.members) for g in method.groups}
        out = []
        for c in countries:
            if c in table:
                out.append(float(table[c]))
                continue
            value = math.nan if ind.default is None else float(ind.default)
            for key, v in table.items():
                if key in groups and c in groups[key]:
                    value = float(v)
                    break
            out.append(value)
        return out
    assert src is not None and ind.window is not None
    w = ind.window
    freq = src.frequency
    rows_all = src.data[src.data["series"] == ind.series]
    anchor = as_of_period(as_of, freq)
    if w.year is not None:
        anchor = min(anchor, year_end_period(w.year, freq))
    periods = rows_all["period"][rows_all["period"] <= anchor]
    if periods.empty:
        return [math.nan] * len(countries)
    end = int(periods.max())
    if w.max_age is not None and anchor - end > w.max_age:
        return [math.nan] * len(countries)
    start = end - w.last + 1
    out = []
    for c in countries:
        rows = rows_all[rows_all["country"] == c]
        obs: dict[int, float] = {}
        for p, v in zip(rows["period"], rows["value"], strict=True):
            excluded = any(
                a.action is AdjustmentAction.EXCLUDE
                and a.country == c
                and (not a.years or a.years[0] <= period_year(int(p), freq) <= a.years[1])
                for a in ind.adjustments
            )
            if not excluded:
                obs[int(p)] = float(v)
        window = [obs[p] for p in range(start, end + 1) if p in obs]
        if len(window) < w.min_periods or not window:
            value = math.nan
        elif w.statistic is Statistic.MEAN:
            value = sum(window) / len(window)
        elif w.statistic is Statistic.SUM:
            value = sum(window)
        elif w.statistic is Statistic.MAX:
            value = max(window)
        elif w.statistic is Statistic.MIN:
            value = min(window)
        else:
            value = window[-1]
        if w.relative_to is not None and not math.isnan(value):
            lo = year_end_period(w.relative_to.start - 1, freq) + 1
            hi = year_end_period(w.relative_to.end, freq)
            ref = [v for p, v in obs.items() if lo <= p <= hi]
            mean = sum(ref) / len(ref) if ref else math.nan
            value = value / mean if ref and mean > 0 else math.nan
        for a in ind.adjustments:
            if a.action is AdjustmentAction.SET and a.country == c:
                value = float(a.value) if a.value is not None else value
        out.append(value)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--as-of", default="2025-12-31")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--synthetic", type=int, default=20_000)
    parser.add_argument("--reference-countries", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    as_of = dt.date.fromisoformat(args.as_of)

    print(f"riskapp baseline benchmark - Python {platform.python_version()}, "
          f"numpy {np.__version__}, {platform.machine()}")  # fmt: skip
    method = load_method(DEFAULT_METHOD)
    sources, m_load = measure("load sources (4 files)", lambda: load_sources_for(method), 0)
    countries = country_universe(method, sources)
    n_nodes = sum(1 for _ in _nodes(method))
    print(f"method {method.id} v{method.version}: {len(method.factors)} factors, "
          f"{len(method.indicators)} indicators, {n_nodes} nodes; {len(countries)} countries; "
          f"as of {as_of}")  # fmt: skip

    leaves_raw, m_extract = measure(
        "extract + normalise indicators",
        lambda: indicator_scores(method, sources, countries, as_of),
        args.repeat,
    )
    leaves, raw, _ = leaves_raw
    _, m_eval = measure("evaluate trees", lambda: evaluate(method, countries, leaves), args.repeat)
    _, m_total = measure(
        "compute (all of it, + provenance)",
        lambda: compute(method, sources, as_of, countries),
        args.repeat,
    )

    # naive references, same process
    start = time.perf_counter()
    naive_raw = {
        ind.id: naive_extract(ind, sources.get(ind.source), countries, as_of, method)
        for ind in method.indicators
    }
    t_naive_extract = time.perf_counter() - start
    ok_extract = all(
        np.allclose(raw[k].raw, naive_raw[k], rtol=1e-9, atol=1e-12, equal_nan=True)
        for k in naive_raw
    )
    ref_leaves = {k: (list(v[0]), list(v[1])) for k, v in leaves.items()}
    start = time.perf_counter()
    slow = reference_evaluate(method, countries, ref_leaves)
    t_naive_eval = time.perf_counter() - start
    fast = {s.path: s for s in evaluate(method, countries, leaves)}
    ok_eval = all(
        np.allclose(fast[p].score, v[0], rtol=1e-9, atol=1e-9, equal_nan=True)
        and np.allclose(fast[p].reliability, v[2], rtol=1e-9, atol=1e-9)
        for p, v in slow.items()
    )

    # synthetic scale-up of the tree evaluation
    rng = np.random.default_rng(args.seed)
    n_syn = args.synthetic
    pick = rng.integers(0, len(countries), n_syn)
    syn_countries = [f"R{i:06d}" for i in range(n_syn)]
    syn_leaves = {}
    for k, (s, r) in leaves.items():
        noisy = np.clip(s[pick] + rng.normal(0, 0.5, n_syn), 0, 10)
        noisy[rng.random(n_syn) < 0.05] = np.nan
        syn_leaves[k] = (noisy, r[pick])
    syn_groups = {g: syn_countries[: n_syn // 10] for g in method.group_members()}
    _, m_syn = measure(
        f"evaluate trees, {n_syn:,} synthetic countries",
        lambda: evaluate(method, syn_countries, syn_leaves, syn_groups),
        args.repeat,
    )
    k = min(args.reference_countries, n_syn)
    sub = {key: (list(v[0][:k]), list(v[1][:k])) for key, v in syn_leaves.items()}
    sub_groups = {g: syn_countries[: k // 10] for g in method.group_members()}
    start = time.perf_counter()
    reference_evaluate(method, syn_countries[:k], sub, sub_groups)
    t_syn_ref = (time.perf_counter() - start) * n_syn / k

    print()
    print(f"{'step':44} {'cold s':>8} {'best s':>8} {'peak MB':>8} {'RSS MB':>8}")
    for m in (m_load, m_extract, m_eval, m_total, m_syn):
        print(f"{m.step:44} {m.cold_s:8.3f} {m.best_s:8.4f} {m.peak_mb:8.1f} {m.rss_mb:8.0f}")
    print()
    print("reference (naive per-country loops, same process)")
    print(f"  extraction: {t_naive_extract:8.3f} s  -> vectorised is "
          f"{t_naive_extract / m_extract.best_s:6.1f}x faster; agree: {ok_extract}")  # fmt: skip
    print(f"  trees:      {t_naive_eval:8.3f} s  -> vectorised is "
          f"{t_naive_eval / m_eval.best_s:6.1f}x faster; agree: {ok_eval}")  # fmt: skip
    total_naive = t_naive_extract + t_naive_eval
    print(f"  both:       {total_naive:8.3f} s  -> vectorised extract+evaluate is "
          f"{total_naive / (m_extract.best_s + m_eval.best_s):6.1f}x faster")  # fmt: skip
    print(f"  synthetic:  {t_syn_ref:8.3f} s  (scaled from {k:,} of {n_syn:,}) -> vectorised is "
          f"{t_syn_ref / m_syn.best_s:6.1f}x faster")  # fmt: skip
    return 0 if ok_extract and ok_eval else 1


def _nodes(method: Method) -> Any:
    from riskapp.baseline.method import walk

    for f in method.factors:
        yield from walk(f)


if __name__ == "__main__":
    sys.exit(main())
