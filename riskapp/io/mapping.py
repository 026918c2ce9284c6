"""A client's asset spreadsheet read through a register mapping (riskapp.domain.mapping):
suggested from its header (synonyms in several languages, units and currencies in the column
names, asset type names), saved as YAML, applied before a register is checked or imported.

Suggestions are offered, never applied silently: `riskapp mapping suggest` writes the mapping
for a person to check, with how each column was matched; `riskapp import --mapping` and
`riskapp mapping apply` use a saved one.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskapp.domain.assets import REGISTER_COLUMNS
from riskapp.domain.mapping import SCALED, RegisterMapping
from riskapp.io.errors import InputError, Problem


@functools.cache
def synonyms() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """(register column -> names, asset type -> names) of resources/mapping/synonyms.yaml."""
    import yaml

    from riskapp.resources import RESOURCES

    text = (RESOURCES / "mapping" / "synonyms.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    columns = {k: tuple(normal(n) for n in v) for k, v in data["columns"].items()}
    types = {k: tuple(normal(n) for n in v) for k, v in data["types"].items()}
    from riskapp.io.curve_library import type_synonyms

    for t, names in type_synonyms().items():  # the curve library's names of its types
        types[t] = tuple(dict.fromkeys((*types.get(t, ()), *(normal(n) for n in names))))
    return columns, types


# A unit named in a column header: the factor a cell is multiplied by.
_UNITS: tuple[tuple[re.Pattern[str], float, str], ...] = (
    (
        re.compile(r"\b(t|k|tsd|tausend|thousands?|000s?)\s?(eur|usd|gbp|chf|nok|sek|dkk|pln)?\b"),
        1e3,
        "thousands",
    ),
    (re.compile(r"\b(k|t)(eur|usd|gbp|chf|nok|sek|dkk|pln)\b"), 1e3, "thousands"),
    (re.compile(r"\b(m|mn|mio|mill?|millions?|meur|musd)\b"), 1e6, "millions"),
    (re.compile(r"\b(bn|mrd|billions?|milliarden?)\b"), 1e9, "billions"),
)
_CURRENCY_SIGNS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY"}
_CURRENCIES = ("EUR", "USD", "GBP", "CHF", "NOK", "SEK", "DKK", "PLN", "JPY", "CNY", "CAD")
CUTOFF = 0.8  # how alike a header and a synonym must be (difflib ratio) to be suggested


def normal(text: str) -> str:
    """Lower case, accents and punctuation removed, single spaces ("Wärung (€)" -> "wahrung")."""
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain.lower()).split())


def _without_unit(text: str) -> str:
    """A header without the unit or currency written in brackets or after a comma."""
    return re.split(r"[\(\[,/]|\bin\b", text, maxsplit=1)[0]


@dataclass(frozen=True)
class Match:
    """How a register column was found in the file: the file's column and why."""

    field: str
    column: str
    how: str  # "name", "synonym 'umsatz'", "close to 'latitude' (0.86)"


@dataclass(frozen=True)
class Suggestion:
    """A suggested mapping with the reason for each part, and what it could not place."""

    mapping: RegisterMapping
    matches: tuple[Match, ...]
    unmatched: tuple[str, ...]  # the file's columns mapped to nothing
    missing: tuple[str, ...]  # required register columns no file column was found for
    type_matches: tuple[tuple[str, str, str], ...]  # (file value, type, how)
    unknown_types: tuple[str, ...]  # type values with no suggestion
    # (file value, type, how) of types the curve library has and the workspace has not yet:
    # written in the mapping file (`to_yaml`) with the `riskapp curves add` that gives them
    # their curves; not in `mapping`, which maps onto the workspace's types only
    library_types: tuple[tuple[str, str, str], ...] = ()
    # (file value, candidate codes) of country cells several countries answer to, for a
    # person to confirm in the mapping's `countries`
    uncertain_countries: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def to_add(self) -> tuple[str, ...]:
        """The curve library's types to add to the workspace (`riskapp curves add`)."""
        return tuple(dict.fromkeys(t for _, t, _ in self.library_types))


REQUIRED = ("id", "name", "type", "country", "replacement_value")


