"""Bad input: every malformed, inconsistent or hostile input file gets a clear problem report.

Each problem must name the file, the line (YAML) or spreadsheet row (CSV/XLSX, header = row 1),
the field and what was expected; `riskapp validate` reports every problem at once, exits 1 and
never shows a traceback. YAML is loaded safely: no Python object is ever constructed.

Every test works on a fresh copy of tests/data/tiny at ./ws (the working directory is the test's
tmp_path, so problems name files as `ws/...`, as a user typing `riskapp validate ws` sees them).
Line and row numbers are literal, counted in the files as written; `at()` double-checks them.
"""

from __future__ import annotations

import csv
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from riskapp.cli import app
from riskapp.io import InputError, Problem, load_workspace
from riskapp.io.tables import MAX_CSV_BYTES, MAX_XLSX_BYTES, load_assets
from riskapp.io.validate import validate_path
from riskapp.io.yamlfile import MAX_YAML_BYTES, load_yaml

TINY = Path(__file__).resolve().parent / "data" / "tiny"

# Names of the files of the workspace copy, as problems show them (relative to the cwd).
WS = "ws"
ASSETS = str(Path(WS, "assets.csv"))
ASSETS_XLSX = str(Path(WS, "assets.xlsx"))
BASELINE = str(Path(WS, "baseline.csv"))
CURVES = str(Path(WS, "curves.yaml"))
FACTORS = str(Path(WS, "factors.yaml"))
PLANS = str(Path(WS, "plans.yaml"))
REGIONS = str(Path(WS, "regions.yaml"))
MANIFEST = str(Path(WS, "workspace.yaml"))
S1 = str(Path(WS, "scenarios", "s1.yaml"))
S2 = str(Path(WS, "scenarios", "s2.yaml"))

# tests/data/tiny/scenarios/s2.yaml, for reference:
#   1 id: s2
#   2 title: German alpha spike
#   3 frequency: 0.01
#   4 warning_time_days: 3
#   5 shocks:
#   6   - {target: DEU, factor: alpha, op: scale, value: 5}
# tests/data/tiny/assets.csv: row 1 header, row 2 P1 (NOR), row 3 P2 (FIN, depends on P1),
# row 4 O1 (DEU, office, USD).

BILLION_LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of the tiny workspace at tmp_path/ws, with tmp_path as working directory."""
    target = tmp_path / WS
    shutil.copytree(TINY, target)
    monkeypatch.chdir(tmp_path)
    return target


def edit(path: Path, old: str, new: str) -> None:
    """Replace the one occurrence of `old` in a UTF-8 text file."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should occur exactly once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def at(path: Path, line: int, snippet: bytes | str) -> int:
    """`line`, after checking that line `line` (1-based) of the file holds `snippet`."""
    raw = snippet if isinstance(snippet, bytes) else snippet.encode("utf-8")
    lines = path.read_bytes().split(b"\n")
    assert raw in lines[line - 1], f"line {line} of {path} is {lines[line - 1]!r}"
    return line


def ws_problems(ws: Path) -> list[Problem]:
    """The problems load_workspace reports for the workspace copy."""
    with pytest.raises(InputError) as info:
        load_workspace(ws)
    problems = info.value.problems
    assert problems, "an InputError must carry at least one problem"
    return problems


def path_problems(path: Path) -> list[Problem]:
    """The problems validate_path (the engine of `riskapp validate`) reports for one path."""
    _, problems = validate_path(path)
    assert problems, f"validate_path({path}) found no problem"
    return problems


def listing(problems: list[Problem]) -> str:
    return "\n".join(str(p) for p in problems)


def one(problems: list[Problem], file: str, field: str | None = None) -> Problem:
    """The single problem reported for `file` (and `field`, when given)."""
    hits = [p for p in problems if p.file == file and (field is None or p.field == field)]
    assert len(hits) == 1, f"expected one problem for {file} [{field}]; got:\n{listing(problems)}"
    return hits[0]


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, f"expected exactly one problem; got:\n{listing(problems)}"
    return problems[0]


def run_validate(*paths: Path | str) -> str:
    """Run `riskapp validate PATH...`; check it failed cleanly; return its output on one line."""
    result = CliRunner().invoke(app, ["validate", *(str(p) for p in paths)])
    output = result.output
    assert "Traceback" not in output
    # CliRunner swallows tracebacks: an exception other than SystemExit is a crash
    assert isinstance(result.exception, SystemExit), f"crashed: {result.exception!r}\n{output}"
    assert result.exit_code == 1, output
    assert "problem(s) found" in output
    return " ".join(output.split())  # undo the console's wrapping of long lines


def write_register_xlsx(ws: Path, change: Callable[[list[list[object]]], None]) -> Path:
    """Write tiny's asset register as ws/assets.xlsx (numbers as numbers, as a spreadsheet user
    types them), after `change` edits the rows; point workspace.yaml at it."""
    with (ws / "assets.csv").open(newline="", encoding="utf-8") as f:
        rows: list[list[object]] = [list(r) for r in csv.reader(f)]
    numeric = {"lat", "lon", "replacement_value", "annual_revenue_at_stake", "criticality"}
    header = [str(h) for h in rows[0]]
    for row in rows[1:]:
        for i, col in enumerate(header):
            if col in numeric and row[i] != "":
                row[i] = float(str(row[i]))
    change(rows)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    target = ws / "assets.xlsx"
    book.save(target)
    (ws / "assets.csv").unlink()
    with (ws / "workspace.yaml").open("a", encoding="utf-8") as f:
        f.write("paths: {assets: assets.xlsx}\n")
    return target


def sparse_file(path: Path, size: int) -> None:
    """A file of `size` bytes that takes no disk space."""
    with path.open("wb") as f:
        f.truncate(size)


# --------------------------------------------------------------------------------------------
# malformed and hostile YAML
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param("id: s2\ntitle: German: alpha\nfrequency: 0.01\n", 2, id="colon-in-value"),
        pytest.param("id: s2\ntitle: x\n  frequency: 0.01\n", 3, id="bad-indentation"),
        pytest.param("id: s2\ntitle: x\n\tfrequency: 0.01\n", 3, id="tab-indent"),
    ],
)
def test_malformed_yaml_names_file_and_line(ws: Path, text: str, line: int) -> None:
    (ws / "scenarios" / "s2.yaml").write_text(text, encoding="utf-8")
    p = one(ws_problems(ws), S2)
    assert p.line == line, str(p)
    assert p.message.startswith("malformed YAML"), str(p)


@pytest.mark.parametrize(
    ("text", "open_line", "opener"),
    [
        pytest.param(
            "id: s2\ntitle: German alpha spike\ntags: [border, trade\nfrequency: 0.01\n"
            "warning_time_days: 3\n",
            3,
            "[",
            id="bracket-mid-file",
        ),
        pytest.param(
            "id: s2\ntitle: German alpha spike\nfrequency: 0.01\nwarning_time_days: 3\n"
            "shocks:\n  - {target: DEU, factor: alpha, op: scale, value: 5\n",
            6,
            "{",
            id="brace-last-line",
        ),
        pytest.param(
            "id: s2\ntitle: 'German alpha spike\nfrequency: 0.01\nwarning_time_days: 3\n",
            2,
            "'",
            id="quote",
        ),
    ],
)
def test_unclosed_bracket_or_quote_points_at_its_line(
    ws: Path, text: str, open_line: int, opener: str
) -> None:
    """The user must be led to the line with the unclosed bracket or quote: as the problem's
    line, or named in the message (e.g. "the '[' opened on line 3 is never closed"). A line
    after the end of the file, or the line where the parser gave up, is not enough."""
    path = ws / "scenarios" / "s2.yaml"
    path.write_text(text, encoding="utf-8")
    at(path, open_line, opener)
    n_lines = len(text.splitlines())
    for problems in (ws_problems(ws), path_problems(path)):
        p = one(problems, S2)
        assert p.message.startswith("malformed YAML"), str(p)
        assert p.line is not None and 1 <= p.line <= n_lines, f"no such line in the file: {p}"
        assert p.line == open_line or f"line {open_line}" in p.message, str(p)


