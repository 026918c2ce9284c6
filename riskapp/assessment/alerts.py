"""Alerts from an assessment and the team database (issue 11, item 5): the events that call for
someone's attention, each with a key naming the event itself, so that checking again raises
nothing twice:

- a signpost amber or red (key: scenario, signpost, state, since when);
- a plan triggered by a signpost or a current probability (plan, scenario, what fired it);
- a plan review overdue (plan, review date);
- a scenario's current probability away from its prior by at least the workspace's
  `alert_probability_change` (scenario, probability to 0.1 %);
- an indicator a signpost watches not updated for longer than its frequency allows (series,
  latest period).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from riskapp.assessment.core import Assessment
from riskapp.assessment.signposts import board, probability_updates, stale_series
from riskapp.domain.alerts import AlertEvent, AlertKind, Severity
from riskapp.domain.indicators import STALE_AFTER

if TYPE_CHECKING:
    from riskapp.io.notify import Message
    from riskapp.settings import Settings, Subscription
    from riskapp.store import Actor, Store
    from riskapp.store.alerts import StoredAlert


def alert_events(a: Assessment, store: Store, now: datetime) -> list[AlertEvent]:
    """Every event the assessment and the database show now."""
    from riskapp.assessment.register import overdue_reviews

    ws = a.ws
    statuses = list(a.signposts) if a.signposts is not None else board(ws, store)
    events: list[AlertEvent] = []
    for st in statuses:
        if st.state not in ("amber", "red"):
            continue
        s = st.signpost
        events.append(
            AlertEvent(
                key=f"signpost|{st.scenario_id}|{s.name}|{st.state}|{st.since}",
                kind=AlertKind.SIGNPOST,
                severity=Severity.CRITICAL if st.state == "red" else Severity.WARNING,
                title=f"Signpost {st.state}: {s.name} ({st.scenario})",
                detail=(
                    f"{s.indicator}: {st.value:,.4g} in {st.period}, threshold {s.direction.value} "
                    f"{s.threshold:,.4g}"
                    + (f" (amber band {s.amber_band:,.4g})" if s.amber_band else "")
                    + f"; {st.state} since {st.since}."
                ),
                subject=st.scenario_id,
            )
        )
    red = {(st.scenario_id, st.signpost.name): st for st in statuses if st.state == "red"}
    # prior -> current of each scenario, whichever probabilities `a` was scored on
    updates = (
        list(a.probability_updates)
        if a.signposts is not None
        else probability_updates(ws, statuses)
    )
    current = {u.scenario_id: u.current for u in updates}
    titles = {sc.id: sc.title for sc in ws.scenarios}
    for plan in ws.plans.plans:
        for sc in ws.scenarios:
            why = [
                f"signpost '{n}' red since {red[(sc.id, n)].since}"
                for n in plan.trigger.signposts
                if (sc.id, n) in red
            ] + [
                f"current probability {current[sc.id]:.1%} >= {c.at_least:.1%}"
                for c in plan.trigger.probabilities
                if c.scenario == sc.id and current.get(sc.id, 0.0) >= c.at_least
            ]
            if why:
                events.append(
                    AlertEvent(
                        key=f"plan|{plan.id}|{sc.id}|{'; '.join(why)}",
                        kind=AlertKind.PLAN_TRIGGERED,
                        severity=Severity.CRITICAL,
                        title=f"Plan triggered: {plan.title} ({titles[sc.id]})",
                        detail=f"{'; '.join(why)}. Owner: {plan.owner or 'none named'}.",
                        subject=plan.id,
                    )
                )
    for row in overdue_reviews(store.plans(), now.date()).to_dict("records"):
        events.append(
            AlertEvent(
                key=f"review|{row['id']}|{row['review_date']}",
                kind=AlertKind.REVIEW_OVERDUE,
                severity=Severity.WARNING,
                title=f"Plan review overdue: {row['title']}",
                detail=f"Review date {row['review_date']}, {row['days_overdue']} days ago; "
                f"owner {row['owner'] or 'none named'}.",
                subject=str(row["id"]),
            )
        )
    step = ws.settings.alert_probability_change
    for u in updates:
        if abs(u.current - u.prior) >= step:
            events.append(
                AlertEvent(
                    key=f"probability|{u.scenario_id}|{u.current:.3f}",
                    kind=AlertKind.PROBABILITY_MOVED,
                    severity=Severity.WARNING,
                    title=f"Probability moved: {titles[u.scenario_id]} {u.prior:.1%} -> "
                    f"{u.current:.1%}",
                    detail="; ".join(f"{n} red since {since} (x{r:g})" for n, r, since in u.reasons)
                    or "its parent scenario moved",
                    subject=u.scenario_id,
                )
            )
    for info, days in stale_series(statuses, store, now.date()):
        ind = info.indicator
        fetched = f"; last stored {info.fetched_at:%Y-%m-%d}" if info.fetched_at is not None else ""
        events.append(
            AlertEvent(
                key=f"stale|{ind.id}|{info.latest_period}",
                kind=AlertKind.DATA_STALE,
                severity=Severity.INFO,
                title=f"Data stale: {ind.name}",
                detail=f"Latest value is for {info.latest_period}, which ended {days} days ago; "
                f"a {ind.frequency.value} series is expected within "
                f"{STALE_AFTER[ind.frequency].days} days of its period's end{fetched}. "
                "Signposts on it may be out of date: fetch or import newer values.",
                subject=ind.id,
            )
        )
    return events


def check(
    a: Assessment, store: Store, actor: Actor, now: datetime | None = None
) -> list[StoredAlert]:
    """Raise the alerts of every event not raised before; the new ones."""
    return store.raise_alerts(alert_events(a, store, now or datetime.now(UTC)), actor)


def first_alerts(a: Assessment, store: Store) -> list[StoredAlert]:
    """The alerts of a store just filled from its workspace (the demo's first start), raised
    at once by the system so that the Alerts page shows what the shipped indicator history
    already says (e.g. signposts in their amber band) before anyone runs a check."""
    from riskapp.store import Actor as StoreActor

    return check(a, store, StoreActor.system("seed"))


__all__ = ["SEVERITY_ORDER", "STALE_AFTER", "alert_events", "check", "deliver", "first_alerts"]


@dataclass(frozen=True)
class Delivery:
    """What one delivery run did: per subscriber the alerts sent (and whether as a summary of
    a storm), and what could not be sent (sent again next run)."""

    sent: tuple[tuple[str, int, bool], ...]
    failed: tuple[str, ...]


SEVERITY_ORDER = {"info": 0, "warning": 1, "critical": 2}


def _wanted(sub: Subscription, alert: StoredAlert) -> bool:
    kinds = set(sub.kinds)
    return (not kinds or alert.kind.value in kinds) and SEVERITY_ORDER[
        alert.severity.value
    ] >= SEVERITY_ORDER[sub.min_severity]


def _message(alerts: list[StoredAlert], limit: int) -> Message:
    from riskapp.io.notify import Message

    data = tuple(
        {
            "id": a.id,
            "kind": a.kind.value,
            "severity": a.severity.value,
            "title": a.title,
            "detail": a.detail,
            "raised_at": a.raised_at.isoformat(),
        }
        for a in alerts
    )
    if len(alerts) == 1:
        a = alerts[0]
        return Message(f"[riskapp {a.severity.value}] {a.title}", a.detail, data)
    shown = alerts[:limit]
    lines = [f"- [{a.severity.value}] {a.title}" for a in shown]
    if len(alerts) > limit:
        lines.append(f"... and {len(alerts) - limit} more (riskapp alerts list)")
    worst = max(alerts, key=lambda a: SEVERITY_ORDER[a.severity.value]).severity.value
    return Message(f"[riskapp {worst}] {len(alerts)} alerts", "\n".join(lines), data)


def deliver(store: Store, settings: Settings) -> Delivery:
    """Send every alert a subscriber wants and has not had: by e-mail one message per run
    (a digest), by webhook one message per alert, or one summary when more than
    `alert_storm_limit` are due (a storm). Subscribers are the settings' (the team's) and
    each person's own. Sent alerts are recorded, so none goes twice; a failed send records
    nothing and is tried again next run."""
    from riskapp.io.notify import SendError, send_email, send_webhook
    from riskapp.store.alerts import delivered, record_delivery

    alerts = sorted(store.alerts(None), key=lambda a: a.id)
    sent: list[tuple[str, int, bool]] = []
    failed: list[str] = []
    limit = settings.alert_storm_limit
    # the team's subscribers (settings) and each person's own choice (the Alerts page)
    for sub in [*settings.alert_subscriptions, *store.personal_subscriptions()]:
        done = delivered(store.core, sub.name)
        due = [a for a in alerts if a.id not in done and _wanted(sub, a)]
        if not due:
            continue
        storm = len(due) > limit
        # e-mail: one digest a run; a webhook: one message an alert, or one summary in a storm
        batches = [due] if sub.email or storm else [[a] for a in due]
        for batch in batches:
            try:
                if sub.email:
                    send_email(settings, sub.email, _message(batch, limit), sub.name)
                else:
                    send_webhook(settings, sub, _message(batch, limit))
            except SendError as exc:
                failed.append(str(exc))
                continue
            channel = "email" if sub.email else "webhook"
            record_delivery(store.core, [a.id for a in batch], sub.name, channel, storm)
            sent.append((sub.name, len(batch), storm))
    return Delivery(tuple(sent), tuple(failed))
