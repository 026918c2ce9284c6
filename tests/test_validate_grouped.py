"""`riskapp validate` on a workspace people can act on (issue 13, item 5): every problem in one
run, the ones between files included; grouped by rule with a count and the first rows; "did you
mean" for ids, codes and types; `--format json` for scripts; dependencies.csv checked with the
rest and its links declared once.

Each test breaks a copy of the bundled demo workspace (with its scenario library next to it, as
its workspace.yaml expects) in tmp_path; problems name files as `ws/...`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from riskapp import resources
from riskapp.cli.main import app
from riskapp.io import load_workspace
from riskapp.io.errors import InputError
from riskapp.io.suggest import suggest_country
from riskapp.io.validate import checked_workspace, validate_path

ASSETS = str(Path("ws", "assets.csv"))
DEPS = str(Path("ws", "dependencies.csv"))
WINTER = str(Path("scenarios", "energy_winter.yaml"))


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(resources.DEMO, tmp_path / "ws")
    shutil.copytree(resources.SCENARIOS, tmp_path / "scenarios")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "ws"


def register(ws: Path) -> pd.DataFrame:
    return pd.read_csv(ws / "assets.csv", dtype=str, keep_default_na=False)


def save(ws: Path, frame: pd.DataFrame) -> None:
    frame.to_csv(ws / "assets.csv", index=False)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["validate", *args])
    assert isinstance(result.exception, SystemExit | type(None)), repr(result.exception)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def break_three_ways(ws: Path) -> pd.DataFrame:
    """A bad country on row 3 (GER), a bad value on row 4, 'plnt' for every plant, a misspelt
    factor in a shock."""
    frame = register(ws)
    frame.loc[1, "country"] = "GER"
    frame.loc[2, "replacement_value"] = "-5"
    frame.loc[frame["type"] == "plant", "type"] = "plnt"
    save(ws, frame)
    edit(
        ws.parent / "scenarios" / "energy_winter.yaml",
        "factor: disinformation",
        "factor: disinformaton",
    )
    return frame


# -- one pass ------------------------------------------------------------------------------


def test_problems_of_rows_and_between_files_come_in_one_run(ws: Path) -> None:
    frame = break_three_ways(ws)
    _, problems = validate_path(ws)
    found = {(p.file, p.line, p.field) for p in problems}
    # the rows' own problems ...
    assert (ASSETS, 3, "country") in found
    assert (ASSETS, 4, "replacement_value") in found
    # ... and, in the same run, the checks between files, on the rows that read well
    plants = [i + 2 for i in frame.index[frame["type"] == "plnt"] if i not in (1, 2)]
    typed = sorted(p.line or 0 for p in problems if p.field == "type")
    assert typed == plants and len(plants) >= 10
    factor = [p for p in problems if p.file == WINTER]
    assert len(factor) == 1 and "unknown factor 'disinformaton'" in factor[0].message
    # the Python API raises the same problems at once
    with pytest.raises(InputError) as info:
        load_workspace(ws)
    assert {(p.file, p.line, p.field) for p in info.value.problems} >= found - {
        (DEPS, p.line, p.field) for p in problems if p.file == DEPS
    }


def test_references_to_what_did_not_read_are_not_called_unknown(ws: Path) -> None:
    """A row that did not read is reported once, on its own row: the dependency links, plans
    and dependencies.csv rows naming its id are not called unknown; a factors file that does
    not parse does not make every factor reference unknown."""
    frame = register(ws)
    port = frame.index[frame["id"] == "PRT-DE-01"][0]
    frame.loc[port, "replacement_value"] = "lots"
    save(ws, frame)
    (ws / "factors.yaml").write_text("factors: [\n", encoding="utf-8")
    _, problems = validate_path(ws)
    text = "\n".join(map(str, problems))
    assert f"{ASSETS}, row {port + 2} [replacement_value]" in text
    assert "PRT-DE-01" not in text, text
    assert "unknown factor" not in text, text
    assert str(Path("ws", "factors.yaml")) in text


# -- grouped output ------------------------------------------------------------------------


def test_text_output_is_grouped_by_rule_with_counts_and_first_rows(ws: Path) -> None:
    frame = break_three_ways(ws)
    n_plants = int((frame["type"] == "plnt").sum()) - int(
        frame.loc[[1, 2], "type"].eq("plnt").sum()
    )
    code, output = run("ws")
    assert code == 1
    lines = output.splitlines()
    assert lines[0].endswith("rules):") and "problem(s) found" in lines[0]
    head = f"asset types have no vulnerability curve: {n_plants} problems, 1 distinct value"
    assert head in lines
    below = lines[lines.index(head) + 1 : lines.index(head) + 3]
    assert below[0] == "  expected: an asset type that has curves (curves.yaml)"
    assert below[1].startswith(f"  'plnt' ({n_plants} rows: {ASSETS} [type] rows ")
    assert below[1].endswith(", ...): did you mean 'plant'?")
    # a rule with few problems lists each, as `file, row N [field]: message`
    i = lines.index("unknown countries (codes or names): 1 problem")
    assert lines[i + 1].strip().startswith(f"{ASSETS}, row 3 [country]: expected an ISO 3166-1")
    assert lines[i + 2].strip() == "did you mean 'DEU'?"
    assert "did you mean 'disinformation'?" in output
    # --all lists every problem, one line each
    code, every = run("ws", "--all")
    assert code == 1
    assert sum(f"{ASSETS}, row" in line and "[type]" in line for line in every.splitlines()) == (
        n_plants
    )


def test_many_problems_print_a_bounded_number_of_lines(ws: Path) -> None:
    """5,000 rows with four kinds of problem: a few dozen lines, not 5,000."""
    frame = register(ws)
    big = pd.concat([frame] * 67, ignore_index=True).head(5000)
    big["id"] = [f"A{i:05d}" for i in range(len(big))]
    big["depends_on"] = ""
    big["subdivision"] = ""
    big.loc[big.index % 5 == 0, "type"] = "substation"
    big.loc[big.index % 5 == 1, "type"] = "windfarm"
    big.loc[big.index % 7 == 0, "currency"] = "CHF"
    big.loc[big.index % 11 == 3, "type"] = "warehose"
    save(ws, big)
    (ws / "dependencies.csv").unlink()
    _, problems = validate_path(ws)
    assert len(problems) > 2000
    code, output = run("ws")
    assert code == 1
    lines = output.splitlines()
    assert len(lines) < 40, output
    assert any(line.startswith("asset types have no vulnerability curve: ") for line in lines)
    assert "3 distinct values" in output
    assert "'warehose' (" in output and "did you mean 'warehouse'?" in output
    assert any(line.startswith("currencies have no exchange rate: ") for line in lines)
    _, every = run("ws", "--all")
    assert len(every.splitlines()) > len(problems)
    # the other commands that read the workspace group them too
    result = CliRunner().invoke(app, ["score", "ws", "--source", "files"])
    assert result.exit_code == 1
    assert f"{len(problems)} problem(s) found" in result.output
    assert len(result.output.splitlines()) < 40, result.output
    assert "riskapp validate --all lists every one" in result.output


# -- JSON ----------------------------------------------------------------------------------


def test_json_output_for_scripts(ws: Path) -> None:
    break_three_ways(ws)
    code, output = run("ws", "--format", "json")
    assert code == 1
    doc = json.loads(output)
    assert doc["version"] == 1 and doc["ok"] is False
    assert doc["paths"] == [{"path": "ws", "kind": "workspace", "problems": doc["errors"]}]
    rules = {r["rule"]: r for r in doc["rules"]}
    assert sum(r["count"] for r in doc["rules"]) == doc["errors"]
    types = rules["asset-type-without-curve"]
    assert types["count"] > types["shown"] == 5
    first = types["problems"][0]
    assert set(first) == {
        "file",
        "row",
        "unit",
        "field",
        "value",
        "expected",
        "suggestion",
        "message",
    }
    assert (first["file"], first["unit"], first["field"], first["value"]) == (
        ASSETS,
        "row",
        "type",
        "plnt",
    )
    assert first["suggestion"] == "plant" and isinstance(first["row"], int)
    country = rules["unknown-country"]["problems"][0]
    assert (country["row"], country["value"], country["suggestion"]) == (3, "GER", "DEU")
    factor = rules["unknown-factor"]["problems"][0]
    assert (factor["file"], factor["value"], factor["suggestion"]) == (
        WINTER,
        "disinformaton",
        "disinformation",
    )
    everything = json.loads(run("ws", "--format", "json", "--all")[1])
    every_types = {r["rule"]: r for r in everything["rules"]}["asset-type-without-curve"]
    assert every_types["shown"] == every_types["count"] == len(every_types["problems"])


def test_json_output_of_a_good_workspace(ws: Path) -> None:
    code, output = run("ws", "--format", "json")
    assert code == 0, output
    doc = json.loads(output)
    assert (doc["ok"], doc["errors"], doc["rules"]) == (True, 0, [])


# -- did you mean --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("DEU ", "DEU"),
        ("deu", "DEU"),
        ("GER", "DEU"),
        ("DE", "DEU"),
        ("Germany", "DEU"),
        ("Norway", "NOR"),
        ("Deutschland", "DEU"),
        ("NED", "NLD"),
        ("FIM", "FIN"),
    ],
)
def test_country_suggestions(typed: str, meant: str) -> None:
    assert suggest_country(typed) == meant


def test_suggestions_for_ids_places_and_factors(ws: Path) -> None:
    deps = ws / "dependencies.csv"
    deps.write_text(
        deps.read_text(encoding="utf-8") + "PLT-DE-01,PRT-DE-1,0.05,\n", encoding="utf-8"
    )
    edit(ws.parent / "scenarios" / "energy_winter.yaml", "target: eu,", "target: eux,")
    doc = json.loads(run("ws", "--format", "json")[1])
    rules = {r["rule"]: r for r in doc["rules"]}
    asset = rules["unknown-asset"]["problems"][0]
    assert (asset["file"], asset["field"], asset["value"]) == (DEPS, "depends_on", "PRT-DE-1")
    assert asset["suggestion"] == "PRT-DE-01"
    place = rules["unknown-place"]["problems"][0]
    assert (place["value"], place["suggestion"]) == ("eux", "eu")


# -- dependencies --------------------------------------------------------------------------


def test_dependencies_csv_is_checked_with_the_rest(ws: Path) -> None:
    """Problems of dependencies.csv are listed together with those of the other files."""
    edit(ws / "dependencies.csv", "PLT-DE-01,DC-NL-01,0.06,", "PLT-DE-01,DC-NL-01,1.6,")
    frame = register(ws)
    frame.loc[0, "currency"] = "CHF"
    save(ws, frame)
    _, problems = validate_path(ws)
    assert {(p.file, p.line, p.field) for p in problems} == {
        (ASSETS, 2, "currency"),
        (DEPS, 2, "share"),
    }


def test_links_are_declared_once_in_dependencies_csv(ws: Path) -> None:
    """With the register's depends_on empty, the links of dependencies.csv are the register's
    dependencies: the workspace loads with the same links as the demo, which gives both."""
    demo = load_workspace(ws)
    frame = register(ws)
    frame["depends_on"] = ""
    save(ws, frame)
    assert validate_path(ws) == ("workspace", [])
    once = load_workspace(ws)

    def links(w: object) -> set[tuple[str, str]]:
        f = w.portfolio.frame  # type: ignore[attr-defined]
        return {(a, d) for a, ds in zip(f["id"], f["depends_on"], strict=True) for d in ds}

    assert links(once) == links(demo) and len(links(once)) > 50


def test_a_link_of_dependencies_csv_that_closes_a_cycle_is_refused_on_its_row(ws: Path) -> None:
    deps = ws / "dependencies.csv"
    rows = len(deps.read_text(encoding="utf-8").splitlines())
    deps.write_text(
        deps.read_text(encoding="utf-8") + "DC-NL-01,PLT-DE-01,0.1,\n", encoding="utf-8"
    )
    _, problems = validate_path(ws)
    cycles = [p for p in problems if "dependency cycle" in p.message]
    assert cycles, "\n".join(map(str, problems))
    assert any(p.file == DEPS and p.line == rows + 1 for p in cycles) or any(
        p.file == ASSETS for p in cycles
    )


def test_a_register_checked_as_a_stream_still_gets_the_checks_between_files(ws: Path) -> None:
    """A large register is checked as a stream first (bounded memory); its problems no longer
    hide those between files."""
    frame = break_three_ways(ws)
    problems, loaded = checked_workspace(ws, stream_above=0)
    assert loaded is None
    found = [(p.file, p.line, p.field) for p in problems]
    assert found.count((ASSETS, 3, "country")) == 1  # once: the stream's wording
    assert (ASSETS, 4, "replacement_value") in found
    plants = [i + 2 for i in frame.index[frame["type"] == "plnt"] if i not in (1, 2)]
    assert sorted(line for f, line, field in found if field == "type") == plants
    assert any(f == WINTER for f, _, _ in found)


def test_the_team_databases_register_takes_the_links_of_dependencies_csv_too(ws: Path) -> None:
    """The store source: the register comes from the database, dependencies.csv from the
    folder; a link declared only in the file is in the workspace's depends_on as well."""
    from riskapp.store.workspace import load_files, workspace_of_frame

    frame = load_workspace(ws).portfolio.frame
    expected = dict(zip(frame["id"], map(set, frame["depends_on"]), strict=True))
    frame["depends_on"] = [[] for _ in range(len(frame))]
    built = workspace_of_frame(load_files(ws), frame, [])
    got = built.portfolio.frame
    assert dict(zip(got["id"], map(set, got["depends_on"]), strict=True)) == expected


