"""Indicators in the team database: series and their observations, with every revision kept.

An import compares each (indicator, period) with its latest vintage: a period not seen before
is added as vintage 1, a changed value is added as the next vintage (the one it revises stays),
an equal value changes nothing. One import is one transaction and one audit entry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, insert, select, update

from riskapp.domain.indicators import Indicator, Series
from riskapp.store import schema as t
from riskapp.store.auth import Actor, Permission
from riskapp.store.bulk import insert_rows
from riskapp.store.core import StoreCore
from riskapp.store.records import from_db_time, to_db_time


@dataclass(frozen=True)
class SeriesImport:
    """What an import changed: indicators new or changed, periods added, values revised."""

    indicators_added: tuple[str, ...]
    indicators_changed: tuple[str, ...]
    added: int
    revised: int
    unchanged: int

    def __str__(self) -> str:
        return (
            f"{self.added} value(s) added, {self.revised} revised (earlier values kept), "
            f"{self.unchanged} unchanged; indicators: {len(self.indicators_added)} new, "
            f"{len(self.indicators_changed)} changed"
        )


@dataclass(frozen=True)
class IndicatorInfo:
    indicator: Indicator
    latest_period: str | None
    latest_value: float | None
    observations: int  # periods with a value
    fetched_at: datetime | None  # when the latest value was stored


class Indicators:
    """Keeps and reads indicators and their observations."""

    def __init__(self, core: StoreCore) -> None:
        self.core = core

    def import_series(self, series: Series, actor: Actor, source: str) -> SeriesImport:
        """Store a series (all or nothing; audit entry naming `source`)."""
        with self.core.write() as conn:
            self.core.authorize(conn, actor, Permission.IMPORT)
            now = self.core.now()
            ids = [i.id for i in series.indicators]
            c = t.indicators.c
            held = {r.id: r for r in conn.execute(select(t.indicators).where(c.id.in_(ids)))}
            added_ids, changed_ids = [], []
            for ind in series.indicators:
                fields = {
                    "name": ind.name,
                    "unit": ind.unit,
                    "frequency": ind.frequency.value,
                    "source": ind.source,
                }
                row = held.get(ind.id)
                if row is None:
                    conn.execute(
                        insert(t.indicators).values(
                            id=ind.id,
                            created_at=now,
                            updated_at=now,
                            updated_by=actor.label,
                            **fields,
                        )
                    )
                    added_ids.append(ind.id)
                elif any(getattr(row, k) != v for k, v in fields.items()):
                    conn.execute(
                        update(t.indicators)
                        .where(c.id == ind.id)
                        .values(updated_at=now, updated_by=actor.label, **fields)
                    )
                    changed_ids.append(ind.id)
            latest = _latest(conn, ids)
            new = pd.DataFrame(
                {
                    "indicator_id": [o.indicator for o in series.observations],
                    "period": [o.period for o in series.observations],
                    "value": [o.value for o in series.observations],
                    "published_at": [
                        to_db_time(o.published_at) if o.published_at else None
                        for o in series.observations
                    ],
                }
            ).drop_duplicates(["indicator_id", "period"], keep="last")
            merged = new.merge(latest, on=["indicator_id", "period"], how="left")
            first = merged["vintage"].isna()
            revised = ~first & (merged["value"] != merged["held_value"])
            write = merged[first | revised].copy()
            write["vintage"] = write["vintage"].fillna(0).astype(int) + 1
            if len(write):
                insert_rows(
                    conn,
                    t.observations,
                    {
                        "indicator_id": write["indicator_id"].tolist(),
                        "period": write["period"].tolist(),
                        "vintage": write["vintage"].tolist(),
                        "value": write["value"].astype(float).tolist(),
                        "published_at": [None if pd.isna(v) else v for v in write["published_at"]],
                        "fetched_at": [now] * len(write),
                        "source": [source[:200]] * len(write),
                    },
                )
            summary = SeriesImport(
                tuple(added_ids),
                tuple(changed_ids),
                int(first.sum()),
                int(revised.sum()),
                int(len(merged) - first.sum() - revised.sum()),
            )
            self.core.append_audit(
                conn,
                [
                    self.core.audit_entry(
                        actor,
                        "import",
                        "indicators",
                        ",".join(ids)[:200],
                        new={
                            "added": summary.added,
                            "revised": summary.revised,
                            "unchanged": summary.unchanged,
                            "indicators": ids,
                        },
                        note=source,
                        at=now,
                    )
                ],
            )
        return summary

    def indicators(self) -> list[IndicatorInfo]:
        """Every indicator with its latest value."""
        with self.core.read() as conn:
            rows = conn.execute(select(t.indicators).order_by(t.indicators.c.id)).all()
            latest = _latest(conn, [r.id for r in rows])
        out = []
        for r in rows:
            mine = latest[latest["indicator_id"] == r.id].sort_values("period")
            last = mine.iloc[-1] if len(mine) else None
            out.append(
                IndicatorInfo(
                    _indicator(r),
                    None if last is None else str(last["period"]),
                    None if last is None else float(last["held_value"]),
                    len(mine),
                    None if last is None else from_db_time(last["fetched_at"]),
                )
            )
        return out

    def observations(self, indicator_id: str, vintages: bool = False) -> pd.DataFrame:
        """(period, value, vintage, published_at, fetched_at, source) of an indicator: the
        latest vintage of each period, or with `vintages` every vintage; by period."""
        o = t.observations.c
        with self.core.read() as conn:
            if (
                conn.execute(
                    select(t.indicators.c.id).where(t.indicators.c.id == indicator_id)
                ).first()
                is None
            ):
                known = ", ".join(r.id for r in conn.execute(select(t.indicators.c.id)))
                raise KeyError(f"no indicator {indicator_id!r}; stored: {known or 'none'}")
            rows = conn.execute(
                select(o.period, o.value, o.vintage, o.published_at, o.fetched_at, o.source)
                .where(o.indicator_id == indicator_id)
                .order_by(o.period, o.vintage)
            ).all()
        frame = pd.DataFrame(
            [tuple(r) for r in rows],
            columns=["period", "value", "vintage", "published_at", "fetched_at", "source"],
        )
        if not vintages:
            frame = frame.drop_duplicates("period", keep="last")
        return frame.reset_index(drop=True)


def _latest(conn: Any, ids: Sequence[str]) -> pd.DataFrame:
    """(indicator_id, period, vintage, held_value, fetched_at) of the latest vintages."""
    o = t.observations.c
    top = (
        select(o.indicator_id, o.period, func.max(o.vintage).label("vintage"))
        .where(o.indicator_id.in_(list(ids)))
        .group_by(o.indicator_id, o.period)
        .subquery()
    )
    rows = conn.execute(
        select(o.indicator_id, o.period, o.vintage, o.value, o.fetched_at).join(
            top,
            (o.indicator_id == top.c.indicator_id)
            & (o.period == top.c.period)
            & (o.vintage == top.c.vintage),
        )
    ).all()
    return pd.DataFrame(
        [tuple(r) for r in rows],
        columns=["indicator_id", "period", "vintage", "held_value", "fetched_at"],
    )


def _indicator(row: Any) -> Indicator:
    return Indicator(
        id=row.id, name=row.name, unit=row.unit, frequency=row.frequency, source=row.source
    )
