"""What country a register's `country` cell means: an ISO 3166-1 code (alpha-3, alpha-2 or
numeric) or a country's name in one of several languages, read offline with pycountry (its ISO
3166-1 list and the translations it ships, `pycountry.LOCALES_DIR`).

A cell is read once per distinct value (`read_country` is cached) and its reading is one of:
- `code`: an alpha-3 code already (any case), kept as it is;
- `converted`: one country for sure (an alpha-2 or numeric code, an exact name, official name
  or common name in English or a listed language, or the part of an ISO name before its comma:
  "Iran" for "Iran, Islamic Republic of"); the register reads it and says so in a note;
- `uncertain`: a name several countries answer to ("Congo", "Korea", "Virgin Islands") or a
  near miss of some names ("Nigera": Nigeria or Niger), with the candidates; a problem for the
  user to confirm, never guessed;
- `unknown`: nothing close; the Asset model words the problem.
English names win over the other languages' (a name shared across tiers reads as English); a
name in another language that is also close to an English name of another country ("Nigera") is
uncertain.
"""

from __future__ import annotations

import difflib
import functools
import gettext
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

import pycountry

# languages whose country names are read besides English (pycountry's locales); chosen for
# the clients' spreadsheets: Europe's languages and the world's largest others
LANGUAGES = [
    "de",
    "fr",
    "es",
    "it",
    "pt",
    "nl",
    "sv",
    "nb",
    "nn",
    "da",
    "fi",
    "is",
    "pl",
    "cs",
    "sk",
    "hu",
    "ro",
    "bg",
    "hr",
    "sl",
    "sr",
    "et",
    "lv",
    "lt",
    "el",
    "tr",
    "ru",
    "uk",
    "ca",
    "eu",
    "gl",
    "ga",
    "mt",
    "id",
    "ms",
    "vi",
    "ar",
    "he",
    "zh_CN",
    "zh_TW",
    "ja",
    "ko",
]
# common English short forms that no ISO name gives (documented in the README)
ALIASES = {
    "russia": "RUS",
    "uk": "GBR",
    "great britain": "GBR",
    "britain": "GBR",
    "usa": "USA",
    "us": "USA",
    "america": "USA",
    "czech republic": "CZE",
    "ivory coast": "CIV",
    "vietnam": "VNM",
    "laos": "LAO",
    "syria": "SYR",
    "burma": "MMR",
    "holland": "NLD",
    "macedonia": "MKD",
    "turkey": "TUR",
    "swaziland": "SWZ",
    "cape verde": "CPV",
    "east timor": "TLS",
    "vatican": "VAT",
    "brunei": "BRN",
}
# countries one of whose names is a word of another's in the same language ("Congo" in
# "Democratic Republic of the Congo"): a name of the first alone is uncertain
CONTAINED = (("COG", "COD"),)
FUZZY_CUTOFF = 0.8
TYPO_CUTOFF = 0.88  # a name in another language this close to an English one may be a typo
FUZZY_CANDIDATES = 4

Kind = Literal["code", "converted", "uncertain", "unknown"]


@dataclass(frozen=True)
class CountryReading:
    kind: Kind
    code: str = ""  # the alpha-3 code read (code, converted)
    candidates: tuple[str, ...] = ()  # alpha-3 codes (uncertain), the likeliest first
    how: str = ""  # what the cell was read as ("alpha-2 code", "name", ...)