def test_a_broken_scenario_or_regions_file_does_not_make_its_names_unknown(ws: Path) -> None:
    """Plans name energy_winter, shocks and plans name region groups: with those files broken,
    each file's own problem is listed and the names in it are not called unknown, while a
    plan naming a scenario that exists nowhere still is."""
    (ws.parent / "scenarios" / "energy_winter.yaml").write_text("id: [\n", encoding="utf-8")
    (ws / "regions.yaml").write_text("groups: 12\n", encoding="utf-8")
    edit(ws / "plans.yaml", "scenarios: [red_sea_suez_closure]", "scenarios: [red_sea_closure]")
    _, problems = validate_path(ws)
    text = "\n".join(map(str, problems))
    assert WINTER in text and str(Path("ws", "regions.yaml")) in text
    assert "unknown scenario 'energy_winter'" not in text
    assert "unknown target" not in text and "unknown region" not in text, text
    doc = json.loads(run("ws", "--format", "json")[1])
    scenario = {r["rule"]: r for r in doc["rules"]}["unknown-scenario"]
    assert scenario["count"] == 1
    assert scenario["problems"][0]["value"] == "red_sea_closure"
    assert scenario["problems"][0]["suggestion"] == "red_sea_suez_closure"


def test_suggestions_are_asked_once_per_distinct_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """100,000 problems of two bad types: two suggestions computed, spread over every row."""
    from riskapp.io import findings
    from riskapp.io.errors import Problem

    asked: list[tuple[str, str]] = []
    real = findings.suggest_all

    def counting(values, choices):  # type: ignore[no-untyped-def]
        values = list(values)
        asked.extend(values)
        return real(values, choices)

    monkeypatch.setattr(findings, "suggest_all", counting)
    message = "asset type {!r} has no vulnerability curve; known types: plant, port"
    problems = [
        Problem("assets.csv", i + 2, "type", message.format("plnt" if i % 2 else "prot"), "row")
        for i in range(100_000)
    ]
    table = findings.tabulate(problems, {"asset_type": ["plant", "port"]})
    assert sorted(asked) == [("asset_type", "plnt"), ("asset_type", "prot")]
    assert table["suggestion"].value_counts().to_dict() == {"plant": 50_000, "port": 50_000}
    (only,) = findings.group(table)
    assert (only.rule, only.count) == ("asset-type-without-curve", 100_000)
    lines = findings.text_lines([only])
    assert len(lines) == 4, lines
    assert lines[2].startswith("  'prot' (50,000 rows: assets.csv [type] rows 2, 4, 6, 8, 10, ...)")


def test_a_register_that_does_not_read_at_all_makes_no_asset_unknown(ws: Path) -> None:
    frame = register(ws).drop(columns=["id"])
    save(ws, frame)
    _, problems = validate_path(ws)
    text = "\n".join(map(str, problems))
    assert f"{ASSETS}, row 1 [id]" in text, text
    assert "no asset" not in text, text


def test_countries_the_register_cannot_read_are_one_rule(ws: Path) -> None:
    """A code nobody uses (GER), a near-miss name (Nigera) and a name several countries answer
    to (Congo): one rule, each row with its value; the code gets a suggestion, the names keep
    the candidates their message lists."""
    frame = register(ws)
    frame.loc[[1, 2, 3], "country"] = ["GER", "Nigera", "Congo"]
    frame.loc[[1, 2, 3], "subdivision"] = ""
    save(ws, frame)
    doc = json.loads(run("ws", "--format", "json")[1])
    rule = {r["rule"]: r for r in doc["rules"]}["unknown-country"]
    got = {p["row"]: (p["value"], p["suggestion"]) for p in rule["problems"]}
    assert got == {3: ("GER", "DEU"), 4: ("Nigera", None), 5: ("Congo", None)}
    assert "Nigeria (NGA)" in rule["problems"][1]["message"]