def test_duplicate_yaml_key_names_the_second_key(ws: Path) -> None:
    path = ws / "scenarios" / "s2.yaml"
    edit(path, "frequency: 0.01\n", "frequency: 0.01\nfrequency: 0.02\n")
    for problems in (ws_problems(ws), path_problems(path)):
        p = only(problems)
        assert (p.file, p.line, p.field) == (S2, at(path, 4, "frequency: 0.02"), "frequency")
        assert "duplicate key 'frequency'" in p.message
        assert "line 3" in p.message  # where it was first given


UNSAFE_TAGS = [
    pytest.param('!!python/object/apply:os.system ["echo pwned > {marker}"]', id="apply"),
    pytest.param('!!python/object/new:os.system ["echo pwned > {marker}"]', id="new"),
    pytest.param(
        '!!python/object/apply:subprocess.check_output [["sh", "-c", "echo pwned > {marker}"]]',
        id="subprocess",
    ),
    pytest.param("!!python/name:os.system ''", id="name"),
    pytest.param("!!python/module:os ''", id="module"),
    pytest.param("!custom_tag {{a: 1}}", id="local-tag"),
]


@pytest.mark.parametrize("tag", UNSAFE_TAGS)
def test_unsafe_yaml_tag_is_refused_and_never_run(ws: Path, tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "pwned.txt"
    path = ws / "scenarios" / "s2.yaml"
    path.write_text(
        "id: s2\ntitle: German alpha spike\n"
        f"narrative: {tag.format(marker=marker)}\n"
        "frequency: 0.01\nwarning_time_days: 3\n",
        encoding="utf-8",
    )
    for problems in (ws_problems(ws), path_problems(path)):
        p = one(problems, S2)
        assert p.line == at(path, 3, "narrative: !"), str(p)
        assert "not allowed" in p.message and "plain data" in p.message, str(p)
    with pytest.raises(InputError):
        load_yaml(path)
    assert not marker.exists(), "a YAML tag ran a command"


def test_alias_bomb_is_refused_quickly(ws: Path) -> None:
    path = ws / "scenarios" / "s2.yaml"
    path.write_text(BILLION_LAUGHS, encoding="utf-8")
    # refused by counting nodes while composing (MAX_NODES), before anything is expanded
    problems = ws_problems(ws)
    p = one(problems, S2)
    assert "alias" in p.message and "nodes" in p.message, str(p)
    p = only(path_problems(path))
    assert p.file == S2 and "alias" in p.message


def test_control_character_in_yaml_is_a_problem_not_a_crash(ws: Path) -> None:
    """A stray control character (here BEL, pasted from a terminal) is invalid in YAML."""
    path = ws / "scenarios" / "s2.yaml"
    edit(path, "title: German alpha spike", "title: German\x07alpha spike")
    for problems in (ws_problems(ws), path_problems(path)):
        p = one(problems, S2)
        assert p.line == at(path, 2, b"\x07"), str(p)
        assert "character" in p.message, str(p)


# --------------------------------------------------------------------------------------------
# unknown keys, wrong types, out-of-range values, NaN and infinity
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "old", "new", "file", "line", "field"),
    [
        pytest.param(
            "scenarios/s2.yaml", "frequency:", "frequncy:", S2, 3, "frequncy", id="scenario"
        ),
        pytest.param(
            "scenarios/s2.yaml", "value: 5", "valeu: 5", S2, 6, "shocks[0].valeu", id="shock"
        ),
        pytest.param(
            "plans.yaml", "    owner: CSO", "    ownr: CSO", PLANS, 21, "plans[1].ownr", id="plan"
        ),
        pytest.param(
            "workspace.yaml",
            "currency: EUR",
            "currancy: EUR",
            MANIFEST,
            3,
            "currancy",
            id="workspace",
        ),
        pytest.param(
            "curves.yaml",
            "    points: [[2, 0]",
            "    pionts: [[2, 0]",
            CURVES,
            7,
            "curves[1].pionts",
            id="curve",
        ),
    ],
)
def test_unknown_key_names_field_and_line(
    ws: Path, rel: str, old: str, new: str, file: str, line: int, field: str
) -> None:
    path = ws / rel
    edit(path, old, new)
    at(path, line, new.strip())
    p = one(ws_problems(ws), file, field)
    assert p.line == line, str(p)
    assert "unknown field" in p.message, str(p)


def test_unknown_key_message_says_what_was_expected(ws: Path) -> None:
    """`frequncy` is a typo: the message should name the expected key (a "did you mean
    'frequency'?" or the list of allowed keys), not only point at `riskapp schema`."""
    edit(ws / "scenarios" / "s2.yaml", "frequency:", "frequncy:")
    p = one(ws_problems(ws), S2, "frequncy")
    assert "frequency" in p.message.replace("frequncy", ""), str(p)


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "expected"),
    [
        pytest.param(
            "frequency: 0.01",
            "frequency: often",
            3,
            "frequency",
            "valid number",
            id="frequency-text",
        ),
        pytest.param(
            "frequency: 0.01", "frequency: yes", 3, "frequency", "number", id="frequency-boolean"
        ),
        pytest.param(
            "frequency: 0.01",
            "frequency: 1.5",
            3,
            "frequency",
            "less than or equal to 1",
            id="frequency-above-1",
        ),
        pytest.param(
            "frequency: 0.01",
            "frequency: -0.1",
            3,
            "frequency",
            "greater than or equal to 0",
            id="frequency-negative",
        ),
        pytest.param(
            "frequency: 0.01", "frequency: .nan", 3, "frequency", "finite", id="frequency-nan"
        ),
        pytest.param(
            "warning_time_days: 3",
            "warning_time_days: -3",
            4,
            "warning_time_days",
            "greater than or equal to 0",
            id="warning-negative",
        ),
        pytest.param(
            "warning_time_days: 3",
            "warning_time_days: .inf",
            4,
            "warning_time_days",
            "finite",
            id="warning-inf",
        ),
        pytest.param(
            "warning_time_days: 3",
            "warning_time_days: -.inf",
            4,
            "warning_time_days",
            "finite",
            id="warning-minus-inf",
        ),
        pytest.param("value: 5}", "value: .NaN}", 6, "shocks[0].value", "finite", id="shock-nan"),
        pytest.param(
            "value: 5}", "value: 50}", 6, "shocks[0]", "from 0 to 10", id="shock-out-of-range"
        ),
        pytest.param(
            "op: scale",
            "op: multiply",
            6,
            "shocks[0].op",
            "'set', 'add', 'scale', 'toward_max' or 'toward_min'",
            id="shock-unknown-op",
        ),
        pytest.param(
            "title: German alpha spike",
            "title: [a, b]",
            2,
            "title",
            "valid string",
            id="title-list",
        ),
    ],
)
def test_bad_scenario_value_names_field_line_and_expectation(
    ws: Path, old: str, new: str, line: int, field: str, expected: str
) -> None:
    path = ws / "scenarios" / "s2.yaml"
    edit(path, old, new)
    at(path, line, new)
    for problems in (ws_problems(ws), path_problems(path)):
        p = one(problems, S2, field)
        assert p.line == line, str(p)
        assert expected in p.message, str(p)


