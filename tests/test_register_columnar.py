"""The columnar register reader (`riskapp.io.columnar`, what loading a workspace uses) reads
what the row-by-row `Asset` model reads: the same table, the same row numbers, and for a broken
register the same problems on the same rows and fields, in the same words."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings

from riskapp.domain.assets import Portfolio
from riskapp.io.columnar import parse_register, register_problems
from riskapp.io.errors import InputError, Problem
from riskapp.io.tables import check_register, parse_assets
from riskapp.io.workspace import load_workspace
from tests.conftest import TINY
from tests.test_register_stream import registers


def model_reading(path: Path) -> tuple[pd.DataFrame | None, list[int], list[Problem]]:
    """The row-by-row reading: each row through the Asset model, then the register checks."""
    try:
        assets, lines = parse_assets(path, "assets.csv")
    except InputError as exc:
        return None, [], exc.problems
    frame = Portfolio.frame_of(assets)
    # a register without any coordinates gives an object column of None here: the columnar
    # reading keeps coordinates float (NaN) always
    frame = frame.astype({"lat": float, "lon": float})
    return frame, lines, check_register(assets, lines, "assets.csv")


def columnar_reading(path: Path) -> tuple[pd.DataFrame | None, list[int], list[Problem]]:
    try:
        frame, lines = parse_register(path, "assets.csv")
    except InputError as exc:
        return None, [], exc.problems
    return frame, lines.tolist(), register_problems(frame, lines, "assets.csv")


def write_csv(path: Path, rows: list[list[str]], newline: str = "\n") -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator=newline).writerows(rows)
    return path


def assert_same(got: tuple, expected: tuple) -> None:
    frame, lines, problems = got
    want_frame, want_lines, want_problems = expected
    assert problems == want_problems
    assert (frame is None) == (want_frame is None)
    if frame is not None:
        pd.testing.assert_frame_equal(frame, want_frame)
        assert lines == want_lines


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=registers())
def test_columnar_reading_equals_the_model_reading(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]]
) -> None:
    """Random registers, valid and broken (cells on the edge of every rule, rows too short or too
    wide): the same table or the same problems as the model gives row by row."""
    path = write_csv(tmp_path_factory.mktemp("reg") / "assets.csv", rows)
    assert_same(columnar_reading(path), model_reading(path))


def test_blank_rows_crlf_and_padding_keep_the_spreadsheet_row_numbers(tmp_path: Path) -> None:
    rows = [r.split(",") for r in Path(TINY, "assets.csv").read_text().splitlines()]
    header, body = rows[0], rows[1:]
    spaced = [header, body[0], [""] * len(header), [" "] + [""] * (len(header) - 1), *body[1:]]
    path = write_csv(tmp_path / "assets.csv", spaced, newline="\r\n")
    frame, lines, problems = columnar_reading(path)
    assert problems == [] and frame is not None
    assert lines == [2, *range(5, 5 + len(body) - 1)]
    assert_same((frame, lines, problems), model_reading(path))


def test_a_quoted_cell_over_two_lines_is_worded_by_the_streaming_reader(tmp_path: Path) -> None:
    text = Path(TINY, "assets.csv").read_text().splitlines()
    first = text[1].split(",")
    first[1] = '"Plant\nnorth"'
    path = tmp_path / "assets.csv"
    path.write_text("\n".join([text[0], ",".join(first), *text[2:]]) + "\n", encoding="utf-8")
    _, _, problems = columnar_reading(path)
    assert [(p.line, p.message[:30]) for p in problems] == [(2, "a quoted cell runs over severa")]


@pytest.mark.parametrize(
    ("cell", "streamed"),
    [
        ("x" * (csv.field_size_limit() + 1), True),  # more characters than a field may hold
        ("é" * (csv.field_size_limit() // 2 + 1), False),  # more bytes, not more characters
    ],
)
def test_only_a_cell_longer_than_the_field_limit_goes_to_the_streaming_reader(
    tmp_path: Path, cell: str, streamed: bool
) -> None:
    """Arrow's reader hands a register to the streaming one (which words the field limit)
    only when a cell has more characters than csv.field_size_limit(), not more bytes."""
    from riskapp.io.columnar import text_table

    text = Path(TINY, "assets.csv").read_text().splitlines()
    first = text[1].split(",")
    first[1] = cell
    path = tmp_path / "assets.csv"
    path.write_text("\n".join([text[0], ",".join(first), *text[2:]]) + "\n", encoding="utf-8")
    assert (text_table(path, "assets.csv") is None) is streamed


@pytest.mark.parametrize(
    ("layout", "arrow"),
    [
        ("plain", True),
        ("crlf", True),
        ("no final line break", True),
        ("blank line", False),
        ("blank line, crlf", False),
        ("blank last line", False),
    ],
)
def test_only_a_file_with_a_blank_line_goes_to_the_streaming_reader(
    tmp_path: Path, layout: str, arrow: bool
) -> None:
    """A blank line is skipped by the streaming reader, which keeps the spreadsheet's row
    numbers: Arrow's reader takes a register only when no line is blank, LF or CRLF."""
    from riskapp.io.columnar import text_table

    lines = Path(TINY, "assets.csv").read_bytes().rstrip(b"\n").split(b"\n")
    blank = [*lines[:2], b"", *lines[2:]]
    raw = {
        "plain": b"\n".join(lines) + b"\n",
        "crlf": b"\r\n".join(lines) + b"\r\n",
        "no final line break": b"\n".join(lines),
        "blank line": b"\n".join(blank) + b"\n",
        "blank line, crlf": b"\r\n".join(blank) + b"\r\n",
        "blank last line": b"\n".join(lines) + b"\n\n",
    }[layout]
    path = tmp_path / "assets.csv"
    path.write_bytes(raw)
    read = text_table(path, "assets.csv")
    assert (read is not None) is arrow
    if read is not None:
        assert read[2].tolist() == list(range(2, len(lines) + 1))


