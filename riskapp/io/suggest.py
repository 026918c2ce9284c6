""" "Did you mean": the closest known id, code or type for a value that is not one.

Suggestions are computed once per distinct bad value (`suggest_all`), never per row: a register
of a million rows with one misspelt type asks once.
"""

from __future__ import annotations

import difflib
import gettext
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

# Country codes people type that are not ISO 3166-1 alpha-3 (IOC / FIFA / vehicle codes and
# common slips), with the ISO code meant. Only codes that are not themselves an ISO alpha-3 code.
_OTHER_COUNTRY_CODES = {
    "GER": "DEU",
    "NED": "NLD",
    "HOL": "NLD",
    "SUI": "CHE",
    "DEN": "DNK",
    "POR": "PRT",
    "CRO": "HRV",
    "GRE": "GRC",
    "UAE": "ARE",
    "RSA": "ZAF",
    "BUL": "BGR",
    "LAT": "LVA",
    "SLO": "SVN",
    "CHI": "CHL",
    "MAS": "MYS",
    "INA": "IDN",
    "PHI": "PHL",
    "VIE": "VNM",
    "KSA": "SAU",
    "IRI": "IRN",
    "TPE": "TWN",
    "ENG": "GBR",
    "UK": "GBR",
    "EL": "GRC",
}

NAME_LANGUAGES = ("de", "fr", "es", "it", "nl", "sv", "nb", "da", "fi", "pl", "pt")
MAX_CANDIDATES = 20_000  # above this many choices, only those sharing the first character


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """Lower-case English names (official, common, plain) and alpha-2 codes -> alpha-3."""
    import pycountry

    out: dict[str, str] = {}
    translations = []
    for language in NAME_LANGUAGES:
        try:
            translations.append(
                gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language])
            )
        except OSError:
            continue
    for c in pycountry.countries:
        code = str(c.alpha_3)
        out[str(c.alpha_2).lower()] = code
        for attr in ("name", "common_name", "official_name"):
            name = getattr(c, attr, None)
            if name:
                out[str(name).lower()] = code
                for t in translations:
                    out.setdefault(t.gettext(str(name)).lower(), code)
    return out


def suggest_country(value: str) -> str | None:
    """The ISO 3166-1 alpha-3 code most likely meant by `value` ("DEU " -> DEU, "deu" -> DEU,
    "DE" -> DEU, "GER" -> DEU, "Germany" -> DEU, "DEI" -> DEU), or None."""
    from riskapp.domain.common import iso_alpha3_codes

    text = " ".join(value.split())
    upper = text.upper()
    codes = iso_alpha3_codes()
    if upper in codes:
        return upper
    if upper in _OTHER_COUNTRY_CODES:
        return _OTHER_COUNTRY_CODES[upper]
    names = _country_names()
    if text.lower() in names:
        return names[text.lower()]
    if len(upper) == 3 and upper.isalpha():
        return _one_letter_off(upper, codes)
    close = difflib.get_close_matches(text.lower(), list(names), n=1, cutoff=0.75)
    return names[close[0]] if close else None


def _one_letter_off(code: str, codes: frozenset[str]) -> str | None:
    """The code that differs from `code` in one letter, preferring one that keeps the first
    two ("FIM" -> FIN, not IMN), or None when none or several equally close exist."""
    near = [c for c in codes if sum(a == b for a, b in zip(c, code, strict=True)) == 2]
    for keep in (2, 1):
        best = [c for c in near if c[:keep] == code[:keep]]
        if len(best) == 1:
            return best[0]
        if best:
            return None
    return None


def closest(value: str, choices: Sequence[str]) -> str | None:
    """The choice closest to `value` (difflib's ratio, at least 0.6), or None. Case and
    surrounding blanks are forgiven first ("Plant " -> plant)."""
    if not choices:
        return None
    folded = value.strip().casefold()
    for c in choices:
        if c.casefold() == folded and c != value:
            return c
    pool: Iterable[str] = choices
    if len(choices) > MAX_CANDIDATES and folded:
        pool = [c for c in choices if c[:1].casefold() == folded[:1]]
    close = difflib.get_close_matches(value.strip(), list(pool), n=1, cutoff=0.6)
    return close[0] if close else None


_DID_YOU_MEAN = re.compile(r"did you mean '([^']*)'\?")


def suggestion_in(message: str) -> str | None:
    """A suggestion a message already carries ("...; did you mean 'baltic'? ...")."""
    found = _DID_YOU_MEAN.search(message)
    return found[1] if found else None


def suggest_all(
    values: Iterable[tuple[str, str]], choices: dict[str, Sequence[str]]
) -> dict[tuple[str, str], str | None]:
    """A suggestion for each distinct (kind, value): kind "country" asks `suggest_country`,
    any other kind the closest of `choices[kind]` (no choices, no suggestion)."""
    out: dict[tuple[str, str], str | None] = {}
    for kind, value in dict.fromkeys(values):
        if kind == "country":
            out[(kind, value)] = suggest_country(value)
        else:
            found = closest(value, choices.get(kind, ()))
            out[(kind, value)] = found if found != value else None
    return out
