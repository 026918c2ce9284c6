"""The streaming register check (`riskapp validate assets.csv`) reports what the model-based
loader reports, row for row, on registers of any size; uploads go through the same bounded
readers."""

from __future__ import annotations

import csv
import shutil
import tomllib
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskapp.assessment.register import save_upload
from riskapp.domain.assets import ASSET_COLUMNS
from riskapp.io.errors import InputError, Problem
from riskapp.io.register_check import register_problems
from riskapp.io.tables import MAX_XLSX_UNPACKED, load_assets
from riskapp.io.validate import validate_path, workspace_problems
from tests.conftest import TINY

# cells the model accepts, and cells it refuses or that sit on the edge of a rule
CELLS: dict[str, list[str]] = {
    "id": ["A1", "A2", "A3", "B-1.x", "1001", "", " A1 ", "a b", "_x", "x" * 64, "x" * 65],
    "name": [
        "Plant",
        "Ünï cödé",
        "x" * 200,
        "",
        " ",
        "x" * 201,
        "a\x01b",
        " padded ",
        "a\tb",
        "\u00a0nbsp",
        "em\u2003",
        "\x1cfs",
        "a\u202eb",
        "\t x" + "y" * 199,
        "\u3000",
    ],
    "type": ["plant", "port", "Plant", "", "9x", " office ", "a" * 49],
    "country": ["DEU", "FIN", "deu", "XXX", "", " FIN ", "NO", "\u00a0DEU", "\tfin"],
    "lat": ["", "52.1", "-91", "90", "-90.0", "1e1", "abc", "90.0000001", " 45 ", "1.", ".5"],
    "lon": ["", "13.4", "180", "-180.5", "-0", "1-2", "nan", "inf", "0.0", "--1", "1..2"],
    "replacement_value": ["100", "0", "-5", "", "1e3", "nan", "1" * 400, "1.5", " 7 ", "-0"],
    "annual_revenue_at_stake": ["", "0", "250.75", "-1", "1_000", "\u0661\u0662", "inf", "."],
    "currency": ["EUR", "USD", "", "usd", "EURO", " USD ", "EU1"],
    "criticality": ["1", "5", "", "0", "6", "3.0", " 2 ", "x", "\u0663", "-1"],
    "tags": ["", "a;b", "critical", "A", ";;", "a;;b", " a ; b ", "a b", "_a", "a;\u00a0b"],
    "owner": ["", "Ops", "x" * 200, "x" * 201, "a\x7fb", "  ", " Ops ", "\u2028", "O\x85"],
    "depends_on": ["", "A1", "A2;A3", "A9", ";", "A1;A1", "_bad", " A2 ", "A3;;A1"],
    # valid whatever the row's country (DEU or FIN): only the empty cell; then codes of one
    # of them (wrong for the other), lower case, unknown codes, a code of another country
    # any printable text is a valid cell: its line is checked with the workspace
    "route": ["", "LINESTRING (1 2, 3 4)", "[[1, 2], [3, 4]]", " x ", "a\x01b", "\u2028"],
    "subdivision": ["", "", "DE-HH", "FI-18", "de-hh", " FI-18 ", "NO-54", "DE-XX", "XX-1", "DEHH"],
}


@st.composite
def registers(draw: st.DrawFn) -> list[list[str]]:
    optional = [
        "lat",
        "lon",
        "annual_revenue_at_stake",
        "currency",
        "criticality",
        "tags",
        "subdivision",
        "route",
    ]
    dropped = draw(st.sets(st.sampled_from(optional)))
    header = [c for c in ASSET_COLUMNS if c not in dropped]
    rows = [header]
    for _ in range(draw(st.integers(1, 8))):
        # a valid row (the first two cells of each list are valid), then one or two cells of
        # it drawn from all the cells, so that a single wrong cell decides the row
        row = [draw(st.sampled_from(CELLS[col][:2])) for col in header]
        for i in draw(st.lists(st.integers(0, len(header) - 1), max_size=2)):
            row[i] = draw(st.sampled_from(CELLS[header[i]]))
        if draw(st.integers(0, 20)) == 0:
            row = row[:-1] if draw(st.booleans()) else [*row, draw(st.sampled_from(["", "x"]))]
        rows.append(row)
    return rows


