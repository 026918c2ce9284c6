"""Input problems that name the file, the line or row, the field and what was expected."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one input file."""

    file: str
    line: int | None  # YAML line or spreadsheet row (header = 1), when known
    field: str
    message: str
    unit: str = "line"  # "line" for YAML, "row" for CSV/XLSX

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", {self.unit} {self.line}"
        field = f" [{self.field}]" if self.field else ""
        return f"{where}{field}: {self.message}"


class InputError(Exception):
    """Raised when inputs are invalid; carries every problem found, not just the first."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def loc_to_field(loc: Iterable[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def describe_input(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def pydantic_message(err: Any) -> str:
    msg = str(err.get("msg", "invalid value"))
    msg = msg.removeprefix("Value error, ")
    if err.get("type") == "extra_forbidden":
        return "unknown field (check the spelling; see `riskapp schema`)"
    if err.get("type") == "missing":
        return "required field is missing"
    if "input" in err and err.get("type") not in {"model_type", "dict_type"}:
        value = err["input"]
        if not isinstance(value, (dict, list)):
            msg += f" (got {describe_input(value)})"
    return msg


def problems_from_validation(
    error: ValidationError,
    file: str,
    locate: Any = None,
    unit: str = "line",
    strip: int = 0,
) -> list[Problem]:
    """Turn a pydantic error into problems; `locate(loc)` returns the line/row of a location.

    `strip` drops leading location parts (e.g. the list index of a row) from the field name.
    """
    out = []
    for err in error.errors():
        loc = tuple(err["loc"])
        line = locate(loc) if locate else None
        out.append(Problem(file, line, loc_to_field(loc[strip:]), pydantic_message(err), unit=unit))
    return out
