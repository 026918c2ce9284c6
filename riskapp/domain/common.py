"""Shared building blocks of the domain models: strict base model, identifiers, countries."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Annotated, Any, ClassVar

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

INTENSITY_MIN = 0.0
INTENSITY_MAX = 10.0


class Strict(BaseModel):
    """Frozen model that rejects unknown fields, NaN and infinity."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
_SLUG_RE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


def _check_id(value: str) -> str:
    if not _ID_RE.match(value):
        raise ValueError(
            "expected an identifier of 1-64 letters, digits, '_', '.' or '-', "
            f"starting with a letter or digit; got {value!r}"
        )
    return value


def check_slug(value: str) -> str:
    if not _SLUG_RE.match(value):
        raise ValueError(
            "expected a lower-case identifier (a-z, 0-9, '_', starting with a letter, "
            f"at most 48 characters); got {value!r}"
        )
    return value


@lru_cache(maxsize=1)
def iso_alpha3_codes() -> frozenset[str]:
    """All ISO 3166-1 alpha-3 country codes known to pycountry."""
    return frozenset(c.alpha_3 for c in pycountry.countries)


@lru_cache(maxsize=1024)  # tables call it once per asset row; a few hundred codes exist
def country_name(code: str) -> str:
    """The common English name of an ISO 3166-1 alpha-3 code (the code itself if unknown)."""
    country = pycountry.countries.get(alpha_3=code)
    if country is None:
        return code
    return str(getattr(country, "common_name", None) or country.name)


def _check_country(value: str) -> str:
    code = value.strip().upper()
    if code not in iso_alpha3_codes():
        raise ValueError(f"expected an ISO 3166-1 alpha-3 country code such as DEU; got {value!r}")
    return code


_SUBDIVISION_RE = re.compile(r"^[A-Za-z]{2}-[A-Za-z0-9]{1,3}$")


@lru_cache(maxsize=1)
def _subdivision_records() -> list[dict[str, str]]:
    """pycountry's ISO 3166-2 entries as plain records (code, name, parent), read from its own
    database file: pycountry makes an object of each of the 5,046 entries (about 0.03-0.09 s
    on a first use, paid by every process that checks one subdivision code); the file alone
    is read in 0.007 s. Through pycountry's objects if its file is not where it keeps it."""
    import json
    from pathlib import Path

    path = Path(pycountry.DATABASE_DIR) / "iso3166-2.json"
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["3166-2"]
    except (OSError, ValueError, KeyError):
        entries = [
            {"code": s.code, "name": s.name, "parent": s.parent_code or ""}
            for s in pycountry.subdivisions
        ]
    records = []
    for e in entries:
        code, parent = str(e["code"]), str(e.get("parent") or "")
        if parent and "-" not in parent:  # pycountry's parent_code: the parent's full code
            parent = f"{code.partition('-')[0]}-{parent}"
        records.append({"code": code, "name": str(e["name"]), "parent": parent})
    return records


@lru_cache(maxsize=1)
def _subdivision_names() -> dict[str, str]:
    return {r["code"]: r["name"] for r in _subdivision_records()}


def iso_subdivision_codes() -> frozenset[str]:
    """All ISO 3166-2 subdivision codes known to pycountry (e.g. NO-54, PL-20)."""
    return frozenset(_subdivision_names())


def looks_like_subdivision(value: str) -> bool:
    """Shaped like an ISO 3166-2 code (two letters, a hyphen, 1-3 letters or digits): no
    country code or zone id has a hyphen, so the shape alone tells them apart."""
    return bool(_SUBDIVISION_RE.match(value.strip()))


def subdivision_name(code: str) -> str:
    """The ISO 3166-2 name of a subdivision code (the code itself if unknown)."""
    return _subdivision_names().get(code, code)


@lru_cache(maxsize=1)
def _subdivision_parents() -> dict[str, str]:
    return {r["code"]: r["parent"] for r in _subdivision_records() if r["parent"]}


def subdivision_chain(code: str) -> tuple[str, ...]:
    """A subdivision code and its parents, nearest first (FR-75C, FR-IDF): a subdivision lies
    in each of them (ISO 3166-2's hierarchy as pycountry gives it)."""
    parents = _subdivision_parents()
    chain = [code]
    while (parent := parents.get(chain[-1])) is not None and parent not in chain:
        chain.append(parent)
    return tuple(chain)


def subdivision_country(code: str) -> str:
    """The ISO 3166-1 alpha-3 code of the country a subdivision code belongs to ('' if none):
    a known code from the table of them all (a dict lookup, a tenth of the time of pycountry's
    own lookup, which every asset's subdivision check makes), any other by its first two
    letters."""
    known = subdivision_countries().get(code.upper())
    if known is not None:
        return known
    country = pycountry.countries.get(alpha_2=code[:2].upper())
    return str(country.alpha_3) if country is not None else ""


@lru_cache(maxsize=1)
def subdivision_countries() -> dict[str, str]:
    """Every ISO 3166-2 code known to pycountry -> the alpha-3 code of its country (for
    checking a register's subdivision column against its country column in one pass)."""
    alpha3 = {str(c.alpha_2): str(c.alpha_3) for c in pycountry.countries}
    return {code: alpha3.get(code[:2], "") for code in _subdivision_names()}


