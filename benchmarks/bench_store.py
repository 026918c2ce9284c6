"""Benchmark of the team workspace store on SQLite and PostgreSQL.

For each database: open (migrate and seed the demo), preview and import a register of --assets
assets (default 20,000, drawn from the demo's types, countries and currencies) with an audit
entry per asset, the same file previewed and imported again with one field of every imported
asset changed (an update and an audit entry each), a check of the audit trail's whole hash
chain, one optimistic-locked edit, the engine's workspace (files plus the stored register), a
full backup (export_workspace) and its restore into an empty database.

    .venv/bin/python benchmarks/bench_store.py [--assets N] [--postgres URL] [--no-postgres]

Each database is benchmarked with a data directory of its own (a temporary folder, removed
afterwards). PostgreSQL runs in a schema of its own in the `test` database, dropped afterwards;
if the server cannot be reached the PostgreSQL case is reported as skipped. Everything is
written in temporary folders (the SQLite files and the registers) or in those schemas.

Each step prints its time, the CPU time this process spent in it (on a busy machine the time
grows with the wait for a core, the CPU time much less; PostgreSQL's own work is not in it) and
the process's peak RSS after it (a high-water mark: a step that needs more memory than any
before it raises it). The floor, measured in the same run on the
same database: `pandas.read_csv` of the register plus `DataFrame.to_sql` of its rows into a
fresh table (one transaction, no validation, no audit, no diff); the import's ratio is
(preview + import) / floor. The backup's floor reads every table the backup holds whole
(`read_sql_table`) and writes it as JSON records (`to_json`); the restore's reads those records
(`read_json`) and inserts them into fresh tables (`to_sql`; lists and objects as their JSON
text): neither checks, checksums or chains anything.
"""

from __future__ import annotations

import argparse
import resource
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
DEMO_ASSETS = len(load_assets(DEMO / "assets.csv"))


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


Result = dict[str, tuple[float, float, float]]
"""label -> (seconds, this process's CPU seconds, peak RSS in MB after the step)"""


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, fn: Callable[[], Any], results: Result) -> Any:
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    results[label] = (time.perf_counter() - start, time.process_time() - cpu, _max_rss_mb())
    return value


FLOOR = "floor: read_csv + to_sql"


def floor_import(url: str, register: Path, results: Result) -> None:
    """The plain pandas floor: read the register and insert its rows into a new table."""
    import pandas as pd
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:

        def load() -> None:
            frame = pd.read_csv(register, dtype=str, keep_default_na=False)
            with engine.begin() as conn:
                frame.to_sql("floor_assets", conn, index=False, chunksize=10_000)

        timed(FLOOR, load, results)
    finally:
        engine.dispose()


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


BACKUP_FLOOR = "floor: read_sql + to_json of the tables"
RESTORE_FLOOR = "floor: read_json + to_sql of the tables"


def floor_backup(url: str, tables: list[str], results: Result) -> dict[str, str]:
    """The plain pandas floor of a backup: every table the backup holds read whole
    (`read_sql_table`) and written as JSON records (`to_json`): no checksum, no hash chain."""
    import pandas as pd
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:

        def dump() -> dict[str, str]:
            with engine.connect() as conn:
                return {
                    name: pd.read_sql_table(name, conn).to_json(orient="records", date_format="iso")
                    for name in tables
                }

        return timed(BACKUP_FLOOR, dump, results)  # type: ignore[no-any-return]
    finally:
        engine.dispose()


def floor_restore(url: str, texts: dict[str, str], results: Result) -> None:
    """The plain pandas floor of a restore: each table's JSON records read (`read_json`) and
    inserted into a fresh table (`to_sql`, one transaction): no checks, no hash chain."""
    import io
    import json

    import pandas as pd
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:

        def load() -> None:
            with engine.begin() as conn:
                for name, text in texts.items():
                    frame = pd.read_json(io.StringIO(text), orient="records")
                    for col in frame.columns:  # lists and objects as their JSON text
                        if frame[col].map(lambda v: isinstance(v, (list, dict))).any():
                            frame[col] = frame[col].map(json.dumps)
                    frame.to_sql(f"floor_{name}", conn, index=False, chunksize=10_000)

        timed(RESTORE_FLOOR, load, results)
    finally:
        engine.dispose()


