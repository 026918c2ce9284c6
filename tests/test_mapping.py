"""A client's spreadsheet mapped onto the register (issue 13, item 2): suggestions from the
header in several languages, units and currencies in the column names, type names; a saved
mapping applied before the register's checks, and its own mistakes named with their line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from riskapp.cli import app
from riskapp.io import load_workspace
from riskapp.io.errors import InputError
from riskapp.io.mapping import apply_mapping, load_mapping, suggest, to_yaml, type_for
from riskapp.io.tables import read_rows

runner = CliRunner()
TYPES = [
    "data_centre",
    "lng_terminal",
    "office",
    "pipeline",
    "plant",
    "port",
    "power_interconnector",
    "shipping_lane",
    "subsea_cable",
    "supplier",
    "warehouse",
]
GERMAN = (
    "Anlagen-ID,Bezeichnung,Kategorie,Land,Breitengrad,Längengrad,"
    "Wiederbeschaffungswert (TEUR),Umsatz (TEUR),Verantwortlich,Bemerkung\n"
    "W-01,Werk Narva,Werk,EST,59.38,28.19,12000,30000,Herr Tamm,\n"
    "L-02,Lager Gdańsk,Lager,POL,54.35,18.65,4500,0,Frau Nowak,neu\n"
    "R-03,Rechenzentrum Helsinki,Rechenzentrum,FIN,60.17,24.94,8000,15000,IT,\n"
    "S-04,Lieferant Shenzhen,Zulieferer,CHN,22.54,114.06,0,22000,Einkauf,\n"
)


def _file(tmp_path: Path, text: str = GERMAN, name: str = "client.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_german_header_suggested(tmp_path: Path) -> None:
    header, _ = read_rows(_file(tmp_path), "client.csv")
    s = suggest(header, ["Werk", "Lager", "Rechenzentrum", "Zulieferer"], TYPES)
    m = s.mapping
    assert m.columns == {
        "id": "Anlagen-ID",
        "name": "Bezeichnung",
        "type": "Kategorie",
        "country": "Land",
        "lat": "Breitengrad",
        "lon": "Längengrad",
        "replacement_value": "Wiederbeschaffungswert (TEUR)",
        "annual_revenue_at_stake": "Umsatz (TEUR)",
        "owner": "Verantwortlich",
    }
    assert m.units == {"replacement_value": 1000.0, "annual_revenue_at_stake": 1000.0}
    assert m.currency == "EUR"  # the "EUR" of "TEUR", no currency column
    assert m.types == {
        "Werk": "plant",
        "Lager": "warehouse",
        "Rechenzentrum": "data_centre",
        "Zulieferer": "supplier",
    }
    assert s.unmatched == ("Bemerkung",) and not s.missing and not s.unknown_types


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            ["Identifiant", "Nom du site", "Catégorie", "Pays", "Valeur (M€)"],
            {"replacement_value": 1e6},
        ),
        (["Código", "Nombre", "Tipo", "País", "Valor de reposición (miles)"], {}),
        (
            [
                "Asset ID",
                "Site name",
                "Asset class",
                "Country code",
                "Sum insured ('000 USD)",
                "Turnover (USD m)",
            ],
            {"replacement_value": 1e3, "annual_revenue_at_stake": 1e6},
        ),
    ],
    ids=["french", "spanish", "english"],
)
def test_other_languages_and_units(header: list[str], expected: dict[str, float]) -> None:
    s = suggest(header, [], TYPES)
    assert set(s.mapping.columns) >= {"id", "name", "type", "country", "replacement_value"}
    assert s.mapping.units == expected
    assert not s.missing


def test_type_names_and_their_limits() -> None:
    assert type_for("Usine", TYPES) == ("plant", "synonym 'usine'")
    assert type_for("data center", TYPES) == ("data_centre", "synonym 'data center'")
    assert type_for("Warehous", TYPES)[0] == "warehouse"  # type: ignore[index]  # a typo
    assert type_for("subsea_cable", TYPES) == ("subsea_cable", "name")
    assert type_for("Kindergarten", TYPES) is None  # nothing is guessed at random
    assert type_for("Usine", ["office"]) is None  # only the workspace's own types


def test_suggestion_saved_and_applied(tmp_path: Path) -> None:
    path = _file(tmp_path)
    result = runner.invoke(app, ["mapping", "suggest", str(path), "-o", str(tmp_path / "m.yaml")])
    assert result.exit_code == 0, result.output
    assert "Wiederbeschaffungswert (TEUR)" in (tmp_path / "m.yaml").read_text()
    assert "Zulieferer" in result.output and "supplier" in result.output
    mapping = load_mapping(tmp_path / "m.yaml")
    header, _ = read_rows(path, "client.csv")
    assert (
        mapping == suggest(header, ["Werk", "Lager", "Rechenzentrum", "Zulieferer"], TYPES).mapping
    )
    again = runner.invoke(app, ["mapping", "suggest", str(path), "-o", str(tmp_path / "m.yaml")])
    assert again.exit_code == 2 and "exists" in again.output  # a saved mapping is kept
    # a new workspace filled through the mapping is valid and in euros, not thousands
    init = runner.invoke(app, ["init", str(tmp_path / "ws")])
    assert init.exit_code == 0, init.output
    done = runner.invoke(
        app,
        [
            "mapping",
            "apply",
            str(path),
            "-m",
            str(tmp_path / "m.yaml"),
            "-o",
            str(tmp_path / "ws" / "assets.csv"),
        ],
    )
    assert done.exit_code == 0, done.output
    ws = load_workspace(tmp_path / "ws")
    value = dict(
        zip(ws.portfolio.series("id"), ws.portfolio.series("replacement_value"), strict=True)
    )
    assert value == {"W-01": 12e6, "L-02": 4.5e6, "R-03": 8e6, "S-04": 0.0}
    assert set(ws.portfolio.series("currency")) == {"EUR"}
    assert list(ws.portfolio.series("type")) == ["plant", "warehouse", "data_centre", "supplier"]


def test_bad_cells_reach_the_register_checks_with_their_row(tmp_path: Path) -> None:
    text = GERMAN.replace(
        "W-01,Werk Narva,Werk,EST,59.38,28.19,12000", "W-01,Werk Narva,Werk,EST,59.38,28.19,zwölf"
    )
    header, rows = read_rows(_file(tmp_path, text), "client.csv")
    mapping = suggest(header, [], TYPES).mapping
    columns, mapped = apply_mapping("client.csv", header, rows, mapping, "m.yaml")
    at = columns.index("replacement_value")
    assert [(n, c[at]) for n, c in mapped][:2] == [(2, "zwölf"), (3, "4500000")]
    assert mapped[1][1][columns.index("type")] == "Lager"  # no types: names as they are


def test_mapping_mistakes_are_named(tmp_path: Path) -> None:
    header, rows = read_rows(_file(tmp_path), "client.csv")
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns:\n  id: Anlagen-ID\n  colour: Farbe\nunits:\n  lat: 1000\n")
    with pytest.raises(InputError) as exc:
        load_mapping(bad)
    text = "\n".join(str(p) for p in exc.value.problems)
    assert "bad.yaml" in text and "unknown register column 'colour'" in text
    bad.write_text("columns:\n  id: Anlagen-ID\n  name: Anlagen-ID\n")
    with pytest.raises(InputError) as exc:
        load_mapping(bad)
    assert "mapped twice" in str(exc.value)
    bad.write_text("columns:\n  id: Asset ID\n")
    with pytest.raises(InputError) as exc:
        apply_mapping("client.csv", header, rows, load_mapping(bad), "bad.yaml")
    (p,) = exc.value.problems
    assert str(p).startswith("bad.yaml [columns.id]: the file has no column 'Asset ID'")


def test_the_yaml_quotes_what_it_must(tmp_path: Path) -> None:
    header = ['Name: "x" # y', "Land", "Asset ID", "Kategorie", "Wert"]
    s = suggest(header, ["- Werk"], TYPES)
    path = tmp_path / "m.yaml"
    path.write_text(to_yaml(s), encoding="utf-8")
    assert load_mapping(path) == s.mapping


def test_a_saved_mapping_is_where_the_next_import_starts(tmp_path: Path) -> None:
    from riskapp.assessment.mapping import mapped_table, save_mapping, start_mapping
    from riskapp.assessment.scaffold import create_workspace
    from riskapp.store.validation import Table

    ws = tmp_path / "ws"
    create_workspace(ws)
    table = Table.from_file(_file(tmp_path))
    start = start_mapping(table, ws)
    assert start.needed and start.saved is None
    assert start.mapping.types["Werk"] == "plant"
    chosen = start.mapping.model_copy(update={"types": {**start.mapping.types, "Werk": "office"}})
    save_mapping(ws, chosen)
    again = start_mapping(table, ws)
    assert again.saved == chosen and again.mapping.types["Werk"] == "office"
    mapped = mapped_table(table, again.mapping, "mapping.yaml")
    assert mapped.rows[0][1][mapped.header.index("type")] == "office"
    # a file the saved mapping does not fit starts from the suggestion again
    other = Table("other.csv", ["id", "name", "type", "country", "replacement_value"], [])
    assert start_mapping(other, ws).saved is None and not start_mapping(other, ws).needed
