"""Routes: assets that are lines, not points (subsea cables, pipelines, power lines, shipping
lanes). A route follows a line of [lon, lat] positions; its exposure is found piece by piece
along the line, in each country and zone the line crosses, and combined by its rule:

    any_cut          damage = 1 - prod over places p (1 - d_p)
                     a cut anywhere cuts the whole route: the places act like independent
                     chances of failure (each place counted once, however long the route is
                     there)
    length_weighted  damage = sum over places p of share_p x d_p
                     each place damages the share of the route's length that lies there
                     (a lane that can be partly rerouted, a power line partly rebuilt)

where d_p is the damage ratio, for the asset's type, at the intensity of place p. A route's
loss is its exposed value times that damage, so it never exceeds its value. The pieces at sea
(outside every country) take the country of the landing they are nearer to, along the line.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from riskapp.domain.common import Identifier, Slug, Strict, UniqueList
from riskapp.domain.zones import Position

MAX_ROUTE_POINTS = 100_000
MAX_ROUTE_TEXT = 1_000_000  # characters of a route written as text (a WKT or a register cell)


class RouteRule(StrEnum):
    ANY_CUT = "any_cut"
    LENGTH_WEIGHTED = "length_weighted"


class Route(Strict):
    """The line an asset follows, from one end (landing) to the other."""

    asset_id: Identifier
    line: list[Position] = Field(min_length=2, max_length=MAX_ROUTE_POINTS)
    rule: RouteRule | None = Field(
        default=None,
        description="How the places along the route combine; default: the workspace's "
        "route_rules for the asset's type, else any_cut.",
    )

    @model_validator(mode="after")
    def _has_length(self) -> Route:
        if len(set(self.line)) < 2:
            raise ValueError(
                f"route of {self.asset_id!r}: expected at least 2 distinct points; got "
                f"{len(self.line)} point(s) at one position"
            )
        return self


class RouteBook(UniqueList):
    """The routes of a workspace's assets, one per asset at most."""

    unique_by = ("routes", ("asset_id",), "route of asset")
    routes: list[Route] = Field(default_factory=list)

    def __len__(self) -> int:
        return len(self.routes)

    @property
    def asset_ids(self) -> list[str]:
        return [r.asset_id for r in self.routes]


RouteRules = dict[Slug, RouteRule]
