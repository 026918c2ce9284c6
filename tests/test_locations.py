"""Locations read offline (riskapp.io.locations): country names in several languages, alpha-2
and numeric codes, uncertain names listed with their candidates, a country from coordinates, a
point at sea, coordinates from a city; the same reading on every register path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pycountry
import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskapp.domain.assets import unpack_rows
from riskapp.io.columnar import parse_register
from riskapp.io.countrynames import read_country
from riskapp.io.errors import InputError, Problem
from riskapp.io.gazetteer import read_city
from riskapp.io.register_check import register_problems
from riskapp.io.tables import parse_assets
from riskapp.io.workspace import load_workspace
from riskapp.store.validation import Table
from riskapp.store.validation import parse_register as parse_table
from tests.conftest import TINY

HEADER = "id,name,type,country,lat,lon,replacement_value"
NAME = "assets.csv"


@pytest.mark.parametrize(
    ("cell", "code", "how"),
    [
        ("Germany", "DEU", "name"),
        ("Deutschland", "DEU", "name"),
        ("Allemagne", "DEU", "name"),
        ("Alemania", "DEU", "name"),
        ("  germany ", "DEU", "name"),
        ("Österreich", "AUT", "name"),
        ("Royaume-Uni", "GBR", "name"),
        ("Iran", "IRN", "name"),  # the part of "Iran, Islamic Republic of" before the comma
        ("DE", "DEU", "alpha-2 code"),
        ("de", "DEU", "alpha-2 code"),
        ("276", "DEU", "numeric code"),
        ("Niger", "NER", "name"),
        ("Nigeria", "NGA", "name"),
    ],
)
def test_certain_names_and_codes_are_converted(cell: str, code: str, how: str) -> None:
    reading = read_country(cell)
    assert (reading.kind, reading.code, reading.how) == ("converted", code, how)


@pytest.mark.parametrize(
    ("cell", "candidates"),
    [
        ("Congo", {"COG", "COD"}),
        ("Kongo", {"COG", "COD"}),
        ("Korea", {"KOR", "PRK"}),
        ("Virgin Islands", {"VGB", "VIR"}),
        ("Nigera", {"NER", "NGA"}),  # Niger in some languages, one letter off Nigeria
    ],
)
def test_shared_names_and_typos_are_uncertain_with_candidates(
    cell: str, candidates: set[str]
) -> None:
    reading = read_country(cell)
    assert reading.kind == "uncertain" and set(reading.candidates) == candidates


def test_a_typo_lists_the_country_it_is_close_to() -> None:
    reading = read_country("Germny")
    assert reading.kind == "uncertain" and reading.candidates[0] == "DEU"
    assert read_country("Atlantis").kind == "unknown"


ALPHA3 = sorted(str(c.alpha_3) for c in pycountry.countries)


@given(
    st.sampled_from(ALPHA3),
    st.sampled_from([str.upper, str.lower, str.title]),
    st.sampled_from(["", " ", "\t", "  "]),
)
def test_valid_alpha3_codes_read_as_themselves_and_reading_is_idempotent(
    code: str, case: object, pad: str
) -> None:
    cell = pad + case(code) + pad  # type: ignore[operator]
    first = read_country(cell)
    assert (first.kind, first.code) == ("code", code)
    again = read_country(first.code)
    assert (again.kind, again.code) == ("code", code)


def write(path: Path, *rows: str, header: str = HEADER) -> Path:
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def every_reading(path: Path) -> list[tuple[list[Problem], list[tuple[str, str]]]]:
    """(problems, [(id, country)]) of the register by each path: the columnar reading
    (workspace files), the store's import, the streaming check and the row-wise model."""
    out = []
    try:
        frame, _ = parse_register(path, NAME)
        out.append(([], list(zip(frame["id"], frame["country"], strict=True))))
    except InputError as exc:
        out.append((exc.problems, []))
    parsed = parse_table(Table.from_file(path, NAME))
    frame = parsed.frame
    rows = [] if frame is None else list(zip(frame["id"], frame["country"], strict=True))
    out.append((parsed.problems, rows))
    streamed = register_problems(path, NAME, chunk=2)
    out.append((streamed, out[0][1] if not streamed else []))
    try:
        assets, _ = parse_assets(path, NAME)
        out.append(([], [(a.id, a.country) for a in assets]))
    except InputError as exc:
        out.append((exc.problems, []))
    return out


