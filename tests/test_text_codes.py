"""`text_codes` and `rows_of` (riskapp.domain.assets): the hashed lookups the engine uses on a
register's text columns give what pandas' `get_indexer` gives, whatever the column holds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from riskapp.domain.assets import rows_of, text_codes

WORDS = st.sampled_from(["DEU", "FRA", "NOR", "A-1", "A-2", "", "é", "x y"])


def _holders(cells: list[str]) -> list[object]:
    """The same cells as the register (Arrow-backed `str`), an object column, a list, an
    object array."""
    return [
        pd.Series(cells, dtype="str"),
        pd.Series(cells, dtype=object),
        list(cells),
        np.asarray(cells, dtype=object),
    ]


@given(st.lists(WORDS, max_size=30), st.lists(WORDS, unique=True, max_size=6))
def test_text_codes_are_pandas_get_indexer(cells: list[str], values: list[str]) -> None:
    expected = pd.Index(values, dtype=object).get_indexer(pd.Index(cells, dtype=object))
    for column in _holders(cells):
        assert text_codes(column, values).tolist() == expected.tolist()


@given(st.lists(WORDS, max_size=30), st.lists(WORDS, max_size=6))
def test_a_value_listed_twice_takes_its_first_position(cells: list[str], values: list[str]) -> None:
    for column in _holders(cells):
        codes = text_codes(column, values).tolist()
        assert codes == [values.index(c) if c in values else -1 for c in cells]


@given(st.lists(WORDS, max_size=30), st.lists(WORDS, max_size=6))
def test_rows_of_finds_each_value_first_row(cells: list[str], values: list[str]) -> None:
    for column in _holders(cells):
        rows = rows_of(column, values).tolist()
        assert rows == [cells.index(v) if v in cells else -1 for v in values]


def test_missing_cells_and_other_types_match_nothing() -> None:
    assert text_codes(pd.Series(["DEU", None], dtype="str"), ["DEU"]).tolist() == [0, -1]
    assert text_codes(pd.Series([1, 2]), ["1"]).tolist() == [-1, -1]
    assert rows_of(pd.Series([], dtype=object), ["DEU"]).tolist() == [-1]
