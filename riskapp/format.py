"""Number formats shared by the CLI, dashboard and reports."""

from __future__ import annotations

import math


def money(value: float, currency: str = "EUR") -> str:
    """Readable money: EUR 12.3m, EUR 1.25bn, EUR 850k, EUR 120."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    sign = "-" if value < 0 else ""
    v = abs(value)
    if v >= 1e9:
        text = f"{v / 1e9:.2f}bn"
    elif v >= 1e6:
        text = f"{v / 1e6:.1f}m"
    elif v >= 1e3:
        text = f"{v / 1e3:.0f}k"
    else:
        text = f"{v:.0f}"
    return f"{sign}{currency} {text}"


def ratio(value: float) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "free"
    return f"{value:.1f}x"


def percent(value: float, digits: int = 1) -> str:
    return f"{value * 100:.{digits}f}%"
