"""Scale-out: the Monte Carlo on a Dask cluster (a LocalCluster started here, two worker
processes) gives the same numbers as a local run with the same seed, from the API and from
`riskapp simulate --scheduler`; the sensitivity options of the command."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from riskapp.cli.simulate import simulate as simulate_command
from riskapp.domain import Workspace
from riskapp.domain.assets import DependencyLink
from riskapp.engine import distributed
from riskapp.engine.distributed import run_distributed
from riskapp.engine.montecarlo import ChunkResult, prepare_simulation, run
from tests.conftest import TINY


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[object, object]]:
    from distributed import Client, LocalCluster

    # worker processes of their own: the model travels pickled over TCP, as on a real cluster
    local = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(local)
    try:
        yield local, client
    finally:
        client.close()
        local.close()


def test_cluster_run_equals_the_local_run(demo: Workspace, cluster: tuple[object, object]) -> None:
    local, client = cluster
    links = [DependencyLink(asset_id="PLT-DE-01", depends_on="PRT-DE-01", share=0.3)]
    sim = prepare_simulation(demo, links=links)
    reference = run(sim, 2_300, seed=11)
    seen: list[int] = []
    remote = run_distributed(
        sim, 2_300, 11, client, chunk_size=400, progress=lambda done, _t: seen.append(done)
    )
    for f in fields(ChunkResult):
        if f.name not in ("start", "stop"):
            assert np.array_equal(getattr(reference, f.name), getattr(remote, f.name)), f.name
    assert reference.summary_table().equals(remote.summary_table())
    assert seen == sorted(seen) and seen[-1] == 2_300 and len(seen) == 6
    # by the scheduler's address (a client of its own, closed afterwards), other chunks
    address = local.scheduler_address  # type: ignore[attr-defined]
    again = run_distributed(sim, 2_300, 11, address, chunk_size=1_000)
    assert np.array_equal(again.loss, reference.loss)
    assert np.array_equal(again.averted_alone, reference.averted_alone)
    with pytest.raises(ValueError, match="at least 1"):
        run_distributed(sim, 0, 11, client)


def test_a_reused_client_gives_the_same_answers_every_time(
    demo: Workspace, cluster: tuple[object, object]
) -> None:
    """Several runs on one client, one after another (as the benchmark and a long-lived
    dashboard do): each equals the local run. With content-hashed keys about 1 run in 4
    failed with "lost dependencies" while the previous run's model was being released."""
    _local, client = cluster
    sim = prepare_simulation(demo)
    reference = {seed: run(sim, 1_500, seed=seed) for seed in (3, 4)}
    for attempt in range(8):
        seed = 3 + attempt % 2
        remote = run_distributed(sim, 1_500, seed, client, chunk_size=250)
        assert np.array_equal(remote.loss, reference[seed].loss), attempt
    # every key is released (the scheduler forgets them a moment later)
    held = client.who_has()  # type: ignore[attr-defined]
    for _ in range(100):
        if not held:
            break
        time.sleep(0.1)
        held = client.who_has()  # type: ignore[attr-defined]
    assert not held


def cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """riskapp"""

    app.command(name="simulate")(simulate_command)
    return app


def test_cli_on_the_cluster_writes_the_local_figures(
    tmp_path: Path, cluster: tuple[object, object]
) -> None:
    local, _ = cluster
    address = local.scheduler_address  # type: ignore[attr-defined]
    args = ["simulate", str(TINY), "-n", "3000", "--seed", "4", "--no-progress"]
    here = CliRunner().invoke(cli(), [*args, "--out", str(tmp_path / "here.csv")])
    assert here.exit_code == 0, here.output
    there = CliRunner().invoke(
        cli(), [*args, "--out", str(tmp_path / "there.csv"), "--scheduler", address]
    )
    assert there.exit_code == 0, there.output
    assert f"run on the Dask cluster at {address}" in " ".join(there.output.split())
    for suffix in ("", ".exceedance", ".plans"):
        a = pd.read_csv(tmp_path / f"here{suffix}.csv")
        b = pd.read_csv(tmp_path / f"there{suffix}.csv")
        assert a.equals(b), suffix


def test_cli_says_when_the_scheduler_cannot_be_reached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(distributed, "connect", functools.partial(distributed.connect, timeout=0.5))
    args = ["simulate", str(TINY), "-n", "100", "--no-progress", "--scheduler", "tcp://127.0.0.1:9"]
    result = CliRunner().invoke(cli(), args)
    assert result.exit_code == 1
    assert "Cannot reach the Dask scheduler" in result.output
    assert "Traceback" not in result.output


def test_cli_sensitivity_tables(tmp_path: Path) -> None:
    out = tmp_path / "mc.csv"
    args = ["simulate", str(TINY), "-n", "2000", "--no-progress", "--sensitivity"]
    result = CliRunner().invoke(cli(), [*args, "--sobol-samples", "32", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "What moves the loss" in text and "Sobol indices" in text
    assert "Frequency of German alpha spike" in text and "Intensity of Alpha factor" in text
    tornado = pd.read_csv(tmp_path / "mc.tornado.csv")
    assert set(tornado["kind"]) == {"frequency", "factor", "shock"}
    sobol = pd.read_csv(tmp_path / "mc.sobol.csv")
    assert list(sobol.columns) == ["key", "kind", "label", "s1", "s1_conf", "st", "st_conf"]
    assert set(sobol["key"]) == {"alpha", "beta", "s1", "s2"}
