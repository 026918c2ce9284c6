"""A register mapping: how a client's asset spreadsheet maps onto riskapp's register columns
(`riskapp mapping suggest` writes one, `riskapp import --mapping` and `riskapp mapping apply`
read it; saved with the workspace, it is reused next quarter)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from riskapp.domain.assets import NUMBER_COLUMNS, REGISTER_COLUMNS, Currency
from riskapp.domain.common import CountryCode, Label, NoBool, ShortText, Slug, Strict

Header = Annotated[str, Field(min_length=1, max_length=200)]
SCALED = ("replacement_value", "annual_revenue_at_stake")  # columns `units` may scale


class RegisterMapping(Strict):
    """columns: register column -> the file's column header; units: a factor each scaled
    column is multiplied by (1000 for a column in thousands); defaults: a value for every row
    of a register column the file does not have; types: the file's asset type names ->
    register types (others are read as they are); countries: the file's country cells -> the
    ISO 3166-1 alpha-3 code a person confirmed ("Korea": KOR), kept for the next file."""

    columns: dict[str, Header] = Field(default_factory=dict)
    units: dict[str, Annotated[float, NoBool, Field(gt=0, le=1e12)]] = Field(default_factory=dict)
    defaults: dict[str, Label] = Field(default_factory=dict)
    currency: Currency | None = Field(
        default=None, description="Currency of every row without one (the file's, if uniform)."
    )
    types: dict[ShortText, Slug] = Field(default_factory=dict)
    countries: dict[ShortText, CountryCode] = Field(default_factory=dict)

    @field_validator("types", "countries", mode="before")
    @classmethod
    def _none_confirmed(cls, value: Any) -> Any:
        # `riskapp mapping suggest` writes what a person decides as comments under `types:`
        # and `countries:`: with none decided yet, the key holds nothing
        return {} if value is None else value

    @model_validator(mode="after")
    def _known_columns(self) -> RegisterMapping:
        known = ", ".join(REGISTER_COLUMNS)
        for part in ("columns", "defaults"):
            for key in getattr(self, part):
                if key not in REGISTER_COLUMNS:
                    raise ValueError(f"{part}: unknown register column {key!r}; expected {known}")
        for key in self.units:
            if key not in SCALED:
                raise ValueError(
                    f"units: {key!r} cannot be scaled; expected one of {', '.join(SCALED)}"
                )
        headers = list(self.columns.values())
        twice = sorted({h for h in headers if headers.count(h) > 1})
        if twice:
            raise ValueError(f"columns: the file's column {twice[0]!r} is mapped twice")
        both = sorted(set(self.columns) & set(self.defaults))
        if both:
            raise ValueError(f"{both[0]!r} has both a column and a default; keep one")
        return self


__all__ = ["NUMBER_COLUMNS", "SCALED", "RegisterMapping"]
