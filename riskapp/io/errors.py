"""Input problems that name the file, the line or row, the field and what was expected."""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: the command line imports this module at start-up
    from pydantic import BaseModel, ValidationError


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


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """The hint `did you mean 'x'? ` for the choice closest to a misspelt name, or ""."""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"did you mean {close[0]!r}? " if close else ""


def describe_input(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def allowed_fields(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> list[str]:
    """Field names of the (sub-)model at `loc` (the location of the unknown field's parent)."""
    from pydantic import BaseModel

    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(str(part))
        if field is None:
            return []
        current = _model_in(field.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _model_in(annotation: Any) -> Any:
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")


def pydantic_message(err: Any, model: type[BaseModel] | None = None) -> str:
    from riskapp.domain.common import PRINTABLE

    msg = str(err.get("msg", "invalid value"))
    msg = msg.removeprefix("Value error, ")
    if err.get("type") == "extra_forbidden":
        loc = tuple(err.get("loc", ()))
        name = str(loc[-1]) if loc else ""
        allowed = allowed_fields(model, loc[:-1])
        if not allowed:
            return "unknown field (check the spelling; `riskapp schema` lists the fields)"
        hint = did_you_mean(name, allowed)
        return f"unknown field {name!r}; {hint}expected one of: {', '.join(allowed)}"
    if err.get("type") == "missing":
        return "required field is missing"
    if (
        err.get("type") == "string_pattern_mismatch"
        and err.get("ctx", {}).get("pattern") == PRINTABLE
    ):
        bad = next((c for c in str(err.get("input", "")) if CONTROL.match(c)), "\x00")
        kind = "bidirectional override" if BIDI.match(bad) else "control character"
        return (
            f"contains the {kind} U+{ord(bad):04X}; text takes printable characters, tabs and "
            "line breaks only (no control characters or direction overrides)"
        )
    if "input" in err and err.get("type") not in {"model_type", "dict_type"} and "got " not in msg:
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
    model: type[BaseModel] | None = None,
) -> list[Problem]:
    """Turn a pydantic error into problems; `locate(loc)` returns the line/row of a location.

    `strip` drops leading location parts (e.g. the list index of a row) from the field name.
    """
    out = []
    for err in error.errors():
        loc = tuple(err["loc"])
        line = locate(loc) if locate else None
        out.append(
            Problem(file, line, loc_to_field(loc[strip:]), pydantic_message(err, model), unit=unit)
        )
    return out