def test_names_in_several_languages_read_alike_on_every_path(tmp_path: Path) -> None:
    path = write(
        tmp_path / "assets.csv",
        "a1,One,plant,Germany,,,1",
        "a2,Two,plant,Deutschland,,,1",
        "a3,Three,plant,Allemagne,,,1",
        "a4,Four,plant,Alemania,,,1",
        "a5,Five,plant, de ,,,1",
        "a6,Six,plant,fin,,,1",
        "a7,Seven,plant,Germany,,,1",
    )
    expected = [(f"a{i}", "DEU") for i in range(1, 6)] + [("a6", "FIN"), ("a7", "DEU")]
    for problems, rows in every_reading(path):
        assert problems == [] and sorted(rows) == sorted(expected)
    frame, _ = parse_register(path, NAME)
    notes = frame.attrs["location_notes"]
    assert "assets.csv: 2 rows name their country as 'Germany', read as DEU" in notes
    assert "assets.csv: 1 row names its country as 'de' (an alpha-2 code), read as DEU" in notes
    streamed: list[str] = []
    register_problems(path, NAME, chunk=2, notes=streamed)
    assert streamed == notes  # the chunks of a stream add up to the same notes


def test_uncertain_countries_are_problems_naming_file_row_field_and_candidates(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path / "assets.csv",
        "a1,One,plant,Congo,,,1",
        "a2,Two,plant,DEU,,,1",
        "a3,Three,plant,Nigera,,,1",
        "a4,Four,plant,Korea,,,-5",
    )
    for problems, _ in every_reading(path):
        where = [(p.file, p.line, p.field) for p in problems]
        assert where == [
            (NAME, 2, "country"),
            (NAME, 4, "country"),
            (NAME, 5, "country"),
            (NAME, 5, "replacement_value"),  # the model's problems of other cells stay
        ], problems
        congo, nigera, korea = problems[0].message, problems[1].message, problems[2].message
        assert "'Congo'" in congo and "(COD)" in congo and "(COG)" in congo
        assert "(NER)" in nigera and "(NGA)" in nigera and "did you mean" in nigera
        assert "(KOR)" in korea and "(PRK)" in korea
        assert str(problems[0]).startswith("assets.csv, row 2 [country]: ")


def test_empty_country_is_read_from_coordinates(tmp_path: Path) -> None:
    path = write(
        tmp_path / "assets.csv",
        "a1,Frankfurt depot,warehouse,,50.11,8.68,1",
        "a2,Lyon office,office,,45.76,4.84,1",
        "a3,Madrid office,office,ESP,40.4,-3.7,1",
    )
    for problems, rows in every_reading(path):
        assert problems == [] and rows == [("a1", "DEU"), ("a2", "FRA"), ("a3", "ESP")]
    frame, _ = parse_register(path, NAME)
    assert any("read from their coordinates" in n for n in frame.attrs["location_notes"])