def _field_for(header: str) -> tuple[str, str] | None:
    key = normal(_without_unit(header)) or normal(header)
    for field in REGISTER_COLUMNS:
        if key == field.replace("_", " "):
            return field, "name"
    columns, _ = synonyms()
    for field, names in columns.items():
        if key in names:
            return field, f"synonym {key!r}"
    best: tuple[float, str, str] | None = None
    for field, names in columns.items():
        for name in (field.replace("_", " "), *names):
            if len(name) < 4:
                continue  # "x", "id", "lat": exact only
            ratio = difflib.SequenceMatcher(None, key, name).ratio()
            if ratio >= CUTOFF and (best is None or ratio > best[0]):
                best = (ratio, field, name)
    if best is not None:
        return best[1], f"close to {best[2]!r} ({best[0]:.2f})"
    return None


def _unit(header: str) -> tuple[float, str] | None:
    text = normal(header.replace("'000", " 000 ").replace("\u2019000", " 000 "))
    for pattern, factor, words in _UNITS:
        if pattern.search(text):
            return factor, words
    return None


def _currency(headers: Sequence[str]) -> str | None:
    found: set[str] = set()
    for h in headers:
        found |= {code for sign, code in _CURRENCY_SIGNS.items() if sign in h}
        words = set(normal(h).split())
        found |= {
            c
            for c in _CURRENCIES
            if c.lower() in words
            or f"k{c.lower()}" in words
            or f"t{c.lower()}" in words
            or f"m{c.lower()}" in words
        }
    return found.pop() if len(found) == 1 else None


def type_for(value: str, known: Sequence[str]) -> tuple[str, str] | None:
    """The register type a file's type name suggests, and why (None: no suggestion)."""
    key = normal(value)
    if key.replace(" ", "_") in known:
        return key.replace(" ", "_"), "name"
    _, types = synonyms()
    for t, names in types.items():
        if t in known and key in names:
            return t, f"synonym {key!r}"
    by_name = {n: t for t, ns in types.items() if t in known for n in ns}
    by_name.update({t.replace("_", " "): t for t in known})
    close = difflib.get_close_matches(key, list(by_name), n=1, cutoff=CUTOFF)
    if close:
        return by_name[close[0]], f"close to {close[0]!r}"
    return None


def suggest(
    header: Sequence[str],
    type_values: Sequence[str],
    known_types: Sequence[str],
    country_values: Sequence[str] = (),
) -> Suggestion:
    """A mapping for a file with this header and these distinct type (and country) cells."""
    matches: list[Match] = []
    used: set[str] = set()
    for column in header:
        found = _field_for(column)
        if found is None or found[0] in used:
            continue
        used.add(found[0])
        matches.append(Match(found[0], column, found[1]))
    columns = {m.field: m.column for m in matches}
    units: dict[str, float] = {}
    for field in SCALED:
        unit = _unit(columns[field]) if field in columns else None
        if unit is not None:
            units[field] = unit[0]
    currency = None if "currency" in columns else _currency(list(columns.values()))
    type_matches: list[tuple[str, str, str]] = []
    unknown: list[str] = []
    in_library: list[tuple[str, str, str]] = []
    types: dict[str, str] = {}
    library = [t for t in _library_type_ids() if t not in known_types] if known_types else []
    for value in sorted({str(v).strip() for v in type_values if str(v).strip()}):
        found_type = type_for(value, known_types)
        if found_type is None:
            found_type = type_for(value, library) if library else None
            if found_type is None:
                unknown.append(value)
            else:
                in_library.append((value, *found_type))  # written, not in `mapping` (below)
        else:
            type_matches.append((value, *found_type))
            if found_type[1] != "name":
                types[value] = found_type[0]
    mapping = RegisterMapping(columns=columns, units=units, currency=currency, types=types)
    return Suggestion(
        mapping,
        tuple(matches),
        tuple(c for c in header if c not in columns.values()),
        tuple(f for f in REQUIRED if f not in columns),
        tuple(type_matches),
        tuple(unknown),
        tuple(in_library),
        _uncertain_countries(country_values),
    )


