"""`riskapp indicators fetch`: the configured indicators fetched through their connectors and
stored, each on its own (all or nothing per indicator: a failed fetch stores nothing of it,
and the others are stored all the same)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from riskapp.io.connectors import Client, FeedEntry, FetchError, fetch_feed, load_feeds, select
from riskapp.io.errors import InputError, Problem
from riskapp.settings import Settings
from riskapp.store import Actor, Store, StoreBusyError
from riskapp.store.indicators import SeriesImport


@dataclass(frozen=True)
class FeedOutcome:
    """One indicator's fetch: stored (what changed) or failed (why)."""

    indicator: str
    connector: str
    url: str
    imported: SeriesImport | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def feeds_file(workspace: Path) -> Path:
    """The workspace's indicators.yaml (`paths.indicators` in workspace.yaml)."""
    from riskapp.io.workspace import load_manifest, manifest_path

    mpath = manifest_path(workspace)
    manifest, _ = load_manifest(mpath)
    return mpath.parent / manifest.paths.indicators


def configured_feeds(workspace: Path, ids: Sequence[str] = ()) -> list[FeedEntry]:
    """The configured indicators (those `ids` names, or all); InputError naming the file,
    line and field of every problem."""
    from riskapp.io.workspace import display

    path = feeds_file(workspace)
    name = display(path)
    if not path.is_file():
        raise InputError(
            [Problem(name, None, "", "no indicators configured: file not found (see README)")]
        )
    feeds, _ = load_feeds(path, name)
    return select(feeds, list(ids), name)


def fetch_indicators(
    store: Store,
    feeds: Sequence[FeedEntry],
    settings: Settings,
    actor: Actor,
    client: Client | None = None,
) -> list[FeedOutcome]:
    """Fetch and store each feed in turn; one outcome per feed, in order."""
    client = client or Client(settings)
    outcomes = []
    for feed in feeds:
        try:
            got = fetch_feed(feed, client)
        except FetchError as exc:
            outcomes.append(FeedOutcome(feed.id, feed.connector, exc.url, error=str(exc)))
            continue
        try:
            done = store.import_series(got.series, actor, f"fetch {got.connector} {got.url}")
        except StoreBusyError as exc:
            outcomes.append(
                FeedOutcome(feed.id, feed.connector, got.url, error=f"{feed.id}: {exc}")
            )
            continue
        outcomes.append(FeedOutcome(feed.id, feed.connector, got.url, imported=done))
    return outcomes
