"""The asset register held as columns: the stored register read in one query, the difference
between two registers found set-wise, and the register's values as the audit trail's JSON text,
built column by column.

A register frame has the columns `ASSET_COLUMNS`, one row per asset in register order, with
each value as `records.asset_values` gives it: text, floats (lat and lon NaN where there is
none), criticality as an integer, tags and depends_on as lists of text. Its values are valid
assets (validated when read from a file, or when they were written to the store).
"""

from __future__ import annotations

import gc
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, repeat
from json.encoder import encode_basestring
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Text, cast, select

from riskapp.domain import Asset
from riskapp.domain.assets import ASSET_COLUMNS, id_index
from riskapp.store import schema as t
from riskapp.store.records import ASSET_FIELDS, ChangeSummary

FLOATS = ("lat", "lon", "replacement_value", "annual_revenue_at_stake")
OPTIONAL_FLOATS = ("lat", "lon")
LISTS = ("tags", "depends_on")
INTEGERS = ("criticality",)
TEXTS = tuple(c for c in ASSET_COLUMNS if c not in FLOATS + LISTS + INTEGERS)


def normalised(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with the register's columns, in order, each of its kind (text as Python
    strings, floats as float64 with NaN for none, criticality as int64, an index 0..n-1)."""
    out = frame[ASSET_COLUMNS].reset_index(drop=True)
    for col in TEXTS:
        if out[col].dtype != object:
            out[col] = out[col].astype(object)
    for col in FLOATS:
        out[col] = out[col].astype("float64")
    out["criticality"] = out["criticality"].astype("int64")
    return out


def frame_of_assets(assets: Iterable[Asset]) -> pd.DataFrame:
    """A register frame of validated assets (edits, small tables, the slow path of a read)."""
    records = [a.model_dump() for a in assets]
    return normalised(pd.DataFrame.from_records(records, columns=ASSET_COLUMNS))


def empty_register() -> pd.DataFrame:
    return frame_of_assets([])


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """The cyclic garbage collector paused: building columns of a large register allocates
    millions of strings and lists, which hold no reference cycles, and the collector would walk
    the growing heap again and again to find nothing (reference counting still frees them)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The frame's rows as `asset_values` dicts (None where lat and lon are missing)."""
    columns = {c: _python(frame, c) for c in ASSET_COLUMNS}
    rows = zip(*columns.values(), strict=True)
    return [dict(zip(ASSET_COLUMNS, row, strict=True)) for row in rows]


def _python(frame: pd.DataFrame, col: str) -> list[Any]:
    if col in OPTIONAL_FLOATS:  # NaN: no coordinate
        data = frame[col].to_numpy(dtype=np.float64)
        values: list[Any] = data.tolist()
        for i in np.flatnonzero(np.isnan(data)).tolist():
            values[i] = None
        return values
    return list(frame[col].tolist())


_ESCAPED = re.compile(r'["\\\x00-\x1f]')
"""What JSON text escapes (with non-ASCII characters written as they are)."""

_NOT_ID = re.compile(r"[^A-Za-z0-9_.\-]")


def list_texts(values: Sequence[list[str]]) -> list[str]:
    """Lists of ids or slugs as JSON text, as both `json.dumps` (the JSON columns) and
    `dump_value` (the audit trail) write them: items of letters, digits, '_', '.' and '-' (what
    validated ids and slugs are made of) go between quotes as they are; any other list is
    written by the JSON encoder."""
    if _NOT_ID.search("".join(chain.from_iterable(values))) is None:
        return ['["' + '", "'.join(v) + '"]' if v else "[]" for v in values]
    return [json.dumps(v, ensure_ascii=False) for v in values]


def db_values(frame: pd.DataFrame, col: str) -> list[Any]:
    """One column as the database takes it: JSON text for lists, None for no coordinate."""
    if col in LISTS:
        return list_texts(frame[col].tolist())
    return _python(frame, col)


STORED = [*ASSET_COLUMNS, "version"]


def stored_register(conn: Connection) -> pd.DataFrame:
    """The stored register in its order (a frame with `version` added), in one query; the list
    columns are read as JSON text and parsed in one call."""
    a = t.assets.c
    query = select(
        *(cast(a[c], Text) if c in LISTS else a[c] for c in ASSET_COLUMNS), a.version
    ).order_by(a.position, a.id)
    rows = conn.execute(query).all()
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(STORED)
    data: dict[str, Any] = dict(zip(STORED, columns, strict=True))
    for col in LISTS:
        data[col] = _parsed_lists(data[col])
    frame = pd.DataFrame(
        {c: v if c in LISTS else pd.Series(v, dtype=object) for c, v in data.items()}
    )
    out = normalised(frame) if rows else empty_register()
    out["version"] = np.asarray(data["version"], dtype=np.int64)
    return out


def _parsed_lists(texts: Sequence[str]) -> pd.Series:
    """JSON lists (as stored) parsed: the non-empty ones in a single `json.loads` of them all."""
    full = [v for v in texts if v != "[]"]
    parsed = iter(json.loads("[" + ",".join(full) + "]") if full else [])
    return pd.Series([[] if v == "[]" else next(parsed) for v in texts], dtype=object)


# -- JSON text of values, as records.dump_value writes them ---------------------------------------

