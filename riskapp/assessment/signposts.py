"""Signposts evaluated on the latest values of their indicator series (issue 11, item 2):
each scenario's signposts with value, threshold, direction, state and since when, read from
the indicators kept in the team database (riskapp.store.indicators). The rule is
riskapp.engine.signposts'; the page, the command line and reports show this one board."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

import pandas as pd

from riskapp.domain import Workspace
from riskapp.domain.indicators import stale_days
from riskapp.domain.scenarios import Direction, Signpost
from riskapp.engine.plans import TriggerSignals
from riskapp.engine.signposts import STATE_NAMES, run_start, signpost_states

if TYPE_CHECKING:
    from riskapp.store.indicators import IndicatorInfo

NO_SERIES = "not linked"  # the signpost names no stored series: watched by hand
NO_DATA = "no data"  # it names one that has no values (yet)
STATE_ORDER = {"red": 0, "amber": 1, "green": 2, NO_DATA: 3, NO_SERIES: 4}


class IndicatorSource(Protocol):
    """What the board reads: the team database's indicators (riskapp.store.Store)."""

    def observations(self, indicator_id: str, vintages: bool = False) -> pd.DataFrame: ...


@dataclass(frozen=True)
class SignpostStatus:
    scenario_id: str
    scenario: str
    signpost: Signpost
    state: str  # green, amber, red, no data, not linked
    value: float | None
    period: str | None  # the latest value's period
    since: str | None  # first period of the current state's run
    stored_at: datetime | None


def history(source: IndicatorSource, signpost: Signpost) -> pd.DataFrame:
    """(period, value, state) of the signpost's series, latest vintage of each period."""
    if signpost.series is None:
        return pd.DataFrame(columns=["period", "value", "state"])
    try:
        frame = source.observations(signpost.series)
    except KeyError:
        return pd.DataFrame(columns=["period", "value", "state"])
    frame = frame.sort_values("period").reset_index(drop=True)
    states = signpost_states(
        frame["value"].to_numpy(dtype=float),
        signpost.threshold,
        signpost.direction is Direction.ABOVE,
        signpost.amber_band,
    )
    out = frame[["period", "value"]].copy()
    out["state"] = [STATE_NAMES[s] for s in states]
    out["stored_at"] = frame["fetched_at"]
    return out


def status(source: IndicatorSource, scenario_id: str, title: str, s: Signpost) -> SignpostStatus:
    if s.series is None:
        return SignpostStatus(scenario_id, title, s, NO_SERIES, None, None, None, None)
    h = history(source, s)
    if not len(h):
        return SignpostStatus(scenario_id, title, s, NO_DATA, None, None, None, None)
    last = h.iloc[-1]
    since = str(h["period"].iloc[run_start(h["state"].to_numpy())])
    stored = last["stored_at"]
    return SignpostStatus(
        scenario_id,
        title,
        s,
        str(last["state"]),
        float(last["value"]),
        str(last["period"]),
        since,
        None if pd.isna(stored) else pd.Timestamp(stored).to_pydatetime(),
    )


def board(ws: Workspace, source: IndicatorSource) -> list[SignpostStatus]:
    """Every signpost of every scenario, in scenario order, with its state."""
    return [status(source, sc.id, sc.title, s) for sc in ws.scenarios for s in sc.signposts]


class IndicatorCatalogue(Protocol):
    def indicators(self) -> Sequence[IndicatorInfo]: ...


def stale_series(
    statuses: Sequence[SignpostStatus], source: IndicatorCatalogue, today: date
) -> list[tuple[IndicatorInfo, int]]:
    """The series some signpost watches whose latest value is older than their frequency allows
    (`riskapp.domain.indicators.stale_days`), with how many days ago its period ended."""
    watched = {st.signpost.series for st in statuses if st.signpost.series}
    found = []
    for info in source.indicators():
        if info.indicator.id in watched and info.latest_period is not None:
            days = stale_days(info.latest_period, info.indicator.frequency, today)
            if days is not None:
                found.append((info, days))
    return found