def tiny_frame() -> pd.DataFrame:
    return pd.read_csv(Path(TINY, "assets.csv"), dtype=str, keep_default_na=False)


def test_parquet_register_reads_as_its_csv(tmp_path: Path) -> None:
    """A Parquet register with typed columns (numbers as numbers, empty cells as nulls) gives
    the table its CSV gives."""
    text = tiny_frame()
    typed = text.copy()
    for col in ("lat", "lon", "replacement_value", "annual_revenue_at_stake"):
        typed[col] = pd.to_numeric(text[col].replace("", np.nan))
    typed["criticality"] = pd.to_numeric(text["criticality"].replace("", np.nan)).astype("Int64")
    pq.write_table(pa.Table.from_pandas(typed, preserve_index=False), tmp_path / "assets.parquet")
    frame, lines = parse_register(tmp_path / "assets.parquet", "assets.parquet")
    expected, _ = parse_register(Path(TINY, "assets.csv"), "assets.csv")
    pd.testing.assert_frame_equal(frame, expected)
    assert lines.tolist() == list(range(2, len(text) + 2))


def test_a_bad_parquet_cell_names_its_row_and_field(tmp_path: Path) -> None:
    text = tiny_frame()
    text.loc[2, "country"] = "XXX"
    pq.write_table(pa.Table.from_pandas(text, preserve_index=False), tmp_path / "assets.parquet")
    with pytest.raises(InputError) as caught:
        parse_register(tmp_path / "assets.parquet", "assets.parquet")
    [problem] = caught.value.problems
    assert (problem.line, problem.field) == (4, "country")
    assert "ISO 3166-1 alpha-3" in problem.message


def test_a_file_that_is_not_parquet_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "assets.parquet"
    path.write_bytes(b"id,name\nA,B\n")
    with pytest.raises(InputError, match="not a readable Parquet file"):
        parse_register(path, "assets.parquet")