def test_rows_placed_by_their_point_or_city_get_their_subdivision_too(tmp_path: Path) -> None:
    """A row with no country, placed by its coordinates or its city, also gets the shipped
    subdivision its point lies in (or the nearest within 12 nautical miles: Tromsø's island is
    not drawn at 1:10m); a row that gives its country keeps its empty subdivision; a
    subdivision the row names is kept. The same on every reading that builds rows."""
    path = write(
        tmp_path / "assets.csv",
        "a1,Frankfurt depot,warehouse,,50.11,8.68,1,,",
        "a2,Bialystok plant,plant,,53.13,23.16,1,,",
        "a3,Madrid office,office,ESP,40.4,-3.7,1,,",
        "a4,Port,port,,,,1,Hamburg,",
        "a5,Tromso office,office,,69.65,18.96,1,,",
        "a6,Named,office,,52.23,21.01,1,,PL-20",  # named (wrongly, but named): kept
        header=HEADER + ",city,subdivision",
    )
    expected = {"a1": "DE-HE", "a2": "PL-20", "a3": "", "a4": "DE-HH", "a5": "NO-54", "a6": "PL-20"}
    frame, _ = parse_register(path, NAME)
    assert dict(zip(frame["id"], frame["subdivision"], strict=True)) == expected
    notes = frame.attrs["location_notes"]
    assert any("4 rows' subdivision read from their coordinates" in n for n in notes), notes
    read = frame["id"][unpack_rows(frame.attrs["subdivision_read"], len(frame))].tolist()
    assert read == ["a1", "a2", "a4", "a5"]  # a6 named its own
    assets, _ = parse_assets(path, NAME)
    assert {a.id: a.subdivision for a in assets} == expected
    parsed = parse_table(Table.from_file(path, NAME))
    assert parsed.frame is not None and parsed.problems == []
    assert dict(zip(parsed.frame["id"], parsed.frame["subdivision"], strict=True)) == expected
    # without a subdivision column the reading adds one
    plain = write(tmp_path / "plain.csv", "a1,Frankfurt depot,warehouse,,50.11,8.68,1")
    frame, _ = parse_register(plain, NAME)
    assert frame["subdivision"].tolist() == ["DE-HE"]


def test_a_point_at_sea_names_its_sea_area_and_nearest_country(tmp_path: Path) -> None:
    path = write(tmp_path / "assets.csv", "r1,Platform,plant,,57.0,3.0,1")
    for problems, _ in every_reading(path):
        (p,) = problems
        assert (p.file, p.line, p.field) == (NAME, 2, "country")
        assert "at sea in North Sea (north_sea)" in p.message
        assert "nearest country is Norway (NOR)" in p.message


def test_city_gives_approximate_coordinates_and_country(tmp_path: Path) -> None:
    path = write(
        tmp_path / "assets.csv",
        "a1,Port,port,,,,1,Hamburg",
        "a2,Office,office,FRA,,,1,Paris",
        "a3,Plant,plant,DEU,48.1,11.6,1,Hamburg",  # coordinates given: the city is not used
        header=HEADER + ",city",
    )
    frame, _ = parse_register(path, NAME)
    by_id = frame.set_index("id")
    assert by_id.loc["a1", "country"] == "DEU"
    assert by_id.loc["a1", "lat"] == pytest.approx(53.55, abs=0.05)
    assert by_id.loc["a1", "lon"] == pytest.approx(9.99, abs=0.05)
    assert by_id.loc["a2", "lat"] == pytest.approx(48.85, abs=0.05)
    assert (by_id.loc["a3", "lat"], by_id.loc["a3", "lon"]) == (48.1, 11.6)
    assert frame.attrs["approximate"] == ["a1", "a2"]
    assert any("approximately" in n and "Hamburg" in n for n in frame.attrs["location_notes"])
    for problems, rows in every_reading(path):
        assert problems == [] and sorted(rows) == [("a1", "DEU"), ("a2", "FRA"), ("a3", "DEU")]


def test_ambiguous_or_unknown_city_is_a_problem_listing_candidates(tmp_path: Path) -> None:
    path = write(
        tmp_path / "assets.csv",
        "a1,Office,office,,,,1,Paris",
        "a2,Office,office,DEU,,,1,Nowhereville",
        header=HEADER + ",city",
    )
    for problems, _ in every_reading(path):
        assert [(p.line, p.field) for p in problems] == [(2, "city"), (3, "city")], problems
        assert "Paris, FRA" in problems[0].message and "Paris, USA" in problems[0].message
        assert "no city named 'Nowhereville' in DEU" in problems[1].message


