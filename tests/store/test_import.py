"""Imports: a preview lists every problem with row, column and reason; the commit is all or
nothing, even when the importing process is killed half-way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import openpyxl
import pytest

from riskapp.io import InputError
from riskapp.store import AccessDenied, Store, Table
from riskapp.store.validation import asset_table_csv, template_csv, template_xlsx
from tests.conftest import ROOT
from tests.store.conftest import ANALYST, SYSTEM, TINY, VIEWER

HEADER = "id,name,type,country,lat,lon,replacement_value,annual_revenue_at_stake,currency,criticality,tags,owner,depends_on,subdivision,route\n"  # noqa: E501


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def good_register(tmp_path: Path) -> Path:
    return write(
        tmp_path / "assets.csv",
        HEADER
        + "P1,Plant north,plant,NOR,69.6,18.9,150,0,EUR,4,arctic;critical,Ops,\n"
        + "P2,Plant Finland,plant,FIN,60.2,24.9,200,50,EUR,5,critical,Ops,P1\n"
        + "O2,Office Oslo,office,NOR,,,500,0,USD,2,,Admin,\n",
    )


def test_preview_lists_every_problem_with_row_column_and_reason(
    store: Store, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "bad.csv",
        HEADER
        + "P1,Plant north,plant,NOR,69.6,18.9,100,0,EUR,4,,Ops,\n"
        + "P2,Plant Finland,plant,XXX,60.2,24.9,-5,0,EUR,5,,Ops,\n"
        + "P3,Plant three,plant,FIN,,,10,0,EUR,9,,Ops,\n",
    )
    preview = store.preview_assets(Table.from_file(path))
    assert not preview.ok
    found = {(p.line, p.field) for p in preview.problems}
    assert found == {(3, "country"), (3, "replacement_value"), (4, "criticality")}
    assert all(p.unit == "row" and p.message for p in preview.problems)
    assert "ISO 3166-1 alpha-3" in str(preview.problems[0])
    assert store.register()[0].replacement_value == 100  # a preview writes nothing


def test_preview_finds_register_and_workspace_problems(store: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path / "bad.csv",
        HEADER
        + "P1,Plant north,plant,NOR,,,100,0,EUR,4,,Ops,P9\n"
        + "P2,Plant Finland,ship,FIN,,,100,0,GBP,4,,Ops,\n"
        + "P2,Plant again,plant,SWE,,,100,0,EUR,4,,Ops,\n",
    )
    problems = store.preview_assets(Table.from_file(path)).problems
    by_row = {(p.line, p.field): p.message for p in problems}
    assert "no asset 'P9'" in by_row[(2, "depends_on")]
    assert "duplicate id 'P2'" in by_row[(4, "id")]


def test_preview_checks_types_currencies_and_baseline_against_the_files(
    store: Store, tmp_path: Path
) -> None:
    path = write(
        tmp_path / "bad.csv",
        HEADER
        + "P1,Plant north,plant,NOR,,,100,0,EUR,4,,Ops,\n"
        + "P2,Plant Finland,ship,FIN,,,100,0,GBP,4,,Ops,\n"
        + "O1,Office,office,SWE,,,100,0,EUR,4,,Ops,\n",
    )
    problems = store.preview_assets(Table.from_file(path)).problems
    by_row = {(p.line, p.field): p.message for p in problems}
    assert "no vulnerability curve" in by_row[(3, "type")]
    assert "no exchange rate for GBP" in by_row[(3, "currency")]
    assert "no baseline intensity for country SWE" in by_row[(4, "country")]


def test_preview_of_a_good_file_says_what_would_change(store: Store, tmp_path: Path) -> None:
    preview = store.preview_assets(Table.from_file(good_register(tmp_path)))
    assert preview.ok
    assert preview.summary.added == ["O2"]
    assert preview.summary.removed == ["O1"]
    assert preview.summary.changed == {"P1": ["replacement_value"]}
    merge = store.preview_assets(Table.from_file(good_register(tmp_path)), mode="merge")
    assert merge.summary.removed == []


def test_import_commits_all_rows_with_audit(store: Store, tmp_path: Path) -> None:
    summary = store.import_assets(Table.from_file(good_register(tmp_path)), SYSTEM)
    assert (summary.added, summary.removed) == (["O2"], ["O1"])
    assert [a.id for a in store.register()] == ["P1", "P2", "O2"]
    assert store.asset("P1").version == 2
    entries = store.audit(action="import")
    assert {(e.entity_id, e.field) for e in entries} == {
        ("O2", ""),
        ("O1", ""),
        ("P1", "replacement_value"),
    }
    assert all(e.note == "import assets.csv (replace)" for e in entries)


def test_merge_keeps_assets_not_in_the_file(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "more.csv", HEADER + "O2,Office Oslo,office,NOR,,,5,0,EUR,2,,,O1\n")
    store.import_assets(Table.from_file(path), SYSTEM, mode="merge")
    assert [a.id for a in store.register()] == ["P1", "P2", "O1", "O2"]


def test_one_bad_row_commits_nothing(store: Store, tmp_path: Path) -> None:
    before = store.assets()
    audit = len(store.audit())
    path = write(
        tmp_path / "one_bad.csv",
        good_register(tmp_path).read_text() + "O3,Office three,office,NOR,,,oops,0,EUR,2,,,\n",
    )
    with pytest.raises(InputError) as caught:
        store.import_assets(Table.from_file(path), SYSTEM)
    assert [(p.line, p.field) for p in caught.value.problems] == [(5, "replacement_value")]
    assert store.assets() == before
    assert len(store.audit()) == audit


def test_excel_import_reports_spreadsheet_rows(store: Store, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER.strip().split(","))
    sheet.append(["P1", "Plant", "plant", "NOR", None, None, 100, 0, "EUR", 4, "", "", ""])
    sheet.append(["P2", "Plant", "plant", "FIN", None, None, 100, 0, "EUR", 4, "", "", "P7"])
    path = tmp_path / "assets.xlsx"
    book.save(path)
    preview = store.preview_assets(Table.from_file(path))
    assert [(p.file, p.line, p.field) for p in preview.problems] == [
        ("assets.xlsx", 3, "depends_on")
    ]


def test_only_admins_import(team: Store, tmp_path: Path) -> None:
    table = Table.from_file(good_register(tmp_path))
    for actor in (ANALYST, VIEWER):
        with pytest.raises(AccessDenied, match="admin role"):
            team.import_assets(table, actor)
    assert len(team.register()) == 3


def test_export_then_import_is_lossless(store: Store, tmp_path: Path) -> None:
    store.import_assets(Table.from_file(good_register(tmp_path)), SYSTEM)
    before = store.assets()
    exported = write(tmp_path / "export.csv", asset_table_csv(store.register()))
    summary = store.import_assets(Table.from_file(exported), SYSTEM)
    assert summary.empty
    assert store.assets() == before


def test_demo_register_round_trips_through_csv(store: Store, tmp_path: Path) -> None:
    from riskapp.io.tables import load_assets
    from tests.conftest import DEMO

    demo = load_assets(DEMO / "assets.csv")
    again = load_assets(write(tmp_path / "demo.csv", asset_table_csv(demo)))
    assert again == demo


def test_templates(tmp_path: Path) -> None:
    assert template_csv("assets") == HEADER
    path = tmp_path / "template.xlsx"
    path.write_bytes(template_xlsx("assets"))
    book = openpyxl.load_workbook(path)
    assert [c.value for c in book.worksheets[0][1]] == HEADER.strip().split(",")
    assert book.sheetnames == ["assets", "columns"]


def test_plan_table_import(store: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path / "plans.csv",
        "id,owner,status,review_date\nshield,CISO,ready,2025-03-01\narmor,,,\n",
    )
    preview = store.preview_plans(Table.from_file(path))
    assert preview.ok
    assert preview.summary.changed == {
        "shield": ["owner", "status", "review_date"],
        "armor": ["owner"],
    }
    store.import_plan_table(Table.from_file(path), SYSTEM)
    shield = store.plan("shield")
    assert (shield.plan.owner, shield.plan.status.value) == ("CISO", "ready")
    assert shield.review_date is not None and shield.review_date.isoformat() == "2025-03-01"
    assert store.plan("armor").plan.status.value == "proposed"  # empty status keeps it


def test_plan_table_problems(store: Store, tmp_path: Path) -> None:
    path = write(
        tmp_path / "plans.csv",
        "id,owner,status,review_date\nshield,CISO,done,2025-03-01\nghost,,,\narmor,,,31.12.2025\n",
    )
    problems = store.preview_plans(Table.from_file(path)).problems
    assert [(p.line, p.field) for p in problems] == [(2, "status"), (3, "id"), (4, "review_date")]
    with pytest.raises(InputError):
        store.import_plan_table(Table.from_file(path), SYSTEM)
    assert store.plan("shield").plan.owner == "COO"


def test_plan_book_import_checks_references(store: Store, tmp_path: Path) -> None:
    from riskapp.domain import PlanBook

    book = store.plan_book()
    broken = book.plans[1].model_copy(
        update={"coverage": book.plans[1].coverage.model_copy(update={"asset_ids": ["ZZ"]})}
    )
    with pytest.raises(InputError, match="no asset 'ZZ'"):
        store.import_plan_book(PlanBook(plans=[book.plans[0], broken]), SYSTEM)
    assert store.plan_book() == book
    store.import_plan_book(PlanBook(plans=[book.plans[0]]), SYSTEM)
    assert [p.id for p in store.plans()] == ["shield"]


KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from riskapp.settings import Settings
    from riskapp.store import Actor, Store, Table

    url, path, workspace = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    store = Store.open(Settings(workspace=workspace, _env_file=None), url=url, seed=False)

    def hook(done, total):
        if done >= total // 2:
            print("HALF", done, total, flush=True)
            time.sleep(120)  # killed here, in the middle of the transaction

    store.import_assets(Table.from_file(path), Actor.system("killed"), hook=hook)
    print("FINISHED", flush=True)
    """
)


