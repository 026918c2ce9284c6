"""HTTP for the connectors: one GET with the Settings' timeout, proxy, size limit and retries.

Only the standard library (urllib): httpx is not a dependency of riskapp. A timeout, a
connection error, HTTP 429 and any 5xx are retried with exponential backoff
(`fetch_backoff`, doubled each time, `fetch_retries` times); every other answer fails at
once. Every failure is a `FetchError` naming the URL and what went wrong."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from riskapp.settings import Settings

MAX_RETRY_AFTER = 300.0


class FetchError(Exception):
    """A fetch that failed: which indicator (filled in by the caller), which URL, what."""

    def __init__(self, url: str, problem: str, indicator: str = "") -> None:
        super().__init__(problem)
        self.url = url
        self.problem = problem
        self.indicator = indicator

    def __str__(self) -> str:
        who = f"{self.indicator}: " if self.indicator else ""
        return f"{who}{self.url}: {self.problem}"


def with_query(url: str, params: Mapping[str, object]) -> str:
    """`url` with `params` appended as a query string (values URL-encoded)."""
    if not params:
        return url
    sep = "&" if urllib.parse.urlsplit(url).query else "?"
    return url + sep + urllib.parse.urlencode({k: str(v) for k, v in params.items()})


def _retryable_status(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


@dataclass
class Client:
    """GETs with the Settings' timeout, proxy, size limit, user agent and retries."""

    settings: Settings
    sleep: Callable[[float], None] = time.sleep

    def _opener(self) -> urllib.request.OpenerDirector:
        handlers: list[urllib.request.BaseHandler] = []
        if self.settings.fetch_proxy:
            proxy = self.settings.fetch_proxy
            handlers.append(urllib.request.ProxyHandler({"http": proxy, "https": proxy}))
        return urllib.request.build_opener(*handlers)

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> bytes:
        """The body of a 2xx answer to GET `url`; FetchError after the last retry."""
        if not url.startswith(("http://", "https://")):
            raise FetchError(url, "expected an http:// or https:// URL")
        s = self.settings
        attempts = s.fetch_retries + 1
        wait = s.fetch_backoff
        last = ""
        for attempt in range(attempts):
            retry_after: float | None = None
            try:
                return self._once(url, headers or {})
            except urllib.error.HTTPError as exc:
                body = _snippet(exc.read(2_000) if exc.fp else b"")
                last = f"HTTP {exc.code} {exc.reason}{body}"
                if not _retryable_status(exc.code):
                    raise FetchError(url, last) from None
                retry_after = _retry_after(exc.headers.get("Retry-After"))
            except TimeoutError:
                last = f"timed out after {s.fetch_timeout:g} s"
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, TimeoutError):
                    last = f"timed out after {s.fetch_timeout:g} s"
                else:
                    last = f"connection failed: {exc.reason}"
            except http.client.IncompleteRead as exc:
                last = (
                    f"truncated payload: the connection closed after {len(exc.partial):,} "
                    "bytes, before the announced length"
                )
            except (ConnectionError, http.client.HTTPException) as exc:
                last = f"connection failed: {exc.__class__.__name__}: {exc}"
            if attempt + 1 < attempts:
                self.sleep(min(MAX_RETRY_AFTER, max(wait, retry_after or 0.0)))
                wait *= 2
        tries = f" (after {attempts} attempts)" if attempts > 1 else ""
        raise FetchError(url, f"{last}{tries}")

    def _once(self, url: str, headers: Mapping[str, str]) -> bytes:
        s = self.settings
        request = urllib.request.Request(
            url, headers={"User-Agent": s.fetch_user_agent, "Accept": "*/*", **headers}
        )
        with self._opener().open(request, timeout=s.fetch_timeout) as answer:
            length = answer.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > s.fetch_max_bytes:
                raise FetchError(
                    url, f"answer of {int(length):,} bytes; the limit is {s.fetch_max_bytes:,}"
                )
            body: bytes = answer.read(s.fetch_max_bytes + 1)
            left = getattr(answer, "length", None)  # bytes announced but not received
            if left and len(body) <= s.fetch_max_bytes:
                raise http.client.IncompleteRead(body, left)
        if len(body) > s.fetch_max_bytes:
            raise FetchError(url, f"answer larger than the limit of {s.fetch_max_bytes:,} bytes")
        return body

    def get_json(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
        """The JSON of GET `url`; FetchError naming malformed or truncated JSON."""
        return parse_json(self.get(url, headers), url)


def parse_json(body: bytes, url: str) -> Any:
    if not body.strip():
        raise FetchError(url, "empty answer (expected JSON)")
    try:
        return json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise FetchError(url, f"malformed JSON: not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        truncated = exc.pos >= len(body.rstrip()) - 1 or exc.msg.startswith("Unterminated")
        what = "truncated JSON (the answer ends mid-document)" if truncated else "malformed JSON"
        raise FetchError(
            url, f"{what}: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None


def _snippet(body: bytes) -> str:
    # a server's words, shown to a terminal: printable characters only
    text = " ".join(body.decode("utf-8", "replace").split())
    text = "".join(c for c in text if c.isprintable())[:200]
    return f": {text}" if text else ""


def _retry_after(value: str | None) -> float | None:
    if value and value.strip().isdigit():
        return float(value.strip())
    return None