def test_city_in_the_row_country_tells_places_apart() -> None:
    assert read_city("Paris").kind == "uncertain"
    found = read_city("Paris", "FRA")
    assert found.kind == "found" and found.city is not None and found.city.country == "FRA"
    munich = read_city("München")
    assert munich.city is not None and munich.city.country == "DEU"


def test_workspace_with_names_loads_and_keeps_its_notes(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(TINY, ws)
    path = ws / "assets.csv"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "Plant Finland,plant,FIN", "Plant Finland,plant,Finland"
        ),
        encoding="utf-8",
    )
    loaded = load_workspace(ws)
    frame = loaded.portfolio.frame
    assert "FIN" in set(frame["country"])
    assert any("'Finland', read as FIN" in n for n in frame.attrs["location_notes"])


def test_many_distinct_unknown_countries_stay_bounded(tmp_path: Path) -> None:
    """Close names are sought for a few distinct cells only; the rest are the model's to word,
    and the problems are capped."""
    rows = [f"a{i},A,plant,Qx{i}zz,,,1" for i in range(400)]
    path = write(tmp_path / "assets.csv", *rows)
    with pytest.raises(InputError) as caught:
        parse_register(path, NAME)
    problems = caught.value.problems
    assert 1 < len(problems) <= 201
    assert problems[0].line == 2 and problems[0].field == "country"
    assert "alpha-3" in problems[0].message and "'Qx0zz'" in problems[0].message


def test_rows_the_model_reads_see_the_converted_country(tmp_path: Path) -> None:
    """A row the vectorised pass leaves to the model (here '1e3') is read with the converted
    country and coordinates, on every path."""
    path = write(
        tmp_path / "assets.csv",
        "a1,One,plant,Germany,,,1e3",
        "a2,Two,plant,,50.11,8.68,2e3",
    )
    for problems, rows in every_reading(path):
        assert problems == [] and rows == [("a1", "DEU"), ("a2", "DEU")]


