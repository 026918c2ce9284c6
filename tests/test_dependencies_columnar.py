"""The column-wise reading of a dependency file (`plain_links`, what loading uses) gives the
links the row-by-row `DependencyLink` reading gives, and for a file it does not take plainly
(any broken row, a duplicate, a group with two shares, a link the register does not list) it
hands over so that every problem is still worded by the model, row by row."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskapp.domain.assets import DependencyLink, Portfolio
from riskapp.io import dependencies
from riskapp.io.dependencies import load_dependencies, plain_links
from riskapp.io.errors import InputError, Problem
from riskapp.io.workspace import Workspace, load_workspace
from tests.conftest import DEMO


@pytest.fixture(scope="module")
def demo() -> Workspace:
    return load_workspace(DEMO)


def pairs(portfolio: Portfolio) -> list[tuple[str, str]]:
    ids = portfolio.series("id").tolist()
    deps = portfolio.series("depends_on").tolist()
    return [(a, d) for a, ds in zip(ids, deps, strict=True) for d in (ds or [])]


def write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows([header, *rows])
    return path


def row_by_row(path: Path, portfolio: Portfolio) -> list[DependencyLink] | list[Problem]:
    saved = dependencies.plain_links
    dependencies.plain_links = lambda *_: None  # type: ignore[assignment]
    try:
        return load_dependencies(path, portfolio)
    except InputError as exc:
        return exc.problems
    finally:
        dependencies.plain_links = saved  # type: ignore[assignment]


def reading(path: Path, portfolio: Portfolio) -> list[DependencyLink] | list[Problem]:
    try:
        return load_dependencies(path, portfolio)
    except InputError as exc:
        return exc.problems


SHARES = st.sampled_from(
    ["0", "0.1", "0.25", " 0.5 ", "1", "1.0", ".3", "0.333333333333333333", "1.5", "-0.1",
     "abc", "", "1e-1", "0,5", "nan"]
)  # fmt: skip
GROUPS = st.sampled_from(["", "", "", "cables", "ports", " grid ", "Bad", "x" * 49, "a-b"])
ODD_IDS = st.sampled_from(["", "no-such-asset", " X", "a b", "é", "Z" * 65])


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_the_column_reading_is_the_row_reading(
    demo: Workspace, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    listed = pairs(demo.portfolio)
    chosen = data.draw(st.lists(st.sampled_from(listed), max_size=12))
    rows = []
    for pair in chosen:
        cells = list(pair)
        if data.draw(st.integers(0, 9)) == 0:  # now and then a cell the model refuses
            cells[data.draw(st.integers(0, 1))] = data.draw(ODD_IDS)
        rows.append([*cells, data.draw(SHARES), data.draw(GROUPS)])
    header = ["asset_id", "depends_on", "share", "redundancy_group"]
    if data.draw(st.booleans()):  # without the optional column
        header, rows = header[:3], [r[:3] for r in rows]
    path = write(tmp_path_factory.mktemp("deps") / "dependencies.csv", header, rows)
    assert reading(path, demo.portfolio) == row_by_row(path, demo.portfolio)


def test_a_plain_file_is_read_by_columns(demo: Workspace) -> None:
    # the demo's own file is plain: read column-wise, and the same links as row by row
    path = DEMO / "dependencies.csv"
    plain = plain_links(path, "dependencies.csv", demo.portfolio)
    assert plain is not None and len(plain) > 10
    assert plain == row_by_row(path, demo.portfolio)


@pytest.mark.parametrize(
    "change",
    [
        lambda rows: [*rows, rows[0]],  # a duplicate link
        lambda rows: [*rows, [rows[0][1], rows[0][0], "0.1", ""]],  # a link not listed
        lambda rows: [[rows[0][0], rows[0][1], "2", rows[0][3]], *rows[1:]],  # share over 1
        # two links of one asset in one redundancy group with different shares
        lambda rows: [[*rows[0][:2], "0.1", "grid"], [*rows[1][:2], "0.2", "grid"], *rows[2:]],
    ],
)
def test_a_file_with_a_problem_is_handed_to_the_model(
    demo: Workspace, tmp_path: Path, change: object
) -> None:
    rows = [[a, d, "0.1", ""] for a, d in pairs(demo.portfolio)[:5]]
    path = write(
        tmp_path / "dependencies.csv",
        ["asset_id", "depends_on", "share", "redundancy_group"],
        change(rows),
    )  # type: ignore[operator]
    assert plain_links(path, "dependencies.csv", demo.portfolio) is None
    problems = reading(path, demo.portfolio)
    assert problems and all(isinstance(p, Problem) and p.line for p in problems)