def loader_problems(path: Path) -> list[Problem]:
    try:
        load_assets(path, "assets.csv")
    except InputError as exc:
        return exc.problems
    return []


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return path


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=registers(), chunk=st.integers(1, 4))
def test_streaming_check_reports_what_the_model_reports(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]], chunk: int
) -> None:
    """Random registers, valid and broken, in chunks of 1-4 rows: the same problems, in the same
    order, on the same rows and fields, with the same words as the model-based loader."""
    path = write(tmp_path_factory.mktemp("reg") / "assets.csv", rows)
    assert register_problems(path, "assets.csv", chunk=chunk) == loader_problems(path)


def test_tiny_register_is_valid_when_streamed() -> None:
    assert register_problems(TINY / "assets.csv") == []


def test_xlsx_register_streams_to_the_same_problems(tmp_path: Path) -> None:
    """Spreadsheet cells are numbers, not text: those rows go to the model, as in loading."""
    with (TINY / "assets.csv").open(newline="", encoding="utf-8") as fh:
        rows: list[list[object]] = [list(r) for r in csv.reader(fh)]
    rows[2][6] = -200.0  # a negative replacement value on row 3
    rows[3][9] = 9  # criticality out of range on row 4
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for r in rows:
        sheet.append([float(c) if isinstance(c, str) and c.isdigit() else c for c in r])
    path = tmp_path / "assets.xlsx"
    book.save(path)
    got = register_problems(path, "assets.csv")
    assert [(p.line, p.field) for p in got] == [(3, "replacement_value"), (4, "criticality")]
    assert got == loader_problems(path)


def big_register(path: Path, n: int) -> dict[int, str]:
    """n valid assets, with a few broken ones; returns {spreadsheet row: field} of the breaks."""
    broken = {
        2: "country",
        1_000: "replacement_value",
        77_777: "currency",
        150_001: "name",
        n + 1: "criticality",
    }
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(ASSET_COLUMNS)
        for i in range(n):
            row = [f"A{i}", f"Asset {i}", "plant", "DEU", "52.5", "13.4", "1000", "",
                   "EUR", "3", "", "Ops", f"A{i - 1}" if i % 7 == 1 else ""]  # fmt: skip
            field = broken.get(i + 2)
            if field:
                value = {"country": "XXX", "replacement_value": "-5", "currency": "euro",
                         "name": "", "criticality": "7"}[field]  # fmt: skip
                row[ASSET_COLUMNS.index(field)] = value
            out.writerow(row)
    return broken


def test_a_large_register_names_each_bad_row_and_field(tmp_path: Path) -> None:
    """200,000 rows, read in chunks: each broken cell is found on its spreadsheet row."""
    path = tmp_path / "assets.csv"
    broken = big_register(path, 200_000)
    problems = register_problems(path, "assets.csv")
    assert [(p.line, p.field) for p in problems] == sorted(broken.items())
    assert all(p.unit == "row" and p.file == "assets.csv" for p in problems)


def test_a_large_register_finds_a_late_duplicate_and_dangling_dependency(tmp_path: Path) -> None:
    path = tmp_path / "assets.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(ASSET_COLUMNS)
        for i in range(120_000):
            asset_id = "A5" if i == 119_000 else f"A{i}"
            deps = "NOPE" if i == 60_000 else (f"A{i + 1}" if i % 3 == 0 else "")
            out.writerow([asset_id, "x", "plant", "DEU", "", "", "1", "", "", "", "", "", deps])
    problems = register_problems(path, "assets.csv")
    assert [(p.line, p.field, p.message) for p in problems] == [
        (119_002, "id", "duplicate id 'A5' (first on row 7)"),
        (60_002, "depends_on", "no asset 'NOPE' in the register"),
    ]