_RECORD_KEYS = sorted(ASSET_COLUMNS)


def value_texts(values: pd.Series, col: str, none: str | None = None) -> list[str | None]:
    """Each value of one column as `dump_value` writes it; `none` where there is no value."""
    if col in FLOATS:
        numbers = values.to_numpy(dtype=np.float64)
        out: list[str | None] = list(map(float.__repr__, numbers.tolist()))
        for i in np.flatnonzero(np.isnan(numbers)).tolist():
            out[i] = none
        return out
    if col in INTEGERS:
        return list(map(int.__repr__, values.tolist()))
    if col in LISTS:
        return list(list_texts(values.tolist()))
    data = values.tolist()
    if _ESCAPED.search("".join(data)) is None:  # nothing JSON escapes: quotes around each
        return ['"' + v + '"' for v in data]
    return list(map(encode_basestring, data))


def record_texts(
    frame: pd.DataFrame, values: Mapping[str, Sequence[Any]] | None = None
) -> list[str]:
    """Each row as `dump_value(asset_values(asset))` writes it: one JSON object, keys sorted.
    Each row's text is joined from its values' texts and the constant text between them (keys,
    and the quotes around text that has nothing JSON escapes), in one `str.join` a row.
    `values`: the columns as `db_values` gave them, when at hand (not computed again)."""
    if frame.empty:
        return []
    given = values or {}
    pieces: list[Any] = []
    between = "{"
    for k in _RECORD_KEYS:
        between += f"{encode_basestring(k)}: "
        data: Sequence[Any]
        if k in LISTS:
            data = given[k] if k in given else list_texts(frame[k].tolist())
        elif k in FLOATS or k in INTEGERS:
            data = value_texts(frame[k], k, "null")
        else:
            data = given[k] if k in given else frame[k].tolist()
            if _ESCAPED.search("".join(data)) is None:
                pieces += [repeat(between + '"'), data]
                between = '", '
                continue
            data = list(map(encode_basestring, data))
        pieces += [repeat(between), data]
        between = ", "
    pieces.append(repeat(between[:-2] + "}"))
    return list(map("".join, zip(*pieces, strict=False)))  # repeat() is endless


# -- the difference between two registers ---------------------------------------------------------


@dataclass(frozen=True)
class RegisterDiff:
    """What turns the `current` register into the `new` one. Positions are row numbers of the
    frames (0-based): `removed` of current; `added`, `changed` and `moved` of new, with
    `changed_from` the current row of each changed one and `fields` (changed rows x
    ASSET_FIELDS) which of its fields changed."""

    removed: np.ndarray
    added: np.ndarray
    changed: np.ndarray
    changed_from: np.ndarray
    fields: np.ndarray
    moved: np.ndarray

    def summary(self, current: pd.DataFrame, new: pd.DataFrame) -> ChangeSummary:
        out = ChangeSummary()
        out.removed = current["id"].to_numpy(dtype=object)[self.removed].tolist()
        ids = new["id"].to_numpy(dtype=object)
        out.added = ids[self.added].tolist()
        # each distinct set of changed fields named once (an import often changes the same
        # fields of many assets), each asset given its own list of them
        names = np.array(ASSET_FIELDS, dtype=object)
        codes = self.fields.astype(np.int64) @ (1 << np.arange(len(ASSET_FIELDS), dtype=np.int64))
        kinds, which = np.unique(codes, return_inverse=True)
        named = [names[(kind >> np.arange(len(ASSET_FIELDS))) & 1 == 1].tolist() for kind in kinds]
        out.changed = {
            asset_id: named[k].copy()
            for asset_id, k in zip(ids[self.changed].tolist(), which.tolist(), strict=True)
        }
        return out


def _equal(before: pd.Series, after: pd.Series, col: str) -> np.ndarray:
    a, b = before.to_numpy(), after.to_numpy()
    if col in OPTIONAL_FLOATS:
        same: np.ndarray = (a == b) | (np.isnan(a) & np.isnan(b))
        return same
    return np.asarray(a == b, dtype=bool)  # lists too: numpy compares them element-wise


def diff_registers(current: pd.DataFrame, new: pd.DataFrame) -> RegisterDiff:
    """The difference, found by joining the two registers on id (no asset by asset pass)."""
    index = id_index(current["id"])
    source = index.get_indexer(id_index(new["id"]))
    kept = source >= 0
    added = np.flatnonzero(~kept)
    common = np.flatnonzero(kept)
    removed = np.flatnonzero(~index.isin(id_index(new["id"])))
    origin = source[common]
    before = current.iloc[origin].reset_index(drop=True)
    after = new.iloc[common].reset_index(drop=True)
    fields = np.empty((len(common), len(ASSET_FIELDS)), dtype=bool)
    for j, col in enumerate(ASSET_FIELDS):
        fields[:, j] = ~_equal(before[col], after[col], col)
    any_change = fields.any(axis=1)
    unchanged = ~any_change
    # an unchanged asset moves when its place in the register is not the one it had
    moved = common[unchanged & (origin != common)]
    return RegisterDiff(
        removed=removed,
        added=added,
        changed=common[any_change],
        changed_from=origin[any_change],
        fields=fields[any_change],
        moved=moved,
    )
