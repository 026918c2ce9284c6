"""Domain enumerations that need nothing but the standard library: the command line takes them
as option types, so `riskapp --help` shows their choices without loading pandas or pydantic.
The models use them from here (riskapp.domain.workspace re-exports LossBasis)."""

from __future__ import annotations

from enum import StrEnum


class LossBasis(StrEnum):
    ABSOLUTE = "absolute"
    INCREMENTAL = "incremental"