def board_frame(statuses: list[SignpostStatus]) -> pd.DataFrame:
    """The board as a table (what the page and the command line show)."""
    return pd.DataFrame(
        [
            {
                "scenario": st.scenario,
                "signpost": st.signpost.name,
                "state": st.state,
                "value": st.value,
                "period": st.period or "",
                "threshold": st.signpost.threshold,
                "direction": st.signpost.direction.value,
                "amber band": st.signpost.amber_band,
                "ratio": st.signpost.likelihood_ratio,
                "since": st.since or "",
                "series": st.signpost.series or "",
                "indicator": st.signpost.indicator,
            }
            for st in statuses
        ],
        columns=[
            "scenario",
            "signpost",
            "state",
            "value",
            "period",
            "threshold",
            "direction",
            "amber band",
            "ratio",
            "since",
            "series",
            "indicator",
        ],
    )


def counts(statuses: list[SignpostStatus]) -> dict[str, int]:
    """How many signposts are in each state."""
    out = dict.fromkeys(STATE_ORDER, 0)
    for st in statuses:
        out[st.state] += 1
    return out


@dataclass(frozen=True)
class ProbabilityUpdate:
    """A scenario's annual probability as written (prior) and as its crossed signposts make it
    (current), with the signposts that moved it (name, likelihood ratio, since when red).
    A scenario on an escalation ladder keeps its rung: its current probability is its
    parent's current one times its own step probability, updated by its own signposts."""

    scenario_id: str
    prior: float
    current: float
    reasons: tuple[tuple[str, float, str], ...]


def probability_updates(
    ws: Workspace, statuses: Sequence[SignpostStatus]
) -> list[ProbabilityUpdate]:
    """Every scenario's prior and current probability (current = prior without crossed
    signposts carrying a likelihood ratio), parents before the rungs that follow them."""
    from riskapp.engine.signposts import updated_probability

    cap = ws.settings.probability_cap
    crossed: dict[str, list[tuple[str, float, str]]] = {}
    for st in statuses:
        if st.state == "red" and st.signpost.likelihood_ratio != 1.0:
            crossed.setdefault(st.scenario_id, []).append(
                (st.signpost.name, st.signpost.likelihood_ratio, st.since or "")
            )
    by_id = {s.id: s for s in ws.scenarios}
    current: dict[str, float] = {}

    def resolve(sid: str) -> float:
        if sid in current:
            return current[sid]
        sc = by_id[sid]
        ratios = [r for _, r, _ in crossed.get(sid, [])]
        step = sc.escalates_from
        if step is not None and step.scenario in by_id:
            # the rung moves with its parent and with its own signposts, as written otherwise
            parent = by_id[step.scenario].frequency
            moved = resolve(step.scenario) / parent if parent > 0 else 1.0
            conditional = updated_probability(step.probability, ratios, cap) / step.probability
            current[sid] = sc.frequency * moved * conditional
        else:
            current[sid] = updated_probability(sc.frequency, ratios, cap)
        return current[sid]

    return [
        ProbabilityUpdate(s.id, s.frequency, resolve(s.id), tuple(crossed.get(s.id, [])))
        for s in ws.scenarios
    ]


def with_probabilities(ws: Workspace, updates: list[ProbabilityUpdate]) -> Workspace:
    """The workspace with each scenario's frequency set to its current probability (and a
    rung's step probability to its updated one, so that the ladder still holds)."""
    import dataclasses

    by_id = {u.scenario_id: u for u in updates}
    scenarios = []
    for sc in ws.scenarios:
        u = by_id.get(sc.id)
        if u is None or u.current == u.prior:
            scenarios.append(sc)
            continue
        update: dict[str, object] = {"frequency": u.current}
        step = sc.escalates_from
        parent = by_id.get(step.scenario) if step is not None else None
        if step is not None and parent is not None and parent.prior > 0 and u.prior > 0:
            # the step probability takes the part of the change the parent does not explain
            ratio = (u.current / u.prior) / (parent.current / parent.prior)
            update["escalates_from"] = step.model_copy(
                update={"probability": min(1.0, step.probability * ratio)}
            )
        scenarios.append(sc.model_copy(update=update))
    return dataclasses.replace(ws, scenarios=scenarios)


def trigger_signals(
    statuses: Sequence[SignpostStatus], updates: Sequence[ProbabilityUpdate]
) -> TriggerSignals:
    """What plan triggers read: the red signposts and every scenario's current probability."""
    red = frozenset((st.scenario_id, st.signpost.name) for st in statuses if st.state == "red")
    return TriggerSignals(red, {u.scenario_id: u.current for u in updates})
