"""One number format for every surface: CLI, dashboard, charts and reports.

    fmt = NumberFormat(currency="EUR", locale="de")
    fmt.money(5_678_000_000)   -> "5,68 Mrd. EUR"   (en: "EUR 5.68bn")
    fmt.money_full(1234567)    -> "1.234.567 EUR"   (en: "EUR 1,234,567")

The rule for compact money (`money`, `money_short`, chart hover text and ticks):

    amount >= 1 bn    2 decimals   EUR 1.25bn   1,25 Mrd. EUR
    amount >= 1 m     1 decimal    EUR 12.3m    12,3 Mio. EUR
    amount >= 1 k     0 decimals   EUR 850k     850 Tsd. EUR
    below             0 decimals   EUR 120      120 EUR

An amount moves up a unit when rounding in its own unit reaches 1000, so 999,999 reads
"EUR 1.0m" (never "EUR 1000k") and 999,960,000 reads "EUR 1.00bn". A sign is written only when
the rounded amount is not zero. Missing values (None, NaN) read "n/a".

The locale changes separators, money units and dates; the product's words stay English.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

Locale = Literal["en", "de"]
LOCALES: tuple[Locale, ...] = ("en", "de")
ColumnKind = Literal[
    "text",  # user or label text, written as text everywhere (never a formula)
    "int",  # a count
    "number",  # a plain number, 1 decimal
    "money",  # an amount in the currency: compact text (EUR 12.3m), numeric in Excel
    "ratio",  # benefit-cost ratio: 2.3x, "free" for inf, n/a for NaN
    "percent",  # a share 0-1 shown as 12.3%
    "probability",  # an annual probability 0-1 shown as 12.3%
    "days",  # a duration in days
    "intensity",  # a factor intensity 0-10, 1 decimal
]

# (size, decimals, English suffix, German word) from the largest unit down
_UNITS: tuple[tuple[float, int, str, str], ...] = (
    (1e9, 2, "bn", "Mrd."),
    (1e6, 1, "m", "Mio."),
    (1e3, 0, "k", "Tsd."),
    (1.0, 0, "", ""),
)
_GERMAN_SEPARATORS = str.maketrans(",.", ".,")


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering lo..hi (lo may be negative)."""
    span = hi - lo
    if span <= 0 or not math.isfinite(span):
        return [lo]
    raw = span / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(lo / step) * step
    return [first + step * i for i in range(math.ceil((hi - first) / step) + 1)]


