"""Alerts in the team database: raised once per event key, worked by people (acknowledged,
assigned, commented); every step is an audit entry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from riskapp.domain.alerts import AlertEvent, AlertKind, Severity
from riskapp.io.errors import InputError, Problem
from riskapp.store import schema as t
from riskapp.store.auth import Actor, Permission
from riskapp.store.core import StoreCore
from riskapp.store.records import from_db_time

if TYPE_CHECKING:
    from riskapp.settings import Subscription

OPEN, ACKNOWLEDGED = "open", "acknowledged"
MAX_COMMENT = 2000


@dataclass(frozen=True)
class StoredAlert:
    id: int
    key: str
    kind: AlertKind
    severity: Severity
    title: str
    detail: str
    subject: str
    status: str
    assignee: str
    comments: tuple[dict[str, str], ...]
    raised_at: datetime
    updated_at: datetime
    updated_by: str


class Alerts:
    """Raises and works alerts."""

    def __init__(self, core: StoreCore) -> None:
        self.core = core

    def raise_alerts(self, events: Sequence[AlertEvent], actor: Actor) -> list[StoredAlert]:
        """Store the events not raised before (by key); returns the new alerts."""
        keys = [e.key[:300] for e in events]
        with self.core.write() as conn:
            self.core.authorize(conn, actor, Permission.EDIT)
            held = set(
                conn.execute(select(t.alerts.c.key).where(t.alerts.c.key.in_(keys))).scalars()
            )
            now = self.core.now()
            fresh = [e for e in events if e.key[:300] not in held]
            fresh = list({e.key[:300]: e for e in fresh}.values())  # one per key in a batch too
            for e in fresh:
                conn.execute(
                    insert(t.alerts).values(
                        key=e.key[:300],
                        kind=e.kind.value,
                        severity=e.severity.value,
                        title=e.title[:300],
                        detail=e.detail,
                        subject=e.subject[:200],
                        status=OPEN,
                        assignee="",
                        comments=[],
                        raised_at=now,
                        updated_at=now,
                        updated_by=actor.label,
                    )
                )
            self.core.append_audit(
                conn,
                [
                    self.core.audit_entry(
                        actor, "raise", "alert", e.key[:200], new={"title": e.title}, at=now
                    )
                    for e in fresh
                ],
            )
            fresh_keys = [e.key[:300] for e in fresh]
            rows = conn.execute(select(t.alerts).where(t.alerts.c.key.in_(fresh_keys))).all()
        return sorted((_alert(r) for r in rows), key=lambda a: a.id)

    def alerts(self, status: str | None = None) -> list[StoredAlert]:
        """Alerts, newest first (only those of `status` if given)."""
        q = select(t.alerts).order_by(t.alerts.c.id.desc())
        if status is not None:
            q = q.where(t.alerts.c.status == status)
        with self.core.read() as conn:
            return [_alert(r) for r in conn.execute(q)]

    def _change(self, alert_id: int, actor: Actor, field: str, value: Any, action: str) -> None:
        with self.core.write() as conn:
            self.core.authorize(conn, actor, Permission.EDIT)
            row = conn.execute(select(t.alerts).where(t.alerts.c.id == alert_id)).first()
            if row is None:
                raise KeyError(f"no alert {alert_id}")
            now = self.core.now()
            old = getattr(row, field)
            if field == "comments":
                text = str(value).strip()
                if not text or len(text) > MAX_COMMENT:
                    raise InputError(
                        [Problem("alert", None, "comment", f"1-{MAX_COMMENT} characters")]
                    )
                value = [*old, {"at": now.isoformat(), "by": actor.label, "text": text}]
            conn.execute(
                update(t.alerts)
                .where(t.alerts.c.id == alert_id)
                .values({field: value, "updated_at": now, "updated_by": actor.label})
            )
            new = value[-1]["text"] if field == "comments" else value
            self.core.append_audit(
                conn,
                [
                    self.core.audit_entry(
                        actor,
                        action,
                        "alert",
                        str(alert_id),
                        field=field,
                        old=None if field == "comments" else old,
                        new=new,
                        at=now,
                    )
                ],
            )

    def acknowledge(self, alert_id: int, actor: Actor) -> None:
        self._change(alert_id, actor, "status", ACKNOWLEDGED, "acknowledge")

    def assign(self, alert_id: int, assignee: str, actor: Actor) -> None:
        name = assignee.strip()
        if not name or len(name) > 200:
            raise InputError([Problem("alert", None, "assignee", "1-200 characters")])
        self._change(alert_id, actor, "assignee", name, "assign")

    def comment(self, alert_id: int, text: str, actor: Actor) -> None:
        self._change(alert_id, actor, "comments", text, "comment")


def _alert(row: Any) -> StoredAlert:
    return StoredAlert(
        id=row.id,
        key=row.key,
        kind=AlertKind(row.kind),
        severity=Severity(row.severity),
        title=row.title,
        detail=row.detail,
        subject=row.subject,
        status=row.status,
        assignee=row.assignee,
        comments=tuple(row.comments or ()),
        raised_at=from_db_time(row.raised_at),
        updated_at=from_db_time(row.updated_at),
        updated_by=row.updated_by,
    )


def delivered(core: StoreCore, subscription: str) -> set[int]:
    """The alerts already sent to a subscriber."""
    c = t.alert_deliveries.c
    with core.read() as conn:
        return set(conn.execute(select(c.alert_id).where(c.subscription == subscription)).scalars())


def record_delivery(
    core: StoreCore, alert_ids: Sequence[int], subscription: str, channel: str, summary: bool
) -> None:
    """Record alerts as sent to a subscriber (after the send succeeded)."""
    if not alert_ids:
        return
    with core.write(lock=False) as conn:
        now = core.now()
        held = set(
            conn.execute(
                select(t.alert_deliveries.c.alert_id).where(
                    t.alert_deliveries.c.subscription == subscription
                )
            ).scalars()
        )
        rows = [
            {
                "alert_id": i,
                "subscription": subscription,
                "delivered_at": now,
                "channel": channel,
                "summary": int(summary),
            }
            for i in alert_ids
            if i not in held
        ]
        if rows:
            conn.execute(insert(t.alert_deliveries), rows)


USER_PREFIX = "user:"  # a personal subscription's name among the subscribers


def subscribe(
    core: StoreCore, actor: Actor, email: str, kinds: Sequence[str], min_severity: str
) -> None:
    """Set the actor's own subscription (replacing one they had); audited."""
    from riskapp.settings import Subscription

    try:
        checked = Subscription(
            name=f"{USER_PREFIX}{actor.username}"[:100],
            email=[email.strip()],
            kinds=[k for k in kinds if k],
            min_severity=min_severity,
        )
    except ValueError as exc:
        raise InputError([Problem("subscription", None, "", str(exc))]) from None
    unknown = sorted(set(checked.kinds) - {k.value for k in AlertKind})
    if unknown:
        raise InputError(
            [
                Problem(
                    "subscription",
                    None,
                    "kinds",
                    f"unknown alert kind {unknown[0]!r}; "
                    f"expected {', '.join(k.value for k in AlertKind)}",
                )
            ]
        )
    with core.write(lock=False) as conn:
        core.authorize(conn, actor, Permission.READ)  # one's own subscription: anyone who reads
        now = core.now()
        c = t.alert_subscriptions.c
        old = conn.execute(
            select(t.alert_subscriptions).where(c.username == actor.username)
        ).first()
        values = {
            "email": checked.email[0],
            "kinds": checked.kinds,
            "min_severity": checked.min_severity,
            "updated_at": now,
        }
        if old is None:
            conn.execute(insert(t.alert_subscriptions).values(username=actor.username, **values))
        else:
            conn.execute(
                update(t.alert_subscriptions).where(c.username == actor.username).values(values)
            )
        core.append_audit(
            conn,
            [
                core.audit_entry(
                    actor,
                    "subscribe",
                    "alert_subscription",
                    actor.username,
                    new={k: v for k, v in values.items() if k != "updated_at"},
                    at=now,
                )
            ],
        )


def unsubscribe(core: StoreCore, actor: Actor) -> None:
    """Remove the actor's own subscription; audited."""
    from sqlalchemy import delete

    with core.write(lock=False) as conn:
        core.authorize(conn, actor, Permission.READ)
        done = conn.execute(
            delete(t.alert_subscriptions).where(t.alert_subscriptions.c.username == actor.username)
        ).rowcount
        if done:
            core.append_audit(
                conn, [core.audit_entry(actor, "unsubscribe", "alert_subscription", actor.username)]
            )


def personal_subscriptions(core: StoreCore) -> list[Subscription]:
    """Every person's subscription, as the deliveries read subscribers."""
    from riskapp.settings import Subscription

    with core.read() as conn:
        rows = conn.execute(
            select(t.alert_subscriptions).order_by(t.alert_subscriptions.c.username)
        )
        return [
            Subscription(
                name=f"{USER_PREFIX}{r.username}"[:100],
                email=[r.email],
                kinds=list(r.kinds or []),
                min_severity=r.min_severity,
            )
            for r in rows
        ]
