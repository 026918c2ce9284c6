"""The Caldara-Iacoviello GPR monthly file, downloaded in the form riskapp ships it
(riskapp/resources/refdata/gpr: CSV, month as dd/mm/yyyy, GPR, GPRT, GPRA, ..., GPRC_<ISO3>,
with a label dictionary in its last two columns) and read by the same loader the baseline
uses (riskapp.baseline.sources.load_gpr), so both read the file the same way."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from riskapp.io.connectors.common import Fetched, to_series
from riskapp.io.connectors.config import GprFeed
from riskapp.io.connectors.http import Client, FetchError
from riskapp.io.errors import InputError

_COUNTRY = re.compile(r"^(GPRC|GPRHC)_([A-Z]{3})$")


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
        path.write_bytes(body)
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