@pytest.mark.parametrize(
    ("old", "new", "row", "field", "expected"),
    [
        pytest.param(
            "1000,0,USD",
            "-5,0,USD",
            4,
            "replacement_value",
            "greater than or equal to 0",
            id="negative-value",
        ),
        pytest.param(
            "100,0,EUR", "lots,0,EUR", 2, "replacement_value", "valid number", id="text-value"
        ),
        pytest.param("200,50", "nan,50", 3, "replacement_value", "finite", id="nan"),
        pytest.param("200,50", "200,inf", 3, "annual_revenue_at_stake", "finite", id="inf"),
        pytest.param("200,50", "200,-inf", 3, "annual_revenue_at_stake", "finite", id="minus-inf"),
        pytest.param("200,50", "1e400,50", 3, "replacement_value", "finite", id="overflow"),
        pytest.param("60.2,24.9", "NaN,24.9", 3, "lat", "finite", id="lat-nan"),
        pytest.param("60.2,24.9", "95,24.9", 3, "lat", "less than or equal to 90", id="lat-range"),
        pytest.param("EUR,5", "EUR,high", 3, "criticality", "valid integer", id="criticality-text"),
        pytest.param(
            "EUR,5", "EUR,9", 3, "criticality", "less than or equal to 5", id="criticality-range"
        ),
        pytest.param(",USD,", ",usd,", 4, "currency", "ISO 4217", id="currency-code"),
    ],
)
def test_bad_asset_cell_names_row_field_and_expectation(
    ws: Path, old: str, new: str, row: int, field: str, expected: str
) -> None:
    path = ws / "assets.csv"
    edit(path, old, new)
    at(path, row, new)
    for problems in (ws_problems(ws), path_problems(path)):
        p = one(problems, ASSETS, field)
        assert (p.line, p.unit) == (row, "row"), str(p)
        assert expected in p.message, str(p)


@pytest.mark.parametrize(
    ("new", "field", "expected"),
    [
        pytest.param("FIN,beta,nan", "intensity", "finite", id="nan"),
        pytest.param("FIN,beta,inf", "intensity", "finite", id="inf"),
        pytest.param("FIN,beta,11", "intensity", "less than or equal to 10", id="above-10"),
        pytest.param("FIN,beta,-1", "intensity", "greater than or equal to 0", id="negative"),
        pytest.param("FIN,beta,high", "intensity", "valid number", id="text"),
        pytest.param("FIN,Beta!,3", "factor", "lower-case identifier", id="factor-slug"),
    ],
)
def test_bad_baseline_cell_names_row_field_and_expectation(
    ws: Path, new: str, field: str, expected: str
) -> None:
    path = ws / "baseline.csv"
    edit(path, "FIN,beta,3", new)
    at(path, 5, new)
    for problems in (ws_problems(ws), path_problems(path)):
        p = one(problems, BASELINE, field)
        assert (p.line, p.unit) == (5, "row"), str(p)
        assert expected in p.message, str(p)


# --------------------------------------------------------------------------------------------
# country codes and cross-file references
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "old", "new", "file", "row"),
    [
        pytest.param("assets.csv", "FIN,60.2", "XXX,60.2", ASSETS, 3, id="assets-XXX"),
        # alpha-2 codes and names are read (tests/test_locations.py); a code nothing is
        # close to is the model's to refuse
        pytest.param("baseline.csv", "FIN,beta", "XXX,beta", BASELINE, 5, id="baseline-XXX"),
    ],
)
def test_unknown_country_code_names_row(
    ws: Path, rel: str, old: str, new: str, file: str, row: int
) -> None:
    path = ws / rel
    edit(path, old, new)
    at(path, row, new)
    code = new.split(",", maxsplit=1)[0]
    for problems in (ws_problems(ws), path_problems(path)):
        p = one(problems, file, "country")
        assert (p.line, p.unit) == (row, "row"), str(p)
        assert "ISO 3166-1 alpha-3" in p.message and repr(code) in p.message, str(p)


def test_country_message_names_the_bad_code_once(ws: Path) -> None:
    """Clear messages: "... such as DEU; got 'XXX'", not "got 'XXX' (got 'XXX')"."""
    edit(ws / "assets.csv", "FIN,60.2", "XXX,60.2")
    p = one(ws_problems(ws), ASSETS, "country")
    assert p.message.count("XXX") == 1, str(p)


@pytest.mark.parametrize(
    ("rel", "old", "new", "file", "line", "field", "expected"),
    [
        pytest.param(
            "scenarios/s2.yaml",
            "target: DEU",
            "target: XYZ",
            S2,
            6,
            "shocks[0].target",
            "ISO 3166-1 alpha-3 code, a region group id, a zone",
            id="shock-target",
        ),
        pytest.param(
            "scenarios/s2.yaml",
            "factor: alpha",
            "factor: gamma",
            S2,
            6,
            "shocks[0].factor",
            "expected one of alpha, beta",
            id="shock-factor",
        ),
        pytest.param(
            "scenarios/s1.yaml",
            "target: north",
            "target: south",
            S1,
            9,
            "shocks[1].target",
            "region group id",
            id="shock-group",
        ),
        pytest.param(
            "baseline.csv",
            "FIN,beta,3",
            "FIN,gamma,3",
            BASELINE,
            5,
            "factor",
            "expected one of alpha, beta",
            id="baseline-factor",
        ),
        pytest.param(
            "curves.yaml",
            "factor: beta",
            "factor: gamma",
            CURVES,
            6,
            "curves[1].factor",
            "expected one of alpha, beta",
            id="curve-factor",
        ),
        pytest.param(
            "plans.yaml",
            "scenarios: [s1]",
            "scenarios: [s9]",
            PLANS,
            7,
            "plans[0].trigger.scenarios[0]",
            "unknown scenario 's9'",
            id="plan-scenario",
        ),
        pytest.param(
            "plans.yaml",
            "asset_ids: [P2]",
            "asset_ids: [P9]",
            PLANS,
            35,
            "plans[1].coverage.asset_ids[0]",
            "no asset 'P9'",
            id="plan-asset",
        ),
        pytest.param(
            "plans.yaml",
            "regions: [north]",
            "regions: [south]",
            PLANS,
            16,
            "plans[0].coverage.regions[0]",
            "unknown region 'south'",
            id="plan-region",
        ),
        pytest.param(
            "plans.yaml",
            "intensity_reduction: {beta: 2}",
            "intensity_reduction: {gamma: 2}",
            PLANS,
            38,
            "plans[1].effect.intensity_reduction.gamma",
            "unknown factor 'gamma'",
            id="plan-effect-factor",
        ),
        pytest.param(
            "assets.csv",
            "plant,FIN",
            "warehouse,FIN",
            ASSETS,
            3,
            "type",
            "has no vulnerability curve; known types: office, plant",
            id="type-without-curve",
        ),
        pytest.param(
            "assets.csv",
            ",USD,",
            ",GBP,",
            ASSETS,
            4,
            "currency",
            "no exchange rate for GBP; add it to fx_rates",
            id="currency-without-fx",
        ),
    ],
)
def test_unresolved_reference_names_file_line_and_field(
    ws: Path, rel: str, old: str, new: str, file: str, line: int, field: str, expected: str
) -> None:
    path = ws / rel
    edit(path, old, new)
    at(path, line, new)
    problems = ws_problems(ws)
    p = one(problems, file, field)
    assert p.line == line, str(p)
    assert expected in p.message, str(p)
    # and `riskapp validate ws` says the same
    assert str(p).split(": ")[0] in run_validate(ws)


