"""Write result tables to CSV, Parquet or JSON, atomically and safe for spreadsheets."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

FORMATS = (".csv", ".parquet", ".json")
# A spreadsheet runs a cell as a formula when it starts with one of these (fullwidth forms
# included: some spreadsheet imports fold them); leading blanks and control characters (a tab,
# a carriage return, NUL) do not stop it, so they are looked through and then dropped.
FORMULA_CHARS = "=+-@\uff1d\uff0b\uff0d\uff20"
CONTROL = "".join(map(chr, range(32))) + "\x7f"
LEADING = " " + CONTROL
RISKY = re.compile(f"^[{re.escape(LEADING)}]*[{re.escape(FORMULA_CHARS)}]|^[{re.escape(CONTROL)}]")


def formula_like(text: str) -> bool:
    """True if a spreadsheet could run this text as a formula (or it starts with a control
    character that could hide one)."""
    return RISKY.match(text) is not None


def neutralise(text: str) -> str:
    """The one neutralisation every CSV and spreadsheet writer uses: formula-like text gets a
    leading apostrophe after its leading blanks and control characters are dropped, so it reads
    as text in every spreadsheet; other text is returned as it is."""
    return "'" + text.lstrip(LEADING) if formula_like(text) else text


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """`neutralise` applied to every text cell of a frame (vectorised per column)."""
    out = frame.copy()
    for col in out.columns:
        values = out[col]
        if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
            continue
        is_text = values.map(lambda v: isinstance(v, str)).astype(bool)
        risky = values.where(is_text, "").astype(str).str.match(RISKY.pattern) & is_text
        if risky.any():
            out[col] = values.astype(object)
            out.loc[risky, col] = "'" + values[risky].astype(str).str.lstrip(LEADING)
    return out


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write a table by the file's extension; the target appears whole or not at all."""
    write_table_parts([frame], path)


def _write_parquet(parts: Iterable[pd.DataFrame], tmp: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    try:
        for part in parts:
            table = pa.Table.from_pandas(part, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table.cast(writer.schema))
        if writer is None:
            pd.DataFrame().to_parquet(tmp, index=False)
    finally:
        if writer is not None:
            writer.close()


def write_table_parts(parts: Iterable[pd.DataFrame], path: Path) -> None:
    """Write a table given as consecutive parts with the same columns (CSV and Parquet are
    streamed part by part, so the whole table is never held; JSON is written whole); the
    target appears whole or not at all."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{path}: unsupported output format; use one of {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    try:
        if suffix == ".csv":
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                for i, part in enumerate(parts):
                    neutralise_formulas(part).to_csv(fh, index=False, header=i == 0)
        elif suffix == ".parquet":
            _write_parquet(parts, tmp)
        else:
            frame = pd.concat(list(parts), ignore_index=True)
            frame.to_json(tmp, orient="records", indent=1, force_ascii=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
