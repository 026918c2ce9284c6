"""Any CSV or JSON over HTTP, mapped by configuration: a period and a value column (CSV), or
a JSON path to the list of items (`data.items[*]`) and the period and value keys of each.
A token named in the configuration is taken from RISKAPP_FETCH_TOKENS, never from the file."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any

from riskapp.io.connectors.common import (
    Fetched,
    normal_period,
    number,
    period_of,
    schema_error,
    to_series,
)
from riskapp.io.connectors.config import HttpFeed
from riskapp.io.connectors.http import Client, FetchError, parse_json

_STEP = re.compile(r"^([^\[\]]+)(?:\[(\*|\d+)\])?$")


def _walk(doc: Any, path: str, url: str) -> list[Any]:
    """The items a path such as data.items[*] points at."""
    nodes = [doc]
    done = ""
    for part in path.split(".") if path else []:
        m = _STEP.match(part)
        if m is None:  # checked when the configuration was read
            raise FetchError(url, f"bad JSON path step {part!r}")
        key, index = m.groups()
        done = f"{done}.{key}" if done else key
        nxt = []
        for node in nodes:
            if not isinstance(node, dict) or key not in node:
                raise schema_error(url, f"no key {done!r} in the JSON")
            nxt.append(node[key])
        nodes = nxt
        if index is None:
            continue
        out = []
        for node in nodes:
            if not isinstance(node, list):
                raise schema_error(url, f"{done!r} is not a list")
            if index == "*":
                out.extend(node)
            elif int(index) < len(node):
                out.append(node[int(index)])
            else:
                raise schema_error(url, f"{done!r} has no item {index}")
        nodes = out
        done += f"[{index}]"
    if len(nodes) == 1 and isinstance(nodes[0], list) and not path.endswith("]"):
        return list(nodes[0])
    return nodes


def _period(text: Any, feed: HttpFeed, where: str, url: str) -> str:
    if feed.period_format:
        try:
            moment = datetime.strptime(str(text).strip(), feed.period_format)
        except ValueError:
            raise FetchError(
                url, f"{where}: period {str(text)[:30]!r} does not match {feed.period_format!r}"
            ) from None
        return period_of(moment.date(), feed.frequency)
    return normal_period(str(text))


def _csv_rows(body: bytes, feed: HttpFeed, url: str) -> list[tuple[str, Any, Any]]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FetchError(url, f"malformed CSV: not UTF-8 text ({exc.reason})") from None
    reader = csv.reader(io.StringIO(text), delimiter=feed.delimiter, strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise FetchError(url, f"malformed CSV at line {reader.line_num}: {exc}") from None
    if not rows or not any(c.strip() for c in rows[0]):
        raise FetchError(url, "empty result: the CSV has no header")
    header = [c.strip() for c in rows[0]]
    missing = [c for c in (feed.period, feed.value) if c not in header]
    if missing:
        raise schema_error(
            url, f"no column {', '.join(map(repr, missing))}; columns: {', '.join(header[:20])}"
        )
    p, v = header.index(feed.period), header.index(feed.value)
    out = []
    for line, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise FetchError(
                url,
                f"truncated or malformed CSV: line {line} has {len(cells)} cells, the header "
                f"{len(header)}",
            )
        out.append((f"line {line}", cells[p], cells[v]))
    return out


def _json_rows(body: bytes, feed: HttpFeed, url: str) -> list[tuple[str, Any, Any]]:
    items = _walk(parse_json(body, url), feed.items, url)
    out = []
    for i, item in enumerate(items):
        where = f"item {i + 1} of {feed.items or 'the document'}"
        if not isinstance(item, dict):
            raise schema_error(url, f"{where} is not an object")
        missing = [k for k in (feed.period, feed.value) if k not in item]
        if missing:
            raise schema_error(url, f"{where} has no {' or '.join(map(repr, missing))}")
        out.append((where, item[feed.period], item[feed.value]))
    return out


def fetch_http(feed: HttpFeed, client: Client) -> Fetched:
    from urllib.parse import urlsplit

    host = urlsplit(feed.url).hostname or ""
    if host not in client.settings.fetch_allowed_hosts:
        # the URL is a workspace file's text: fetched only from a host the operator allowed
        raise FetchError(
            feed.url,
            f"host {host!r} is not allowed: add it to RISKAPP_FETCH_ALLOWED_HOSTS (a workspace "
            "file names the URL; the operator allows the host)",
        )
    headers = {}
    if feed.token is not None:
        secret = client.settings.fetch_tokens.get(feed.token)
        if secret is None:
            raise FetchError(
                feed.url, f"no token {feed.token!r} in the settings (RISKAPP_FETCH_TOKENS)"
            )
        secret_text = secret.get_secret_value()
        headers[feed.token_header] = (
            f"Bearer {secret_text}" if feed.token_header.lower() == "authorization" else secret_text
        )
    body = client.get(feed.url, headers)
    rows = (_csv_rows if feed.format == "csv" else _json_rows)(body, feed, feed.url)
    points = []
    for where, period, raw in rows:
        try:
            value = number(raw)
        except ValueError as exc:
            raise FetchError(feed.url, f"{where}: {feed.value} {exc}") from None
        if value is not None:
            points.append((_period(period, feed, where, feed.url), value))
    return to_series(feed, points, feed.url, "http")
