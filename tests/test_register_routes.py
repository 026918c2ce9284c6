"""Routes given in the register's `route` column (a WKT LINESTRING or a JSON list of
[longitude, latitude] positions): read as a routes file's `wkt` and `line` are, scored the same,
stored and read back on both databases, and every bad cell refused with its file, row and
field. Workspaces are copies of tests/data/tiny: P1 a plant in Tromsø, P2 one in Helsinki."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from riskapp.engine import score
from riskapp.io.errors import InputError
from riskapp.io.workspace import load_workspace
from tests.test_zones_workspace import add_scenario, copy_tiny

# P1 from Tromsø south to Bodø; P2 from Helsinki across the Gulf of Finland to Tallinn
P1_LINE = [[18.9, 69.6], [16.5, 68.6], [14.4, 67.3]]
P2_WKT = "LINESTRING (24.9 60.2, 24.9 59.6, 24.75 59.44)"


def set_column(ws_dir: Path, column: str, cells: dict[str, str]) -> Path:
    """Add `column` to tiny's register (last), with `cells` by asset id."""
    path = ws_dir / "assets.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    rows[0].append(column)
    for row in rows[1:]:
        row.append(cells.get(row[0], ""))
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def losses(ws_dir: Path) -> np.ndarray:
    return score(load_workspace(ws_dir)).asset_loss()


TALLINN = (
    "zones:\n  - {id: tallinn, name: Tallinn, circle: {center: [24.75, 59.44], radius_km: 30}}\n"
)
SHOCK = "  - {target: tallinn, factor: alpha, op: add, value: 5}\n"


def test_routes_in_the_column_score_as_the_same_routes_in_a_routes_file(tmp_path: Path) -> None:
    """P2, a point in Helsinki, lies outside the Tallinn circle; its line across the Gulf ends
    inside it, so the circle's shock reaches P2 through its route, from either place."""
    column = copy_tiny(tmp_path / "column", zones=TALLINN)
    set_column(column, "route", {"P1": str(P1_LINE), "P2": P2_WKT})
    ws = load_workspace(column)
    assert ws.routes.asset_ids == ["P1", "P2"]
    assert ws.routes.routes[0].line == [tuple(p) for p in P1_LINE]
    filed = copy_tiny(tmp_path / "file", zones=TALLINN)
    (filed / "routes.yaml").write_text(
        f"routes:\n  - {{asset_id: P1, line: {P1_LINE}}}\n  - {{asset_id: P2, wkt: '{P2_WKT}'}}\n",
        encoding="utf-8",
    )
    plain = copy_tiny(tmp_path / "plain", zones=TALLINN)
    for ws_dir in (column, filed, plain):
        add_scenario(ws_dir, SHOCK)
    np.testing.assert_allclose(losses(column), losses(filed))
    s = score(load_workspace(column)).scenario_ids.index("z")
    assert losses(column)[1, s] > losses(plain)[1, s]  # the route reached the circle


@pytest.mark.parametrize(
    ("cell", "field", "expected"),
    [
        ("[[18.9, 69.6]]", "route", "a route needs at least 2 points, one at each end; got 1"),
        ("[[18.9, 69.6], [200, 1]]", "route[1]", "[200, 1] is out of range"),
        ("[[1, 2], [1, 2]]", "route", "a route needs at least 2 distinct points"),
        ("[[1, 2], [3, 4]", "route", "not a JSON list of positions"),
        ("[" * 5000 + "]" * 5000, "route", "not a JSON list of positions (nested too deep)"),
        ("POINT (1 2)", "route", "expected a WKT LINESTRING; got a POINT"),
        ("LINESTRING (18.9 69.6, -70 40)", "route", "the line jumps 5,862 km"),
        ("Tromsø to Bodø", "route", "not valid WKT"),
    ],
)
def test_a_bad_route_cell_names_file_row_and_field(
    tmp_path: Path, cell: str, field: str, expected: str
) -> None:
    ws_dir = copy_tiny(tmp_path, zones=None)
    set_column(ws_dir, "route", {"P2": cell})
    with pytest.raises(InputError) as err:
        load_workspace(ws_dir)
    (problem,) = err.value.problems
    assert problem.file.endswith("assets.csv")
    assert (problem.line, problem.field) == (3, field)
    assert expected in problem.message


def test_a_route_in_both_the_column_and_the_routes_file_is_refused(tmp_path: Path) -> None:
    ws_dir = copy_tiny(tmp_path, zones=None)
    set_column(ws_dir, "route", {"P1": str(P1_LINE)})
    (ws_dir / "routes.yaml").write_text(
        f"routes:\n  - {{asset_id: P1, line: {P1_LINE}}}\n", encoding="utf-8"
    )
    with pytest.raises(InputError) as err:
        load_workspace(ws_dir)
    (problem,) = err.value.problems
    assert (problem.line, problem.field) == (2, "route")
    assert "'P1' also has a route in routes.yaml: an asset has one route" in problem.message
