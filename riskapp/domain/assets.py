"""Assets (exposure): what a company owns or depends on, where it is and what it is worth."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from riskapp.domain.common import (
    PRINTABLE,
    CountryCode,
    Identifier,
    Label,
    NoBool,
    NonNegative,
    Probability,
    ShortText,
    Slug,
    Strict,
    UniqueList,
    check_subdivision,
    subdivision_country,
    subdivision_name,
)
from riskapp.domain.routes import MAX_ROUTE_TEXT


def check_currency(value: str) -> str:
    if not (len(value) == 3 and value.isascii() and value.isalpha() and value.isupper()):
        raise ValueError(f"expected an ISO 4217 currency code such as EUR; got {value!r}")
    return value


Currency = Annotated[
    str, AfterValidator(check_currency), Field(description="ISO 4217 code, e.g. EUR")
]

ASSET_COLUMNS = [
    "id",
    "name",
    "type",
    "country",
    "lat",
    "lon",
    "replacement_value",
    "annual_revenue_at_stake",
    "currency",
    "criticality",
    "tags",
    "owner",
    "depends_on",
    "subdivision",
    "route",
]
# read from a register file to place its rows, not kept (riskapp.io.locations)
INPUT_COLUMNS = ("city",)
REGISTER_COLUMNS = [*ASSET_COLUMNS, *INPUT_COLUMNS]  # the columns a register file may hold
LIST_COLUMNS = ("tags", "depends_on")  # ';'-separated in a file, lists in the table
NUMBER_COLUMNS = ("lat", "lon", "replacement_value", "annual_revenue_at_stake", "criticality")
TEXT_COLUMNS = tuple(c for c in ASSET_COLUMNS if c not in NUMBER_COLUMNS + LIST_COLUMNS)


class Asset(Strict):
    """One asset of the register.

    Its exposed value is `replacement_value + annual_revenue_at_stake` (one year of revenue that
    a disruption could cut off), converted to the workspace currency.
    """

    # its validator is built on first use: a register file is checked column by column
    # (riskapp.io.columnar) and a row validated as an Asset only where that finds a problem,
    # so `riskapp validate` and the dashboard's start need not build it
    model_config = ConfigDict(defer_build=True)

    id: Identifier
    name: ShortText
    type: Slug = Field(description="Asset type, e.g. plant, office, data_centre, subsea_cable.")
    country: CountryCode
    lat: Annotated[float, NoBool, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, NoBool, Field(ge=-180, le=180)] | None = None
    replacement_value: NonNegative = Field(description="Cost to replace the asset, in `currency`.")
    annual_revenue_at_stake: NonNegative = Field(
        default=0.0, description="Annual revenue that depends on the asset, in `currency`."
    )
    currency: Currency = "EUR"
    criticality: Annotated[int, NoBool, Field(ge=1, le=5)] = 3
    tags: list[Slug] = Field(default_factory=list)
    owner: Label = ""
    depends_on: list[Identifier] = Field(default_factory=list)
    subdivision: str = Field(
        default="",
        description="ISO 3166-2 code of the sub-national region it lies in, e.g. NO-54.",
    )
    route: Annotated[str, Field(max_length=MAX_ROUTE_TEXT, pattern=PRINTABLE)] = Field(
        default="",
        description="The line a cable, pipeline, power line or lane follows: a WKT LINESTRING "
        "or a JSON list of [longitude, latitude] positions (checked with the workspace).",
    )

    @field_validator("lon")
    @classmethod
    def _coordinates_together(cls, lon: float | None, info: ValidationInfo) -> float | None:
        if "lat" in info.data and (info.data["lat"] is None) != (lon is None):
            raise ValueError("give both lat and lon, or neither")
        return lon

    @field_validator("depends_on")
    @classmethod
    def _not_itself(cls, deps: list[str], info: ValidationInfo) -> list[str]:
        asset_id = info.data.get("id")
        if asset_id in deps:
            raise ValueError(f"asset {asset_id!r} cannot depend on itself")
        return deps

    @field_validator("subdivision")
    @classmethod
    def _subdivision_of_its_country(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip()
        if not value:
            return ""
        code = check_subdivision(value)
        country = info.data.get("country")
        if country and subdivision_country(code) != country:
            raise ValueError(
                f"subdivision {code} ({subdivision_name(code)}) lies in "
                f"{subdivision_country(code)}, not in the row's country {country}"
            )
        return code


PEEL_ROUNDS = 64


def peels_bare(source: np.ndarray, target: np.ndarray, n: int) -> bool:
    """Whether the graph of `n` nodes with edges source[k] -> target[k] (node numbers; an
    edge to -1 leads nowhere) surely has no cycle: edges into nodes with no edge out are
    peeled off, round by round, and a graph peeled bare within PEEL_ROUNDS rounds (real
    registers are a few links deep) is acyclic. False means 'look with find_cycle', which finds
    and words the cycle if there is one: a few array passes where find_cycle walks every
    node in Python (10-15 ms for 10,000 links)."""
    keep = target >= 0
    source, target = source[keep], target[keep]
    for _ in range(PEEL_ROUNDS):
        if not len(source):
            return True
        depends = np.zeros(n, dtype=bool)
        depends[source] = True
        keep = depends[target]
        if keep.all():
            return False  # every remaining edge leads to a node with more edges out
        source, target = source[keep], target[keep]
    return not len(source)


def find_cycle(edges: Mapping[str, Sequence[str]]) -> list[str] | None:
    """Return one dependency cycle as a list of ids (first id repeated at the end), or None."""
    white, grey, black = 0, 1, 2
    colour: dict[str, int] = dict.fromkeys(edges, white)
    for start in edges:
        if colour[start] != white:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = [start]
        colour[start] = grey
        while stack:
            node, idx = stack[-1]
            targets = edges.get(node, ())
            if idx < len(targets):
                stack[-1] = (node, idx + 1)
                nxt = targets[idx]
                state = colour.get(nxt, black)
                if state == grey:
                    return [*path[path.index(nxt) :], nxt]
                if state == white:
                    colour[nxt] = grey
                    stack.append((nxt, 0))
                    path.append(nxt)
            else:
                colour[node] = black
                stack.pop()
                path.pop()
    return None


def id_index(ids: Any) -> pd.Index:
    """Ids (or any text values) as an index of Python strings, for membership and lookups
    (`isin`, `get_indexer`) against many values: pandas' Arrow-backed strings (the `str` dtype
    the register's text columns hold) look each value up one by one there, about 0.4 s per
    100,000 values where a hash table of Python strings takes 0.01 s."""
    index: pd.Index = pd.Index(np.asarray(ids, dtype=object), dtype=object)
    return index


def text_codes(column: Any, values: Sequence[str]) -> np.ndarray:
    """Each cell's position among `values` (-1 where it is none of them; the first of a value
    listed twice): `pd.Index(values).get_indexer(column)` as one hashed pass in Arrow. On a
    register's Arrow-backed text column of 1,000,000 cells 5-25 ms, where pandas takes
    0.1 s building an index of the column. Cells that are not text go through pandas."""
    import pyarrow as pa
    import pyarrow.compute as pc

    wanted = [str(v) for v in values]
    try:
        cells = column if isinstance(column, pa.Array | pa.ChunkedArray) else pa.array(column)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        cells = None
    if cells is None or not (
        pa.types.is_string(cells.type) or pa.types.is_large_string(cells.type)
    ):
        first: dict[str, int] = {}
        for i, v in enumerate(wanted):
            first.setdefault(v, i)
        at = np.fromiter(first.values(), dtype=np.int64, count=len(first))
        hit = pd.Index(list(first), dtype=object).get_indexer(id_index(column))
        return np.where(hit >= 0, at[np.maximum(hit, 0)], -1).astype(np.int64)
    found = pc.index_in(cells, value_set=pa.array(wanted, type=pa.string()))
    return np.asarray(pc.fill_null(found, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def rows_of(column: Any, values: Sequence[str]) -> np.ndarray:
    """Each of `values`' row in the text column `column` (-1 where it is in no row; the first
    row of a value that repeats): `pd.Index(column).get_indexer(values)` for a few values
    looked up in a long column, without an index of the whole column."""
    codes = text_codes(column, values)
    out = np.full(len(values), -1, dtype=np.int64)
    hit = np.flatnonzero(codes >= 0)[::-1]  # the first row written last
    out[codes[hit]] = hit
    # a value listed twice: `codes` names its first listing
    return out[text_codes(list(values), values)] if len(values) else out


def pack_rows(mask: np.ndarray) -> str:
    """A row mask as text, for a frame's attrs: pandas compares attrs with == and deep-copies
    them on most operations (an array breaks the one, a list of a million ids slows the
    other), and Streamlit writes them as JSON; '' when no row is set."""
    import base64

    mask = np.asarray(mask, dtype=bool)
    return base64.b64encode(np.packbits(mask).tobytes()).decode("ascii") if mask.any() else ""


def unpack_rows(packed: str, n: int) -> np.ndarray:
    """The row mask `pack_rows` packed, for `n` rows (all False for '')."""
    import base64

    if not packed:
        return np.zeros(n, dtype=bool)
    raw = np.frombuffer(base64.b64decode(packed), dtype=np.uint8)
    return np.unpackbits(raw, count=n).astype(bool)


class Portfolio:
    """A validated asset register held column-wise (one row per asset) for the engine.

    Build it with `Portfolio.from_assets` (validated models) or `Portfolio.from_frame` (columns
    already checked, e.g. a synthetic benchmark portfolio).
    """

    __slots__ = ("_frame",)

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    @staticmethod
    def frame_of(assets: Iterable[Asset]) -> pd.DataFrame:
        records = [a.model_dump() for a in assets]
        return pd.DataFrame.from_records(records, columns=ASSET_COLUMNS)

    @classmethod
    def from_assets(cls, assets: Iterable[Asset]) -> Portfolio:
        return cls.from_frame(cls.frame_of(assets))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Portfolio:
        """Wrap a frame with the asset columns; checks ids, dependencies and cycles. A frame
        without the later optional columns `subdivision` and `route` has them empty."""
        for optional in ("subdivision", "route"):
            if optional not in frame.columns:
                frame = frame.assign(**{optional: ""})
        missing = [c for c in ASSET_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"portfolio is missing columns: {', '.join(missing)}")
        frame = frame[ASSET_COLUMNS].reset_index(drop=True)
        ids = frame["id"]
        dupes = ids[ids.duplicated()].unique().tolist()
        if dupes:
            raise ValueError(f"asset id {dupes[0]!r} is used more than once")
        known = set(ids.tolist())
        edges: dict[str, list[str]] = {}
        for asset_id, deps in zip(ids.tolist(), frame["depends_on"].tolist(), strict=True):
            if deps:
                for dep in deps:
                    if dep not in known:
                        raise ValueError(
                            f"asset {asset_id!r} depends on {dep!r}, which is not in the register"
                        )
                edges[asset_id] = list(deps)
        cycle = find_cycle(edges)
        if cycle:
            raise ValueError("dependency cycle: " + " -> ".join(cycle))
        return cls(frame)

    @property
    def frame(self) -> pd.DataFrame:
        """The register, one row per asset (a copy: the portfolio itself never changes)."""
        return self._frame.copy()

    def __len__(self) -> int:
        return len(self._frame)

    @property
    def location_notes(self) -> list[str]:
        """What reading the register's locations converted (riskapp.io.locations), as notes."""
        return list(self._frame.attrs.get("location_notes", ()))

    @property
    def approximate(self) -> frozenset[str]:
        """Ids of the assets whose coordinates are approximate (their city's centre)."""
        return frozenset(self._frame.attrs.get("approximate", ()))

    @property
    def subdivision_read(self) -> frozenset[str]:
        """Ids of the assets whose subdivision was read from their coordinates (not named in
        the register: riskapp.io.locations, riskapp.io.subdivisions)."""
        read = unpack_rows(self._frame.attrs.get("subdivision_read", ""), len(self._frame))
        return frozenset(self._frame["id"].to_numpy(dtype=object)[read].tolist())

    @property
    def ids(self) -> np.ndarray:
        return self._frame["id"].to_numpy(dtype=object)

    def column(self, name: str) -> np.ndarray:
        return self._frame[name].to_numpy()

    def series(self, name: str) -> pd.Series:
        """One column, read-only by convention (no copy of the register)."""
        return self._frame[name]

    def exposed_value(self, fx_to_reporting: dict[str, float]) -> np.ndarray:
        """Replacement value plus annual revenue at stake, in the reporting currency."""
        codes, currencies = pd.factorize(self._frame["currency"])
        unknown = sorted(str(c) for c in currencies if c not in fx_to_reporting)
        if unknown:
            raise ValueError(f"no exchange rate for currency {', '.join(unknown)}")
        rates = np.array([fx_to_reporting[str(c)] for c in currencies], dtype=float)
        total = self._frame["replacement_value"].to_numpy(float) + self._frame[
            "annual_revenue_at_stake"
        ].to_numpy(float)
        result: np.ndarray = total * rates[codes]
        return result


