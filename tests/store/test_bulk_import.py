"""Imports at bulk speed keep their meaning: the columnar reading of a register gives exactly
the assets and problems the Asset model gives, the audit entries written in bulk say what the
entry-by-entry ones said and chain the same way, a file is validated once for a preview and the
import after it, and the import still sees every change made in between."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from riskapp.domain import Asset
from riskapp.domain.assets import ASSET_COLUMNS
from riskapp.io import InputError
from riskapp.store import Store, Table
from riskapp.store import bulk as bulk_module
from riskapp.store import register as register_module
from riskapp.store import workspace as workspace_module
from riskapp.store.bulk import BULK_CHUNK, copy_texts
from riskapp.store.chain import GENESIS, link, link_columns
from riskapp.store.engine import WRITE_CACHE_KIB, make_engine, roomy_cache
from riskapp.store.frames import (
    db_values,
    diff_registers,
    frame_of_assets,
    record_texts,
    records,
    stored_register,
    value_texts,
)
from riskapp.store.records import ASSET_FIELDS, asset_values, dump_value
from riskapp.store.validation import parse_assets, parse_register, table_digest
from tests.store.conftest import SYSTEM, TINY

HEADER = [
    "id",
    "name",
    "type",
    "country",
    "lat",
    "lon",
    "replacement_value",
    "annual_revenue_at_stake",
    "currency",
    "criticality",
    "tags",
    "owner",
    "depends_on",
]


def table(rows: list[list[Any]], header: list[str] = HEADER, name: str = "t.csv") -> Table:
    return Table(name, header, [(i + 2, r) for i, r in enumerate(rows)])


VALID_ROWS: list[list[Any]] = [
    ["P1", "Plant north", "plant", "NOR", "69.6", "18.9", "150", "0", "EUR", "4", "a;b", "Ops", ""],
    [" P2 ", " Plant ", " plant ", "fin", "", "", "2e2", "", "", "", " a ; b ;", "", "P1"],
    [
        "P3",
        'Ünïcode "q" \\ name',
        "office",
        "Deu",
        "-1.5",
        "2",
        "0.1",
        "7",
        "USD",
        "5",
        "",
        "Anna\tB",
        "P1;P2",
    ],
    ["P4", "Zero", "plant", "NOR", "0", "-0", "0", "0.000", "EUR", "1", ";", "", " P2 ; P3 "],
    ["P5", "Big", "plant", "NOR", "", "", "1e400", "0", "EUR", "3", "", "", ""],
    [
        "P6",
        "Text cell numbers",
        "plant",
        "NOR",
        "10",
        "10",
        "12345678901234567890",
        "1.5",
        "EUR",
        "3",
        "",
        "",
        "",
    ],
]


def test_the_columnar_reading_gives_the_models_assets() -> None:
    rows = [r for r in VALID_ROWS if r[0] != "P5"]  # 1e400 is no finite number
    t = table(rows)
    assets, lines, problems = parse_assets(t)
    assert not problems
    parsed = parse_register(t)
    assert parsed.problems == [] and parsed.lines == lines
    assert parsed.frame is not None
    assert records(parsed.frame) == [asset_values(a) for a in assets]
    assert records(parsed.frame)[1]["tags"] == ["a", "b"]
    assert records(parsed.frame)[2]["country"] == "DEU"


def test_the_columnar_reading_takes_missing_optional_columns_as_their_defaults() -> None:
    header = ["id", "name", "type", "country", "replacement_value"]
    t = table([["A", "a", "plant", "NOR", "5"], ["B", "b", "office", "FIN", "1e1"]], header)
    assets, _, _ = parse_assets(t)
    parsed = parse_register(t)
    assert parsed.frame is not None
    assert records(parsed.frame) == [asset_values(a) for a in assets]


def test_workbook_cells_that_are_numbers_read_as_the_model_reads_them() -> None:
    rows: list[list[Any]] = [
        [1001, "Plant", "plant", "NOR", 60.5, 10, 150, 0, "EUR", 4, "", "", ""],
        ["P2", "Plant", "plant", "NOR", "", "", 150.25, "", "", "", "", "", 1001],
    ]
    t = table(rows)
    assets, _, problems = parse_assets(t)
    assert not problems
    parsed = parse_register(t)
    assert parsed.frame is not None
    assert records(parsed.frame) == [asset_values(a) for a in assets]


@pytest.mark.parametrize(
    "rows",
    [
        [VALID_ROWS[0], VALID_ROWS[4]],  # a number too large to be finite
        [VALID_ROWS[0], ["P9", "", "plant", "XXX", "1", "", "-5", "x", "eur", "9", "A", "", "P9"]],
        [
            VALID_ROWS[0],
            ["P9", "n", "plant", "NOR", "1", "2", "5", "0", "EUR", "3", "", "", "", "x"],
        ],
        [["P9", "n\x00", "plant", "NOR", "", "", "5", "0", "EUR", "3", "", "", ""]],
    ],
)
def test_the_columnar_reading_reports_the_models_problems(rows: list[list[Any]]) -> None:
    t = table(rows)
    _, _, expected = parse_assets(t)
    assert expected
    parsed = parse_register(t)
    assert parsed.frame is None
    assert parsed.problems == expected


def test_a_header_without_rows_and_a_bad_header_are_reported_as_before() -> None:
    for t in (table([]), table([["P1", "x"]], ["id", "nom"])):
        assert parse_register(t).problems == parse_assets(t)[2]


def test_the_digest_tells_tables_apart() -> None:
    base = table([["A", "b"], ["c", "d"]], ["id", "name"])
    assert table_digest(base) == table_digest(table([["A", "b"], ["c", "d"]], ["id", "name"]))
    others = [
        table([["A", "bc"], ["", "d"]], ["id", "name"]),
        table([["A\x00b", ""], ["c", "d"]], ["id", "name"]),
        table([["A", "b"], ["c", "d"]], ["id", "name"], name="other.csv"),
        Table("t.csv", ["id", "name"], [(2, ["A", "b"]), (4, ["c", "d"])]),
        table([["A", "b"], ["c", 1]], ["id", "name"]),
    ]
    digests = {table_digest(t) for t in others}
    assert len(digests) == len(others) and table_digest(base) not in digests


ODD_ASSETS = [
    Asset(id="A", name='Quote " and \\ back', type="plant", country="NOR", replacement_value=1.0),
    Asset(
        id="B.2-x_y",
        name="Zürich 東京 tab\tline\nend",
        type="office",
        country="CHE",
        lat=-12.345678901234567,
        lon=0.0,
        replacement_value=1e16,
        annual_revenue_at_stake=0.1,
        currency="USD",
        criticality=5,
        tags=["a_b", "c"],
        owner="Ops\r\nteam",
        depends_on=["A"],
    ),
]


def test_audit_texts_built_by_column_are_dump_values() -> None:
    frame = frame_of_assets(ODD_ASSETS)
    assert record_texts(frame) == [dump_value(asset_values(a)) for a in ODD_ASSETS]
    for col in ASSET_FIELDS:
        assert value_texts(frame[col], col) == [
            dump_value(asset_values(a)[col]) for a in ODD_ASSETS
        ]


PLAIN_ASSETS = [
    Asset(
        id="C1",
        name="Plain",
        type="plant",
        country="NOR",
        lat=1.5,
        lon=-2.0,
        replacement_value=3.0,
        tags=["a"],
    ),
    Asset(
        id="C2",
        name="Also plain",
        type="office",
        country="FIN",
        lat=0.0,
        lon=10.0,
        replacement_value=1e16,
        annual_revenue_at_stake=0.1,
        criticality=1,
        depends_on=["C1"],
        subdivision="FI-18",
    ),
]


@pytest.mark.parametrize(
    "assets", [PLAIN_ASSETS, ODD_ASSETS[:1], ODD_ASSETS[1:], [*ODD_ASSETS, *PLAIN_ASSETS]]
)
def test_audit_texts_are_dump_values_whichever_way_each_column_is_written(
    assets: list[Asset],
) -> None:
    """Text with nothing to escape goes between quotes as it is, other text through the JSON
    encoder, coordinates with or without gaps; with the insert's own values or without."""
    frame = frame_of_assets(assets)
    expected = [dump_value(asset_values(a)) for a in assets]
    assert record_texts(frame) == expected
    assert record_texts(frame, {c: db_values(frame, c) for c in ASSET_COLUMNS}) == expected