def test_scenario_id_must_match_file_name(ws: Path) -> None:
    path = ws / "scenarios" / "s2.yaml"
    edit(path, "id: s2", "id: s3")
    for problems in (ws_problems(ws), path_problems(path)):
        p = only(problems)
        assert (p.file, p.line, p.field) == (S2, 1, "id")
        assert "'s3'" in p.message and "file name 's2'" in p.message


# --------------------------------------------------------------------------------------------
# vulnerability curves
# --------------------------------------------------------------------------------------------

# curves.yaml: the second curve (curves[1]) starts on line 5; its points are on line 7.
CURVE_CASES = [
    pytest.param(
        "[[2, 0], [6, 0.4], [4, 0.5]]",
        {7},
        {"curves[1].points"},
        "intensities must rise strictly",
        id="intensity-falls",
    ),
    pytest.param(
        "[[2, 0], [2, 0.4]]",
        {7},
        {"curves[1].points"},
        "intensities must rise strictly",
        id="intensity-repeats",
    ),
    pytest.param(
        "[[2, 0.5], [6, 0.4]]",
        {7},
        {"curves[1].points"},
        "damage ratios must not fall",
        id="damage-falls",
    ),
    pytest.param(
        "[[2, 0], [6, 1.4]]",
        {7},
        {"curves[1].points[1][1]"},
        "less than or equal to 1",
        id="damage-above-1",
    ),
    pytest.param(
        "[[2, -0.1], [6, 0.4]]",
        {7},
        {"curves[1].points[0][1]"},
        "greater than or equal to 0",
        id="damage-below-0",
    ),
    pytest.param(
        "[[2, 0], [11, 0.4]]",
        {7},
        {"curves[1].points[1][0]"},
        "less than or equal to 10",
        id="intensity-above-10",
    ),
    pytest.param("[[2, 0], [6, .nan]]", {7}, {"curves[1].points[1][1]"}, "finite", id="damage-nan"),
    pytest.param("[[2, 0]]", {7}, {"curves[1].points"}, "at least 2", id="one-point"),
]


@pytest.mark.parametrize(("points", "lines", "fields", "expected"), CURVE_CASES)
def test_bad_curve_names_curve_line_and_rule(
    ws: Path, points: str, lines: set[int], fields: set[str], expected: str
) -> None:
    path = ws / "curves.yaml"
    edit(path, "points: [[2, 0], [6, 0.4]]", f"points: {points}")
    at(path, 5, "- asset_type: plant")
    at(path, 7, points)
    for problems in (ws_problems(ws), path_problems(path)):
        p = one(problems, CURVES)
        assert p.line in lines and p.field in fields, str(p)
        assert expected in p.message, str(p)


# --------------------------------------------------------------------------------------------
# duplicate ids
# --------------------------------------------------------------------------------------------


def test_duplicate_asset_id_names_the_second_row(ws: Path) -> None:
    path = ws / "assets.csv"
    edit(path, "O1,Office", "P1,Office")
    for problems in (ws_problems(ws), path_problems(path)):
        p = only(problems)
        assert (p.file, p.line, p.unit, p.field) == (ASSETS, at(path, 4, "P1,Office"), "row", "id")
        assert "duplicate id 'P1'" in p.message and "row 2" in p.message


def test_duplicate_scenario_id_in_two_files(ws: Path) -> None:
    """s2.yaml and s2.yml both hold scenario s2: the second file is named."""
    shutil.copy(ws / "scenarios" / "s2.yaml", ws / "scenarios" / "s2.yml")
    p = only(ws_problems(ws))
    assert (p.file, p.line, p.field) == (str(Path(WS, "scenarios", "s2.yml")), 1, "id")
    assert "'s2'" in p.message and "twice" in p.message


@pytest.mark.parametrize(
    ("rel", "old", "new", "file", "line", "field_prefix", "expected"),
    [
        pytest.param(
            "plans.yaml",
            "  - id: armor",
            "  - id: shield",
            PLANS,
            19,
            "plans[1]",
            "'shield'",
            id="plan",
        ),
        pytest.param(
            "factors.yaml",
            "  - id: beta",
            "  - id: alpha",
            FACTORS,
            5,
            "factors[1]",
            "'alpha'",
            id="factor",
        ),
        pytest.param(
            "regions.yaml",
            "    members: [NOR, FIN]\n",
            "    members: [NOR, FIN]\n  - id: north\n    name: North again\n    members: [NOR]\n",
            REGIONS,
            5,
            "groups[1]",
            "'north'",
            id="region-group",
        ),
        pytest.param(
            "curves.yaml",
            "  - asset_type: office",
            "  - asset_type: plant",
            CURVES,
            8,
            "curves[2]",
            "'plant'",
            id="curve",
        ),
    ],
)
def test_duplicate_id_in_yaml_names_the_second_entry(
    ws: Path,
    rel: str,
    old: str,
    new: str,
    file: str,
    line: int,
    field_prefix: str,
    expected: str,
) -> None:
    """Like a duplicate asset id (reported on the second row), a duplicate YAML entry must be
    reported on the line of the second entry, not on line 1 of the file."""
    path = ws / rel
    edit(path, old, new)
    at(path, line, "- ")
    for problems in (ws_problems(ws), path_problems(path)):
        p = one(problems, file)
        assert expected in p.message, str(p)
        assert p.line == line, str(p)
        assert p.field.startswith(field_prefix), str(p)


# --------------------------------------------------------------------------------------------
# dependencies between assets
# --------------------------------------------------------------------------------------------


def test_dangling_dependency_names_row_and_id(ws: Path) -> None:
    path = ws / "assets.csv"
    edit(path, "Ops,P1", "Ops,P9")
    for problems in (ws_problems(ws), path_problems(path)):
        p = only(problems)
        assert (p.file, p.line, p.field) == (ASSETS, at(path, 3, "Ops,P9"), "depends_on")
        assert "no asset 'P9' in the register" in p.message


def cycle_in(message: str) -> list[str]:
    m = re.search(r"dependency cycle: (\S+(?: -> \S+)+)", message)
    assert m, message
    return m.group(1).split(" -> ")


@pytest.mark.parametrize(
    ("edits", "members"),
    [
        pytest.param([("Ops,\n", "Ops,P2\n")], {"P1", "P2"}, id="two-assets"),
        pytest.param(
            [("Ops,\n", "Ops,O1\n"), ("Admin,\n", "Admin,P2\n")],
            {"P1", "P2", "O1"},
            id="three-assets",
        ),
    ],
)
def test_dependency_cycle_names_the_cycle(
    ws: Path, edits: list[tuple[str, str]], members: set[str]
) -> None:
    path = ws / "assets.csv"
    for old, new in edits:
        edit(path, old, new)
    rows = {"P1": 2, "P2": 3, "O1": 4}
    p = only(ws_problems(ws))
    assert (p.file, p.field, p.unit) == (ASSETS, "depends_on", "row"), str(p)
    cycle = cycle_in(p.message)  # e.g. P1 -> P2 -> P1
    assert cycle[0] == cycle[-1] and set(cycle) == members and len(cycle) == len(members) + 1
    assert p.line == rows[cycle[0]], str(p)


def test_self_dependency_names_the_field(ws: Path) -> None:
    path = ws / "assets.csv"
    edit(path, "Ops,\n", "Ops,P1\n")
    for problems in (ws_problems(ws), path_problems(path)):
        p = only(problems)
        assert "'P1' cannot depend on itself" in p.message, str(p)
        assert (p.file, p.line, p.field) == (ASSETS, 2, "depends_on"), str(p)


