"""The Caldara-Iacoviello GPR monthly file, as the authors publish it (data_gpr_export.xls)
or in the CSV form riskapp ships (riskapp/resources/refdata/gpr: month as dd/mm/yyyy, GPR,
GPRT, GPRA, ..., GPRC_<ISO3>, with a label dictionary in its last two columns); an .xls is
turned into that CSV first, and both are read by the loader the baseline uses
(riskapp.baseline.sources.load_gpr), so the fetch and the baseline read the file alike."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from riskapp.io.connectors.common import Fetched, to_series
from riskapp.io.connectors.config import GprFeed
from riskapp.io.connectors.http import Client, FetchError
from riskapp.io.errors import InputError

_COUNTRY = re.compile(r"^(GPRC|GPRHC)_([A-Z]{3})$")


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an .xls (BIFF in a compound file)


def _xls_as_csv(body: bytes, url: str) -> bytes:
    """The authors' published .xls (data_gpr_export.xls: one sheet, a `month` column of dates,
    then GPR, GPRT, ..., GPRC_<ISO3>) as the CSV form riskapp ships, for the same loader."""
    import io

    import pandas as pd

    try:
        frame = pd.read_excel(io.BytesIO(body), engine="calamine", sheet_name=0)
    except Exception as exc:  # calamine raises its own errors for broken files
        raise FetchError(url, f"not a readable .xls file: {exc}") from None
    if "month" not in frame.columns:
        raise FetchError(url, "the answer's structure changed: the sheet has no 'month' column")
    months = pd.to_datetime(frame["month"], errors="coerce")
    if months.isna().any():
        raise FetchError(url, "the answer's structure changed: a 'month' cell is not a date")
    frame["month"] = months.dt.strftime("%d/%m/%Y")
    return frame.to_csv(index=False).encode("utf-8")


def fetch_gpr(feed: GprFeed, client: Client) -> Fetched:
    from riskapp.baseline.sources import load_gpr

    url = feed.url or client.settings.gpr_url
    if not url:
        raise FetchError(
            "(no URL)", "no URL for the GPR file: set RISKAPP_GPR_URL or the indicator's url"
        )
    body = client.get(url)
    if not body.strip():
        raise FetchError(url, "empty result: the file is empty")
    with tempfile.TemporaryDirectory(prefix="riskapp-gpr-") as folder:
        path = Path(folder) / "data_gpr_export.csv"
        path.write_bytes(_xls_as_csv(body, url) if body.startswith(OLE2) else body)
        try:
            data = load_gpr(path, url)
        except InputError as exc:
            shown = "; ".join(str(p) for p in exc.problems[:3])
            raise FetchError(url, f"not the GPR file's format: {shown}") from None
    m = _COUNTRY.match(feed.column)
    frame, series, country = (
        (data.data, m.group(1), m.group(2)) if m else (data.aggregates, feed.column, "WORLD")
    )
    mine = frame[(frame["series"] == series) & (frame["country"] == country)]
    if mine.empty:
        names = sorted(set(data.aggregates["series"]))
        raise FetchError(
            url,
            f"the answer's structure changed: no values in column {feed.column!r} "
            f"(headline columns with values: {', '.join(names[:12]) or 'none'})",
        )
    periods = mine["period"].to_numpy()
    labels = [f"{p // 12:04d}-{p % 12 + 1:02d}" for p in periods.tolist()]
    return to_series(
        feed, list(zip(labels, mine["value"].astype(float).tolist(), strict=True)), url, "gpr"
    )