def test_killing_an_import_half_way_leaves_the_previous_state(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    rows = [
        f"K{i},Site {i},{'plant' if i % 2 else 'office'},{('NOR', 'FIN', 'DEU')[i % 3]},"
        f",,{1000 + i},0,EUR,3,,,\n"
        for i in range(3000)
    ]
    kept = (TINY / "assets.csv").read_text().splitlines(keepends=True)[1:]  # plans cover them
    path = write(tmp_path / "big.csv", HEADER + "".join(kept) + "".join(rows))
    before, audit = store.assets(), len(store.audit())
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, db_url, str(path), str(TINY)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("HALF"), line + (proc.stderr.read() if proc.stderr else "")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert store.assets() == before
    assert len(store.audit()) == audit
    # and the database is not left locked: the next import goes through
    p1 = store.asset("P1")
    store.update_asset("P1", {"owner": "after the crash"}, p1.version, SYSTEM)
    assert store.import_assets(Table.from_file(path), SYSTEM, mode="merge").added[-1] == "K2999"


def big_register(path: Path, rows: int, spoil_row: int | None = None, extra: str = "") -> Path:
    """A register of `rows` plants in Norway; the asset on spreadsheet row `spoil_row` gets
    criticality 9; `extra` is appended as more rows."""
    lines = [HEADER.rstrip("\n")]
    for i in range(rows):
        criticality = 9 if spoil_row is not None and i + 2 == spoil_row else 3
        lines.append(f"B{i:06d},Plant {i},plant,NOR,60.0,10.0,100,0,EUR,{criticality},,Ops,")
    path.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return path


def test_a_large_bad_upload_is_refused_from_a_stream_with_row_and_field(
    store: Store, tmp_path: Path
) -> None:
    """Over 5 MB a register upload is checked as a stream before its rows are held: the bad
    cell is named by its spreadsheet row and field, and nothing is stored."""
    from riskapp.assessment.register import STREAM_UPLOAD_BYTES, save_upload

    path = big_register(tmp_path / "assets.csv", 100_000, spoil_row=90_001)
    data = path.read_bytes()
    assert len(data) > STREAM_UPLOAD_BYTES
    before = [s.asset for s in store.assets()]
    with pytest.raises(InputError) as refused:
        save_upload("assets.csv", data)
    (problem,) = refused.value.problems
    assert (problem.file, problem.line, problem.field) == ("assets.csv", 90_001, "criticality")
    assert [s.asset for s in store.assets()] == before


def test_a_large_merge_upload_may_depend_on_stored_assets(store: Store, tmp_path: Path) -> None:
    """The stream check leaves references to the preview: a merge file whose asset depends
    on one already stored (P1) is read and previewed as valid."""
    from riskapp.assessment.register import save_upload

    extra = "Z1,New plant,plant,NOR,60.0,10.0,100,0,EUR,3,,Ops,P1\n"
    path = big_register(tmp_path / "assets.csv", 100_000, extra=extra)
    table = save_upload("assets.csv", path.read_bytes())
    preview = store.preview_assets(table, "merge")
    assert preview.ok, [str(p) for p in preview.problems[:5]]
    assert preview.rows == 100_001


def test_import_reads_country_names_and_says_so(store: Store, tmp_path: Path) -> None:
    """The store's import reads locations as the workspace files do (riskapp.io.locations):
    names and alpha-2 codes converted, with notes in the preview; nothing guessed."""
    path = write(
        tmp_path / "assets.csv",
        HEADER
        + "P1,Plant north,plant,Norge,69.6,18.9,150,0,EUR,4,arctic;critical,Ops,\n"
        + "P2,Plant Finland,plant,fi,60.2,24.9,200,50,EUR,5,critical,Ops,P1\n"
        + "O2,Office Oslo,office,Norway,,,500,0,USD,2,,Admin,\n",
    )
    preview = store.preview_assets(Table.from_file(path))
    assert preview.ok, preview.problems
    assert "assets.csv: 1 row names its country as 'Norge', read as NOR" in preview.notes
    assert "assets.csv: 1 row names its country as 'fi' (an alpha-2 code), read as FIN" in (
        preview.notes
    )
    store.import_assets(Table.from_file(path), SYSTEM)
    assert {a.id: a.country for a in store.register()} == {"P1": "NOR", "P2": "FIN", "O2": "NOR"}
