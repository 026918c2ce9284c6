"""Routes in the engine: a line asset scored piece by piece in the countries and zones it
crosses, combined by its rule, worked out by hand on the tiny workspace, and properties.

Tiny (tests/data/tiny): plant curves alpha d = I/10, beta 0 up to 2 then linear to 0.4 at 6;
baseline alpha/beta NOR 2/1, FIN 4/3, DEU 1/0. P2 is a plant in Helsinki exposed 250. Here it
becomes a route from Helsinki north through Finland to Tromsø in Norway: alpha 0.4 in Finland,
0.2 in Norway; beta 0.1 in Finland, 0 in Norway.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskapp.domain import Workspace
from riskapp.domain.routes import Route, RouteBook, RouteRule
from riskapp.domain.zones import Geometry, Zone, ZoneCatalogue
from riskapp.engine import prepare, score
from riskapp.engine.countries import country_shapes
from riskapp.engine.montecarlo import simulate
from riskapp.engine.routes import cut
from tests.engine.test_montecarlo import reference_trials
from tests.engine.test_zones import scenario

HEL_TROMSO = [(24.93, 60.17), (25.5, 65.0), (24.0, 68.0), (21.0, 69.0), (18.95, 69.65)]


def routed(ws: Workspace, line: list[tuple[float, float]], rule: RouteRule | None = None,
           **kw: object) -> Workspace:  # fmt: skip
    route = Route(asset_id="P2", line=line, rule=rule)
    return dataclasses.replace(ws, routes=RouteBook(routes=[route]), **kw)  # type: ignore[arg-type]


def p2_loss(ws: Workspace, scenario_id: str = "base") -> float:
    r = score(ws)
    p2 = list(ws.portfolio.ids).index("P2")
    return float(r.asset_loss()[p2, r.scenario_ids.index(scenario_id)])


def test_pieces_measure_the_line_on_the_ellipsoid() -> None:
    pieces = cut([[(24.9, 60.0), (24.9, 61.0)], [(0.0, 0.0), (1.0, 0.0)]], piece_km=10)
    lengths = pieces.route_length(2)
    assert lengths == pytest.approx([111.4, 111.3], abs=0.2)  # a degree of latitude / longitude
    assert pieces.length_km.max() <= 10.0 + 1e-9
    # the distance along the route to each piece's midpoint grows from 0 to the route's length
    first = pieces.along_km[pieces.route == 0]
    assert first[0] == pytest.approx(pieces.length_km[0] / 2)
    assert np.all(np.diff(first) > 0) and first[-1] < lengths[0]


def test_countries_along_a_route() -> None:
    shapes = country_shapes()
    lon, lat = np.array(HEL_TROMSO).T
    assert shapes.locate(lon, lat).tolist() == ["FIN", "FIN", "FIN", "FIN", "NOR"]


def test_a_cut_anywhere_cuts_the_route(tiny: Workspace) -> None:
    ws = routed(tiny, HEL_TROMSO)
    inputs = prepare(ws)
    assert inputs.routes is not None
    assert inputs.routes.start_country.tolist() == ["FIN"]
    assert inputs.routes.end_country.tolist() == ["NOR"]
    # places crossed: Finland and Norway (a piece in Sweden, which has no baseline here,
    # would take the nearer landing's country)
    parts = inputs.routes.table.parts
    countries = {inputs.countries[c] for c in inputs.places.country[parts.place].tolist()}
    assert countries == {"FIN", "NOR"}
    # alpha 1 - 0.6 x 0.8 = 0.52, beta 1 - 0.9 x 1 = 0.1; combined 1 - 0.48 x 0.9 = 0.568
    assert p2_loss(ws) == pytest.approx(250 * 0.568)


def test_length_weighted_routes_share_by_length(tiny: Workspace) -> None:
    ws = routed(tiny, HEL_TROMSO, RouteRule.LENGTH_WEIGHTED)
    inputs = prepare(ws)
    assert inputs.routes is not None
    parts = inputs.routes.table.parts
    share = dict(
        zip(
            [inputs.countries[c] for c in inputs.places.country[parts.place].tolist()],
            parts.share.tolist(),
            strict=True,
        )
    )
    assert sum(share.values()) == pytest.approx(1.0)
    assert 0.7 < share["FIN"] < 0.95  # most of Helsinki-Tromsø lies in Finland
    alpha = share["FIN"] * 0.4 + share["NOR"] * 0.2
    beta = share["FIN"] * 0.1
    assert p2_loss(ws) == pytest.approx(250 * (1 - (1 - alpha) * (1 - beta)))
    # by the workspace's rule for the type, too
    by_type = dataclasses.replace(
        tiny,
        routes=RouteBook(routes=[Route(asset_id="P2", line=HEL_TROMSO)]),
        settings=tiny.settings.model_copy(update={"route_rules": {"plant": "length_weighted"}}),
    )
    assert p2_loss(by_type) == pytest.approx(p2_loss(ws))


def test_a_route_in_one_country_scores_as_a_point_there(tiny: Workspace) -> None:
    inside = [(24.93, 60.17), (25.5, 62.0), (27.0, 63.0)]
    for rule in RouteRule:
        assert p2_loss(routed(tiny, inside, rule)) == pytest.approx(p2_loss(tiny))


def test_zones_along_a_route(tiny: Workspace) -> None:
    # a circle around Oulu, crossed by the route: alpha + 4 there in scenario "up"
    oulu = Zone(
        id="oulu",
        name="Oulu",
        geometry=Geometry(type="Point", coordinates=(25.47, 65.01)),
        within_km=60,
    )
    shock = {"target": "oulu", "factor": "alpha", "op": "add", "value": 4}
    ws = routed(
        tiny,
        HEL_TROMSO,
        zones=ZoneCatalogue(zones=[oulu]),
        scenarios=[scenario([], sid="base", frequency=0.5), scenario([shock], sid="up")],
    )
    # in "up" the Oulu part has alpha 8: Finland's stretch counts once, at its worst part
    # (0.8, not 0.4 and 0.8 as two chances): alpha 1 - (1 - 0.8)(1 - 0.2) = 0.84, beta 0.1
    assert p2_loss(ws, "up") == pytest.approx(250 * (1 - (1 - 0.84) * 0.9))
    # where the zone does nothing the route scores as without it
    assert p2_loss(ws, "base") == pytest.approx(250 * 0.568)


def test_the_monte_carlo_draws_routes_as_the_deterministic_engine(tiny: Workspace) -> None:
    oulu = Zone(
        id="oulu",
        name="Oulu",
        geometry=Geometry(type="Point", coordinates=(25.47, 65.01)),
        within_km=60,
    )
    ranged = {"target": "oulu", "factor": "alpha", "op": "add", "value": 2,
              "range": {"low": 0, "mode": 2, "high": 5}}  # fmt: skip
    nor = {"target": "NOR", "factor": "beta", "op": "set", "value": 5,
           "range": {"low": 3, "mode": 5, "high": 8}}  # fmt: skip
    ws = routed(
        tiny,
        HEL_TROMSO,
        zones=ZoneCatalogue(zones=[oulu]),
        scenarios=[*tiny.scenarios, scenario([ranged, nor], sid="north", frequency=0.3)],
    )
    r = simulate(ws, 300, seed=3)
    busy = np.argsort(-r.occurs.sum(axis=1), kind="stable")[:8].tolist()
    reference_trials(ws, r, busy, [])


@settings(max_examples=25, deadline=None)
@given(
    filed=st.sampled_from(["FIN", "NOR", "DEU"]),
    rule=st.sampled_from(list(RouteRule)),
)
def test_the_country_a_route_is_filed_under_does_not_matter(
    tiny: Workspace, filed: str, rule: RouteRule
) -> None:
    frame = tiny.portfolio.frame
    frame.loc[frame["id"] == "P2", "country"] = filed
    refiled = dataclasses.replace(tiny, portfolio=type(tiny.portfolio).from_frame(frame))
    assert p2_loss(routed(refiled, HEL_TROMSO, rule)) == pytest.approx(
        p2_loss(routed(tiny, HEL_TROMSO, rule))
    )


@settings(max_examples=25, deadline=None)
@given(
    points=st.lists(
        st.tuples(st.floats(5, 30), st.floats(55, 70)), min_size=2, max_size=6, unique=True
    ),
    rule=st.sampled_from(list(RouteRule)),
)
def test_a_route_never_loses_more_than_its_value(
    tiny: Workspace, points: list[tuple[float, float]], rule: RouteRule
) -> None:
    ws = routed(tiny, points, rule)
    r = score(ws)
    assert (r.asset_loss() <= r.inputs.exposed_value[:, np.newaxis] + 1e-9).all()
    assert (r.damage >= 0).all() and (r.damage <= 1).all()


def test_routes_of_different_lengths_are_cut_together() -> None:
    lines = [[(24.9, 60.0), (24.9, 61.0)], [(0.0, 0.0), (0.5, 0.0), (1.0, 0.0)]]
    pieces = cut(lines, piece_km=10)
    assert pieces.route_length(2) == pytest.approx([111.4, 111.3], abs=0.2)
