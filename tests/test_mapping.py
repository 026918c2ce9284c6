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


# -- found on a messy client's workbook (issue 13, item 9) ---------------------------------


def test_currency_cells_that_name_a_unit_scale_their_row(tmp_path: Path) -> None:
    """One column of currencies with units ("TEUR", "USD m", "k€", "£m"): each row's values
    in that unit and the currency's ISO code, as a header's unit would be read."""
    from riskapp.domain.mapping import RegisterMapping

    header = ["ID", "Wert", "Umsatz", "Währung"]
    cells = [["a", "12", "3", "TEUR"], ["b", "1.5", "0", "USD m"], ["c", "700", "", "GBP"]]
    cells += [["d", "2", "1", "k€"], ["e", "0.25", "0", "£m"], ["f", "9", "0", "Dollar"]]
    rows = [(n + 2, c) for n, c in enumerate(cells)]
    mapping = RegisterMapping(
        columns={"id": "ID", "replacement_value": "Wert", "annual_revenue_at_stake": "Umsatz",
                 "currency": "Währung"}
    )  # fmt: skip
    columns, mapped = apply_mapping("c.csv", header, rows, mapping, "m.yaml")
    got = {
        c[0]: (c[columns.index("replacement_value")], c[columns.index("annual_revenue_at_stake")],
               c[columns.index("currency")])
        for _, c in mapped
    }  # fmt: skip
    assert got == {
        "a": ("12000", "3000", "EUR"),
        "b": ("1500000", "0", "USD"),
        "c": ("700", "", "GBP"),
        "d": ("2000", "1000", "EUR"),
        "e": ("250000", "0", "GBP"),
        "f": ("9", "0", "Dollar"),  # not read: left for the register's check to name
    }
    # a unit in the header as well would scale twice: refused, naming the row
    twice = mapping.model_copy(update={"units": {"replacement_value": 1000.0}})
    with pytest.raises(InputError) as exc:
        apply_mapping("c.csv", header, rows, twice, "m.yaml")
    (p,) = exc.value.problems
    assert str(p).startswith("m.yaml [units.replacement_value]: c.csv row 2: the currency cell")


def test_types_the_curve_library_knows_are_suggested_with_their_command(tmp_path: Path) -> None:
    s = suggest(["ID", "Kategorie"], ["Werk", "Umspannwerk", "Kantine"], ["plant", "office"])
    assert s.mapping.types == {"Werk": "plant"}  # onto the workspace's types only
    assert s.library_types == (("Umspannwerk", "substation", "synonym 'umspannwerk'"),)
    assert s.to_add == ("substation",) and s.unknown_types == ("Kantine",)
    text = to_yaml(s)
    assert '"Umspannwerk": substation' in text and "riskapp curves add substation" in text
    assert '  # "Kantine":     # no suggestion' in text
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_mapping(path).types == {"Werk": "plant", "Umspannwerk": "substation"}
    client = _file(tmp_path, "ID,Name,Kategorie,Land,Wert\nu1,Nord,Umspannwerk,DE,1\n")
    init = runner.invoke(app, ["init", str(tmp_path / "ws"), "--template", "manufacturing"])
    assert init.exit_code == 0, init.output
    said = runner.invoke(
        app, ["mapping", "suggest", str(client), "--workspace", str(tmp_path / "ws")]
    )
    assert said.exit_code == 0, said.output
    assert "riskapp curves add substation --workspace" in " ".join(said.output.split())


def test_ambiguous_countries_are_confirmed_once_in_the_mapping(tmp_path: Path) -> None:
    s = suggest(["ID", "Land"], [], [], ["Korea", "Deutschland", "DEU", ""])
    assert s.uncertain_countries == (("Korea", ("KOR", "PRK")),)
    path = tmp_path / "m.yaml"
    path.write_text(to_yaml(s), encoding="utf-8")
    assert load_mapping(path).countries == {}  # nothing confirmed yet: the lines are comments
    path.write_text(to_yaml(s).replace('  # "Korea": KOR', '  "Korea": KOR'), encoding="utf-8")
    mapping = load_mapping(path)
    assert mapping.countries == {"Korea": "KOR"}
    columns, mapped = apply_mapping(
        "c.csv", ["ID", "Land"], [(2, ["k", " Korea "]), (3, ["d", "Deutschland"])], mapping, "m"
    )
    assert [c[columns.index("country")] for _, c in mapped] == ["KOR", "Deutschland"]
    path.write_text("countries:\n  Korea: KOREA\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_mapping(path)
    assert "m.yaml" in str(exc.value) and "countries" in str(exc.value)


def test_rows_the_checks_refuse_are_set_aside_every_one(tmp_path: Path) -> None:
    """`mapping apply --set-aside`: every row the register's row checks refuse (past the 200
    problems a reading lists) goes to a file with its row, fields and problems and the client's
    own cells; the others make the register, which validates."""
    good = "".join(f"W-{i},Werk {i},Werk,EST,59.38,28.19,{i + 1},1,Herr Tamm,\n" for i in range(50))
    bad = "".join(f"X-{i},Werk,Werk,Korea,,,zwölf,1,,\n" for i in range(250))
    client = _file(
        tmp_path, GERMAN.split("\n", 1)[0] + "\n" + good + bad + "S-1,,Werk,EST,,,1,,,\n"
    )
    init = runner.invoke(app, ["init", str(tmp_path / "ws")])
    assert init.exit_code == 0, init.output
    made = runner.invoke(app, ["mapping", "suggest", str(client), "-o", str(tmp_path / "m.yaml")])
    assert made.exit_code == 0, made.output
    register, aside = tmp_path / "ws" / "assets.csv", tmp_path / "aside.csv"
    args = ["mapping", "apply", str(client), "-m", str(tmp_path / "m.yaml"), "-o", str(register)]
    done = runner.invoke(app, [*args, "--set-aside", str(aside)])
    assert done.exit_code == 0, done.output
    assert "251 row(s) set aside" in done.output and "50 row(s) written" in done.output
    import csv

    with aside.open(encoding="utf-8", newline="") as fh:
        refused = list(csv.DictReader(fh))
    assert [int(r["row"]) for r in refused] == list(range(52, 303))
    first = refused[0]
    assert first["fields"] == "country; replacement_value"
    assert "Korea" in first["problems"] and "zwölf" in first["problems"]
    assert (first["Anlagen-ID"], first["Wiederbeschaffungswert (TEUR)"]) == ("X-0", "zwölf")
    assert refused[-1]["fields"] == "name"
    checked = runner.invoke(app, ["validate", str(tmp_path / "ws")])
    assert checked.exit_code == 0, checked.output
    assert len(load_workspace(tmp_path / "ws").portfolio) == 50
    wrong = runner.invoke(app, [*args, "--set-aside", str(tmp_path / "aside.xlsx")])
    assert wrong.exit_code != 0 and "written as .csv" in wrong.output