def test_validating_the_register_alone_finds_a_cycle(ws: Path) -> None:
    """`riskapp validate ws/assets.csv` checks an asset file; a cycle is wrong in any
    workspace, so it must be reported there too, not only when the workspace loads."""
    path = ws / "assets.csv"
    edit(path, "Ops,\n", "Ops,P2\n")
    p = only(path_problems(path))
    assert (p.file, p.field) == (ASSETS, "depends_on"), str(p)
    assert set(cycle_in(p.message)) == {"P1", "P2"}


def test_cycle_is_reported_with_the_other_problems(ws: Path) -> None:
    """Every problem at once: a cycle does not hide an unknown factor in a scenario."""
    edit(ws / "assets.csv", "Ops,\n", "Ops,P2\n")
    edit(ws / "scenarios" / "s2.yaml", "factor: alpha", "factor: gamma")
    problems = ws_problems(ws)
    assert "dependency cycle" in one(problems, ASSETS, "depends_on").message
    assert one(problems, S2, "shocks[0].factor").line == 6


# --------------------------------------------------------------------------------------------
# tables: columns, empty and malformed files, XLSX
# --------------------------------------------------------------------------------------------


def test_unknown_column_names_column_and_expected_columns(ws: Path) -> None:
    path = ws / "assets.csv"
    edit(path, "owner,depends_on\n", "owner,depends_on,colour\n")
    for problems in (ws_problems(ws), path_problems(path)):
        p = only(problems)
        assert (p.file, p.line, p.unit, p.field) == (ASSETS, 1, "row", "colour")
        assert "unknown column" in p.message and "replacement_value" in p.message


def test_misspelt_column_is_unknown_and_the_real_one_missing(ws: Path) -> None:
    path = ws / "assets.csv"
    edit(path, "id,name,", "id,nmae,")
    problems = ws_problems(ws)
    assert "unknown column" in one(problems, ASSETS, "nmae").message
    assert "required column is missing" in one(problems, ASSETS, "name").message


def test_unclosed_quote_in_csv_names_its_row(ws: Path) -> None:
    """An unclosed quote swallows the rest of the file; the user must be told where it opens,
    not get "expected a lower-case identifier; got ''" for a later row."""
    path = ws / "assets.csv"
    edit(path, "Plant Finland", '"Plant Finland')
    problems = ws_problems(ws)
    assert any(p.line == 3 and "quote" in p.message for p in problems), listing(problems)


@pytest.mark.parametrize(
    ("rel", "content", "file", "expected"),
    [
        pytest.param("scenarios/s2.yaml", b"", S2, "file is empty", id="scenario-empty"),
        pytest.param("scenarios/s2.yaml", b"  \n\n", S2, "file is empty", id="scenario-blank"),
        pytest.param(
            "scenarios/s2.yaml", b"# to do\n", S2, "no YAML document", id="scenario-comment-only"
        ),
        pytest.param(
            "scenarios/s2.yaml", b"- a\n- b\n", S2, "expected a mapping", id="scenario-list"
        ),
        pytest.param("curves.yaml", b"", CURVES, "file is empty", id="curves-empty"),
        pytest.param("assets.csv", b"", ASSETS, "file is empty", id="assets-empty"),
        pytest.param("baseline.csv", b"", BASELINE, "file is empty", id="baseline-empty"),
    ],
)
def test_empty_file_is_named(ws: Path, rel: str, content: bytes, file: str, expected: str) -> None:
    (ws / rel).write_bytes(content)
    for problems in (ws_problems(ws), path_problems(ws / rel)):
        p = one(problems, file)
        assert expected in p.message, str(p)


def test_header_only_register(ws: Path) -> None:
    """A register with its header and no rows: a new workspace's (riskapp init), valid as a
    workspace, but nothing to assess and, as a file alone, nothing to import."""
    from riskapp.assessment import assess
    from riskapp.assessment.core import NO_ASSETS

    (ws / "assets.csv").write_bytes((TINY / "assets.csv").read_bytes().split(b"\n")[0] + b"\n")
    (ws / "plans.yaml").write_text("plans: []\n")  # plans target the assets that are gone
    assert len(load_workspace(ws).portfolio) == 0
    with pytest.raises(InputError) as info:
        assess(ws)
    assert [p.message for p in info.value.problems] == [NO_ASSETS]
    p = one(path_problems(ws / "assets.csv"), ASSETS)
    assert "header but no assets" in p.message, str(p)


@pytest.mark.parametrize(
    ("rel", "limit", "file"),
    [
        pytest.param("scenarios/s2.yaml", MAX_YAML_BYTES, S2, id="scenario"),
        pytest.param("curves.yaml", MAX_YAML_BYTES, CURVES, id="curves"),
        pytest.param("assets.csv", MAX_CSV_BYTES, ASSETS, id="assets"),
    ],
)
def test_huge_file_is_refused_with_size_and_limit(
    ws: Path, rel: str, limit: int, file: str
) -> None:
    sparse_file(ws / rel, limit + 1)  # the size is checked before reading: nothing is parsed
    for problems in (ws_problems(ws), path_problems(ws / rel)):
        p = one(problems, file)
        assert f"{(limit + 1) / 1e6:.1f} MB" in p.message, str(p)  # the file's size
        assert f"limit for this kind of file is {limit / 1e6:.0f} MB" in p.message, str(p)


def test_huge_xlsx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "assets.xlsx"
    sparse_file(path, MAX_XLSX_BYTES + 1)
    p = only(path_problems(path))
    assert p.file.endswith("assets.xlsx") and f"{MAX_XLSX_BYTES / 1e6:.0f} MB" in p.message


def test_non_utf8_register_names_line(ws: Path) -> None:
    path = ws / "assets.csv"
    raw = path.read_bytes().replace(b"Plant Finland", "Müller".encode("latin-1"))
    path.write_bytes(raw)
    at(path, 3, b"M\xfcller")
    for problems in (ws_problems(ws), path_problems(path)):
        p = only(problems)
        assert (p.file, p.line) == (ASSETS, 3), str(p)
        assert "not UTF-8" in p.message and "save the file as UTF-8" in p.message, str(p)


def test_non_utf8_scenario_narrative_names_line(ws: Path) -> None:
    path = ws / "scenarios" / "s1.yaml"
    raw = path.read_bytes().replace(b"Alpha rises", "Müller rises".encode("latin-1"))
    path.write_bytes(raw)
    for problems in (ws_problems(ws), path_problems(path)):
        p = only(problems)
        assert (p.file, p.line) == (S1, at(path, 3, b"narrative: M\xfcller")), str(p)
        assert "UTF-8" in p.message, str(p)


def test_xlsx_register_bad_cells_name_spreadsheet_rows(ws: Path) -> None:
    def spoil(rows: list[list[object]]) -> None:
        rows[2][6] = "lots"  # row 3 (P2), replacement_value
        rows[3][3] = "XXX"  # row 4 (O1), country

    path = write_register_xlsx(ws, spoil)
    sheet = openpyxl.load_workbook(path).worksheets[0]
    assert sheet["G3"].value == "lots" and sheet["D4"].value == "XXX"
    for problems in (ws_problems(ws), path_problems(path)):
        assert len(problems) == 2, listing(problems)
        p = one(problems, ASSETS_XLSX, "replacement_value")
        assert (p.line, p.unit) == (3, "row") and "valid number" in p.message, str(p)
        p = one(problems, ASSETS_XLSX, "country")
        assert (p.line, p.unit) == (4, "row") and "alpha-3" in p.message, str(p)


def test_xlsx_duplicate_id_names_the_second_row(ws: Path) -> None:
    def spoil(rows: list[list[object]]) -> None:
        rows[3][0] = "P2"

    path = write_register_xlsx(ws, spoil)
    p = only(path_problems(path))
    assert (p.file, p.line, p.field) == (ASSETS_XLSX, 4, "id") and "row 3" in p.message