def test_copy_text_escapes_what_copy_reads_specially_and_leaves_other_kinds_to_psycopg() -> None:
    assert copy_texts(["a", "b\tc", "d\\e", "f\ng\r", None, "\\N", ""]) == [
        "a",
        "b\\tc",
        "d\\\\e",
        "f\\ng\\r",
        "\\N",
        "\\\\N",
        "",
    ]
    assert copy_texts([1, None, -3]) == ["1", "\\N", "-3"]
    assert copy_texts([0.1, 1e16, -0.0]) == ["0.1", "1e+16", "-0.0"]
    at = datetime(2026, 1, 2, 3, 4, 5, 6)
    when = "2026-01-02 03:04:05.000006"
    assert copy_texts([at, None, at]) == [when, "\\N", when]
    assert copy_texts([date(2026, 1, 2)]) == ["2026-01-02"]
    assert copy_texts([None, None]) == ["\\N", "\\N"]
    for other in (
        [True],
        [1, "a"],
        [float("inf")],
        [float("nan")],
        [datetime(2026, 1, 1, tzinfo=UTC)],
        [{"a": 1}],
        [b"x"],
    ):
        assert copy_texts(other) is None


def test_text_copy_escapes_is_stored_and_audited_as_it_was(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tabs, line breaks, backslashes and a literal \\N in text written in bulk (COPY text on
    PostgreSQL, for an insert and for an update through the staging table) come back as they
    were, in the register and in the audit trail."""
    odd = Asset(
        id="Q1",
        name="tab\there \\N back\\slash\r\nline",
        type="plant",
        country="NOR",
        replacement_value=1.0,
        owner="\\",
        tags=["x"],
    )
    store.add_asset(odd, SYSTEM)
    assert store.asset("Q1").asset == odd
    assert store.audit(entity_id="Q1")[0].new == asset_values(odd)
    monkeypatch.setattr(bulk_module, "ARRAY_ROWS", 0)  # PostgreSQL: the staging table's COPY
    stored = store.asset("Q1")
    store.update_asset("Q1", {"owner": "a\tb\\N"}, stored.version, SYSTEM)
    assert store.asset("Q1").asset.owner == "a\tb\\N"
    assert store.audit(entity_id="Q1")[0].new == "a\tb\\N"
    assert store.verify_audit().ok


def test_the_chain_built_by_column_is_the_chain_built_entry_by_entry() -> None:
    at = datetime(2025, 11, 20, 9, 0, 1, 5)
    shared = {"at": at, "actor": 'zoë "x"', "action": "import", "entity": "asset", "note": "n\\ö"}
    ids = ["A", "B", 'C"\n']
    fields = ["", "name", "tags"]
    olds = [None, '"old \\" name"', '["a"]']
    news = ['{"id": "A"}', None, "[]"]
    versions = [1, 2, None]
    seqs, prevs, hashes = link_columns(41, GENESIS, shared, ids, fields, olds, news, versions)
    entries = [
        {**shared, "entity_id": i, "field": f, "old_value": o, "new_value": n, "version": v}
        for i, f, o, n, v in zip(ids, fields, olds, news, versions, strict=True)
    ]
    rows = link(41, GENESIS, entries)
    assert seqs == [r["seq"] for r in rows] == [42, 43, 44]
    assert prevs == [r["prev_hash"] for r in rows]
    assert hashes == [r["hash"] for r in rows]


def test_the_difference_is_found_by_id() -> None:
    a, b = ODD_ASSETS
    c = Asset(id="C", name="c", type="plant", country="NOR", replacement_value=3)
    current = frame_of_assets([a, b, c])
    current["version"] = [1, 4, 2]
    changed_b = b.model_copy(update={"lat": None, "lon": None, "tags": ["c", "a_b"]})
    new = frame_of_assets([changed_b, a])
    summary = diff_registers(current, new).summary(current, new)
    assert summary.removed == ["C"]
    assert summary.added == []
    assert summary.changed == {"B.2-x_y": ["lat", "lon", "tags"]}


# -- against the database -------------------------------------------------------------------------


def csv_rows(n: int, prefix: str = "K", value: int = 1000) -> str:
    return "".join(
        f"{prefix}{i},Site {i},{'plant' if i % 2 else 'office'},{('NOR', 'FIN', 'DEU')[i % 3]},"
        f",,{value + i},0,EUR,3,,,\n"
        for i in range(n)
    )


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


KEPT = (TINY / "assets.csv").read_text().splitlines(keepends=True)  # header and the tiny rows


def test_a_file_is_validated_once_for_its_preview_and_import(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = register_module.parse_register

    def counted(t: Table) -> Any:
        calls.append(t.name)
        return real(t)

    monkeypatch.setattr(register_module, "parse_register", counted)
    path = write(tmp_path / "assets.csv", "".join(KEPT) + csv_rows(50))
    assert store.preview_assets(Table.from_file(path)).ok
    # the dashboard reads the upload again for the import: same content, same validation
    store.import_assets(Table.from_file(path), SYSTEM)
    assert calls == ["assets.csv"]
    # another file under the same name is validated afresh
    write(path, "".join(KEPT) + csv_rows(50, value=2000))
    preview = store.preview_assets(Table.from_file(path))
    assert calls == ["assets.csv", "assets.csv"]
    assert len(preview.summary.changed) == 50


def test_an_import_after_a_preview_sees_what_changed_in_between(
    store: Store, tmp_path: Path
) -> None:
    """The preview's validated rows are reused, but the import checks and diffs them against
    the store as it is when it writes: an asset deleted meanwhile that the file depends on
    refuses the import, and an edit made meanwhile is neither lost nor hidden."""
    header = KEPT[0]
    depends = write(tmp_path / "more.csv", header + "Z1,New,plant,NOR,,,5,0,EUR,3,,,O1\n")
    table = Table.from_file(depends)
    assert store.preview_assets(table, "merge").ok
    o1 = store.asset("O1")
    store.delete_asset("O1", o1.version, SYSTEM)
    audit = len(store.audit())
    with pytest.raises(InputError) as refused:
        store.import_assets(table, SYSTEM, "merge")
    assert [(p.line, p.field) for p in refused.value.problems] == [(2, "depends_on")]
    assert "no asset 'O1'" in refused.value.problems[0].message
    assert len(store.audit()) == audit and [a.id for a in store.register()] == ["P1", "P2"]

    p1 = store.asset("P1")
    row = next(line for line in KEPT if line.startswith("P1,"))
    owner = row.split(",")[11]
    changed = write(tmp_path / "p1.csv", header + row.replace(f",{owner},", ",Importer,"))
    table = Table.from_file(changed)
    assert store.preview_assets(table, "merge").summary.changed == {"P1": ["owner"]}
    store.update_asset("P1", {"owner": "Meanwhile"}, p1.version, SYSTEM)
    summary = store.import_assets(table, SYSTEM, "merge")
    assert summary.changed == {"P1": ["owner"]}
    after = store.asset("P1")
    assert (after.asset.owner, after.version) == ("Importer", p1.version + 2)
    (entry,) = store.audit(action="import", entity_id="P1")
    assert (entry.old, entry.new, entry.version) == ("Meanwhile", "Importer", p1.version + 2)
    assert store.verify_audit().ok


def test_an_import_takes_its_previews_plan_only_while_nothing_changed(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Right after its preview, an import writes the preview's plan (the stored register is
    not read and checked again); after a change in between it plans afresh."""
    plans: list[str] = []
    real = register_module.Register._planned_assets

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        plans.append("planned")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(register_module.Register, "_planned_assets", counted)
    path = write(tmp_path / "a.csv", "".join(KEPT) + csv_rows(20))
    assert store.preview_assets(Table.from_file(path)).ok
    store.import_assets(Table.from_file(path), SYSTEM)
    assert plans == ["planned"]  # the preview's
    path = write(tmp_path / "a.csv", "".join(KEPT) + csv_rows(20, value=5))
    assert store.preview_assets(Table.from_file(path), "merge").ok
    store.import_assets(Table.from_file(path), SYSTEM)  # replace, not the previewed merge
    assert len(plans) == 3
    path = write(tmp_path / "a.csv", "".join(KEPT) + csv_rows(20, value=7))
    preview = store.preview_assets(Table.from_file(path))
    assert len(preview.summary.changed) == 20
    k3 = store.asset("K3")
    store.update_asset("K3", {"replacement_value": 999}, k3.version, SYSTEM)
    summary = store.import_assets(Table.from_file(path), SYSTEM)
    assert len(plans) == 5  # the store changed: planned again
    assert len(summary.changed) == 20
    (entry,) = store.audit(entity_id="K3", action="import")[:1]
    assert (entry.old, entry.new, entry.version) == (999.0, 10.0, k3.version + 2)
    assert store.asset("K3").asset.replacement_value == 10.0
    assert store.verify_audit().ok


def test_a_large_import_is_written_in_chunks_audited_and_chained(
    store: Store, tmp_path: Path
) -> None:
    n = BULK_CHUNK * 2 + 7
    path = write(tmp_path / "big.csv", "".join(KEPT) + csv_rows(n))
    seen: list[tuple[int, int]] = []
    summary = store.import_assets(
        Table.from_file(path), SYSTEM, hook=lambda done, total: seen.append((done, total))
    )
    assert len(summary.added) == n and summary.removed == [] and not summary.changed
    assert len(seen) >= 3 and seen[-1] == (n, n)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    stored = store.assets()
    assert len(stored) == n + len(KEPT) - 1
    assert stored[-1].asset.replacement_value == 1000 + n - 1 and stored[-1].version == 1
    entries = store.audit(action="import")
    assert len(entries) == n
    newest = entries[0]
    assert (newest.entity_id, newest.field, newest.old) == (f"K{n - 1}", "", None)
    assert newest.new == asset_values(stored[-1].asset)
    # every imported asset changed: updates in bulk (on PostgreSQL through a staging table)
    path = write(tmp_path / "big.csv", "".join(KEPT) + csv_rows(n, value=50_000))
    summary = store.import_assets(Table.from_file(path), SYSTEM)
    assert len(summary.changed) == n
    assert all(v == ["replacement_value"] for v in summary.changed.values())
    again = store.assets()
    assert [s.id for s in again] == [s.id for s in stored]
    assert again[-1].asset.replacement_value == 50_000 + n - 1 and again[-1].version == 2
    assert again[0].version == stored[0].version  # the tiny register's own rows untouched
    newest = store.audit(entity_id=f"K{n - 1}")[0]
    assert (newest.field, newest.old, newest.new, newest.version) == (
        "replacement_value",
        1000.0 + n - 1,
        50_000.0 + n - 1,
        2,
    )
    assert len(store.audit(action="import")) == 2 * n
    assert store.verify_audit().ok


def test_every_field_changed_removed_and_moved_on_both_databases(
    store: Store, tmp_path: Path
) -> None:
    """Updates (with every kind of column), removals and moves written in bulk: the stored
    register is the file, each changed field is audited with its old and new value."""
    # the header with the optional subdivision and route columns last (shorter rows leave
    # them empty)
    kept = [KEPT[0].rstrip("\n") + ",subdivision,route\n", *KEPT[1:]]
    first = write(tmp_path / "a.csv", "".join(kept) + csv_rows(30))
    store.import_assets(Table.from_file(first), SYSTEM)
    before = {s.id: s for s in store.assets()}
    lines = csv_rows(30).splitlines(keepends=True)
    k0 = (  # K0 was an office
        "K0,Renamed,plant,FIN,60.5,10.25,7,3,USD,5,x;y,Someone,K1,FI-18,"
        '"[[24.9, 60.2], [25, 60]]"\n'
    )
    # K0 changed in every field, K29 removed, K5 moved to the end, the rest unchanged
    body = [k0, *lines[1:5], *lines[6:29], lines[5]]
    second = write(tmp_path / "b.csv", "".join(kept) + "".join(body))
    summary = store.import_assets(Table.from_file(second), SYSTEM)
    assert summary.removed == ["K29"] and summary.added == []
    assert summary.changed == {"K0": ASSET_FIELDS}
    register = store.assets()
    assert [s.id for s in register][-2:] == ["K28", "K5"]
    k = {s.id: s for s in register}
    assert k["K0"].version == before["K0"].version + 1
    assert k["K5"].version == before["K5"].version  # a move is no change of the asset
    assert k["K0"].asset.model_dump() == {
        "id": "K0",
        "name": "Renamed",
        "type": "plant",
        "country": "FIN",
        "lat": 60.5,
        "lon": 10.25,
        "replacement_value": 7.0,
        "annual_revenue_at_stake": 3.0,
        "currency": "USD",
        "criticality": 5,
        "tags": ["x", "y"],
        "owner": "Someone",
        "depends_on": ["K1"],
        "subdivision": "FI-18",
        "route": "[[24.9, 60.2], [25, 60]]",
    }
    entries = sorted(
        store.audit(entity_id="K0", action="import")[: len(ASSET_FIELDS)], key=lambda e: e.seq
    )
    assert [e.field for e in entries] == ASSET_FIELDS
    old = asset_values(before["K0"].asset)
    assert {e.field: (e.old, e.new) for e in entries} == {
        f: (old[f], asset_values(k["K0"].asset)[f]) for f in ASSET_FIELDS
    }
    (gone,) = store.audit(entity_id="K29")[:1]
    assert gone.old == asset_values(before["K29"].asset) and gone.new is None
    with store.engine.connect() as conn:
        stored = stored_register(conn)
    assert stored["id"].tolist() == [s.id for s in register]
    assert store.verify_audit().ok


def test_stored_lists_are_json_the_database_reads(store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "".join(KEPT) + "L1,L,plant,NOR,,,1,0,EUR,3,a;b,,P1;P2\n")
    store.import_assets(Table.from_file(path), SYSTEM, "merge")
    from sqlalchemy import text

    with store.engine.connect() as conn:
        tags, deps = conn.execute(
            text("SELECT CAST(tags AS TEXT), CAST(depends_on AS TEXT) FROM assets WHERE id='L1'")
        ).one()
    assert (json.loads(tags), json.loads(deps)) == (["a", "b"], ["P1", "P2"])
    assert store.asset("L1").asset.depends_on == ["P1", "P2"]


# -- the workspace files, read once while they do not change ------------------------------------


def test_workspace_files_are_read_again_only_when_one_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    folder = tmp_path / "ws"
    shutil.copytree(TINY, folder)
    monkeypatch.setattr(workspace_module, "RECENT_NS", 0)
    reads: list[Path] = []
    real = workspace_module.load_files

    def counted(path: Path) -> Any:
        reads.append(path)
        return real(path)

    monkeypatch.setattr(workspace_module, "load_files", counted)
    cache = workspace_module.FilesCache()
    first = cache.get(folder)
    assert cache.get(folder) is first and len(reads) == 1
    scenario = next((folder / "scenarios").glob("*.yaml"))
    scenario.write_text(scenario.read_text() + "\n# touched\n")
    assert cache.get(folder) is not first and len(reads) == 2
    again = cache.get(folder)
    extra = folder / "scenarios" / "copy.yaml"
    shutil.copy(scenario, extra)  # a new scenario file changes the folder
    with pytest.raises(InputError):  # its id does not match its name: read, and refused
        cache.get(folder)
    extra.unlink()
    assert cache.get(folder) is not again and len(reads) == 4


def test_workspace_files_changed_just_now_are_always_read_again(tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "ws"
    shutil.copytree(TINY, folder)
    cache = workspace_module.FilesCache()
    now = cache.get(folder)
    assert cache.get(folder) is not now  # copied this instant: not kept
    old = 1_000_000_000
    for path in folder.rglob("*"):
        os.utime(path, (old, old))
    assert workspace_module.stamp([folder / "workspace.yaml"]) is None  # utime sets the ctime


def test_a_write_has_a_larger_sqlite_page_cache_and_gives_it_back(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'cache.db'}")
    try:
        with engine.connect() as conn:
            before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
            conn.rollback()
            with roomy_cache(conn), conn.begin():
                assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -WRITE_CACHE_KIB
            assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == before != -WRITE_CACHE_KIB
    finally:
        engine.dispose()