class _WithoutCombining(dict[int, int | None]):
    """A `str.translate` table that drops combining characters (accents once decomposed),
    each character looked up once per process: a gazetteer's 390,000 names are folded in C,
    not one Python call per character."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        self[code] = kept
        return kept


_WITHOUT_COMBINING = _WithoutCombining()
# dots and apostrophes dropped, hyphens, underscores, slashes, commas and brackets spaced
_PUNCTUATION = str.maketrans({".": None, "'": None, "\u2019": None, **dict.fromkeys("-_/,()", " ")})


def normalised(text: str) -> str:
    """Case, accents, dots, apostrophes and white space folded ('  Österreich ' ~ 'osterreich')."""
    if not text.isascii():  # ASCII has nothing to decompose
        text = unicodedata.normalize("NFKD", text).translate(_WITHOUT_COMBINING)
    return " ".join(text.casefold().translate(_PUNCTUATION).split())


def _names(country: object, translate: gettext.NullTranslations) -> set[str]:
    out = set()
    for attr in ("name", "official_name", "common_name"):
        value = getattr(country, attr, None)
        if not value:
            continue
        local = translate.gettext(str(value))
        out.add(local)
        if "," in local:  # "Iran, Islamic Republic of" -> "Iran"
            out.add(local.split(",", 1)[0])
    return {normalised(n) for n in out if n.strip()}


def _tier(translate: gettext.NullTranslations) -> dict[str, set[str]]:
    index: dict[str, set[str]] = {}
    for country in pycountry.countries:
        for name in _names(country, translate):
            index.setdefault(name, set()).add(str(country.alpha_3))
    return index


@functools.cache
def name_index() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(English, other languages): normalised name -> the alpha-3 codes answering to it."""
    english = _tier(gettext.NullTranslations())
    for alias, code in ALIASES.items():
        english.setdefault(alias, set()).add(code)
    other: dict[str, set[str]] = {}
    for language in LANGUAGES:
        try:
            translate = gettext.translation(
                "iso3166-1", pycountry.LOCALES_DIR, languages=[language]
            )
        except OSError:  # a language this pycountry does not ship
            continue
        for name, codes in _tier(translate).items():
            other.setdefault(name, set()).update(codes)
    for tier in (english, other):
        for name, codes in list(tier.items()):
            for first, second in CONTAINED:
                if codes == {first} and any(
                    re.search(rf"\b{re.escape(name)}\b", other_name)
                    for other_name, owners in tier.items()
                    if second in owners and other_name != name
                ):
                    tier[name] = {first, second}
    return english, other


@functools.cache
def _codes() -> tuple[frozenset[str], dict[str, str], dict[str, str]]:
    alpha3 = frozenset(str(c.alpha_3) for c in pycountry.countries)
    alpha2 = {str(c.alpha_2): str(c.alpha_3) for c in pycountry.countries}
    numeric = {str(c.numeric): str(c.alpha_3) for c in pycountry.countries}
    return alpha3, alpha2, numeric


def _ordered(codes: set[str]) -> tuple[str, ...]:
    return tuple(sorted(codes))


@functools.lru_cache(maxsize=4096)
def read_country(cell: str, near: bool = True) -> CountryReading:
    """What one `country` cell means (see the module's docstring); without `near`, names close
    to the cell are not looked for (the costly part: a register of many distinct unknown cells
    looks for them only for its first few)."""
    alpha3, alpha2, numeric = _codes()
    text = cell.strip()
    upper = text.upper()
    if upper in alpha3:
        return CountryReading("code", upper, how="alpha-3 code")
    if len(text) == 2 and upper in alpha2:
        return CountryReading("converted", alpha2[upper], how="alpha-2 code")
    if text.isdigit() and len(text) <= 3 and text.zfill(3) in numeric:
        return CountryReading("converted", numeric[text.zfill(3)], how="numeric code")
    key = normalised(text)
    if not key:
        return CountryReading("unknown")
    english, other = name_index()
    codes = english.get(key)
    how = "shared name"
    if codes is None and key in other:
        # a name in another language that is also a typo of an English name ("Nigera" is
        # Niger in some languages, and one letter off Nigeria) is uncertain
        codes = set(other[key])
        for name in difflib.get_close_matches(key, list(english), n=4, cutoff=TYPO_CUTOFF):
            if english[name] != codes:
                codes |= english[name]
                how = "near"
    if codes is not None:
        if len(codes) == 1:
            return CountryReading("converted", next(iter(codes)), how="name")
        return CountryReading("uncertain", candidates=_ordered(codes), how=how)
    if not near or len(key) > MAX_NEAR_LENGTH:
        return CountryReading("unknown")
    return _near(key)


MAX_NEAR_LENGTH = 60  # longer cells are no country's name, misspelt or not


def _near(key: str) -> CountryReading:
    """The countries whose names are close to `key` (a typo), the closest first."""
    english, other = name_index()
    names = [*english, *other]
    close = difflib.get_close_matches(key, names, n=12, cutoff=FUZZY_CUTOFF)
    found: list[str] = []
    for name in close:
        for code in sorted(english.get(name) or other.get(name) or ()):
            if code not in found:
                found.append(code)
    if not found:
        return CountryReading("unknown")
    return CountryReading("uncertain", candidates=tuple(found[:FUZZY_CANDIDATES]), how="near")


def candidates_text(codes: tuple[str, ...]) -> str:
    """'Niger (NER) or Nigeria (NGA)'."""
    from riskapp.domain.common import country_name

    named = [f"{country_name(c)} ({c})" for c in codes]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " or " + named[-1]
