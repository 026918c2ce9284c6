"""A refresh (issue 11, item 6): fetch the configured indicators, rebuild the baseline if the
settings say so, rescore, raise and deliver alerts, and keep the assessment in the history, so
that what changed since the last refresh can be read there (the History page compares any
two). `watch` runs it on the schedule the settings give (a cron expression); servers sharing one
database never run it twice at once (riskapp.store.runlock)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from riskapp.assessment.alerts import Delivery, check, deliver
from riskapp.assessment.core import assess
from riskapp.assessment.feeds import FeedOutcome, configured_feeds, feeds_file, fetch_indicators
from riskapp.assessment.sources import StoreSource

if TYPE_CHECKING:
    from riskapp.settings import Settings
    from riskapp.store import Actor

JOB = "refresh"


@dataclass(frozen=True)
class RefreshReport:
    """What one refresh did (`ran` False: another server was refreshing; nothing done)."""

    ran: bool
    at: datetime
    fetched: tuple[FeedOutcome, ...] = ()
    baseline: str = ""  # what was rebuilt ("" if nothing)
    eal_before: float = 0.0
    eal_after: float = 0.0
    alerts: int = 0
    delivery: Delivery | None = None
    saved_id: int | None = None

    @property
    def failed(self) -> list[FeedOutcome]:
        return [f for f in self.fetched if not f.ok]


def _rebuild_baseline(workspace: Path, now: datetime) -> str:
    from riskapp.baseline.build import build, write_baseline
    from riskapp.io.workspace import load_manifest, manifest_path

    mpath = manifest_path(workspace)
    manifest, _ = load_manifest(mpath)
    target = mpath.parent / manifest.paths.baseline
    result = build(as_of=now.date())
    write_baseline(result, target)
    return f"{target.name} rebuilt as of {now.date().isoformat()}"


def refresh(
    workspace: Path, settings: Settings, actor: Actor, now: datetime | None = None
) -> RefreshReport:
    """Run one refresh of the workspace against the settings' team database."""
    from riskapp.assessment.history import save
    from riskapp.store.runlock import job_lock

    at = now or datetime.now(UTC)
    source = StoreSource.open(workspace, settings)
    store = source.store
    try:
        with job_lock(store.core, JOB) as held:
            if not held:
                return RefreshReport(False, at)
            before = assess(source, probabilities="current")  # the living picture
            fetched: list[FeedOutcome] = []
            if feeds_file(workspace).is_file():
                fetched = fetch_indicators(store, configured_feeds(workspace), settings, actor)
            baseline = _rebuild_baseline(workspace, at) if settings.refresh_baseline else ""
            after = assess(source, probabilities="current")
            raised = check(after, store, actor, at)
            subscribed = settings.alert_subscriptions or store.personal_subscriptions()
            delivery = deliver(store, settings) if subscribed else None
            label = f"refresh {at:%Y-%m-%d %H:%M} UTC"
            saved = save(after, store, label, at.date(), actor)
            return RefreshReport(
                True,
                at,
                tuple(fetched),
                baseline,
                before.result.expected_annual_loss(),
                after.result.expected_annual_loss(),
                len(raised),
                delivery,
                saved.id,
            )
    finally:
        store.close()


def next_run(schedule: str, after: datetime) -> datetime:
    """The first time after `after` the cron expression names (UTC)."""
    from croniter import croniter

    nxt: datetime = croniter(schedule, after).get_next(datetime)
    return nxt if nxt.tzinfo else nxt.replace(tzinfo=UTC)


def watch(
    workspace: Path,
    settings: Settings,
    actor: Actor,
    runs: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    report: Callable[[RefreshReport], None] = lambda r: None,
) -> int:
    """Refresh at every time the schedule names, `runs` times (forever if None); returns how
    many refreshes ran here (others may have run on another server)."""
    done = ran = 0
    while runs is None or done < runs:
        wait = (next_run(settings.refresh_schedule, clock()) - clock()).total_seconds()
        sleep(max(wait, 0.0))
        result = refresh(workspace, settings, actor, clock())
        report(result)
        ran += int(result.ran)
        done += 1
    return ran
