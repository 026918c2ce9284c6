"""The team workspace commands, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from riskapp.cli.store import register
from riskapp.store.errors import BUSY_MESSAGE
from tests.store.conftest import TINY, held_write_lock

runner = CliRunner()
ADD_ALICE = ("users", "add", "alice", "--role", "admin", "--password-stdin")
app = typer.Typer()
register(app)


@pytest.fixture
def env(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("RISKAPP_DATABASE_URL", db_url)
    monkeypatch.setenv("RISKAPP_WORKSPACE", str(TINY))
    monkeypatch.setenv("RISKAPP_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no stray .env file
    return db_url


def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin)
    return result.exit_code, result.output


def test_import_with_problems_lists_them_and_writes_nothing(env: str, tmp_path: Path) -> None:
    path = tmp_path / "assets.csv"
    lines = (TINY / "assets.csv").read_text().splitlines()
    path.write_text("\n".join([*lines, "Z9,Bad,plant,XXX,,,1,0,EUR,3,,,"]) + "\n")
    code, output = run("import", str(path))
    assert code == 1
    assert "assets.csv, row 5 [country]" in output
    assert "nothing was imported" in output


def test_import_dry_run_then_commit(env: str, tmp_path: Path) -> None:
    path = tmp_path / "assets.csv"
    old, new = "NOR,69.6,18.9,100", "NOR,69.6,18.9,175"
    text = (TINY / "assets.csv").read_text().replace(old, new)
    path.write_text(text)
    code, output = run("import", str(path), "--dry-run")
    assert code == 0, output
    assert "would add 0, change 1, remove 0" in output
    assert "changed P1: replacement_value" in output
    code, output = run("import", str(path))
    assert code == 0, output
    assert "0 added, 1 changed, 0 removed" in output


def test_import_into_an_empty_database_follows_seed_demo(
    env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RISKAPP_SEED_DEMO=false: `riskapp import` does not fill the empty database from the
    workspace's register first, so importing that register adds every row (it reported 0
    added); by default the database is seeded on first use and the same file adds nothing."""
    path = tmp_path / "assets.csv"
    path.write_text((TINY / "assets.csv").read_text())
    rows = len(path.read_text().splitlines()) - 1
    monkeypatch.setenv("RISKAPP_SEED_DEMO", "false")
    code, output = run("import", str(path))
    assert code == 0, output
    assert f"{rows} added, 0 changed, 0 removed" in output


def test_import_into_a_seeded_database_adds_nothing_new(env: str, tmp_path: Path) -> None:
    path = tmp_path / "assets.csv"
    path.write_text((TINY / "assets.csv").read_text())
    code, output = run("import", str(path))
    assert code == 0, output
    assert "0 added, 0 changed, 0 removed" in output


