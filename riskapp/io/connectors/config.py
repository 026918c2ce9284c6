"""indicators.yaml: which indicator is fetched from where (`riskapp indicators fetch`).

    indicators:
      - id: pv_deu                      # the indicator as stored (id, name, unit, frequency,
        name: Political stability, DEU  #   source), then its connector and its parameters
        frequency: annual
        source: World Bank WGI
        connector: worldbank
        indicator_code: GOV_WGI_PV.EST
        country: DEU
        source_id: 3

Connectors: worldbank, eurostat, gpr, ucdp, http (see each model below). Base URLs, tokens,
proxies, timeouts and retries come from the Settings (RISKAPP_*), never from this file: the
generic `http` connector names a token by its name in RISKAPP_FETCH_TOKENS. Every problem
names the file, the line and the field."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, Field, ValidationError, field_validator, model_validator

from riskapp.domain.common import UniqueList
from riskapp.domain.indicators import Frequency, Indicator
from riskapp.io.errors import InputError, Problem, loc_to_field, pydantic_message
from riskapp.io.workspace import check_duplicates
from riskapp.io.yamlfile import LineMap, load_yaml

FEEDS_FILE = "indicators.yaml"
Code = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
_URL = re.compile(r"^https?://[^\s/]+(/[^\s]*)?$")


def _http_url(url: str) -> str:
    if not _URL.match(url):
        raise ValueError(f"expected an http:// or https:// URL; got {url[:80]!r}")
    return url


Url = Annotated[str, Field(max_length=2_000), AfterValidator(_http_url)]


class Feed(Indicator):
    """What every configured indicator has: the indicator as stored (id, name, unit,
    frequency, source), and its connector."""

    def indicator(self) -> Indicator:
        return Indicator.model_validate(self.model_dump(include=set(Indicator.model_fields)))


class WorldBankFeed(Feed):
    """World Bank API v2: one indicator of one country (annual, quarterly or monthly)."""

    connector: Literal["worldbank"]
    indicator_code: Code = Field(description="e.g. GOV_WGI_PV.EST or NY.GDP.MKTP.CD")
    country: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{2,3}$")] = Field(
        description="ISO 3166-1 alpha-3 (or alpha-2) code, or a World Bank aggregate code."
    )
    source_id: Annotated[int, Field(ge=1, le=999)] | None = Field(
        default=None, description="The API's source (database); WGI is 3."
    )
    since: Annotated[int, Field(ge=1900, le=2200)] | None = None


class EurostatFeed(Feed):
    """Eurostat dissemination API: one dataset, filtered down to one series (every dimension
    but time with a single category)."""

    connector: Literal["eurostat"]
    dataset: Code = Field(description="e.g. nrg_ti_gasm")
    filters: dict[Code, Code] = Field(
        default_factory=dict, description="Dimension code -> category code, e.g. geo: DE."
    )
    since: Annotated[str, Field(pattern=r"^\d{4}(-?[A-Z0-9]{1,3})?$")] | None = Field(
        default=None, description="sinceTimePeriod, e.g. 2020 or 2020-01."
    )


class GprFeed(Feed):
    """The Caldara-Iacoviello GPR monthly file: one column of it."""

    connector: Literal["gpr"]
    column: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{0,30}$")] = Field(
        default="GPR", description="GPR (headline), GPRT, GPRA, GPRC_<ISO3>, ..."
    )
    url: Url | None = Field(default=None, description="Default: RISKAPP_GPR_URL.")

    @field_validator("frequency")
    @classmethod
    def _monthly(cls, frequency: Frequency) -> Frequency:
        if frequency is not Frequency.MONTHLY:
            raise ValueError("the GPR file is monthly: expected frequency monthly")
        return frequency


class UcdpFeed(Feed):
    """UCDP GED events counted (or their best-estimate deaths summed) per period, for one
    country (Gleditsch-Ward number, filtered by the API) or one region (filtered here)."""

    connector: Literal["ucdp"]
    version: Annotated[str, Field(pattern=r"^\d{1,2}\.\d{1,2}$")] = Field(
        description="GED version, e.g. 25.1"
    )
    country_id: Annotated[int, Field(ge=2, le=999)] | None = Field(
        default=None, description="Gleditsch-Ward number, e.g. 369 (Ukraine)."
    )
    region: Literal["Africa", "Americas", "Asia", "Europe", "Middle East"] | None = None
    measure: Literal["events", "deaths"] = "events"
    start: date = Field(description="First day counted (StartDate).")
    end: date | None = None

    @field_validator("frequency")
    @classmethod
    def _periodic(cls, frequency: Frequency) -> Frequency:
        if frequency in (Frequency.IRREGULAR, Frequency.DAILY):
            raise ValueError("counts per period: expected weekly, monthly, quarterly or annual")
        return frequency

    @model_validator(mode="after")
    def _one_place(self) -> UcdpFeed:
        if (self.country_id is None) == (self.region is None):
            raise ValueError("expected either country_id or region (one of them)")
        return self


JSON_PATH = re.compile(r"^[A-Za-z0-9_\-]+(\[(\*|\d+)\])?(\.[A-Za-z0-9_\-]+(\[(\*|\d+)\])?)*$")


class HttpFeed(Feed):
    """Any CSV or JSON over HTTP: a period and a value column (CSV), or a JSON path to the
    list of items and the keys of period and value in each (JSON)."""

    connector: Literal["http"]
    url: Url
    format: Literal["csv", "json"]
    period: Annotated[str, Field(min_length=1, max_length=100)] = Field(
        description="Column (CSV) or key (JSON) of the period."
    )
    value: Annotated[str, Field(min_length=1, max_length=100)] = Field(
        description="Column (CSV) or key (JSON) of the value."
    )
    items: Annotated[str, Field(max_length=200)] = Field(
        default="",
        description="JSON: where the items are, e.g. data.items[*] (empty: the document is the "
        "list).",
    )
    period_format: Annotated[str, Field(max_length=40)] | None = Field(
        default=None,
        description="How the source writes dates (strptime, e.g. %d/%m/%Y); default: the "
        "period form of the frequency as it stands.",
    )
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ","
    token: Annotated[str, Field(max_length=64)] | None = Field(
        default=None, description="Name of a secret in RISKAPP_FETCH_TOKENS."
    )
    token_header: Annotated[str, Field(pattern=r"^[A-Za-z0-9\-]{1,64}$")] = Field(
        default="Authorization",
        description="Header the token goes in (Authorization: sent as 'Bearer <token>').",
    )

    @field_validator("items")
    @classmethod
    def _path(cls, path: str) -> str:
        if path and not JSON_PATH.match(path):
            raise ValueError(
                "expected a JSON path of keys and list steps such as data.items[*] or "
                f"result[0].rows[*]; got {path!r}"
            )
        return path


FeedEntry = Annotated[
    WorldBankFeed | EurostatFeed | GprFeed | UcdpFeed | HttpFeed,
    Field(discriminator="connector"),
]
CONNECTORS = ("worldbank", "eurostat", "gpr", "ucdp", "http")


class FeedFile(UniqueList):
    """indicators.yaml."""

    unique_by: ClassVar[tuple[str, tuple[str, ...], str]] = ("indicators", ("id",), "indicator id")
    indicators: Annotated[list[FeedEntry], Field(max_length=10_000)]


def load_feeds(path: Path, name: str | None = None) -> tuple[FeedFile, LineMap]:
    """indicators.yaml read and checked; InputError with every problem (line and field)."""
    name = name or str(path)
    data, lines = load_yaml(path, name)
    if not isinstance(data, dict):
        raise InputError(
            [Problem(name, 1, "", "expected a mapping with a list under 'indicators'")]
        )
    check_duplicates(data, lines, FeedFile, name)
    try:
        return FeedFile.model_validate(data), lines
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            # a connector's own model shows in the location as its tag: not a YAML key
            if len(loc) > 2 and loc[0] == "indicators" and loc[2] in CONNECTORS:
                loc = loc[:2] + loc[3:]
            message = pydantic_message(err)
            if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
                loc = (*loc, "connector")
                tag = err.get("ctx", {}).get("tag")
                message = (
                    f"unknown connector {tag!r}; " if tag is not None else "required field; "
                ) + f"expected one of {', '.join(CONNECTORS)}"
            problems.append(Problem(name, lines.line(loc), loc_to_field(loc), message))
        raise InputError(problems) from None


def select(feeds: FeedFile, ids: list[str], name: str) -> list[FeedEntry]:
    """The configured indicators `ids` names (all when empty); InputError for unknown ids."""
    if not ids:
        return list(feeds.indicators)
    known = {f.id: f for f in feeds.indicators}
    unknown = [i for i in ids if i not in known]
    if unknown:
        listed = ", ".join(sorted(known)) or "none"
        raise InputError(
            [
                Problem(name, None, "id", f"no indicator {i!r} configured; configured: {listed}")
                for i in unknown
            ]
        )
    return [known[i] for i in dict.fromkeys(ids)]