class DependencyLink(Strict):
    """How much of an asset's exposed value rides on one of the assets it depends on.

    `share` (0-1) is the fraction of the dependent's exposed value that is lost when the asset
    it depends on is fully damaged (a plant that cannot work without a port: the revenue the
    port carries; a data centre on a cable: what the connection is worth). The link must be
    listed in the asset's `depends_on`; a `depends_on` entry without a link carries no share
    and propagates no loss. Links of one asset that name the same `redundancy_group` are
    redundant (two independent cables): the asset loses the group's share only as far as all
    of them fail together. The members of a group state the same share.
    """

    asset_id: Identifier = Field(description="The dependent asset.")
    depends_on: Identifier = Field(description="The asset it depends on.")
    share: Probability = Field(
        description="Fraction of the dependent's exposed value lost if the link fails fully."
    )
    redundancy_group: Slug | None = Field(
        default=None,
        description="Links of one asset with the same group back each other up: all must fail.",
    )


class DependencyTable(UniqueList):
    """The per-link shares of the dependency graph (optional workspace file)."""

    unique_by = ("links", ("asset_id", "depends_on"), "dependency")
    links: list[DependencyLink] = Field(default_factory=list)

    @model_validator(mode="after")
    def _groups_share_one_share(self) -> DependencyTable:
        shares: dict[tuple[str, str], float] = {}
        for link in self.links:
            if link.redundancy_group is None:
                continue
            key = (link.asset_id, link.redundancy_group)
            if shares.setdefault(key, link.share) != link.share:
                raise ValueError(
                    f"redundancy group {link.redundancy_group!r} of asset {link.asset_id!r} "
                    f"states different shares ({shares[key]:g} and {link.share:g}); its links "
                    "share one share"
                )
        return self

    def problems(self, portfolio: Portfolio) -> list[tuple[int, str, str]]:
        """(link index, field, message) for each link that does not match the register: both
        ends must be assets of it. A link need not be listed in the register's depends_on too
        (the register's depends_on is completed from the links where a workspace is read)."""
        ids = portfolio.series("id")
        owner_at = rows_of(ids, [link.asset_id for link in self.links])
        target_at = rows_of(ids, [link.depends_on for link in self.links])
        out: list[tuple[int, str, str]] = []
        for i, link in enumerate(self.links):
            if owner_at[i] < 0:
                out.append((i, "asset_id", f"no asset {link.asset_id!r} in the register"))
            elif target_at[i] < 0:
                out.append((i, "depends_on", f"no asset {link.depends_on!r} in the register"))
            elif link.depends_on == link.asset_id:
                out.append((i, "depends_on", f"asset {link.asset_id!r} cannot depend on itself"))
        return out