def test_a_busy_database_is_one_plain_line_and_exit_1(
    env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "assets.csv"
    path.write_text((TINY / "assets.csv").read_text().replace("Plant north", "Plant N"))
    code, output = run("import", str(path), "--dry-run")  # creates and seeds the database
    assert code == 0, output
    monkeypatch.setenv("RISKAPP_DATABASE_BUSY_TIMEOUT", "0.2")
    with held_write_lock(env):
        result = runner.invoke(app, ["import", str(path)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # a clean exit, not an uncaught error
    assert result.output.splitlines()[-1] == BUSY_MESSAGE
    assert "Traceback" not in result.output
    code, output = run("import", str(path))  # nothing was written: the change is still to do
    assert code == 0, output
    assert "0 added, 1 changed, 0 removed" in output


def test_import_plan_status_table(env: str, tmp_path: Path) -> None:
    path = tmp_path / "status.csv"
    path.write_text("id,owner,status,review_date\nshield,CISO,ready,2026-01-15\n")
    code, output = run("import", str(path))
    assert code == 0, output
    code, output = run("export-workspace", str(tmp_path / "b.json"), "--files", str(tmp_path))
    assert code == 0, output
    assert (
        "shield,Shield the northern plants,CISO,ready,2026-01-15"
        in (tmp_path / "plan_status.csv").read_text()
    )


def test_backup_and_restore(env: str, tmp_path: Path, new_db_url: object) -> None:
    code, output = run(*ADD_ALICE, stdin="alice-password\n")
    assert code == 0, output
    backup = tmp_path / "backup.json"
    code, output = run("export-workspace", str(backup))
    assert code == 0, output
    data = json.loads(backup.read_text())
    assert [u["username"] for u in data["tables"]["users"]] == ["alice"]
    assert data["tables"]["audit_log"]
    code, output = run("import-workspace", str(backup))
    assert code == 1
    assert "--replace" in output or "replace" in output
    assert callable(new_db_url)
    code, output = run("import-workspace", str(backup), "--database", new_db_url())
    assert code == 0, output
    assert "users: 1" in output


def test_a_backup_to_standard_output_is_the_file_backup(env: str, tmp_path: Path) -> None:
    code, output = run("export-workspace", "-")
    assert code == 0
    printed = json.loads(output)
    code, _ = run("export-workspace", str(tmp_path / "b.json"))
    assert code == 0
    written = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    assert printed["tables"] == written["tables"] and printed["tables"]["assets"]
    assert printed["checksum"] == written["checksum"]


def test_a_backup_that_cannot_be_written_says_so(env: str, tmp_path: Path) -> None:
    code, output = run("export-workspace", str(tmp_path / "missing" / "b.json"))
    assert code == 1
    assert "missing/b.json: the backup could not be written" in " ".join(output.split())
    assert not (tmp_path / "missing").exists()


def test_users(env: str) -> None:
    code, output = run("users", "list")
    assert "No users" in output
    code, output = run(*ADD_ALICE, stdin="alice-password\n")
    assert code == 0, output
    code, output = run("users", "add", "dana@example.com", "--role", "analyst", "--oidc")
    assert code == 0, output
    code, output = run("users", "list")
    assert "alice" in output and "OpenID Connect" in output
    code, output = run("users", "add", "bob", "--role", "boss", "--password-stdin", stdin="x\n")
    assert code == 2
    code, output = run("users", "remove", "dana@example.com")
    assert code == 0, output
    code, output = run("users", "remove", "nobody")
    assert code == 1


def test_assessments(env: str, tmp_path: Path) -> None:
    code, output = run("assessments", "save", "first", "--date", "2025-01-01")
    assert code == 0, output
    path = tmp_path / "assets.csv"
    path.write_text((TINY / "assets.csv").read_text().replace("200,50,EUR", "400,50,EUR"))
    assert run("import", str(path))[0] == 0
    code, output = run("assessments", "save", "second", "--date", "2025-02-01")
    assert code == 0, output
    code, output = run("assessments", "list")
    assert "first" in output and "second" in output
    code, output = run("assessments", "compare", "1", "2", "--by", "asset")
    assert code == 0, output
    assert "P2" in output
    assert "replacement_value 200 -> 400" in output
    code, output = run("assessments", "compare", "1", "9")
    assert code == 1


def test_sync_lists_differences_and_brings_the_database_in_line(env: str, tmp_path: Path) -> None:
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(TINY, ws)
    code, output = run("sync", str(ws), "--check")
    assert code == 0, output
    assert "hold the same register and plans" in output
    assets = ws / "assets.csv"
    lines = assets.read_text(encoding="utf-8").splitlines()
    assets.write_text("\n".join([*lines, "N1,New office,office,DEU,,,1000,0,EUR,2,,,"]) + "\n")

    code, output = run("sync", str(ws), "--check")
    assert code == 1
    assert "differ: 1 asset only in files" in output
    assert "asset N1: only in files" in output

    code, output = run("sync", str(ws), "--to", "store")
    assert code == 0, output
    assert "Brought in line" in output and "hold the same register and plans" in output
    assert run("sync", str(ws), "--check")[0] == 0

    code, output = run("sync", str(ws), "--to", "elsewhere")
    assert code == 2 and "--to is store or files" in output


def test_import_through_a_register_mapping(
    env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client's German spreadsheet in thousands of euros, imported through a saved mapping
    (riskapp.io.mapping): the same register as the mapped file written out and imported."""
    monkeypatch.setenv("RISKAPP_SEED_DEMO", "false")
    client = tmp_path / "client.csv"
    client.write_text(
        "Anlagen-ID,Bezeichnung,Kategorie,Land,Wiederbeschaffungswert (TEUR)\n"
        "W-01,Werk Kotka,Werk,FIN,12000\nB-02,Büro Oslo,Büro,NOR,800\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns: {id: Anlagen-ID, name: Bezeichnung, type: Kategorie, country: Land,\n"
        "  replacement_value: Wiederbeschaffungswert (TEUR)}\n"
        "units: {replacement_value: 1000}\ncurrency: EUR\n"
        "types: {Werk: plant, Büro: office}\n",
        encoding="utf-8",
    )
    code, output = run("import", str(client), "--mapping", str(mapping))
    assert code == 0, output
    assert "2 added, 0 changed, 0 removed" in output
    plain = tmp_path / "assets.csv"
    plain.write_text(
        "id,name,type,country,replacement_value,currency\n"
        "W-01,Werk Kotka,plant,FIN,12000000,EUR\nB-02,Büro Oslo,office,NOR,800000,EUR\n",
        encoding="utf-8",
    )
    code, output = run("import", str(plain), "--dry-run")
    assert code == 0, output
    assert "would add 0, change 0, remove 0" in output
    mapping.write_text("columns: {id: Asset ID}\n")
    code, output = run("import", str(client), "--mapping", str(mapping))
    assert code == 1 and "the file has no column 'Asset ID'" in output
