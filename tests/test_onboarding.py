"""A deliberately messy client workbook taken to a validated, scored workspace through the
command line (issue 13, item 9): German and French headers, countries in three languages and as
alpha-2 codes, rows with coordinates only or a city only, values in TEUR, USD m and GBP, types
the workspace does not know, a few bad rows. The path counts the steps a person takes by hand
(tests/messy_client.py); benchmarks/bench_onboarding.py times it at larger sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskapp.assessment import assess
from riskapp.domain import LossBasis
from riskapp.engine import prepare
from riskapp.io import load_workspace
from tests.messy_client import CITIES, Expected, Onboarding, onboard, write_workbook

ROWS = 200
# what a person decides by hand on this workbook, in order: everything else riskapp reads
MANUAL = [
    "add the curve library's substation",  # Umspannwerk
    "add the curve library's power_plant",  # power station
    "map the type 'Kantine'",  # nobody's type: a canteen, filed as an office
    "confirm the country 'Korea'",  # South or North
    "send the set-aside rows back to the client",  # the genuinely bad rows
]


@pytest.fixture(scope="module")
def onboarded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Onboarding, Expected]:
    folder = tmp_path_factory.mktemp("onboarding")
    client = folder / "Anlagenverzeichnis.xlsx"
    expected = write_workbook(client, ROWS, seed=13)
    return onboard(client, folder, expected), expected


def test_the_manual_steps_are_the_unavoidable_ones(onboarded: tuple[Onboarding, Expected]) -> None:
    done, _ = onboarded
    assert [s.name for s in done.manual] == MANUAL
    commands = [s.name for s in done.stages if not s.manual]
    assert commands == [
        "init",
        "fx import",
        "mapping suggest",
        "mapping apply",
        "validate",
        "score",
    ]
    assert done.validate_report["ok"] is True  # valid at the first check


def test_the_bad_rows_are_set_aside_with_row_and_field(
    onboarded: tuple[Onboarding, Expected],
) -> None:
    done, expected = onboarded
    assert done.set_aside == sorted(expected.bad)  # every bad row, and no good one
    for row, field in expected.bad.items():
        assert field in done.aside_fields[row], (row, done.aside_fields[row])


def test_without_set_aside_validate_names_the_bad_rows(tmp_path: Path) -> None:
    """The same workbook without `--set-aside`: validate names every bad row with its field,
    and the person removes them from the register by hand."""
    client = tmp_path / "client.xlsx"
    expected = write_workbook(client, ROWS, seed=13)
    done = onboard(client, tmp_path, expected, set_aside_rows=False)
    assert [s.name for s in done.manual] == [*MANUAL[:-1], "set aside the rows validate names"]
    report = done.validate_report
    assert report["ok"] is False
    fields: dict[int, set[str]] = {}
    for rule in report["rules"]:  # type: ignore[attr-defined]
        for p in rule["problems"]:
            assert p["file"].endswith("assets.csv")
            fields.setdefault(p["row"], set()).add(p["field"])
    assert sorted(fields) == sorted(expected.bad) == done.set_aside
    for row, field in expected.bad.items():
        assert field in fields[row], (row, fields[row])
    assert sorted(load_workspace(done.workspace).portfolio.series("id")) == sorted(expected.good)


def test_every_good_row_is_in_the_register_read_right(
    onboarded: tuple[Onboarding, Expected],
) -> None:
    done, expected = onboarded
    ws = load_workspace(done.workspace)
    p = ws.portfolio
    ids = p.series("id").tolist()
    assert sorted(ids) == sorted(expected.good)
    got = dict(zip(ids, p.series("country"), strict=True))
    assert got == {i: g[0] for i, g in expected.good.items()}
    currency = dict(zip(ids, p.series("currency"), strict=True))
    assert currency == {i: g[1] for i, g in expected.good.items()}
    assert set(currency.values()) == {"EUR", "USD", "GBP"}
    # in euros at the ECB's rates of the day imported, whatever unit the client wrote
    assert ws.settings.fx_provenance() == "ECB euro foreign exchange reference rates, 2026-04-13"
    rates = {**ws.settings.fx_rates, "EUR": 1.0}
    value = dict(zip(ids, p.series("replacement_value"), strict=True))
    for i, (_, cur, eur, _) in expected.good.items():
        assert value[i] * rates[cur] == pytest.approx(eur, rel=1e-9), i
    exposed = prepare(ws).exposed_value
    revenue = p.series("annual_revenue_at_stake").to_numpy()
    expected_eur = [expected.good[i][2] for i in ids]
    in_eur = [rates[c] for c in p.series("currency")]
    assert exposed == pytest.approx(
        [e + r * f for e, r, f in zip(expected_eur, revenue, in_eur, strict=True)], rel=1e-9
    )
    # rows placed by their city are marked approximate, and only those
    approximate = {i for i, g in expected.good.items() if g[3]}
    assert approximate and p.approximate == approximate
    cities = dict(CITIES)
    assert all(got[i] in cities.values() for i in approximate)


def test_the_workspace_scores(onboarded: tuple[Onboarding, Expected]) -> None:
    import pandas as pd

    done, expected = onboarded
    losses = pd.read_csv(done.workspace.parent / "losses.csv")
    assert len(losses) == len(expected.good)  # one scenario (the status quo), every asset
    assert losses["loss"].sum() > 0
    a = assess(done.workspace, basis=LossBasis.ABSOLUTE)
    assert a.result.expected_annual_loss() > 0
    # on the workspace's own basis (incremental) every loss is 0 with only the status quo: said
    from tests.messy_client import cli_in_process

    code, output = cli_in_process(["score", str(done.workspace)])
    assert code == 0, output
    said = " ".join(output.split())
    assert "every loss is 0: losses are counted above today's baseline" in said
    assert "--basis absolute" in said
    code, output = cli_in_process(["score", str(done.workspace), "--basis", "absolute"])
    assert code == 0 and "every loss is 0" not in " ".join(output.split())


def test_the_saved_mapping_serves_next_quarter_with_no_decision(
    onboarded: tuple[Onboarding, Expected], tmp_path: Path
) -> None:
    """The types and the country confirmed are in the workspace's mapping.yaml: next quarter's
    workbook (other rows, the same names) maps onto the register without asking again."""
    from riskapp.io.mapping import load_mapping
    from tests.messy_client import cli_in_process

    done, _ = onboarded
    nxt = tmp_path / "Q2.xlsx"
    later = write_workbook(nxt, 120, seed=14)
    mapping = load_mapping(done.workspace / "mapping.yaml")
    assert mapping.types["Kantine"] == "office" and mapping.countries == {"Korea": "KOR"}
    out = tmp_path / "assets.csv"
    code, output = cli_in_process(
        ["mapping", "apply", str(nxt), "-m", str(done.workspace / "mapping.yaml"), "-o", str(out)]
    )
    assert code == 0, output
    text = out.read_text(encoding="utf-8")
    assert "Korea" not in text and "Kantine" not in text and "TEUR" not in text
    assert len(text.splitlines()) == later.rows + 1


def test_a_missing_synonym_costs_a_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The count is measured, not written down: with one word fewer in the synonyms (the data;
    the code is riskapp's), the person maps that type by hand, one step more."""
    from riskapp.io import mapping as mapping_io

    columns, types = mapping_io.synonyms()
    fewer = {t: tuple(n for n in names if n != "lager") for t, names in types.items()}
    assert fewer != types
    monkeypatch.setattr(mapping_io, "synonyms", lambda: (columns, fewer))
    client = tmp_path / "client.csv"
    expected = write_workbook(client, 60, seed=5)
    expected.hand_types["Lager"] = "warehouse"
    done = onboard(client, tmp_path, expected)
    names = [s.name for s in done.manual]
    assert len(names) == len(MANUAL) + 1 and "map the type 'Lager'" in names