def test_not_a_workbook_is_named(ws: Path) -> None:
    path = ws / "assets.xlsx"
    path.write_bytes(b"id,name\nthis is a CSV file with the wrong suffix\n")
    p = only(path_problems(path))
    assert p.file == ASSETS_XLSX and "not a readable .xlsx workbook" in p.message


# --------------------------------------------------------------------------------------------
# every problem at once
# --------------------------------------------------------------------------------------------


def spoil_three_files(ws: Path) -> None:
    edit(ws / "assets.csv", "FIN,60.2", "XXX,60.2")  # row 3
    edit(ws / "assets.csv", "1000,0,USD", "-5,0,USD")  # row 4
    edit(ws / "scenarios" / "s2.yaml", "frequency: 0.01", "frequency: 1.5")  # line 3
    edit(ws / "curves.yaml", "[[2, 0], [6, 0.4]]", "[[2, 0], [6, 1.4]]")  # line 7


def test_problems_in_several_files_are_reported_together(ws: Path) -> None:
    spoil_three_files(ws)
    problems = ws_problems(ws)
    assert len(problems) == 4, listing(problems)
    assert one(problems, ASSETS, "country").line == 3
    assert one(problems, ASSETS, "replacement_value").line == 4
    assert one(problems, S2, "frequency").line == 3
    assert one(problems, CURVES, "curves[1].points[1][1]").line == 7


def test_cli_reports_every_problem_of_every_file(ws: Path) -> None:
    spoil_three_files(ws)
    for args in ([ws], [ws / "assets.csv", ws / "scenarios" / "s2.yaml", ws / "curves.yaml"]):
        output = run_validate(*args)
        assert "4 problem(s) found" in output
        for text in (
            f"{ASSETS}, row 3 [country]: expected an ISO 3166-1 alpha-3 country code",
            f"{ASSETS}, row 4 [replacement_value]: Input should be greater than or equal to 0",
            f"{S2}, line 3 [frequency]: Input should be less than or equal to 1",
            f"{CURVES}, line 7 [curves[1].points[1][1]]: Input should be less than or equal",
        ):
            assert text in output


