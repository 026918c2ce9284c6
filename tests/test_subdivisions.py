"""Sub-national regions (ISO 3166-2 subdivisions) as targets: codes checked against the ISO
list, a subdivision's members taken from the register, from a boundary in the zones file or
from the boundary riskapp ships (riskapp.io.subdivisions), and the problems a wrong code gets.
Workspaces are copies of tests/data/tiny in tmp_path: P1 is a plant in Tromsø (Troms og
Finnmark, NO-54), P2 a plant in Helsinki."""

from __future__ import annotations

import pytest

from riskapp.domain.common import (
    check_place,
    check_subdivision,
    subdivision_country,
    subdivision_for_name,
    subdivision_name,
)
from riskapp.domain.zones import Zone
from riskapp.engine import score
from riskapp.io.errors import InputError
from riskapp.io.workspace import load_workspace
from tests.test_zones_workspace import add_scenario, copy_tiny

# a box around Tromsø: P1 (69.6 N, 18.9 E) lies inside it, P2 (Helsinki) far outside
TROMS_BOX = """
zones:
  - id: NO-54
    name: Troms og Finnmark (our boundary)
    polygon: [[[15.0, 68.3], [31.5, 68.3], [31.5, 71.5], [15.0, 71.5], [15.0, 68.3]]]
"""


def test_every_known_code_names_the_country_pycountry_gives() -> None:
    """`subdivision_country` answers a known code from the table of all codes: the same
    country as pycountry's lookup by the code's first two letters, for every code (and any
    case); an unknown code still gets its letters' country, or none."""
    import pycountry

    from riskapp.domain.common import iso_subdivision_codes

    codes = sorted(iso_subdivision_codes())
    assert len(codes) > 4000
    for code in codes:
        country = pycountry.countries.get(alpha_2=code[:2])
        expected = str(country.alpha_3) if country is not None else ""
        assert subdivision_country(code) == expected, code
        assert subdivision_country(code.lower()) == expected, code
    assert subdivision_country("NO-99") == "NOR"  # not a code, but Norway's letters
    assert subdivision_country("XX-1") == ""


def _loss(ws_dir, scenario: str = "z") -> dict[str, float]:  # type: ignore[no-untyped-def]
    ws = load_workspace(ws_dir)
    r = score(ws)
    column = r.asset_loss()[:, r.scenario_ids.index(scenario)]
    return dict(zip(ws.portfolio.ids, column.tolist(), strict=True))


def test_codes_are_checked_against_the_iso_list() -> None:
    assert check_place("no-54") == "NO-54"
    assert check_place("DEU") == "DEU" and check_place("baltic_sea") == "baltic_sea"
    assert subdivision_name("PL-20") == "Podlaskie"
    assert subdivision_country("PL-20") == "POL"
    with pytest.raises(ValueError, match=r"unknown ISO 3166-2 subdivision code 'NO-99'.*NO-5"):
        check_subdivision("NO-99")
    with pytest.raises(ValueError, match="no country has the ISO 3166-1 alpha-2 code 'XX'"):
        check_subdivision("XX-1")
    with pytest.raises(ValueError, match="ISO 3166-2 subdivision code such as NO-54"):
        check_place("Troms og Finnmark")
    # a name where a code belongs: the code it names, for "did you mean"
    assert subdivision_for_name("podlaskie", "POL") == "PL-20"
    assert subdivision_for_name("Podlaskie", "DEU") is None


