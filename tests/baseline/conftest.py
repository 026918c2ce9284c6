"""Shared fixtures: the shipped methodology and data, loaded once per test session."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from riskapp.baseline.build import (
    DEFAULT_DATA_DIR,
    DEFAULT_METHOD,
    BaselineResult,
    compute,
    load_method,
    load_sources_for,
)
from riskapp.baseline.indicators import SourceData
from riskapp.baseline.method import Method, Source

DATA = DEFAULT_DATA_DIR
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def default_method() -> Method:
    return load_method(DEFAULT_METHOD)


@pytest.fixture(scope="session")
def sources(default_method: Method) -> dict[Source, SourceData]:
    return load_sources_for(default_method)


@pytest.fixture(scope="session")
def result_2025(default_method: Method, sources: dict[Source, SourceData]) -> BaselineResult:
    return compute(default_method, sources, dt.date(2025, 12, 31))


@pytest.fixture(scope="session")
def result_2022(default_method: Method, sources: dict[Source, SourceData]) -> BaselineResult:
    return compute(default_method, sources, dt.date(2022, 12, 31))


@pytest.fixture(scope="session")
def result_2021(default_method: Method, sources: dict[Source, SourceData]) -> BaselineResult:
    return compute(default_method, sources, dt.date(2021, 12, 31))