def test_cli_problem_lines_are_not_broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Output that goes to a file or a CI log must keep each problem on one line, so that
    `grep assets.csv` finds the row: no wrapping at the console width."""
    deep = tmp_path / ("regional_assessments_" + "x" * 80) / ("subsidiary_" + "y" * 90) / "ws"
    shutil.copytree(TINY, deep)
    monkeypatch.chdir(tmp_path)
    edit(deep / "assets.csv", "FIN,60.2", "XXX,60.2")
    edit(deep / "assets.csv", "1000,0,USD", "-5,0,USD")
    problems = path_problems(deep / "assets.csv")
    result = CliRunner().invoke(app, ["validate", str(deep / "assets.csv")])
    assert result.exit_code == 1
    lines = [line.strip() for line in result.output.splitlines()]
    for p in problems:
        assert str(p) in lines, f"{p} is not on one line of:\n{result.output}"


# --------------------------------------------------------------------------------------------
# `riskapp validate` on each kind of bad input: exit 1, file:line shown, no traceback
# --------------------------------------------------------------------------------------------


def _dup_key(ws: Path) -> Path:
    edit(ws / "scenarios" / "s2.yaml", "frequency: 0.01\n", "frequency: 0.01\nfrequency: 0.2\n")
    return ws / "scenarios" / "s2.yaml"


def _typo(ws: Path) -> Path:
    edit(ws / "scenarios" / "s2.yaml", "frequency:", "frequncy:")
    return ws / "scenarios" / "s2.yaml"


def _wrong_type(ws: Path) -> Path:
    edit(ws / "scenarios" / "s2.yaml", "frequency: 0.01", "frequency: often")
    return ws / "scenarios" / "s2.yaml"


def _bomb(ws: Path) -> Path:
    (ws / "scenarios" / "s2.yaml").write_text(BILLION_LAUGHS, encoding="utf-8")
    return ws / "scenarios" / "s2.yaml"


def _control_char(ws: Path) -> Path:
    edit(ws / "scenarios" / "s2.yaml", "German alpha", "German\x00alpha")
    return ws / "scenarios" / "s2.yaml"


def _empty_scenario(ws: Path) -> Path:
    (ws / "scenarios" / "s2.yaml").write_bytes(b"")
    return ws


def _huge_scenario(ws: Path) -> Path:
    sparse_file(ws / "scenarios" / "s2.yaml", MAX_YAML_BYTES + 1)
    return ws / "scenarios" / "s2.yaml"


def _bad_country(ws: Path) -> Path:
    edit(ws / "assets.csv", "FIN,60.2", "XXX,60.2")
    return ws / "assets.csv"


def _nan_value(ws: Path) -> Path:
    edit(ws / "assets.csv", "200,50", "nan,50")
    return ws / "assets.csv"


def _dup_asset(ws: Path) -> Path:
    edit(ws / "assets.csv", "O1,Office", "P1,Office")
    return ws / "assets.csv"


def _latin1(ws: Path) -> Path:
    path = ws / "assets.csv"
    path.write_bytes(path.read_bytes().replace(b"Plant Finland", "Müller".encode("latin-1")))
    return path


def _cycle(ws: Path) -> Path:
    edit(ws / "assets.csv", "Ops,\n", "Ops,P2\n")
    return ws


def _unknown_target(ws: Path) -> Path:
    edit(ws / "scenarios" / "s2.yaml", "target: DEU", "target: XYZ")
    return ws


def _bad_curve(ws: Path) -> Path:
    edit(ws / "curves.yaml", "[[2, 0], [6, 0.4]]", "[[2, 0], [6, 0.4], [4, 0.5]]")
    return ws / "curves.yaml"


def _xlsx(ws: Path) -> Path:
    def spoil(rows: list[list[object]]) -> None:
        rows[2][6] = "lots"

    return write_register_xlsx(ws, spoil)


def _unknown_plan_scenario(ws: Path) -> Path:
    edit(ws / "plans.yaml", "scenarios: [s1]", "scenarios: [s9]")
    return ws / "workspace.yaml"


@pytest.mark.parametrize(
    ("spoil", "expected"),
    [
        pytest.param(_dup_key, [f"{S2}, line 4 [frequency]: duplicate key"], id="duplicate-key"),
        pytest.param(_typo, [f"{S2}, line 3 [frequncy]: unknown field"], id="unknown-key"),
        pytest.param(
            _wrong_type,
            [f"{S2}, line 3 [frequency]: Input should be a valid number"],
            id="wrong-type",
        ),
        pytest.param(_bomb, [f"{S2}: document has more than"], id="alias-bomb"),
        pytest.param(_control_char, [f"{S2}, line 2"], id="control-character"),
        pytest.param(_empty_scenario, [f"{S2}: file is empty"], id="empty-file"),
        pytest.param(_huge_scenario, [f"{S2}: file is 5.0 MB"], id="huge-file"),
        pytest.param(
            _bad_country, [f"{ASSETS}, row 3 [country]: expected an ISO 3166-1"], id="country"
        ),
        pytest.param(
            _nan_value,
            [f"{ASSETS}, row 3 [replacement_value]: Input should be a finite number"],
            id="nan",
        ),
        pytest.param(_dup_asset, [f"{ASSETS}, row 4 [id]: duplicate id 'P1'"], id="duplicate-id"),
        pytest.param(_latin1, [f"{ASSETS}, ", " 3: not UTF-8 text"], id="non-utf8"),
        pytest.param(_cycle, [f"{ASSETS}, row 2 [depends_on]: dependency cycle: "], id="cycle"),
        pytest.param(
            _unknown_target,
            [f"{S2}, line 6 [shocks[0].target]: unknown target"],
            id="unknown-target",
        ),
        pytest.param(
            _bad_curve, [f"{CURVES}, line ", "intensities must rise strictly"], id="curve"
        ),
        pytest.param(_xlsx, [f"{ASSETS_XLSX}, row 3 [replacement_value]"], id="xlsx"),
        pytest.param(
            _unknown_plan_scenario,
            [f"{PLANS}, line 7 [plans[0].trigger.scenarios[0]]: unknown scenario 's9'"],
            id="plan-scenario",
        ),
    ],
)
def test_cli_validate_reports_bad_input(
    ws: Path, spoil: Callable[[Path], Path], expected: list[str]
) -> None:
    target = spoil(ws)
    output = run_validate(target)
    for text in expected:
        assert text in output, output


def test_cli_unsafe_tag_is_refused_and_never_run(ws: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned.txt"
    path = ws / "scenarios" / "s2.yaml"
    edit(
        path,
        "title: German alpha spike\n",
        f'title: !!python/object/apply:os.system ["echo pwned > {marker}"]\n',
    )
    output = run_validate(path)
    assert f"{S2}, line 2: malformed YAML: tag" in output and "is not allowed" in output
    output = run_validate(ws)
    assert f"{S2}, line 2" in output
    assert not marker.exists()


def test_cli_mixes_good_and_bad_paths(ws: Path) -> None:
    edit(ws / "scenarios" / "s2.yaml", "frequency: 0.01", "frequency: .inf")
    output = run_validate(S1, S2)  # as the user types them
    assert f"ok {S1}" in output
    assert f"{S2}, line 3 [frequency]: Input should be a finite number" in output


# --------------------------------------------------------------------------------------------
# after all this, good input still loads
# --------------------------------------------------------------------------------------------


def test_valid_workspace_still_loads(ws: Path) -> None:
    loaded = load_workspace(ws)
    assert [s.id for s in loaded.scenarios] == ["base", "s1", "s2"]
    assert len(loaded.portfolio) == 3
    assert len(load_assets(ws / "assets.csv")) == 3
    for path in (ws, ws / "assets.csv", ws / "scenarios" / "s1.yaml", ws / "curves.yaml"):
        kind, problems = validate_path(path)
        assert problems == [], (kind, listing(problems))
    result = CliRunner().invoke(app, ["validate", str(ws), str(TINY)])
    assert result.exit_code == 0, result.output
    assert "problem" not in result.output


def test_tiny_source_workspace_is_untouched() -> None:
    """The tests above only spoil copies."""
    assert validate_path(TINY) == ("workspace", [])


# --------------------------------------------------------------------------------------------
# hostile files: depth, devices, formulas, zip bombs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("shocks: " + "[" * 900 + "]" * 900 + "\n", id="flow"),
        pytest.param("a:\n" + "".join("  " * i + "- x:\n" for i in range(1, 900)), id="block"),
    ],
)
def test_deeply_nested_yaml_is_refused_with_its_line(ws: Path, text: str) -> None:
    path = ws / "scenarios" / "s2.yaml"
    path.write_text(text, encoding="utf-8")
    p = one(ws_problems(ws), S2)
    assert "nested more than 50 levels" in p.message and p.line is not None, str(p)
    result = CliRunner().invoke(app, ["validate", WS])
    assert result.exit_code == 1 and "nested more than 50 levels" in result.output
    assert "Traceback" not in result.output and "RecursionError" not in result.output


def test_a_path_to_a_device_is_refused_not_read(ws: Path) -> None:
    edit(ws / "workspace.yaml", "return_periods", "paths: {plans: /dev/zero}\nreturn_periods")
    (ws / "assets.csv").unlink()
    (ws / "assets.csv").symlink_to("/dev/zero")  # a link with the right name
    problems = ws_problems(ws)
    assert [(p.file, p.line, p.field) for p in problems] == [
        (MANIFEST, 7, "paths.assets"),  # the default path, a symlink: the line of `paths`
        (MANIFEST, 7, "paths.plans"),
    ], listing(problems)
    assert all("outside the workspace folder" in p.message for p in problems), listing(problems)
    # allowed on purpose, a device is still no file to read
    edit(ws / "workspace.yaml", "return_periods", "allow_paths_outside: [/dev]\nreturn_periods")
    problems = ws_problems(ws)
    assert {p.message for p in problems} == {"expected a regular file"}, listing(problems)
    assert sorted(Path(p.file).name for p in problems) == ["assets.csv", "zero"]


def test_a_path_outside_the_workspace_is_refused_with_its_line_and_how_to_allow_it(
    ws: Path, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shutil.copy(ws / "factors.yaml", shared / "factors.yaml")
    edit(
        ws / "workspace.yaml",
        "return_periods",
        "paths:\n  regions: regions.yaml\n  factors: ../shared/factors.yaml\nreturn_periods",
    )
    p = one(ws_problems(ws), MANIFEST)
    assert (p.line, p.field) == (at(ws / "workspace.yaml", 9, "factors:"), "paths.factors")
    assert "'../shared/factors.yaml' resolves to" in p.message, str(p)
    assert "expected a path inside the workspace folder" in p.message, str(p)
    assert "allow_paths_outside: [../shared]" in p.message, str(p)
    result = CliRunner().invoke(app, ["validate", WS])
    assert result.exit_code == 1 and "[paths.factors]" in result.output
    assert "Traceback" not in result.output
    # the explicit allow the message suggests
    edit(
        ws / "workspace.yaml", "return_periods", "allow_paths_outside: [../shared]\nreturn_periods"
    )
    assert load_workspace(ws).factors == load_workspace(TINY).factors


def test_a_symlink_inside_the_workspace_pointing_outside_is_refused(
    ws: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (ws / "curves.yaml").rename(outside / "curves.yaml")
    (ws / "curves.yaml").symlink_to(outside / "curves.yaml")
    shutil.move(ws / "scenarios", outside / "scenarios")
    (ws / "scenarios").symlink_to(outside / "scenarios", target_is_directory=True)
    problems = ws_problems(ws)
    assert [(p.file, p.field) for p in problems] == [
        (MANIFEST, "paths.curves"),
        (MANIFEST, "paths.scenarios"),
    ], listing(problems)
    assert str(outside / "curves.yaml") in problems[0].message
    assert f"allow_paths_outside: [{outside}]" in problems[0].message


def test_the_demo_keeps_its_paths_inside_or_explicitly_allowed() -> None:
    from riskapp.io.workspace import load_manifest, manifest_path
    from riskapp.resources import DEMO, SCENARIOS

    manifest, _ = load_manifest(manifest_path(DEMO))
    assert manifest.allow_paths_outside == ["../scenarios"]
    assert (DEMO / manifest.paths.scenarios).resolve() == SCENARIOS.resolve()
    assert load_workspace(DEMO).scenarios


def test_xlsx_formula_cells_are_refused_not_read_as_their_cached_value(ws: Path) -> None:
    import xlsxwriter

    path = write_register_xlsx(ws, lambda rows: None)
    rows = list(openpyxl.load_workbook(path).worksheets[0].iter_rows(values_only=True))
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    sheet.write_formula(2, 6, "=1E9*2", None, 5)  # row 3 (P2), replacement_value, cached 5
    sheet.write_string(3, 1, "=just text")  # text that merely looks like a formula is fine
    book.close()
    for problems in (ws_problems(ws), path_problems(path)):
        p = one(problems, ASSETS_XLSX, "replacement_value")
        assert (p.line, p.unit) == (3, "row"), str(p)
        assert "holds a formula (=1E9*2)" in p.message and "Values" in p.message, str(p)


def test_xlsx_zip_bomb_is_refused_before_it_is_inflated(ws: Path) -> None:
    import zipfile

    src = write_register_xlsx(ws, lambda rows: None)
    bomb = ws / "bomb.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith("sheet1.xml"):  # 300 MB of blanks in a comment
                data = data.replace(
                    b"</sheetData>", b"<!--" + b" " * 300_000_000 + b"--></sheetData>"
                )
            zout.writestr(info.filename, data)
    assert bomb.stat().st_size < 1_000_000
    p = only(path_problems(bomb))
    assert "unpacks to 300 MB" in p.message and "ratio of 100:1" in p.message, str(p)


def test_validate_checks_the_dependency_shares_too(ws: Path) -> None:
    deps = ws / "dependencies.csv"
    deps.write_text(
        "asset_id,depends_on,share,redundancy_group\nP2,P1,0.5,\nP2,GHOST,0.2,\nO1,P1,1.7,\n",
        encoding="utf-8",
    )
    dependencies = str(Path(WS, "dependencies.csv"))
    for problems in (path_problems(ws), path_problems(deps)):
        ghost = one(problems, dependencies, "depends_on")
        assert (ghost.line, ghost.unit) == (3, "row") and "GHOST" in ghost.message, str(ghost)
        share = one(problems, dependencies, "share")
        assert share.line == 4, str(share)
    result = CliRunner().invoke(app, ["validate", WS])
    assert result.exit_code == 1 and "dependencies.csv, row 3 [depends_on]" in result.output


def test_a_scenario_escalating_from_itself_names_the_field_and_its_line(ws: Path) -> None:
    path = ws / "scenarios" / "s2.yaml"
    edit(
        path,
        "warning_time_days: 3",
        "warning_time_days: 3\nescalates_from: {scenario: s2, probability: 0.5}",
    )
    for problems in (ws_problems(ws), path_problems(path)):
        p = one(problems, S2)
        assert (p.line, p.field) == (at(path, 5, "escalates_from"), "escalates_from"), str(p)
        assert "cannot escalate from itself" in p.message, str(p)


def test_an_oversized_cell_is_named_by_its_spreadsheet_row(ws: Path) -> None:
    path = ws / "assets.csv"
    edit(path, "O1,Office", 'O1,"' + "x" * 200_000 + '"')
    p = only(path_problems(path))
    assert (p.file, p.unit, p.line) == (ASSETS, "row", 4), str(p)
    assert "more than 131,072 characters" in p.message and "row 4" in str(p), str(p)


# A scenario with a key of its first shock indented wrongly; lines 1-4 as in s2.yaml.
SHOCK_HEAD = "id: s2\ntitle: t\nfrequency: 0.01\nwarning_time_days: 3\nshocks:\n"


@pytest.mark.parametrize(
    ("shock", "line", "says"),
    [
        pytest.param(
            "  - target: DEU\n    factor: alpha\n     op: scale\n    value: 5\n",
            8,
            "is this key indented further than the one above it?",
            id="one-space-too-far",
        ),
        pytest.param(
            "  - target: DEU\n    factor: alpha\n   op: scale\n    value: 5\n",
            8,
            "line 8 is indented differently from the keys or items above it (the block "
            "starts on line 6)",
            id="one-space-too-little",
        ),
        pytest.param(
            "  - target: DEU\n    factor: alpha\n    value: 5\n  op: scale\n",
            9,
            "line 9 is indented differently",
            id="out-to-the-list",
        ),
    ],
)
def test_a_mis_indented_key_that_breaks_the_yaml_is_reported_on_its_own_line(
    ws: Path, shock: str, line: int, says: str
) -> None:
    path = ws / "scenarios" / "s2.yaml"
    path.write_text(SHOCK_HEAD + shock, encoding="utf-8")
    p = one(ws_problems(ws), S2)
    assert p.line == at(path, line, "op: scale"), str(p)
    assert p.field == "" and p.message.startswith("malformed YAML"), str(p)
    assert says in p.message, str(p)


def test_a_mis_indented_key_that_lands_in_the_wrong_mapping_is_reported_on_its_line(
    ws: Path,
) -> None:
    path = ws / "scenarios" / "s2.yaml"
    path.write_text(
        SHOCK_HEAD + "  - target: DEU\n    factor: alpha\n    value: 5\nop: scale\n",
        encoding="utf-8",
    )
    problems = ws_problems(ws)
    landed = one(problems, S2, "op")
    assert landed.line == at(path, 9, "op: scale"), str(landed)
    assert "is this key indented wrongly?" in landed.message, str(landed)
    assert "shocks[0].op (line 6) lacks it" in landed.message, str(landed)
    missing = one(problems, S2, "shocks[0].op")
    assert missing.line == at(path, 6, "target: DEU"), str(missing)
    assert "'op' is given on line 9 [op]" in missing.message, str(missing)


def test_unknown_and_missing_fields_that_do_not_match_keep_their_plain_messages(
    ws: Path,
) -> None:
    path = ws / "scenarios" / "s2.yaml"
    path.write_text(
        SHOCK_HEAD + "  - target: DEU\n    factor: alpha\n    value: 5\nopp: scale\n",
        encoding="utf-8",
    )
    problems = ws_problems(ws)
    assert one(problems, S2, "shocks[0].op").message == "required field is missing"
    assert one(problems, S2, "opp").message.startswith("unknown field 'opp'")


# -- scenario probabilities under the co-occurrence model (issue 12, item 5) ----------------------


def test_a_scenario_with_shocks_at_probability_1_is_reported(ws: Path) -> None:
    # only the status quo (no shocks) holds every year; s1 at 1 would be a second status quo
    path = ws / "scenarios" / "s1.yaml"
    edit(path, "frequency: 0.1", "frequency: 1.0")
    for problems in (ws_problems(ws), path_problems(ws)):
        p = one(problems, str(Path(WS, "scenarios", "s1.yaml")), "frequency")
        assert p.line == at(path, 4, "frequency: 1.0"), str(p)
        assert "occurs every year, but it has shocks" in p.message, str(p)
        assert "expected an annual probability below 1" in p.message, str(p)
    assert "s1.yaml, line 4 [frequency]" in run_validate(ws)


def test_a_rung_more_likely_than_its_parent_is_reported(ws: Path) -> None:
    # s2 escalates from s1 (0.1) with conditional probability 1: at most 0.1 a year; 0.1009
    # is within the 1 % tolerance of the ladder's 0.1 but above the parent
    path = ws / "scenarios" / "s2.yaml"
    edit(path, "frequency: 0.01", "frequency: 0.1009")
    edit(
        path,
        "warning_time_days: 3",
        "warning_time_days: 3\nescalates_from: {scenario: s1, probability: 1.0}",
    )
    for problems in (ws_problems(ws), path_problems(ws)):
        p = one(problems, S2, "frequency")
        assert p.line == at(path, 3, "frequency: 0.1009"), str(p)
        assert "is above that of s1 (0.1)" in p.message, str(p)
        assert "expected at most 0.1" in p.message, str(p)


def test_probabilities_adding_up_above_1_are_accepted(ws: Path) -> None:
    # scenarios occur independently of each other, several in one year: 1 + 0.94 + 0.01 = 1.95
    # is the expected number of scenarios a year, not a contradiction
    edit(ws / "scenarios" / "s1.yaml", "frequency: 0.1", "frequency: 0.94")
    ws_loaded = load_workspace(ws)
    assert sum(s.frequency for s in ws_loaded.scenarios) == pytest.approx(1.95)