@dataclass(frozen=True, kw_only=True)
class NumberFormat:
    """Numbers and money in one currency and locale (en: 1,234.5; de: 1.234,5)."""

    currency: str = "EUR"
    locale: Locale = "en"

    def __post_init__(self) -> None:
        if self.locale not in LOCALES:
            raise ValueError(f"unknown locale {self.locale!r}; expected one of {LOCALES}")

    def in_currency(self, currency: str) -> NumberFormat:
        """The same locale for another currency (an asset's own currency)."""
        return replace(self, currency=currency)

    # -- separators --------------------------------------------------------------------------
    @property
    def thousands(self) -> str:
        return "." if self.locale == "de" else ","

    @property
    def decimal(self) -> str:
        return "," if self.locale == "de" else "."

    @property
    def plotly_separators(self) -> str:
        """plotly's layout.separators: the decimal, then the thousands separator."""
        return self.decimal + self.thousands

    # -- plain numbers -----------------------------------------------------------------------
    def number(self, value: object, decimals: int = 0) -> str:
        """1,234.5 (en) or 1.234,5 (de); n/a for missing values; never "-0"."""
        if _missing(value):
            return "n/a"
        v = float(value)  # type: ignore[arg-type]
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        text = f"{v:,.{decimals}f}"
        if text.startswith("-") and not text.strip("-0,."):
            text = text[1:]
        return text.translate(_GERMAN_SEPARATORS) if self.locale == "de" else text

    def percent(self, value: float | None, digits: int = 1) -> str:
        """12.3% (en) or 12,3 % (de)."""
        if _missing(value) or math.isinf(float(value)):  # type: ignore[arg-type]
            return "n/a"
        text = self.number(float(value) * 100, digits)  # type: ignore[arg-type]
        return f"{text} %" if self.locale == "de" else f"{text}%"

    def ratio(self, value: float | None) -> str:
        """Benefit-cost ratio: 2.5x (de 2,5x); "free" for a plan without cost; n/a."""
        if _missing(value):
            return "n/a"
        if math.isinf(float(value)):  # type: ignore[arg-type]
            return "free"
        return f"{self.number(float(value), 1)}x"  # type: ignore[arg-type]

    def days(self, value: float | None) -> str:
        if _missing(value) or math.isinf(float(value)):  # type: ignore[arg-type]
            return "n/a"
        text = self.number(float(value), 0)  # type: ignore[arg-type]
        return f"{text} day" if text == "1" else f"{text} days"

    def date(self, when: datetime) -> str:
        return when.strftime("%d.%m.%Y") if self.locale == "de" else when.strftime("%Y-%m-%d")

    # -- money -------------------------------------------------------------------------------
    def _compact(self, value: float) -> tuple[str, str, str]:
        """(sign, amount, unit) of the compact rule in the module docstring."""
        v = abs(value)
        k = next(i for i, (size, *_rest) in enumerate(_UNITS) if v >= size or size == 1.0)
        # move up while rounding in this unit reaches 1000 (999,999 -> 1.0m, not 1000k)
        while k > 0 and round(v / _UNITS[k][0], _UNITS[k][1]) >= 1000:
            k -= 1
        size, digits, en, de = _UNITS[k]
        amount = self.number(v / size, digits)
        zero = not amount.strip("0,.")
        sign = "-" if value < 0 and not zero else ""
        return sign, amount, de if self.locale == "de" else en

    def money(self, value: float | None) -> str:
        """Compact money: EUR 12.3m, EUR 1.25bn, EUR 850k (de: 12,3 Mio. EUR)."""
        if _missing(value):
            return "n/a"
        sign, amount, unit = self._compact(float(value))  # type: ignore[arg-type]
        if self.locale == "de":
            return (
                f"{sign}{amount} {unit} {self.currency}"
                if unit
                else (f"{sign}{amount} {self.currency}")
            )
        return f"{sign}{self.currency} {amount}{unit}"

    def money_short(self, value: float | None) -> str:
        """Compact money without the currency, for chart ticks and bar labels whose axis or
        title names it: 12.3m (de: 12,3 Mio.)."""
        if _missing(value):
            return "n/a"
        sign, amount, unit = self._compact(float(value))  # type: ignore[arg-type]
        if self.locale == "de":
            return f"{sign}{amount} {unit}" if unit else f"{sign}{amount}"
        return f"{sign}{amount}{unit}"

    def money_change(self, value: float) -> str:
        """A signed change of money: '+EUR 1.2m', '-EUR 850k', or 'no change' below one unit."""
        if abs(value) < 0.5:
            return "no change"
        return ("+" if value > 0 else "") + self.money(value)

    def money_full(self, value: float | None) -> str:
        """Money in full, for tables: EUR 1,234,567 (de: 1.234.567 EUR)."""
        if _missing(value):
            return "n/a"
        amount = self.number(float(value), 0)  # type: ignore[arg-type]
        sign = ""
        if amount.startswith("-"):
            sign, amount = "-", amount[1:]
        if self.locale == "de":
            return f"{sign}{amount} {self.currency}"
        return f"{sign}{self.currency} {amount}"

    @property
    def excel_money(self) -> str:
        """Excel number format that shows a numeric cell as `money_full` does (Excel puts in
        the separators of the reader's own settings)."""
        cur = self.currency.replace('"', "")
        if self.locale == "de":
            return f'#,##0" {cur}";-#,##0" {cur}"'
        return f'"{cur} "#,##0;-"{cur} "#,##0'

    def unit(self, values: object) -> tuple[float, str]:
        """Divisor and unit label for money drawn on a plain numeric axis (native Office
        charts): (1e6, 'EUR m') or (1e6, 'Mio. EUR'), from the largest absolute value."""
        finite = [abs(float(v)) for v in values if math.isfinite(float(v))]  # type: ignore[attr-defined]
        peak = max(finite, default=0.0)
        for size, _digits, en, de in _UNITS[:-1]:
            if peak >= size:
                return size, (
                    f"{de} {self.currency}" if self.locale == "de" else f"{self.currency} {en}"
                )
        return 1.0, self.currency

    def money_ticks(self, lo: float, hi: float, count: int = 5) -> tuple[list[float], list[str]]:
        """tickvals and ticktext for a plotly money axis: round values, `money_short` text."""
        ticks = nice_ticks(lo, hi, count)
        texts = [self.money_short(t) for t in ticks]
        # round ticks (200m, 400m) drop the unit's zero decimals: 200m, not 200.0m
        zeros = re.compile(re.escape(self.decimal) + r"0+(?=\D*$)")
        if all(zeros.search(t) or self.decimal not in t for t in texts):
            texts = [zeros.sub("", t) for t in texts]
        return ticks, texts

    # -- table cells -------------------------------------------------------------------------
    def cell(self, value: object, kind: ColumnKind) -> str:
        """A table cell as text, by the column's kind (money compact, as in key figures)."""
        if kind == "text":
            return "" if value is None else str(value)
        if _missing(value):
            return "n/a" if kind == "ratio" else ""
        number = float(value)  # type: ignore[arg-type]
        if kind == "money":
            return self.money(number)
        if kind == "ratio":
            return self.ratio(number)
        if kind in ("percent", "probability"):
            return self.percent(number)
        if kind == "days":
            return self.days(number)
        if kind == "int":
            return self.number(number, 0)
        return self.number(number, 1)
