"""The shipped country shapes (riskapp/resources/geo/countries_110m.shapes.wkb, written by
tools/build_country_shapes.py) are the TopoJSON's outlines, decoded now, exactly."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from riskapp.engine import countries


def test_the_shipped_shapes_are_a_fresh_decoding_of_the_topojson() -> None:
    codes, shapes = countries.decode_countries()
    shipped_codes, shipped = countries.unpack_shapes(countries.SHAPES_FILE.read_bytes())
    assert shipped_codes == codes
    assert len(codes) == 174 and {"NOR", "RUS", "FJI", "DEU"} <= set(codes)
    # the same coordinates, bit for bit, and the same geometry types
    assert all(shapely.equals_exact(shapes, shipped, tolerance=0.0))
    assert [g.geom_type for g in shipped] == [g.geom_type for g in shapes]
    assert countries.pack_shapes(codes, shapes) == countries.SHAPES_FILE.read_bytes()


def test_country_shapes_reads_the_shipped_file() -> None:
    loaded = countries.country_shapes()
    shipped_codes, _ = countries.unpack_shapes(countries.SHAPES_FILE.read_bytes())
    assert loaded.codes == shipped_codes
    # a point in Oslo, one in the open Atlantic
    found = loaded.locate(np.array([10.75, -30.0]), np.array([59.91, 40.0]))
    assert list(found) == ["NOR", ""]


def test_a_file_of_something_else_is_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="not a file of country shapes"):
        countries.unpack_shapes(b"GIF89a...")


def test_a_wider_tree_already_built_places_points_as_their_own_would() -> None:
    """`locate` at 22.2 km may reuse the outlines widened for 50 km (a superset): points on
    and off the coasts of the Baltic, the North Sea and the Norwegian Sea get the countries a
    tree widened for 22.2 km alone gives them."""
    shipped = countries.country_shapes()
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(-5.0, 32.0, 4000), rng.uniform(50.0, 72.0, 4000)

    def fresh() -> countries.CountryShapes:
        return countries.CountryShapes(shipped.codes, shipped.shapes, shipped.tree)

    assert len(lon) > countries.NEAR_QUERY_POINTS  # widened outlines, not the plain tree
    alone = fresh().locate(lon, lat, near_km=22.2)
    reused = fresh()
    reused.locate(lon, lat, near_km=50.0)
    assert list(reused.__dict__["_widened_trees"]) == [50.0 / countries.KM_PER_DEGREE]
    assert reused.locate(lon, lat, near_km=22.2).tolist() == alone.tolist()
    assert list(reused.__dict__["_widened_trees"]) == [50.0 / countries.KM_PER_DEGREE]
    assert (alone == "").any() and (alone != "").any()  # some at sea, some ashore


@pytest.mark.parametrize("near_km", [22.2, 50.0])
def test_a_few_points_get_the_countries_the_widened_outlines_give(near_km: float) -> None:
    """Up to NEAR_QUERY_POINTS points are placed from the outlines' own tree (no outline
    widened): on and off the coasts of the Baltic, the North Sea, the Norwegian Sea and the
    Mediterranean, the same countries as through the widened outlines, none built."""
    shipped = countries.country_shapes()
    rng = np.random.default_rng(11)
    n = countries.NEAR_QUERY_POINTS
    lon = np.r_[rng.uniform(-5.0, 32.0, n // 2), rng.uniform(-6.0, 36.0, n // 2)]
    lat = np.r_[rng.uniform(50.0, 72.0, n // 2), rng.uniform(30.0, 46.0, n // 2)]
    few = countries.CountryShapes(shipped.codes, shipped.shapes, shipped.tree)
    found = few.locate(lon, lat, near_km=near_km)
    assert "_widened_trees" not in few.__dict__
    widened = countries.CountryShapes(shipped.codes, shipped.shapes, shipped.tree)
    reach = near_km / countries.KM_PER_DEGREE
    widened._widened(reach)  # built first: `locate` takes it
    assert found.tolist() == widened.locate(lon, lat, near_km=near_km).tolist()
    near = (found != "") & ~np.asarray(
        shapely.contains_xy(shapely.union_all(shipped.shapes), lon, lat)
    )
    assert near.sum() > 20 and (found == "").sum() > 100  # near a coast at sea; far out at sea
