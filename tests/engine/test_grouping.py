"""Asset groups (riskapp.engine.damage.group_assets) are numbered in the order of their keys
(type, place, own curves), whatever form the register's type column comes in."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskapp.engine.damage import group_assets

TYPES = ["plant", "office", "plant", "depot", "office", "plant", "Zeta", "ärea"]
PLACES = np.array([3, 1, 3, 0, 2, 1, 0, 0], dtype=np.int64)
IDS = [f"a{i}" for i in range(len(TYPES))]


@pytest.mark.parametrize(
    "types",
    [
        TYPES,
        pd.Series(TYPES, dtype="string[pyarrow]"),
        pd.Series(TYPES, dtype=object),
        # categories listed out of order: the groups still follow the types' own order
        pd.Series(pd.Categorical(TYPES, categories=sorted(set(TYPES), reverse=True))),
    ],
)
def test_groups_follow_the_order_of_their_keys(types: object) -> None:
    groups = group_assets(IDS, types, PLACES, {"a5"})  # type: ignore[arg-type]
    kinds = sorted(set(TYPES))  # by code point: 'Zeta' < 'depot' < ... < 'ärea'
    key = [
        (kinds.index(t), int(p), i == 5) for i, (t, p) in enumerate(zip(TYPES, PLACES, strict=True))
    ]
    order = sorted(set(key))
    assert groups.of_asset.tolist() == [order.index(k) for k in key]
    assert groups.type.tolist() == [kinds[k[0]] for k in order]
    assert groups.country_index.tolist() == [k[1] for k in order]
    assert groups.override_owner.tolist() == ["a5" if k[2] else "" for k in order]