def test_a_workbook_reads_names_cities_and_numeric_coordinates(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([*HEADER.split(","), "city"])
    sheet.append(["a1", "One", "plant", "Deutschland", None, None, 100, None])
    sheet.append(["a2", "Two", "plant", None, 45.76, 4.84, 100, None])
    sheet.append(["a3", "Three", "port", None, None, None, 100, "Gdańsk"])
    sheet.append(["a4", "Four", "port", "Congo", None, None, 100, None])
    path = tmp_path / "assets.xlsx"
    book.save(path)
    with pytest.raises(InputError) as caught:
        parse_register(path, "assets.xlsx")
    assert [(p.line, p.field) for p in caught.value.problems] == [(5, "country")]
    sheet.delete_rows(5)
    book.save(path)
    frame, _ = parse_register(path, "assets.xlsx")
    assert list(frame["country"]) == ["DEU", "FRA", "POL"]
    assert frame["lat"].iloc[2] == pytest.approx(54.35, abs=0.05)
    assert frame.attrs["approximate"] == ["a3"]
    assert register_problems(path, "assets.xlsx") == []


def test_a_point_in_a_country_too_small_for_the_outlines_is_not_filed_under_a_neighbour(
    tmp_path: Path,
) -> None:
    """At 1:110m Singapore and Monaco have no outline: their points lie in (or near) Malaysia
    and France. The reading lists both rather than guessing the neighbour."""
    path = write(
        tmp_path / "assets.csv",
        "s1,Singapore office,office,,1.29,103.85,1",
        "m1,Monaco office,office,,43.73,7.42,1",
        "b1,Berlin office,office,,52.52,13.40,1",
        "r1,Rome office,office,,41.89,12.49,1",  # 3 km from the Vatican: Italy for sure
        "n1,Nice office,office,,43.70,7.27,1",  # 13 km from Monaco: France for sure
    )
    for problems, _ in every_reading(path):
        assert [(p.line, p.field) for p in problems] == [(2, "country"), (3, "country")]
        assert "Singapore (SGP) or Malaysia (MYS)" in problems[0].message
        assert "Monaco (MCO) or France (FRA)" in problems[1].message
    ok = write(
        tmp_path / "ok.csv",
        "r1,Rome office,office,,41.89,12.49,1",
        "n1,Nice office,office,,43.70,7.27,1",
    )
    for problems, rows in every_reading(ok):
        assert problems == [] and rows == [("r1", "ITA"), ("n1", "FRA")]


def test_many_cities_and_points_at_sea_are_grouped_not_looped(tmp_path: Path) -> None:
    """Rows are gathered per distinct city or point by one sort: many distinct values give
    one note a city (capped) and one problem a row, each naming its own row."""
    cities = ["Hamburg", "Lyon", "Kraków", "Oslo", "Turku"] * 6
    rows = [f"c{i},Site,plant,,,,1,{city}" for i, city in enumerate(cities)]
    rows += [f"s{i},Rig,plant,,{56 + i / 10:.1f},{3 + i / 10:.1f},1," for i in range(5)]
    path = write(tmp_path / "assets.csv", *rows, header=HEADER + ",city")
    with pytest.raises(InputError) as caught:
        parse_register(path, NAME)
    problems = caught.value.problems
    assert [p.line for p in problems] == list(range(32, 37))
    assert all("North Sea (north_sea)" in p.message for p in problems)
    ok = write(tmp_path / "ok.csv", *rows[:30], header=HEADER + ",city")
    frame, _ = parse_register(ok, NAME)
    assert set(frame["country"]) == {"DEU", "FRA", "POL", "NOR", "FIN"}
    assert len(frame.attrs["approximate"]) == 30
    assert len([n for n in frame.attrs["location_notes"] if "approximately" in n]) == 5


def _normalised_by_hand(text: str) -> str:
    """The folding of names spelt out one character at a time (what `normalised` does in C)."""
    import re
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    bare = re.sub(r"[.'\u2019]", "", bare.casefold())
    return " ".join(re.sub(r"[-_/,()]", " ", bare).split())


@given(st.text(max_size=40))
def test_names_are_folded_as_spelt_out(text: str) -> None:
    from riskapp.io.countrynames import normalised

    assert normalised(text) == _normalised_by_hand(text)


def test_the_gazetteer_folds_every_name_as_spelt_out() -> None:
    from riskapp.io.countrynames import normalised
    from riskapp.io.gazetteer import raw_cities

    names = [str(e["name"]) for e in raw_cities().values()]
    names += [str(a) for e in raw_cities().values() for a in e.get("alternatenames") or ()]
    assert len(names) > 300_000
    assert [normalised(n) for n in names] == [_normalised_by_hand(n) for n in names]
    assert normalised("  Öster-reich (Wien) ") == "oster reich wien"


def test_a_city_is_looked_up_among_its_first_letters_names_as_in_the_whole_index() -> None:
    """The gazetteer folds only the names of the first letter a lookup needs; the index they
    make up is the one of every name folded, spelt out here, place for place and in order."""
    import pycountry

    from riskapp.io.countrynames import normalised
    from riskapp.io.gazetteer import City, city_index, raw_cities

    alpha3 = {str(c.alpha_2): str(c.alpha_3) for c in pycountry.countries}
    whole: dict[str, list[City]] = {}
    for e in raw_cities().values():
        country = alpha3.get(str(e.get("countrycode", "")))
        if country is None:
            continue
        city = City(
            str(e["name"]),
            country,
            float(e["latitude"]),
            float(e["longitude"]),
            int(e.get("population") or 0),
        )
        names = {normalised(str(e["name"]))}
        names.update(normalised(str(a)) for a in e.get("alternatenames") or ())
        for key in names - {""}:
            whole.setdefault(key, []).append(city)
    spelt_out = {
        k: tuple(sorted(v, key=lambda c: (-c.population, c.country, c.name)))
        for k, v in whole.items()
    }
    assert city_index() == spelt_out
    assert read_city(" MÜNCHEN ").city == read_city("Munich").city  # type: ignore[union-attr]