def changed_register(register: Path, folder: Path) -> Path:
    """The register with the name of every synthetic asset changed."""
    lines = register.read_text(encoding="utf-8").splitlines(keepends=True)
    out = folder / "assets-changed.csv"
    out.write_text(
        "".join(
            line.replace(",Site ", ",Renamed site ", 1) if line.startswith("S") else line
            for line in lines
        ),
        encoding="utf-8",
    )
    return out


def run_case(make_url: Callable[[], str], register: Path, folder: Path) -> Result:
    settings = Settings(workspace=DEMO, data_dir=folder, _env_file=None)  # type: ignore[call-arg]
    results: Result = {}
    floor_import(make_url(), register, results)
    store_url = make_url()
    store = timed(
        "open (migrate + seed demo)", lambda: Store.open(settings, url=store_url), results
    )
    table = timed("read file", lambda: Table.from_file(register), results)
    preview = timed("preview import", lambda: store.preview_assets(table), results)
    assert preview.ok, preview.problems[:3]
    timed("import (all rows, audited)", lambda: store.import_assets(table, ACTOR), results)
    changed = Table.from_file(changed_register(register, folder))
    again = timed(
        "preview again, every row changed", lambda: store.preview_assets(changed), results
    )
    assert again.ok and len(again.summary.changed) == len(table.rows) - DEMO_ASSETS, again
    timed("import again (updates, audited)", lambda: store.import_assets(changed, ACTOR), results)
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
    texts = floor_backup(store_url, [n for n, rows in backup["tables"].items() if rows], results)
    fresh = Store.open(settings, url=make_url(), seed=False)
    timed("import_workspace (empty db)", lambda: fresh.import_workspace(backup, ACTOR), results)
    floor_restore(make_url(), texts, results)
    store.close()
    fresh.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=20_000)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    cases: dict[str, Result | str] = {}
    text = synthetic_register(args.assets)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        register = tmp / "assets.csv"
        register.write_text(text, encoding="utf-8")
        counter = iter(range(1000))
        cases["sqlite"] = run_case(
            lambda: f"sqlite:///{tmp / f'bench-{next(counter)}.db'}", register, tmp
        )
    if args.no_postgres:
        cases["postgresql"] = "skipped (--no-postgres)"
    else:
        with tempfile.TemporaryDirectory() as folder:
            tmp = Path(folder)
            register = tmp / "assets.csv"
            register.write_text(text, encoding="utf-8")
            try:
                with postgres_schemas(args.postgres) as make:
                    cases["postgresql"] = run_case(make, register, tmp)
            except Exception as exc:  # an unreachable server is reported, not fatal
                cases["postgresql"] = f"skipped ({type(exc).__name__}: {exc})".splitlines()[0]

    print(f"Store benchmark: {args.assets:,} imported assets (+75 demo assets)")
    for name, result in cases.items():
        print(f"\n{name}")
        if isinstance(result, str):
            print(f"  {result}")
            continue
        width = max(map(len, result))
        print(f"  {'step':<{width}} {'time':>9} {'CPU':>9} {'peak RSS':>10}")
        for label, (seconds, cpu, rss) in result.items():
            print(f"  {label:<{width}} {seconds:7.3f} s {cpu:7.3f} s {rss:7.0f} MB")
        floor = result[FLOOR][0]
        work = result["preview import"][0] + result["import (all rows, audited)"][0]
        cpu = result["preview import"][1] + result["import (all rows, audited)"][1]
        print(
            f"  preview + import against the floor: {work:.3f} s / {floor:.3f} s = "
            f"{work / floor:.1f}x (CPU {cpu:.3f} s / {result[FLOOR][1]:.3f} s)"
        )
        for step, step_floor in (
            ("export_workspace", BACKUP_FLOOR),
            ("import_workspace (empty db)", RESTORE_FLOOR),
        ):
            took, base = result[step][0], result[step_floor][0]
            print(f"  {step} against its floor: {took:.3f} s / {base:.3f} s = {took / base:.1f}x")
        again = result["preview again, every row changed"][0]
        again += result["import again (updates, audited)"][0]
        print(
            f"  preview + import of every row changed against the floor: {again:.3f} s / "
            f"{floor:.3f} s = {again / floor:.1f}x"
        )


if __name__ == "__main__":
    main()
