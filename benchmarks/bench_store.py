"""Benchmark of the team workspace store on SQLite and PostgreSQL.

For each database: open (migrate and seed the demo), preview and import a register of --assets
assets (default 20,000, drawn from the demo's types, countries and currencies) with an audit
entry per asset, a check of the audit trail's whole hash chain, one optimistic-locked edit, the
engine's workspace (files plus the stored register), a full backup (export_workspace) and its
restore into an empty database.

    .venv/bin/python benchmarks/bench_store.py [--assets N] [--postgres URL] [--no-postgres]

PostgreSQL runs in a schema of its own in the `test` database, dropped afterwards; if the
server cannot be reached the PostgreSQL case is reported as skipped.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from riskapp.io.tables import load_assets
from riskapp.settings import DEMO, Settings
from riskapp.store import Actor, Store, Table
from riskapp.store.validation import asset_table_csv

ACTOR = Actor.system("bench")


def synthetic_register(n: int, seed: int = 7) -> str:
    demo = load_assets(DEMO / "assets.csv")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(demo), n)
    assets = [
        demo[int(i)].model_copy(update={"id": f"S{k:06d}", "depends_on": [], "name": f"Site {k}"})
        for k, i in enumerate(picks)
    ]
    # the demo's plans cover some demo assets by id: keep those in the register
    return asset_table_csv([*demo, *assets])


def timed(label: str, fn: Callable[[], Any], results: dict[str, float]) -> Any:
    start = time.perf_counter()
    value = fn()
    results[label] = time.perf_counter() - start
    return value


@contextmanager
def postgres_schemas(url: str) -> Iterator[Callable[[], str]]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(url)
    made: list[str] = []

    def make() -> str:
        schema = f"riskapp_bench_{uuid.uuid4().hex[:10]}"
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        made.append(schema)
        return (
            make_url(url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )

    try:
        yield make
    finally:
        with admin.begin() as conn:
            for schema in made:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run_case(make_url: Callable[[], str], register: Path, settings: Settings) -> dict[str, float]:
    results: dict[str, float] = {}
    store = timed(
        "open (migrate + seed demo)", lambda: Store.open(settings, url=make_url()), results
    )
    table = timed("read file", lambda: Table.from_file(register), results)
    preview = timed("preview import", lambda: store.preview_assets(table), results)
    assert preview.ok, preview.problems[:3]
    timed("import (all rows, audited)", lambda: store.import_assets(table, ACTOR), results)
    check = timed("verify_audit (whole chain)", store.verify_audit, results)
    assert check.ok, check.problems()[:3]
    first = store.assets()[0]
    timed(
        "one edit (full register checks)",
        lambda: store.update_asset(first.id, {"owner": "bench"}, first.version, ACTOR),
        results,
    )
    timed("workspace for the engine", store.workspace, results)
    backup = timed("export_workspace", lambda: store.export_workspace(ACTOR), results)
    fresh = Store.open(settings, url=make_url(), seed=False)
    timed("import_workspace (empty db)", lambda: fresh.import_workspace(backup, ACTOR), results)
    store.close()
    fresh.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=20_000)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        register = tmp / "assets.csv"
        register.write_text(synthetic_register(args.assets), encoding="utf-8")
        settings = Settings(workspace=DEMO, data_dir=tmp, _env_file=None)  # type: ignore[call-arg]
        cases: dict[str, dict[str, float] | str] = {}
        counter = iter(range(1000))
        cases["sqlite"] = run_case(
            lambda: f"sqlite:///{tmp / f'bench-{next(counter)}.db'}", register, settings
        )
        if args.no_postgres:
            cases["postgresql"] = "skipped (--no-postgres)"
        else:
            try:
                with postgres_schemas(args.postgres) as make:
                    cases["postgresql"] = run_case(make, register, settings)
            except Exception as exc:  # an unreachable server is reported, not fatal
                cases["postgresql"] = f"skipped ({type(exc).__name__}: {exc})".splitlines()[0]

    print(f"Store benchmark: {args.assets:,} imported assets (+75 demo assets)")
    for name, result in cases.items():
        print(f"\n{name}")
        if isinstance(result, str):
            print(f"  {result}")
            continue
        for label, seconds in result.items():
            print(f"  {label:<34} {seconds:8.3f} s")


if __name__ == "__main__":
    main()
