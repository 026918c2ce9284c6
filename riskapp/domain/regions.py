"""Regions: ISO 3166-1 alpha-3 countries and named groups of them (Baltic, Nordic, ...); a
group may also hold zones (riskapp.domain.zones) by their ids."""

from __future__ import annotations

from pydantic import Field, model_validator

from riskapp.domain.common import PlaceCode, ShortText, Slug, Strict, Text, UniqueList

RegionMember = PlaceCode  # a country or a zone


class RegionGroup(Strict):
    """A named group of countries and zones; a country may belong to several groups."""

    id: Slug
    name: ShortText
    description: Text = ""
    members: list[RegionMember] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_members(self) -> RegionGroup:
        if len(set(self.members)) != len(self.members):
            dupes = sorted({m for m in self.members if self.members.count(m) > 1})
            raise ValueError(f"group {self.id!r} lists {', '.join(dupes)} more than once")
        return self


class RegionCatalogue(UniqueList):
    """The named region groups of a workspace."""

    unique_by = ("groups", ("id",), "region group id")
    groups: list[RegionGroup] = Field(default_factory=list)

    def members(self, target: str) -> list[str]:
        """What a target names: the country or zone itself, or the members of a group."""
        for group in self.groups:
            if group.id == target:
                return list(group.members)
        return [target]

    def is_group(self, target: str) -> bool:
        return any(g.id == target for g in self.groups)

    def groups_of(self, country: str) -> list[str]:
        return [g.id for g in self.groups if country in g.members]
