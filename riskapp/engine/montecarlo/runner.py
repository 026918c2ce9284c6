"""Running a simulation: chunks in this process (two at a time where two cores are free) or in
worker processes, reduced in any order into one `SimulationResult`."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from itertools import islice
from typing import cast

import numpy as np
import numpy.typing as npt

from riskapp.domain.assets import DependencyLink
from riskapp.domain.enums import LossBasis
from riskapp.domain.workspace import Workspace
from riskapp.engine.enums import RangeDistribution
from riskapp.engine.montecarlo.cascades import assemble
from riskapp.engine.montecarlo.model import (
    BoolArray,
    FloatArray,
    MonteCarloModel,
    Simulation,
    prepare_simulation,
)
from riskapp.engine.montecarlo.statistics import SimulationResult
from riskapp.engine.montecarlo.trials import ChunkResult, chunk_bounds, simulate_chunk
from riskapp.engine.threads import default_threads


class Reducer:
    """Collects chunk results, in any order, into the arrays of a whole run (allocated once,
    so a run holds its results and one chunk at a time)."""

    def __init__(self, sim: Simulation, seed: int, trials: int) -> None:
        m = sim.model
        n_s = len(m.scenario_ids)
        self.sim, self.seed, self.trials = sim, seed, trials
        self.seen = np.zeros(trials, dtype=bool)
        self.pairs: list[tuple[int, BoolArray, FloatArray]] = []  # kept pair damage per chunk
        self.arrays: dict[str, npt.NDArray[np.generic]] = {
            "loss": np.zeros(trials),
            "occurs": np.zeros((trials, n_s), dtype=bool),
            "group_damage": np.zeros((trials, m.n_groups)),
            "scenario_loss": np.zeros((trials, n_s)),
            "factor_loss": np.zeros((trials, len(m.factor_ids))),
            "cascade": np.zeros(trials),
            "averted": np.zeros(trials),
            "averted_alone": np.zeros((trials, m.n_plans)),
        }

    def add(self, chunk: ChunkResult) -> None:
        span = slice(chunk.start, chunk.stop)
        if chunk.stop > self.trials or self.seen[span].any():
            raise ValueError(f"chunk {chunk.start}-{chunk.stop} overlaps or lies outside the run")
        self.seen[span] = True
        for name, array in self.arrays.items():
            array[span] = getattr(chunk, name)
        if len(chunk.pair_damage):
            self.pairs.append((chunk.start, chunk.occurs, chunk.pair_damage))

    def result(self) -> SimulationResult:
        if not self.seen.all():
            first = int(np.flatnonzero(~self.seen)[0])
            raise ValueError(f"chunks do not cover the trials: trial {first} is missing")
        a = self.arrays

        def f(name: str) -> FloatArray:
            return cast(FloatArray, a[name])

        return SimulationResult(
            sim=self.sim,
            seed=self.seed,
            loss=f("loss"),
            occurs=cast(BoolArray, a["occurs"]),
            group_damage=f("group_damage"),
            scenario_loss=f("scenario_loss"),
            factor_loss=f("factor_loss"),
            cascade=f("cascade"),
            pair_damage=assemble(self.sim.model, self.pairs),
            averted=f("averted"),
            averted_alone=f("averted_alone"),
        )


def reduce_chunks(
    sim: Simulation, seed: int, chunks: Sequence[ChunkResult], trials: int | None = None
) -> SimulationResult:
    """Put chunk results back in trial order (they may arrive in any order); they must cover
    trials 0 to `trials - 1` (default: up to the last chunk's end) exactly once."""
    reducer = Reducer(sim, seed, trials or max(c.stop for c in chunks))
    for chunk in chunks:
        reducer.add(chunk)
    return reducer.result()


_WORKER_MODEL: list[MonteCarloModel] = []


def _init_worker(model: MonteCarloModel) -> None:
    _WORKER_MODEL[:] = [model]


def _run_in_worker(seed: int, start: int, stop: int) -> ChunkResult:
    return simulate_chunk(_WORKER_MODEL[0], seed, start, stop)


def run(
    sim: Simulation,
    trials: int,
    seed: int,
    chunk_size: int | None = None,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
    threads: int | None = None,
) -> SimulationResult:
    """Simulate `trials` years in chunks, on `workers` processes; `progress(done, total)` is
    called after each chunk. The figures depend on the seed only. In this process
    (`workers` 1), `threads` chunks are simulated at once (default
    `riskapp.engine.threads.default_threads()`, `in_threads`)."""
    if trials < 1:
        raise ValueError("trials must be at least 1")
    bounds = chunk_bounds(trials, chunk_size or sim.model.default_chunk_size())
    reducer = Reducer(sim, seed, trials)
    done = 0
    if workers <= 1 or len(bounds) == 1:
        count = default_threads() if threads is None else threads
        for chunk in in_threads(sim.model, seed, bounds, count):
            reducer.add(chunk)
            done += chunk.stop - chunk.start
            if progress is not None:
                progress(done, trials)
    else:
        with ProcessPoolExecutor(
            max_workers=workers, initializer=_init_worker, initargs=(sim.model,)
        ) as pool:
            futures = [pool.submit(_run_in_worker, seed, a, b) for a, b in bounds]
            for future in as_completed(futures):
                chunk = future.result()
                reducer.add(chunk)
                done += chunk.stop - chunk.start
                del chunk
                if progress is not None:
                    progress(done, trials)
    return reducer.result()


def in_threads(
    model: MonteCarloModel, seed: int, bounds: Sequence[tuple[int, int]], threads: int
) -> Iterator[ChunkResult]:
    """The chunks of `bounds`, in their order, `threads` of them simulated at once; the next
    starts when the oldest is handed over, so a run holds its results and at most
    `threads` + 1 chunks. A chunk's numbers depend on the seed and its trials only."""
    if threads <= 1 or len(bounds) <= 1:
        for a, b in bounds:
            yield simulate_chunk(model, seed, a, b)
        return
    with ThreadPoolExecutor(min(threads, len(bounds)), thread_name_prefix="riskapp-mc") as pool:
        todo = iter(bounds)
        pending: deque[Future[ChunkResult]] = deque(
            pool.submit(simulate_chunk, model, seed, a, b) for a, b in islice(todo, threads)
        )
        while pending:
            chunk = pending.popleft().result()
            following = next(todo, None)
            if following is not None:
                pending.append(pool.submit(simulate_chunk, model, seed, *following))
            yield chunk


def simulate(
    ws: Workspace,
    trials: int = 10_000,
    seed: int = 0,
    *,
    chunk_size: int | None = None,
    workers: int = 1,
    distribution: RangeDistribution = RangeDistribution.PERT,
    basis: LossBasis | None = None,
    plans: bool = True,
    links: Sequence[DependencyLink] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Monte Carlo of a workspace: `prepare_simulation`, then `run`."""
    sim = prepare_simulation(ws, distribution=distribution, basis=basis, plans=plans, links=links)
    return run(sim, trials, seed, chunk_size=chunk_size, workers=workers, progress=progress)