def test_xlsx_register_with_numbers_reads_as_its_csv(tmp_path: Path) -> None:
    """Spreadsheet cells typed as numbers (values, coordinates, criticality) go through the
    vectorised checks as their text would."""
    text = tiny_frame()
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(text.columns))
    numeric = {"lat", "lon", "replacement_value", "annual_revenue_at_stake", "criticality"}
    for row in text.itertuples(index=False):
        sheet.append(
            [
                (float(v) if "." in v else int(v)) if col in numeric and v else v
                for col, v in zip(text.columns, row, strict=True)
            ]
        )
    book.save(tmp_path / "assets.xlsx")
    frame, _ = parse_register(tmp_path / "assets.xlsx", "assets.xlsx")
    expected, _ = parse_register(Path(TINY, "assets.csv"), "assets.csv")
    pd.testing.assert_frame_equal(frame, expected)


def test_workspace_loads_a_parquet_register(tmp_path: Path) -> None:
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(TINY, ws)
    pq.write_table(pa.Table.from_pandas(tiny_frame(), preserve_index=False), ws / "assets.parquet")
    (ws / "assets.csv").unlink()
    manifest = ws / "workspace.yaml"
    manifest.write_text(
        manifest.read_text() + "\npaths:\n  assets: assets.parquet\n", encoding="utf-8"
    )
    loaded = load_workspace(ws)
    assert loaded.portfolio.frame.equals(load_workspace(TINY).portfolio.frame)


@pytest.mark.parametrize("closed", [False, True])
def test_a_chain_deeper_than_the_peeling_is_checked_as_the_model_checks_it(
    tmp_path: Path, closed: bool
) -> None:
    """A dependency chain 300 links deep (more rounds than the quick acyclicity check peels),
    open or closed into a cycle: the same verdict and words as the row-by-row checks."""
    header = ["id", "name", "type", "country", "replacement_value", "depends_on"]
    n = 300
    rows = [header]
    for i in range(n):
        dep = f"A{i + 1}" if i + 1 < n else ("A0" if closed else "")
        rows.append([f"A{i}", f"Asset {i}", "plant", "DEU", "1", dep])
    path = write_csv(tmp_path / "assets.csv", rows)
    got = columnar_reading(path)
    assert_same(got, model_reading(path))
    assert bool(got[2]) == closed
    if closed:
        assert got[2][0].message.startswith("dependency cycle: A0 -> A1 -> A2")


def test_validate_and_import_read_parquet_as_they_read_csv(tmp_path: Path) -> None:
    """`riskapp validate` streams a Parquet register (in batches) and reports the same problem
    as the columnar reader; the upload reader (dashboard and `riskapp import`) reads its rows."""
    from riskapp.assessment.register import save_upload
    from riskapp.io.register_check import register_problems as streamed_problems

    text = tiny_frame()
    text.loc[1, "replacement_value"] = "-5"
    path = tmp_path / "assets.parquet"
    pq.write_table(pa.Table.from_pandas(text, preserve_index=False), path)
    streamed = streamed_problems(path, "assets.parquet")
    with pytest.raises(InputError) as caught:
        parse_register(path, "assets.parquet")
    assert streamed == caught.value.problems
    assert [(p.line, p.field) for p in streamed] == [(3, "replacement_value")]
    good = tmp_path / "good.parquet"
    pq.write_table(pa.Table.from_pandas(tiny_frame(), preserve_index=False), good)
    uploaded = save_upload("good.parquet", good.read_bytes())
    assert uploaded.header == list(tiny_frame().columns)
    assert [cells[0] for _, cells in uploaded.rows] == tiny_frame()["id"].tolist()


def test_a_boolean_parquet_column_is_worded_by_the_model(tmp_path: Path) -> None:
    text = tiny_frame()
    typed = text.copy()
    typed["replacement_value"] = [True] * len(text)
    path = tmp_path / "assets.parquet"
    pq.write_table(pa.Table.from_pandas(typed, preserve_index=False), path)
    with pytest.raises(InputError) as caught:
        parse_register(path, "assets.parquet")
    first = caught.value.problems[0]
    assert (first.line, first.field) == (2, "replacement_value")
    assert "expected a number, got true" in first.message
