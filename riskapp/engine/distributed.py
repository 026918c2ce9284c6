"""Scale-out: the Monte Carlo on a Dask cluster.

The trials are split into chunks (as `montecarlo.run` splits them); each chunk is one task,
`simulate_chunk(model, seed, start, stop)`, run on whichever worker the scheduler picks. The
model is sent to the workers once (scattered) and the tasks refer to it; chunk results come
back in any order and are put in trial order by the same `Reducer` a local run uses. As a
trial's draws depend only on the seed and its number (see `sampling`), a run on a cluster gives
the same figures as a local run with the same seed, whatever the number of workers or the
chunk size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from riskapp.engine.montecarlo import (
    ChunkResult,
    Reducer,
    Simulation,
    SimulationResult,
    chunk_bounds,
    simulate_chunk,
)

if TYPE_CHECKING:
    from distributed import Client


def connect(scheduler: str, timeout: float = 10.0) -> Client:
    """A client of the Dask scheduler at `scheduler` (e.g. tcp://10.0.0.5:8786); raises
    OSError if it cannot be reached within `timeout` seconds."""
    import distributed  # optional dependency, untyped: used through Any

    lib: Any = distributed
    client: Client = lib.Client(scheduler, timeout=timeout)
    return client


def run_distributed(
    sim: Simulation,
    trials: int,
    seed: int,
    client: Client | str,
    chunk_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SimulationResult:
    """Simulate `trials` years on a Dask cluster (a `distributed.Client`, or the address of its
    scheduler: a client is then opened and closed here); `progress(done, total)` is called as
    chunks arrive. The figures equal `montecarlo.run(sim, trials, seed)`'s."""
    import distributed

    lib: Any = distributed
    if trials < 1:
        raise ValueError("trials must be at least 1")
    own = isinstance(client, str)
    dask: Any = connect(client) if isinstance(client, str) else client
    model: Any = None
    futures: list[Any] = []
    try:
        bounds = chunk_bounds(trials, chunk_size or sim.model.default_chunk_size())
        # keys of this run's own (hash=False, pure=False): with content-hashed keys a second
        # run on the same client scattered the model under the key the first run was still
        # releasing, and the scheduler cancelled its chunks ("lost dependencies", about 1 run
        # in 4); the seed and bounds, not the keys, make the result
        model = dask.scatter(sim.model, broadcast=True, hash=False)
        futures = [dask.submit(simulate_chunk, model, seed, a, b, pure=False) for a, b in bounds]
        reducer = Reducer(sim, seed, trials)
        done = 0
        for future in lib.as_completed(futures):
            chunk: ChunkResult = future.result()
            reducer.add(chunk)
            done += chunk.stop - chunk.start
            future.release()
            del chunk
            if progress is not None:
                progress(done, trials)
        return reducer.result()
    finally:
        for future in futures:  # what an error left running (release is idempotent)
            future.release()
        if model is not None:
            model.release()
        if own:
            dask.close()
