"""What changed at the last refresh (issue 11, item 8): the latest refresh's assessment against
the one before it (the expected annual loss and its change by scenario, with why), and the
alerts raised since the one before (signposts crossed, probabilities moved, plans triggered).
The Overview's panel and the reports show this one summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import pandas as pd

from riskapp.domain.alerts import AlertKind

if TYPE_CHECKING:
    from riskapp.store import Store
    from riskapp.store.alerts import StoredAlert

REFRESH_LABEL = "refresh "  # riskapp.assessment.refresh labels its saved assessments so


@dataclass(frozen=True)
class RefreshChanges:
    """The latest refresh (and the one before, if any) and what changed between them."""

    at: datetime
    previous_at: datetime | None
    eal_before: float | None
    eal_after: float
    by_scenario: pd.DataFrame  # scenario, before, after, change, why (largest change first)
    crossed: tuple[StoredAlert, ...]  # signposts turned amber or red
    moved: tuple[StoredAlert, ...]  # probabilities moved
    triggered: tuple[StoredAlert, ...]  # plans triggered by signposts or probabilities
    other: tuple[StoredAlert, ...]  # reviews overdue, stale data

    @property
    def eal_change(self) -> float | None:
        return None if self.eal_before is None else self.eal_after - self.eal_before

    def lines(self, money: object) -> list[str]:
        """The summary in sentences (what reports print); `money` formats an amount."""
        fmt = money if callable(money) else str
        when = self.at.strftime("%Y-%m-%d %H:%M UTC")
        out = [
            f"Last refresh {when}"
            + (
                f", compared with {self.previous_at:%Y-%m-%d %H:%M} UTC"
                if self.previous_at
                else " (the first)"
            )
            + "."
        ]
        if self.eal_change is not None:
            out.append(
                f"Expected annual loss {fmt(self.eal_before)} -> {fmt(self.eal_after)} "
                f"({'+' if self.eal_change >= 0 else '-'}{fmt(abs(self.eal_change))})."
            )
            for row in self.by_scenario.head(3).to_dict("records"):
                if abs(row["change"]) > 0:
                    why = f" ({row['why']})" if row["why"] else ""
                    out.append(f"  {row['scenario']}: {fmt(row['change'])}{why}")
        for label, items in (
            ("Signposts crossed", self.crossed),
            ("Probabilities moved", self.moved),
            ("Plans triggered", self.triggered),
            ("Other alerts", self.other),
        ):
            out.append(f"{label}: " + ("; ".join(a.title for a in items) if items else "none"))
        return out


def refresh_changes(store: Store) -> RefreshChanges | None:
    """What the latest refresh changed, or None if there has been no refresh."""
    from riskapp.store.assessments import compare

    refreshes = [s for s in store.assessments() if s.label.startswith(REFRESH_LABEL)]
    if not refreshes:
        return None
    refreshes.sort(key=lambda s: (s.created_at, s.id))
    latest = store.assessment(refreshes[-1].id)
    previous = store.assessment(refreshes[-2].id) if len(refreshes) > 1 else None
    since = previous.summary.created_at if previous is not None else None
    alerts = [a for a in store.alerts(None) if since is None or a.raised_at > since]
    alerts = [a for a in alerts if a.raised_at <= latest.summary.created_at]
    if previous is not None:
        comparison = compare(previous, latest)
        by = comparison.by.get("scenario", pd.DataFrame())
        eal_before: float | None = float(
            previous.summary.key_figures.get("expected_annual_loss", float("nan"))
        )
    else:
        by = pd.DataFrame(columns=["scenario", "before", "after", "change", "why"])
        eal_before = None
    return RefreshChanges(
        at=latest.summary.created_at,
        previous_at=since,
        eal_before=eal_before,
        eal_after=float(latest.summary.key_figures.get("expected_annual_loss", float("nan"))),
        by_scenario=by,
        crossed=tuple(a for a in alerts if a.kind is AlertKind.SIGNPOST),
        moved=tuple(a for a in alerts if a.kind is AlertKind.PROBABILITY_MOVED),
        triggered=tuple(a for a in alerts if a.kind is AlertKind.PLAN_TRIGGERED),
        other=tuple(
            a for a in alerts if a.kind in (AlertKind.REVIEW_OVERDUE, AlertKind.DATA_STALE)
        ),
    )