def test_a_long_dependency_cycle_is_found_as_the_loader_finds_it(tmp_path: Path) -> None:
    rows = [ASSET_COLUMNS]
    for i in range(30_000):  # A0 -> A1 -> ... -> A29999 -> A0
        rows.append([f"A{i}", "x", "plant", "DEU", "", "", "1", "", "", "", "", "",
                     f"A{(i + 1) % 30_000}"])  # fmt: skip
    path = write(tmp_path / "assets.csv", rows)
    problems = register_problems(path, "assets.csv", chunk=7_000)
    assert problems == loader_problems(path)
    assert len(problems) == 1 and problems[0].message.startswith("dependency cycle: A0 -> A1")


def test_more_than_max_problems_are_capped_with_a_last_line(tmp_path: Path) -> None:
    rows = [ASSET_COLUMNS]
    rows += [
        [f"A{i}", "x", "plant", "XXX", "", "", "1", "", "", "", "", "", ""] for i in range(500)
    ]
    path = write(tmp_path / "assets.csv", rows)
    problems = register_problems(path, "assets.csv", chunk=64)
    assert problems == loader_problems(path)
    assert len(problems) == 201 and problems[-1].message == "more problems not shown"
    assert [p.line for p in problems[:200]] == list(range(2, 202))


def test_validate_command_uses_the_stream_and_states_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "assets.csv"
    big_register(path, 60_000)
    kind, problems = validate_path(path)
    assert kind == "input"
    assert [(p.line, p.field) for p in problems] == [(2, "country"), (1_000, "replacement_value"),
                                                      (60_001, "criticality")]  # fmt: skip


def test_dashboard_upload_refuses_a_zip_bomb_before_inflating_it(tmp_path: Path) -> None:
    """The Assets page's upload (save_upload) reads through check_workbook, and Streamlit caps
    the upload's size."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(ASSET_COLUMNS)
    src = tmp_path / "src.xlsx"
    book.save(src)
    bomb = tmp_path / "bomb.xlsx"
    blanks = MAX_XLSX_UNPACKED + 1_000_000
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith("sheet1.xml"):
                data = data.replace(b"</sheetData>", b"<!--" + b" " * blanks + b"--></sheetData>")
            zout.writestr(info.filename, data)
    with pytest.raises(InputError) as caught:
        save_upload("register.xlsx", bomb.read_bytes())
    (problem,) = caught.value.problems
    assert problem.file == "register.xlsx" and "ratio of 100:1" in problem.message
    config = tomllib.loads(
        (Path(__file__).parents[1] / "riskapp" / "dashboard" / "streamlit.toml").read_text()
    )
    assert 0 < config["server"]["maxUploadSize"] <= 50  # MB


def test_a_workspace_with_a_large_register_reports_its_problems_from_the_stream(
    tmp_path: Path,
) -> None:
    """Above the size limit (here 0 bytes) the register is checked as a stream before the
    workspace is loaded; its problems are the loader's."""
    ws = tmp_path / "ws"
    shutil.copytree(TINY, ws)
    register = ws / "assets.csv"
    register.write_text(register.read_text().replace("FIN,60.2", "XXX,60.2"), encoding="utf-8")
    streamed = workspace_problems(ws, stream_above=0)
    assert [(p.line, p.field) for p in streamed] == [(3, "country")]
    assert [(p.line, p.field, p.message) for p in streamed] == [
        (p.line, p.field, p.message) for p in loader_problems(register)
    ]
    assert streamed[0].file.endswith("assets.csv")
    _, loaded = validate_path(ws)  # a small register: the whole workspace is loaded
    assert [(p.line, p.field) for p in loaded] == [(3, "country")]