def check_subdivision(value: str) -> str:
    """An ISO 3166-2 subdivision code known to pycountry, upper-cased; an unknown one is
    refused with the closest codes or names of that country."""
    code = value.strip().upper()
    if not _SUBDIVISION_RE.match(code):
        raise ValueError(
            f"expected an ISO 3166-2 subdivision code such as NO-54 or PL-20; got {value!r}"
        )
    if code not in _subdivision_names():
        import difflib

        same = sorted(c for c in _subdivision_names() if c.startswith(code[:3]))
        near = difflib.get_close_matches(code, same, n=3, cutoff=0.6)
        if not same:
            hint = f" (no country has the ISO 3166-1 alpha-2 code {code[:2]!r})"
        elif near:
            hint = (
                "; did you mean " + " or ".join(f"{c} ({subdivision_name(c)})" for c in near) + "?"
            )
        else:
            hint = f"; {code[:2]} has {len(same)} subdivisions, e.g. " + ", ".join(
                f"{c} ({subdivision_name(c)})" for c in same[:3]
            )
        raise ValueError(f"unknown ISO 3166-2 subdivision code {value!r}{hint}")
    return code


def subdivision_for_name(text: str, country: str = "") -> str | None:
    """The code of a subdivision named `text` (exactly, ignoring case), in an alpha-3
    country if given: for "did you mean" when a name stands where a code belongs."""
    wanted = text.strip().lower()
    prefix = ""
    if country:
        found = pycountry.countries.get(alpha_3=country.upper())
        prefix = str(found.alpha_2) + "-" if found is not None else ""
    for code, name in _subdivision_names().items():
        if name.lower() == wanted and code.startswith(prefix):
            return code
    return None


def check_zone_id(value: str) -> str:
    """A zone's id: a lower-case slug (the workspace's own zones, sea areas) or an ISO 3166-2
    subdivision code (a sub-national region)."""
    if looks_like_subdivision(value):
        return check_subdivision(value)
    return check_slug(value)


def check_place(value: str) -> str:
    """An ISO 3166-1 alpha-3 country code (upper-cased), an ISO 3166-2 subdivision code
    (upper-cased) or a zone id (a lower-case slug)."""
    code = value.strip().upper()
    if len(code) == 3 and code in iso_alpha3_codes():
        return code
    if looks_like_subdivision(value):
        return check_subdivision(value)
    try:
        return check_slug(value)
    except ValueError:
        raise ValueError(
            "expected an ISO 3166-1 alpha-3 country code such as DEU, an ISO 3166-2 "
            f"subdivision code such as NO-54 or a zone id such as baltic_sea; got {value!r}"
        ) from None


def _check_finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {str(value).lower()}")
    return value


NoBool = BeforeValidator(_no_bool)
"""Refuse true/false where a number is expected (YAML reads `yes` as true)."""


def duplicate_positions(
    items: Sequence[Any], key_fields: tuple[str, ...]
) -> list[tuple[int, int, tuple[Any, ...]]]:
    """(index, index of first occurrence, key) of every entry whose key repeats an earlier one.

    Works on raw mappings (as read from a file) and on models alike.
    """
    seen: dict[tuple[Any, ...], int] = {}
    out = []
    for i, item in enumerate(items):
        if isinstance(item, dict):
            key = tuple(item.get(k) for k in key_fields)
        else:
            key = tuple(getattr(item, k, None) for k in key_fields)
        if key in seen:
            out.append((i, seen[key], key))
        else:
            seen[key] = i
    return out


def describe_key(label: str, keys: tuple[str, ...], key: tuple[Any, ...]) -> str:
    """'plan id 'x'' for one key field; 'curve for asset_type 'plant', factor 'a'' for several."""
    if len(keys) == 1:
        return f"{label} {key[0]!r}"
    return (
        label
        + " "
        + ", ".join(f"{k} {v!r}" for k, v in zip(keys, key, strict=True) if v is not None)
    )


class UniqueList(Strict):
    """A catalogue whose entries must be unique by some key fields.

    `unique_by` = (list field, key fields, what to call the key in messages).
    """

    unique_by: ClassVar[tuple[str, tuple[str, ...], str]]

    @model_validator(mode="after")
    def _unique_entries(self) -> Any:
        field, keys, label = self.unique_by
        dupes = duplicate_positions(getattr(self, field), keys)
        if dupes:
            index, first, key = dupes[0]
            raise ValueError(
                f"{describe_key(label, keys, key)} is defined more than once ({field}[{first}] "
                f"and {field}[{index}])"
            )
        return self


Identifier = Annotated[str, AfterValidator(_check_id)]
Slug = Annotated[str, AfterValidator(check_slug)]
CountryCode = Annotated[str, AfterValidator(_check_country)]
PlaceCode = Annotated[str, AfterValidator(check_place)]  # a country, subdivision or zone
ZoneId = Annotated[str, AfterValidator(check_zone_id)]  # a slug or an ISO 3166-2 code
SubdivisionCode = Annotated[str, AfterValidator(check_subdivision)]
Intensity = Annotated[float, NoBool, Field(ge=INTENSITY_MIN, le=INTENSITY_MAX)]
NonNegative = Annotated[float, NoBool, Field(ge=0.0), AfterValidator(_check_finite)]
Probability = Annotated[float, NoBool, Field(ge=0.0, le=1.0)]
# Text from users takes printable characters, tabs and line breaks: a NUL or another control
# character is refused when read (PostgreSQL cannot store NUL; terminals and spreadsheets act on
# the others), and so are the bidirectional overrides and isolates (U+202A-U+202E,
# U+2066-U+2069), which make a name display as something else ("Trojan Source"); right-to-left
# scripts need none of them. A pattern, so pydantic checks it in its compiled core at loading
# speed.
PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]*$"
Text = Annotated[str, Field(max_length=20_000, pattern=PRINTABLE)]
ShortText = Annotated[str, Field(min_length=1, max_length=200, pattern=PRINTABLE)]
Label = Annotated[str, Field(max_length=200, pattern=PRINTABLE)]  # may be empty
