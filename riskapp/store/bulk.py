"""Many rows written at once inside the caller's transaction: COPY and array parameters on
PostgreSQL (psycopg), the driver's executemany on SQLite.

Values are given as the database takes them: text, numbers, None, naive UTC datetimes, and JSON
columns as their JSON text. Nothing here commits: a write that fails or a process that dies
leaves the transaction to roll back.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from itertools import islice, repeat
from typing import Any, TypeVar

from sqlalchemy import JSON, Connection, Date, DateTime, Table

BULK_CHUNK = 5_000
"""Rows per statement (progress is reported after each)."""

ARRAY_ROWS = 1_000
"""PostgreSQL updates of at most this many rows pass their values as arrays (one statement);
more go through COPY into a temporary table (psycopg writes arrays value by value)."""

Progress = Callable[[int], None]
T = TypeVar("T")


def _names(conn: Connection, table: Table, columns: Sequence[str]) -> tuple[str, list[str]]:
    quote = conn.dialect.identifier_preparer.quote
    return quote(table.name), [quote(c) for c in columns]


def _for_driver(conn: Connection, table: Table, name: str, values: Sequence[Any]) -> Sequence[Any]:
    """Dates and datetimes as SQLAlchemy stores them in SQLite (text), each distinct value
    once."""
    kind = table.c[name].type
    if conn.dialect.name != "sqlite" or not isinstance(kind, (Date, DateTime)):
        return values
    process = kind.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    if process is None:
        return values
    done = {v: process(v) for v in set(values)}
    return list(map(done.__getitem__, values))


def _rows(
    conn: Connection, table: Table, data: Mapping[str, Sequence[Any]], start: int, stop: int
) -> list[tuple[Any, ...]]:
    return list(
        zip(*(_for_driver(conn, table, c, v[start:stop]) for c, v in data.items()), strict=True)
    )


def _length(data: Mapping[str, Sequence[Any]]) -> int:
    lengths = {len(v) for v in data.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")
    return lengths.pop() if lengths else 0


def insert_rows(
    conn: Connection,
    table: Table,
    data: Mapping[str, Sequence[Any]],
    progress: Progress | None = None,
    meanwhile: Callable[[], T] | None = None,
) -> T | None:
    """Insert rows given column by column: one COPY on PostgreSQL, executemany on SQLite.
    `meanwhile` runs once the rows are sent and before they are confirmed (on PostgreSQL the
    server stores them while it runs); its result is returned."""
    n = _length(data)
    columns = list(data)
    if conn.dialect.name == "postgresql":

        def parts() -> Iterator[Sequence[Sequence[Any]]]:
            for start in range(0, n, BULK_CHUNK):
                part = [v[start : start + BULK_CHUNK] for v in data.values()]
                yield part
                if progress is not None:
                    progress(len(part[0]))

        return _copy(conn, table, columns, parts(), meanwhile)

    def rows() -> Iterator[Sequence[Any]]:
        for start in range(0, n, BULK_CHUNK):
            chunk = _rows(conn, table, data, start, start + BULK_CHUNK)
            yield from chunk
            if progress is not None:
                progress(len(chunk))

    return insert_stream(conn, table, columns, rows(), meanwhile)


def driver_value(conn: Connection, table: Table, column: str, value: Any) -> Any:
    """One value as the driver takes it for `column` (a datetime as SQLAlchemy stores it in
    SQLite)."""
    return _for_driver(conn, table, column, [value])[0]


def insert_stream(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    meanwhile: Callable[[], T] | None = None,
) -> T | None:
    """Insert rows (in `columns` order, values as the driver takes them) as they are produced:
    on PostgreSQL one COPY that psycopg sends while the next rows are made, on SQLite
    executemany by BULK_CHUNK rows. `meanwhile`: as in `insert_rows`."""
    stream = iter(rows)
    chunks = iter(lambda: list(islice(stream, BULK_CHUNK)), [])
    if conn.dialect.name == "postgresql":
        return _copy(conn, table, columns, (list(zip(*c, strict=True)) for c in chunks), meanwhile)
    name, cols = _names(conn, table, columns)
    sql = f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    for chunk in chunks:
        conn.exec_driver_sql(sql, chunk)
    return meanwhile() if meanwhile is not None else None


def _copy(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    parts: Iterable[Sequence[Sequence[Any]]],
    meanwhile: Callable[[], T] | None = None,
) -> T | None:
    """PostgreSQL: one COPY of rows given in parts, each column by column (`columns` order),
    each part sent as it comes; `meanwhile` runs before the COPY ends."""
    name, cols = _names(conn, table, columns)
    statement = f"COPY {name} ({', '.join(cols)}) FROM STDIN"
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for part in parts:
            write_copy(copy, part)
        return meanwhile() if meanwhile is not None else None


def write_copy(copy: Any, part: Sequence[Sequence[Any]]) -> None:
    """Rows given column by column written to a COPY (psycopg's `Copy`): as one block of COPY
    text built column by column when every value is of a kind `copy_texts` writes, otherwise
    row by row by psycopg."""
    texts = [copy_texts(values) for values in part]
    if not all(t is not None for t in texts):
        for row in zip(*part, strict=True):
            copy.write_row(row)
        return
    if not texts or not len(texts[0]):  # type: ignore[arg-type]
        return
    pieces: list[Iterable[str]] = []
    for column in texts:
        pieces += [column, repeat("\t")]  # type: ignore[list-item]
    pieces[-1] = repeat("\n")
    copy.write("".join(map("".join, zip(*pieces, strict=False))))  # repeat() is endless


NULL = "\\N"
_COPY_SPECIAL = ("\\", "\t", "\n", "\r")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_texts(values: Sequence[Any]) -> list[str] | None:
    """One column's values as COPY's text format writes them (None: NULL; text with its
    backslashes, tabs and line breaks escaped; numbers as `repr` writes them; naive datetimes
    and dates in ISO form); None when a value is of another kind (booleans, timezone-aware
    datetimes, non-finite floats, ...), which psycopg then writes."""
    kinds = set(map(type, values))
    nulls = type(None) in kinds
    kinds.discard(type(None))
    if not kinds:
        return [NULL] * len(values)
    if len(kinds) > 1:
        return None
    kind = kinds.pop()
    present = [v for v in values if v is not None] if nulls else values
    text: Callable[[Any], str] | None
    if kind is str:
        joined = "".join(present)  # (str.__contains__ scans far quicker than a regex)
        special = any(c in joined for c in _COPY_SPECIAL)
        text = (lambda v: v.translate(_COPY_ESCAPES)) if special else None
    elif kind is int:
        text = int.__repr__
    elif kind is float:
        if not all(map(math.isfinite, present)):
            return None
        text = float.__repr__
    elif kind in (datetime, date):
        distinct = set(present)
        if kind is datetime and any(v.tzinfo is not None for v in distinct):
            return None
        texts = {v: v.isoformat(" ") if kind is datetime else v.isoformat() for v in distinct}
        text = texts.__getitem__
    else:
        return None
    if not nulls:
        return list(values) if text is None else list(map(text, values))
    if text is None:
        return [NULL if v is None else v for v in values]
    return [NULL if v is None else text(v) for v in values]


def _pg_array_type(conn: Connection, table: Table, column: str) -> str:
    kind = table.c[column].type
    return "text[]" if isinstance(kind, JSON) else f"{kind.compile(dialect=conn.dialect)}[]"


def update_rows(
    conn: Connection,
    table: Table,
    key: str,
    data: Mapping[str, Sequence[Any]],
    progress: Progress | None = None,
) -> None:
    """Set columns of the rows named by `key` (data: the key column, then the columns to set).
    PostgreSQL: one UPDATE ... FROM the values (as arrays, or COPYed into a temporary table
    when many); SQLite: executemany."""
    n = _length(data)
    columns = [c for c in data if c != key]
    name, cols = _names(conn, table, columns)
    quote = conn.dialect.identifier_preparer.quote
    if conn.dialect.name == "postgresql" and n > ARRAY_ROWS:
        _pg_update_by_copy(conn, table, key, data, progress)
        return
    if conn.dialect.name == "postgresql":
        names = [key, *columns]
        arrays = ", ".join(f"%s::{_pg_array_type(conn, table, c)}" for c in names)
        alias = ", ".join(quote(c) for c in names)
        sets = ", ".join(
            f"{q} = v.{q}" + ("::json" if isinstance(table.c[c].type, JSON) else "")
            for c, q in zip(columns, cols, strict=True)
        )
        sql = (
            f"UPDATE {name} AS t SET {sets} FROM unnest({arrays}) AS v({alias}) "
            f"WHERE t.{quote(key)} = v.{quote(key)}"
        )
        with conn.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
            cursor.execute(sql, [list(data[c]) for c in names])
        if progress is not None:
            progress(n)
        return
    sets = ", ".join(f"{q} = ?" for q in cols)
    sql = f"UPDATE {name} SET {sets} WHERE {quote(key)} = ?"
    ordered = {**{c: data[c] for c in columns}, key: data[key]}
    for start in range(0, n, BULK_CHUNK):
        chunk = _rows(conn, table, ordered, start, start + BULK_CHUNK)
        conn.exec_driver_sql(sql, chunk)
        if progress is not None:
            progress(len(chunk))


def _pg_update_by_copy(
    conn: Connection,
    table: Table,
    key: str,
    data: Mapping[str, Sequence[Any]],
    progress: Progress | None,
) -> None:
    """Many rows: COPY the new values into a temporary table (the columns' types, no rows),
    then one UPDATE ... FROM it."""
    quote = conn.dialect.identifier_preparer.quote
    name = quote(table.name)
    columns = [c for c in data if c != key]
    staging = "pg_temp." + quote(f"riskapp_update_{table.name}")
    listed = ", ".join(quote(c) for c in data)
    sets = ", ".join(f"{quote(c)} = v.{quote(c)}" for c in columns)
    n = _length(data)
    with conn.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(f"DROP TABLE IF EXISTS {staging}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {staging} AS SELECT {listed} FROM {name} WITH NO DATA"
        )
        with cursor.copy(f"COPY {staging} ({listed}) FROM STDIN") as copy:
            for start in range(0, n, BULK_CHUNK):
                write_copy(copy, [v[start : start + BULK_CHUNK] for v in data.values()])
        cursor.execute(
            f"UPDATE {name} AS t SET {sets} FROM {staging} AS v "
            f"WHERE t.{quote(key)} = v.{quote(key)}"
        )
        cursor.execute(f"DROP TABLE {staging}")
    if progress is not None:
        progress(n)


def delete_rows(
    conn: Connection,
    table: Table,
    key: str,
    keys: Sequence[Any],
    progress: Progress | None = None,
) -> None:
    """Delete the rows whose `key` is one of `keys`."""
    name, (quoted_key,) = _names(conn, table, [key])
    for start in range(0, len(keys), BULK_CHUNK):
        chunk = list(keys[start : start + BULK_CHUNK])
        if conn.dialect.name == "postgresql":
            with conn.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
                cursor.execute(f"DELETE FROM {name} WHERE {quoted_key} = ANY(%s)", [chunk])
        else:
            conn.exec_driver_sql(
                f"DELETE FROM {name} WHERE {quoted_key} = ?", [(k,) for k in chunk]
            )
        if progress is not None:
            progress(len(chunk))