def _uncertain_countries(values: Sequence[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The country cells a person must confirm: several countries answer to them, or they
    are close to some names (the readings of riskapp.io.countrynames)."""
    from riskapp.io.countrynames import read_country

    out = []
    for value in sorted({str(v).strip() for v in values if str(v).strip()}):
        reading = read_country(value)
        if reading.kind == "uncertain" and reading.candidates:
            out.append((value, tuple(reading.candidates)))
    return tuple(out)


def _library_type_ids() -> list[str]:
    from riskapp.io.curve_library import curve_library

    return [t.type for t in curve_library().types]


def to_yaml(s: Suggestion) -> str:
    """The suggestion as a mapping file, each part commented with how it was found."""
    import json

    def q(text: str) -> str:
        return json.dumps(text, ensure_ascii=False)

    how = {m.field: m.how for m in s.matches}
    out = [
        "# Register mapping suggested by `riskapp mapping suggest`: check every line, then",
        "# `riskapp import FILE --mapping THIS` (or `riskapp mapping apply`). Keep it for the",
        "# next quarter's file.",
        "columns:          # register column: the file's column",
    ]
    out += [f"  {f}: {q(c)}    # {how[f]}" for f, c in s.mapping.columns.items()]
    if s.missing:
        out.append("  # not found (required): " + ", ".join(s.missing))
    if s.unmatched:
        out.append("  # the file's columns left out: " + ", ".join(s.unmatched))
    out.append("units:            # factors the file's values are multiplied by")
    out += [f"  {f}: {v:g}" for f, v in s.mapping.units.items()] or ["  {}"]
    if s.mapping.currency:
        out.append(f"currency: {s.mapping.currency}    # named in the column headers")
    out.append("types:            # the file's type names: register types")
    out += [f"  {q(v)}: {t}    # {h}" for v, t, h in s.type_matches if h != "name"]
    out += [
        f"  {q(v)}: {t}    # {h}; the curve library's, not yet the workspace's: "
        f"riskapp curves add {t}"
        for v, t, h in s.library_types
    ]
    written = any(h != "name" for _, _, h in s.type_matches) or s.library_types
    if not written and not s.unknown_types:
        out[-1] = out[-1].replace("types:", "types: {}")
    out += [
        f"  # {q(v)}:     # no suggestion: remove the # and write the type meant "
        "(riskapp curves list)"
        for v in s.unknown_types
    ]
    if s.uncertain_countries:
        from riskapp.domain.common import country_name

        out.append("countries:        # country cells several countries answer to: remove the #")
        out.append("                  # before the country meant (it is kept for the next file)")
        for value, codes in s.uncertain_countries:
            for code in codes:
                out.append(f"  # {q(value)}: {code}    # {country_name(code)}")
    return "\n".join(out) + "\n"


def load_mapping(path: Path) -> RegisterMapping:
    """A mapping file (YAML), every problem with its line."""
    from riskapp.io.workspace import load_model

    return load_model(path, RegisterMapping)[0]


def apply_mapping(
    name: str,
    header: Sequence[str],
    rows: Sequence[tuple[int, list[Any]]],
    mapping: RegisterMapping,
    mapping_name: str,
) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """The file's rows as register rows (the register's header, the same row numbers): columns
    renamed, scaled columns multiplied, type names mapped, defaults filled. A mapped column the
    file does not have is a problem naming the mapping file; cells that are not numbers are
    passed on as they are, for the register's checks to name with their row."""
    header = [str(h).strip() for h in header]
    problems = [
        Problem(
            mapping_name,
            None,
            f"columns.{field}",
            f"the file has no column {column!r}; its columns: {', '.join(header)}",
        )
        for field, column in mapping.columns.items()
        if column not in header
    ]
    if problems:
        raise InputError(problems)
    frame = (
        pd.DataFrame(
            [cells + [""] * (len(header) - len(cells)) for _, cells in rows],
            columns=header,
            dtype=object,
        )
        if rows
        else pd.DataFrame(columns=header)
    )
    out = pd.DataFrame(index=frame.index)
    for field in REGISTER_COLUMNS:
        if field in mapping.columns:
            out[field] = frame[mapping.columns[field]]
        elif field in mapping.defaults:
            out[field] = mapping.defaults[field]
        elif field in header and field not in mapping.columns.values():
            out[field] = frame[field]  # already a register column
    for field, factor in mapping.units.items():
        if field in out:
            number = pd.to_numeric(out[field], errors="coerce")
            scaled = (number * factor).map(lambda v: format(v, ".15g"), na_action="ignore")
            out[field] = scaled.where(number.notna(), out[field])
    if "currency" in out:
        row_code, row_factor = _currency_cells(out["currency"])
        in_unit = row_factor != 1.0
        if in_unit.any():
            both = [f for f in SCALED if f in mapping.units and f in out]
            if both:
                first = int(np.flatnonzero(in_unit.to_numpy())[0])
                raise InputError(
                    [
                        Problem(
                            mapping_name,
                            None,
                            f"units.{both[0]}",
                            f"{name} row {rows[first][0]}: the currency cell "
                            f"{out['currency'].iloc[first]!r} names a unit, and the mapping "
                            f"scales {both[0]} too: keep one of them",
                        )
                    ]
                )
            for field in SCALED:
                if field in out:
                    number = pd.to_numeric(out[field], errors="coerce")
                    new = (number * row_factor).map(lambda v: format(v, ".15g"), na_action="ignore")
                    out[field] = new.where(number.notna() & in_unit, out[field])
        out["currency"] = row_code
    if mapping.types and "type" in out:
        text = out["type"].astype(str).str.strip()
        out["type"] = text.map(mapping.types).fillna(out["type"])
    if mapping.countries and "country" in out:
        text = out["country"].astype(str).str.strip()
        out["country"] = text.map(mapping.countries).fillna(out["country"])
    if mapping.currency is not None:
        if "currency" not in out:
            out["currency"] = mapping.currency
        else:
            blank = out["currency"].isna() | (out["currency"].astype(str).str.strip() == "")
            out.loc[blank, "currency"] = mapping.currency
    cells = out.astype(object).where(out.notna(), "").to_numpy().tolist()
    return list(out.columns), [(n, c) for (n, _), c in zip(rows, cells, strict=True)]


_ISO_CURRENCY = re.compile(r"[A-Za-z]{3}")


def _currency_cell(cell: str) -> tuple[str, float] | None:
    """A currency cell that names a unit or a sign ("TEUR", "USD m", "Mio. GBP", "k€") as
    (ISO code, factor), or None (an ISO code already, or not read: left to the checks)."""
    text = cell.strip()
    if not text or _ISO_CURRENCY.fullmatch(text):
        return None
    code = _currency([text])
    if code is None:
        return None
    unit = _unit(text)
    rest = normal(text)
    for word in (code.lower(), "k", "t", "m", "mn", "mio", "mill", "millions", "million", "bn"):
        rest = re.sub(rf"\b[kmt]?{word}\b", " ", rest)
    if rest.strip() and unit is None:
        return None  # more than a currency and a unit: left as it is
    return code, unit[0] if unit is not None else 1.0


def _currency_cells(cells: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The currency column with units read off ("TEUR" -> EUR), and each row's factor (1000
    for "TEUR", 1e6 for "USD m", 1 elsewhere); each distinct cell read once."""
    codes, distinct = pd.factorize(cells.astype(object), use_na_sentinel=False)
    new = np.empty(len(distinct), dtype=object)
    factor = np.ones(len(distinct))
    for j, value in enumerate(distinct.tolist()):
        read = _currency_cell(value) if type(value) is str else None
        new[j] = value if read is None else read[0]
        factor[j] = 1.0 if read is None else read[1]
    return (
        pd.Series(new[codes], index=cells.index, dtype=object),
        pd.Series(factor[codes], index=cells.index),
    )


def mapped_frame(
    name: str,
    header: Sequence[str],
    rows: Sequence[tuple[int, list[Any]]],
    mapping: RegisterMapping,
    mapping_name: str,
) -> pd.DataFrame:
    """`apply_mapping` as a table to write: numbers as numbers (so that no number is taken
    for a spreadsheet formula when written), other cells as they are."""
    from riskapp.domain.assets import NUMBER_COLUMNS

    columns, mapped = apply_mapping(name, header, rows, mapping, mapping_name)
    frame = pd.DataFrame([c for _, c in mapped], columns=columns, dtype=object)
    for col in NUMBER_COLUMNS:
        if col in frame:
            number = pd.to_numeric(frame[col], errors="coerce")
            frame[col] = number.astype(object).where(number.notna(), frame[col])
    return frame
