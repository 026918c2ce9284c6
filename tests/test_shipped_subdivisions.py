"""The subdivision boundaries riskapp ships (riskapp.io.subdivisions, built by
tools/build_subdivisions.py from Natural Earth's 1:10m admin-1 layer): the file is what its
SUBDIVISIONS.md says, every code is a current ISO 3166-2 code, hand-checked places land in the
subdivision an atlas puts them in, and a subdivision's parents hold what its parts hold."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import zlib
from pathlib import Path

import numpy as np
import pycountry
import pytest
import shapely
from shapely.geometry import shape

from riskapp.domain.common import subdivision_chain
from riskapp.domain.zones import Geometry
from riskapp.engine import score
from riskapp.io.subdivisions import (
    INDEX,
    SUBDIVISIONS,
    shipped_subdivisions,
    subdivision_zone,
    subdivisions_of,
)
from riskapp.io.workspace import load_workspace
from tests.conftest import TINY
from tests.test_zones_workspace import add_scenario


def _features() -> list[dict]:  # type: ignore[type-arg]
    text = gzip.decompress(SUBDIVISIONS.read_bytes()).decode("utf-8")
    return json.loads(text)["features"]  # type: ignore[no-any-return]


def test_the_file_is_the_one_its_sources_page_describes() -> None:
    page = (SUBDIVISIONS.parent / "SUBDIVISIONS.md").read_text(encoding="utf-8")
    digest = hashlib.sha256(SUBDIVISIONS.read_bytes()).hexdigest()
    assert f"| sha256 of subdivisions.geojson.gz | {digest} |" in page
    count = re.search(r"; ([\d,]+) subdivisions;", page)
    assert count is not None and int(count.group(1).replace(",", "")) == len(_features())


def test_every_feature_is_a_valid_area_under_a_current_iso_code() -> None:
    known = {s.code for s in pycountry.subdivisions}
    features = _features()
    assert len(features) > 4000
    for f in features:
        props = f["properties"]
        assert props["code"] in known, props
        assert props["codes"] == list(subdivision_chain(props["code"])), props
        geom = shape(f["geometry"])
        assert geom.geom_type in ("Polygon", "MultiPolygon") and geom.is_valid, props["code"]
        # read without checking each position (Geometry.shipped): it passes the checks, to
        # the same model
        assert Geometry.model_validate(f["geometry"]) == Geometry.shipped(f["geometry"])
        assert not geom.is_empty
        assert f["bbox"] == pytest.approx(list(geom.bounds), abs=1e-9), props["code"]


def test_the_index_gives_each_features_own_member_of_the_file() -> None:
    data = SUBDIVISIONS.read_bytes()
    index = json.loads(INDEX.read_text(encoding="utf-8"))
    assert index["file"] == SUBDIVISIONS.name
    assert index["sha256"] == hashlib.sha256(data).hexdigest()
    rows = index["features"]
    features = _features()
    assert [r[0] for r in rows] == [f["properties"]["code"] for f in features]
    # the members lie one after the other, between the collection's head and its tail
    ends = [at + size for _, _, _, at, size in rows]
    assert [at for _, _, _, at, _ in rows[1:]] == ends[:-1]
    assert (
        zlib.decompress(data[: rows[0][3]], wbits=31)
        == b'{"type":"FeatureCollection","features":[\n'
    )
    assert zlib.decompress(data[ends[-1] :], wbits=31) == b"]}\n"
    for (code, chain, bbox, at, size), feature in zip(rows, features, strict=True):
        line = zlib.decompress(data[at : at + size], wbits=31).decode("utf-8")
        assert json.loads(line.rstrip().rstrip(",")) == feature, code
        assert chain == feature["properties"]["codes"] and bbox == feature["bbox"], code


# places and the subdivision an atlas puts them in (lon, lat)
PLACES = {
    "Białystok": ((23.16, 53.13), "PL-20"),  # Podlaskie; the source's code is PL-PD
    "Kirkenes": ((30.05, 69.73), "NO-54"),  # Troms og Finnmark; the source's is NO-20
    "Tromsø": ((18.96, 69.65), "NO-54"),  # its island is not drawn: nearest within 12 nmi
    "Oslo": ((10.75, 59.91), "NO-03"),
    "Paris": ((2.35, 48.86), "FR-75C"),
    "Hamburg": ((9.99, 53.55), "DE-HH"),
    "Helsinki": ((24.94, 60.17), "FI-18"),
    "Tehran": ((51.39, 35.69), "IR-23"),  # Iran is renumbered since the source: by name
    "Belfast": ((-5.93, 54.60), "GB-BFS"),
    "Narva": ((28.17, 59.38), "EE-45"),  # Ida-Viru, at the Russian border
    "North Sea": ((3.0, 56.0), ""),
    "Off Norway, 40 km": ((4.2, 60.5), ""),
}


def test_hand_checked_places_land_in_their_subdivision() -> None:
    xy = np.array([p for p, _ in PLACES.values()], dtype=float)
    found = subdivisions_of(xy[:, 0], xy[:, 1])
    assert dict(zip(PLACES, found.tolist(), strict=True)) == {k: c for k, (_, c) in PLACES.items()}
    assert pycountry.subdivisions.get(code="IR-23").name == "Tehrān"
    # a point given twice, one without coordinates, and one out of range
    more = subdivisions_of(np.array([23.16, 23.16, np.nan, 200.0]), np.array([53.13, 53.13, 1, 1]))
    assert more.tolist() == ["PL-20", "PL-20", "", ""]


def test_a_point_equally_near_two_boundaries_takes_the_first_code() -> None:
    """Off the end of a seam a point at sea can lie exactly as near two neighbours (the Dee
    estuary between Denbighshire and Flintshire; the Adriatic off Bari and Brindisi): it takes
    the first code in alphabetical order, as a point inside both does, whichever other points
    are placed with it."""
    from riskapp.io.subdivisions import _shape

    for lon, lat, first, second in [
        (-3.373, 53.543, "GB-DEN", "GB-FLN"),
        (17.407, 40.921, "IT-BA", "IT-BR"),
    ]:
        point = shapely.Point(lon, lat)
        assert not _shape(first).contains(point) and not _shape(second).contains(point)
        assert _shape(first).distance(point) == _shape(second).distance(point)
        alone = subdivisions_of(np.array([lon]), np.array([lat]))
        crowd = subdivisions_of(np.array([lon, 25.0, -2.0]), np.array([lat, 60.2, 53.5]))
        assert alone.tolist() == [first] and crowd[0] == first


def test_a_parent_is_the_union_of_its_parts() -> None:
    idf = subdivision_zone("FR-IDF")
    # a union drawn by shapely, read without checking each position: it passes the checks
    assert idf is not None and idf.geometry is not None
    assert Geometry.model_validate(idf.geometry.model_dump()) == idf.geometry
    assert idf is not None and idf.name == "Île-de-France" and idf.shipped
    area = shape(idf.geometry.model_dump())  # type: ignore[union-attr]
    inside = shapely.points([[2.35, 48.86], [2.13, 48.80], [2.90, 48.55]])  # Paris, Versailles
    outside = shapely.points([[1.90, 47.90], [3.05, 50.63]])  # Orléans, Lille
    assert shapely.contains(area, inside).all() and not shapely.contains(area, outside).any()
    assert {"FR-IDF", "FR-75C", "NO-54", "PL-20", "GB-NIR"} <= shipped_subdivisions()
    assert subdivision_zone("EE-130") is None  # newer than the source: not shipped


def test_a_shock_on_a_region_reaches_assets_in_its_departments(tmp_path: Path) -> None:
    """FR-IDF is targeted; P3 in Paris gives only coordinates (read as FR-75C, inside
    Île-de-France), P4 names Hauts-de-Seine (FR-92); P5 in Lyon is in neither."""
    ws_dir = tmp_path / "ws"
    shutil.copytree(TINY, ws_dir)
    with (ws_dir / "assets.csv").open("a", encoding="utf-8") as f:
        f.write("P3,Paris office,plant,FRA,48.86,2.35,100,0,EUR,3,,Ops,\n")
        f.write("P4,La Défense office,plant,FRA,48.89,2.24,100,0,EUR,3,,Ops,\n")
        f.write("P5,Lyon office,plant,FRA,45.76,4.84,100,0,EUR,3,,Ops,\n")
    lines = (ws_dir / "assets.csv").read_text(encoding="utf-8").splitlines()
    named = {"P4": "FR-92"}
    out = [lines[0] + ",subdivision"] + [
        line + "," + named.get(line.split(",", 1)[0], "") for line in lines[1:]
    ]
    (ws_dir / "assets.csv").write_text("\n".join(out) + "\n", encoding="utf-8")
    with (ws_dir / "baseline.csv").open("a", encoding="utf-8") as f:
        f.write("FRA,alpha,1,test\nFRA,beta,0,test\n")
    add_scenario(ws_dir, "  - {target: FR-IDF, factor: alpha, op: add, value: 5}\n")
    ws = load_workspace(ws_dir)
    sub = dict(zip(ws.portfolio.ids, ws.portfolio.series("subdivision"), strict=True))
    assert (sub["P3"], sub["P4"], sub["P5"]) == ("FR-75C", "FR-92", "FR-69")
    r = score(ws)
    loss = dict(zip(ws.portfolio.ids, r.asset_loss()[:, r.scenario_ids.index("z")], strict=True))
    # alpha 1 + 5 in Île-de-France -> 0.6 x 100; Lyon keeps France's alpha 1 -> 0.1 x 100
    assert (loss["P3"], loss["P4"], loss["P5"]) == pytest.approx((60.0, 60.0, 10.0))


def test_subdivision_names_and_parents_are_pycountrys() -> None:
    # riskapp reads pycountry's database file itself (faster than pycountry's objects): the
    # same codes, names and parents as pycountry gives
    from riskapp.domain.common import _subdivision_names, _subdivision_parents

    assert _subdivision_names() == {str(s.code): str(s.name) for s in pycountry.subdivisions}
    assert _subdivision_parents() == {
        str(s.code): str(s.parent_code) for s in pycountry.subdivisions if s.parent_code
    }


def test_a_register_is_read_once_and_the_answer_is_the_callers_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from riskapp.io import subdivisions

    monkeypatch.setattr(subdivisions, "_READ", {})
    calls: list[int] = []
    real = subdivisions.subdivisions_of
    monkeypatch.setattr(
        subdivisions, "subdivisions_of", lambda lon, lat: calls.append(len(lon)) or real(lon, lat)
    )
    lon, lat = np.array([23.16, 9.99]), np.array([53.13, 53.55])
    first = subdivisions.subdivisions_in(lon, lat, np.array(["POL", "DEU"], dtype=object))
    first[0] = "changed by the caller"
    again = subdivisions.subdivisions_in(lon, lat, np.array(["POL", "DEU"], dtype=object))
    assert list(again) == ["PL-20", "DE-HH"] and calls == [2]
    # another country column is another question: Hamburg is not in Denmark
    other = subdivisions.subdivisions_in(lon, lat, np.array(["POL", "DNK"], dtype=object))
    assert list(other) == ["PL-20", ""] and calls == [2, 2]
