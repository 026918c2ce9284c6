"""Loading valid inputs: CSV and XLSX registers agree, line maps point at the right lines."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from riskapp.domain import Scenario
from riskapp.io.tables import load_assets
from riskapp.io.workspace import load_model
from riskapp.io.yamlfile import load_yaml
from tests.conftest import TINY


def test_xlsx_register_equals_csv_register(tmp_path: Path) -> None:
    with (TINY / "assets.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for r in rows:
        # numbers as numbers, as a spreadsheet user would type them
        sheet.append([float(c) if c.replace(".", "", 1).isdigit() else c for c in r])
    target = tmp_path / "assets.xlsx"
    book.save(target)
    assert load_assets(target) == load_assets(TINY / "assets.csv")


def test_register_parses_lists_and_optional_columns() -> None:
    assets = {a.id: a for a in load_assets(TINY / "assets.csv")}
    assert assets["P1"].tags == ["arctic", "critical"]
    assert assets["P2"].depends_on == ["P1"]
    assert assets["O1"].lat is None and assets["O1"].currency == "USD"


def test_line_map_points_at_fields() -> None:
    data, lines = load_yaml(TINY / "scenarios" / "s1.yaml")
    assert data["id"] == "s1"
    text = (TINY / "scenarios" / "s1.yaml").read_text().splitlines()
    line = lines.line(("shocks", 1, "target"))
    assert line is not None and "target: north" in text[line - 1]
    # a location deeper than any node falls back to its nearest known parent
    assert lines.line(("signposts", 0, "threshold", "x")) == lines.line(("signposts", 0))


def test_load_model_returns_frozen_model() -> None:
    scenario, _ = load_model(TINY / "scenarios" / "s1.yaml", Scenario)
    assert scenario.shocks[0].range is not None and scenario.shocks[0].range.high == 8
    with pytest.raises(Exception, match="frozen"):
        scenario.frequency = 0.5  # type: ignore[misc]


SHIPPED_YAML = sorted(
    {*Path("riskapp/resources").rglob("*.yaml"), *Path("scenarios").resolve().rglob("*.yaml")}
)


@pytest.mark.parametrize("path", SHIPPED_YAML, ids=lambda p: p.name)
def test_libyaml_reading_equals_the_pure_python_one(path: Path) -> None:
    """The fast (libyaml) reading gives the same data and the same line of every key and item
    as the pure-Python reading that words problems."""
    from riskapp.io import yamlfile

    text = path.read_text(encoding="utf-8")
    assert yamlfile._compose_fast(text) is not None, "libyaml did not read a shipped file"
    data, lines = load_yaml(path)
    slow_data, slow_lines = yamlfile._load_slow(text, str(path))
    assert data == slow_data
    assert lines._lines == slow_lines._lines


def test_deep_nesting_is_refused_before_libyaml_composes_it(tmp_path: Path) -> None:
    """libyaml's composer recurses without a limit: the depth is counted on its events first,
    and the pure-Python reading words the problem with its line."""
    from riskapp.io import yamlfile
    from riskapp.io.errors import InputError

    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    assert yamlfile._compose_fast(deep.read_text()) is None
    with pytest.raises(InputError, match="nested more than"):
        load_yaml(deep)


def test_parse_once_reads_a_file_once_within_its_block(tmp_path: Path) -> None:
    """Inside `parse_once` a file read again gives its first reading (the same objects); an
    edited file is read again; nothing is kept after the block, and a file that failed to
    read fails again."""
    import os

    from riskapp.io.errors import InputError
    from riskapp.io.yamlfile import parse_once

    path = tmp_path / "s.yaml"
    path.write_text("a: 1\nb: [x, y]\n", encoding="utf-8")
    assert load_yaml(path)[0] is not load_yaml(path)[0]  # outside a block: read each time
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1\n", encoding="utf-8")
    with parse_once():
        first, lines = load_yaml(path)
        again, again_lines = load_yaml(path, "another label")
        assert again is first and again_lines is lines
        with parse_once():  # nested: the outer block's readings serve
            assert load_yaml(path)[0] is first
        path.write_text("a: 2\nb: [x, y, z]\n", encoding="utf-8")
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
        edited, _ = load_yaml(path)
        assert edited == {"a": 2, "b": ["x", "y", "z"]}
        for _ in range(2):
            with pytest.raises(InputError, match="malformed YAML"):
                load_yaml(bad)
    assert load_yaml(path)[0] is not edited


def test_validate_reads_each_yaml_file_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """`riskapp validate demo scenarios`: the demo reads the scenario library, which the second
    path checks again; each file is parsed once (its kind and its model from one reading)."""
    from typer.testing import CliRunner

    from riskapp.cli import app
    from riskapp.io import yamlfile

    parsed: list[Path] = []
    read = yamlfile._load_yaml

    def counted(path: Path, label: str | None = None) -> object:
        parsed.append(path.resolve())
        return read(path, label)

    monkeypatch.setattr(yamlfile, "_load_yaml", counted)
    result = CliRunner().invoke(app, ["validate", "demo", "scenarios"])
    assert result.exit_code == 0, result.output
    assert "ok scenarios (scenario folder)" in result.output
    scenarios = sorted(Path("scenarios").resolve().glob("*.yaml"))
    assert scenarios and set(scenarios) <= set(parsed)
    assert len(parsed) == len(set(parsed)), "a file was parsed twice"