def test_a_targeted_subdivision_takes_its_shipped_boundary(
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    ws_dir = copy_tiny(tmp_path, zones=None)
    add_scenario(ws_dir, "  - {target: NO-54, factor: alpha, op: set, value: 9}\n")
    ws = load_workspace(ws_dir)
    zone = ws.zones.get("NO-54")
    assert isinstance(zone, Zone) and zone.kind == "subdivision" and zone.geometry is not None
    assert zone.name == "Troms og Finnmark" and zone.shipped
    assert zone.source.startswith("Natural Earth 1:10m admin-1 states and provinces")
    # tiny's register names no subdivision: P1's coordinates (Tromsø) place it in NO-54, and
    # the register read says so in a note; P2 in Helsinki is not placed in Norway
    sub = dict(zip(ws.portfolio.ids, ws.portfolio.series("subdivision"), strict=True))
    assert sub == {"P1": "NO-54", "P2": "FI-18", "O1": ""}  # O1: no coordinates
    assert ws.portfolio.subdivision_read == {"P1", "P2"}  # the Assets page says so
    assert any(
        "2 assets' subdivision read from their coordinates" in n
        for n in ws.portfolio.location_notes
    )
    loss = _loss(ws_dir)
    assert loss["P1"] == pytest.approx(90.0)  # alpha set to 9 -> 0.9 x 100
    assert loss["P2"] == pytest.approx(250 * (1 - 0.6 * 0.9))  # untouched


def test_a_subdivision_unknown_to_the_shipped_boundaries_holds_only_what_the_register_names(
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    # Estonia's 2017 municipalities are newer than Natural Earth's admin-1 layer
    from riskapp.io.subdivisions import shipped_subdivisions

    assert "EE-130" not in shipped_subdivisions() and "EE-37" in shipped_subdivisions()
    ws_dir = copy_tiny(tmp_path, zones=None)
    add_scenario(ws_dir, "  - {target: EE-130, factor: alpha, op: set, value: 9}\n")
    ws = load_workspace(ws_dir)
    zone = ws.zones.get("EE-130")
    assert isinstance(zone, Zone) and zone.geometry is None and zone.name == "Alutaguse"
    assert set(ws.portfolio.series("subdivision")) == {""}  # nothing read: no shipped zone
    assert _loss(ws_dir)["P1"] == pytest.approx(20.0)  # NOR alpha 2 -> 0.2 x 100, untouched


def test_a_boundary_in_the_zones_file_places_assets_by_their_coordinates(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ws_dir = copy_tiny(tmp_path, zones=TROMS_BOX)
    add_scenario(
        ws_dir,
        "  - {target: NOR, factor: alpha, op: add, value: 1}\n"
        "  - {target: NO-54, factor: alpha, op: add, value: 4}\n",
    )
    loss = _loss(ws_dir)
    # country shock first (2 + 1), then the subdivision's (+ 4): alpha 7 -> 0.7 x 100
    assert loss["P1"] == pytest.approx(70.0)
    # P2 in Finland: not in Norway, not in the box; FIN alpha 4, beta 3 -> 1 - 0.6 x 0.9
    assert loss["P2"] == pytest.approx(250 * (1 - 0.6 * 0.9))


def test_region_groups_and_baseline_rows_may_name_subdivisions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ws_dir = copy_tiny(tmp_path, zones=TROMS_BOX)
    regions = (ws_dir / "regions.yaml").read_text(encoding="utf-8")
    regions += "  - id: high_north\n    name: High North\n    members: [NO-54, FIN]\n"
    (ws_dir / "regions.yaml").write_text(regions, encoding="utf-8")
    with (ws_dir / "baseline.csv").open("a", encoding="utf-8") as f:
        f.write("NO-54,beta,6,regional estimate\n")
    add_scenario(ws_dir, "  - {target: high_north, factor: alpha, op: set, value: 5}\n")
    ws = load_workspace(ws_dir)
    r = score(ws)
    s = r.scenario_ids.index("z")
    place = {a: int(p) for a, p in zip(ws.portfolio.ids, r.inputs.place_index, strict=True)}
    # P1: the group's shock through its subdivision, the subdivision's baseline row for beta
    assert r.intensities[s, place["P1"]].tolist() == [5.0, 6.0]
    # P2: the group's shock through its country, Finland's own beta
    assert r.intensities[s, place["P2"]].tolist() == [5.0, 3.0]


def test_an_unknown_subdivision_code_in_a_scenario_is_refused_with_the_closest(
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    ws_dir = copy_tiny(tmp_path, zones=None)
    add_scenario(ws_dir, "  - {target: NO-99, factor: alpha, op: add, value: 1}\n")
    with pytest.raises(InputError) as err:
        load_workspace(ws_dir)
    text = str(err.value)
    assert "z.yaml" in text and "shocks[0].target" in text
    assert "unknown ISO 3166-2 subdivision code 'NO-99'" in text and "NO-54" in text


def test_a_subdivision_in_the_zones_file_must_be_a_boundary(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ws_dir = copy_tiny(
        tmp_path,
        zones="zones:\n  - id: NO-54\n    name: Tromsø area\n"
        "    circle: {center: [18.9, 69.6], radius_km: 50}\n",
    )
    with pytest.raises(InputError) as err:
        load_workspace(ws_dir)
    text = str(err.value)
    assert "zones.yaml" in text and "zones[0].id" in text
    assert "is an ISO 3166-2 subdivision (Troms og Finnmark): give it its boundary" in text


def test_validate_warns_about_a_targeted_subdivision_no_asset_can_lie_in(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from riskapp.assessment.placement import placement_warnings
    from riskapp.cli import app

    ws_dir = copy_tiny(tmp_path, zones=None)
    add_scenario(ws_dir, "  - {target: EE-130, factor: alpha, op: add, value: 1}\n")
    lines = placement_warnings(load_workspace(ws_dir))
    assert len(lines) == 1
    assert lines[0].startswith("subdivision 'EE-130' (Alutaguse) is named as a target, but no ")
    result = CliRunner().invoke(app, ["validate", str(ws_dir)])
    assert result.exit_code == 0, result.output  # a warning, not an error
    assert "subdivision 'EE-130' (Alutaguse)" in result.output
    # a shipped boundary answers the question from the coordinates
    shipped = copy_tiny(tmp_path / "shipped", zones=None)
    add_scenario(shipped, "  - {target: PL-20, factor: alpha, op: add, value: 1}\n")
    assert placement_warnings(load_workspace(shipped)) == []
    # with a boundary in the zones file the question is geographic, not missing data
    boxed = copy_tiny(tmp_path / "boxed", zones=TROMS_BOX)
    add_scenario(boxed, "  - {target: NO-54, factor: alpha, op: add, value: 1}\n")
    assert placement_warnings(load_workspace(boxed)) == []


def test_a_route_takes_the_subdivision_of_the_parts_inside_its_boundary(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # P1 becomes a line from Tromsø (inside the box) south to Bodø (Nordland, outside it)
    routes = "routes:\n  - asset_id: P1\n    line: [[18.9, 69.6], [16.5, 68.6], [14.4, 67.3]]\n"
    shock = "  - {target: NO-54, factor: alpha, op: add, value: 4}\n"
    boxed = copy_tiny(tmp_path / "boxed", zones=TROMS_BOX)
    (boxed / "routes.yaml").write_text(routes, encoding="utf-8")
    add_scenario(boxed, shock)
    # a cut anywhere cuts the line: Norway counts once, at its worst part, the one in NO-54
    # (alpha 2 + 4 -> 0.6), not the part in Nordland (alpha 2 -> 0.2)
    assert _loss(boxed)["P1"] == pytest.approx(60.0)
    # with the shipped boundary the same: its first part lies in Troms og Finnmark
    shipped = copy_tiny(tmp_path / "shipped", zones=None)
    (shipped / "routes.yaml").write_text(routes, encoding="utf-8")
    add_scenario(shipped, shock)
    assert _loss(shipped)["P1"] == pytest.approx(60.0)
    # a subdivision with no boundary at all (shipped or own) places no part of a line
    bare = copy_tiny(tmp_path / "bare", zones=None)
    (bare / "routes.yaml").write_text(routes, encoding="utf-8")
    add_scenario(bare, shock.replace("NO-54", "EE-130"))
    assert _loss(bare)["P1"] == pytest.approx(20.0)


# -- the register's subdivision column -------------------------------------------------------


def name_subdivisions(ws_dir, codes: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    """Give tiny's register a subdivision column (last), naming `codes` by asset id."""
    path = ws_dir / "assets.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    out = [lines[0] + ",subdivision"]
    for line in lines[1:]:
        out.append(line + "," + codes.get(line.split(",", 1)[0], ""))
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def test_a_subdivision_the_register_names_takes_the_subdivisions_shocks(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ws_dir = copy_tiny(tmp_path, zones=None)
    name_subdivisions(ws_dir, {"P1": "no-54"})  # lower case is read as the code
    add_scenario(
        ws_dir,
        "  - {target: NOR, factor: alpha, op: add, value: 1}\n"
        "  - {target: NO-54, factor: alpha, op: add, value: 4}\n",
    )
    ws = load_workspace(ws_dir)
    # P2's subdivision read from its coordinates (NO-54 has a shipped boundary)
    assert ws.portfolio.series("subdivision").tolist()[:2] == ["NO-54", "FI-18"]
    loss = _loss(ws_dir)
    # P1 named in NO-54: country shock (2 + 1), then the subdivision's (+ 4): 0.7 x 100
    assert loss["P1"] == pytest.approx(70.0)
    # the others name no subdivision: as without the subdivision's shock
    bare = _loss_without_subdivision(tmp_path)
    assert (loss["P2"], loss["O1"]) == pytest.approx((bare["P2"], bare["O1"]))
    assert bare["P1"] == pytest.approx(30.0)  # alpha 2 + 1 only
    # nothing warns: the register places an asset in the targeted subdivision
    from riskapp.assessment.placement import placement_warnings

    assert placement_warnings(ws) == []


def _loss_without_subdivision(tmp_path) -> dict[str, float]:  # type: ignore[no-untyped-def]
    bare = copy_tiny(tmp_path / "bare", zones=None)
    add_scenario(bare, "  - {target: NOR, factor: alpha, op: add, value: 1}\n")
    return _loss(bare)


def test_the_register_column_and_a_boundary_place_an_asset_alike(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Named in the register, found inside the zones file's boundary or read from the shipped
    one: the same losses for every asset, under a shock on the subdivision and on a group
    holding it."""
    shocks = (
        "  - {target: NO-54, factor: alpha, op: add, value: 3}\n"
        "  - {target: far_north, factor: beta, op: set, value: 8}\n"
    )
    group = "  - id: far_north\n    name: Far north\n    members: [NO-54]\n"
    named = copy_tiny(tmp_path / "named", zones=None)
    name_subdivisions(named, {"P1": "NO-54"})
    boxed = copy_tiny(tmp_path / "boxed", zones=TROMS_BOX)
    for ws_dir in (named, boxed):
        with (ws_dir / "regions.yaml").open("a", encoding="utf-8") as f:
            f.write(group)
        add_scenario(ws_dir, shocks)
    # the shipped boundary, from P1's coordinates alone
    shipped = copy_tiny(tmp_path / "shipped", zones=None)
    # P1 named in Nordland: the subdivision holds nobody
    plain = copy_tiny(tmp_path / "plain", zones=None)
    name_subdivisions(plain, {"P1": "NO-18"})
    for ws_dir in (shipped, plain):
        with (ws_dir / "regions.yaml").open("a", encoding="utf-8") as f:
            f.write(group)
        add_scenario(ws_dir, shocks)
    by_name, by_box, by_nothing = _loss(named), _loss(boxed), _loss(plain)
    assert by_name == pytest.approx(by_box)
    assert _loss(shipped) == pytest.approx(by_name)
    assert by_name["P1"] > by_nothing["P1"]  # the shocks reached P1
    assert {k: v for k, v in by_name.items() if k != "P1"} == pytest.approx(
        {k: v for k, v in by_nothing.items() if k != "P1"}
    )


def test_a_named_subdivision_outranks_a_boundary_it_is_not_inside(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A row that names a subdivision lies in that one only: P1 inside the box but named in
    Nordland (NO-18) does not take the box's NO-54 shock."""
    ws_dir = copy_tiny(tmp_path, zones=TROMS_BOX)
    name_subdivisions(ws_dir, {"P1": "NO-18"})
    add_scenario(ws_dir, "  - {target: NO-54, factor: alpha, op: add, value: 4}\n")
    assert _loss(ws_dir)["P1"] == pytest.approx(20.0)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("SE-BD", "subdivision SE-BD (Norrbottens län [SE-25]) lies in SWE, not in the row's"),
        ("NO-99", "unknown ISO 3166-2 subdivision code 'NO-99'; did you mean"),
        ("Troms", "expected an ISO 3166-2 subdivision code such as NO-54"),
    ],
)
def test_a_wrong_subdivision_cell_is_refused_with_file_row_and_field(
    tmp_path,  # type: ignore[no-untyped-def]
    cell: str,
    expected: str,
) -> None:
    ws_dir = copy_tiny(tmp_path, zones=None)
    name_subdivisions(ws_dir, {"P1": cell})
    with pytest.raises(InputError) as err:
        load_workspace(ws_dir)
    problems = err.value.problems
    assert len(problems) == 1
    p = problems[0]
    assert p.file.endswith("assets.csv") and (p.line, p.field) == (2, "subdivision")
    assert expected in p.message
