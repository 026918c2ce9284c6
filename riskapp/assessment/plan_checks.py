"""Plan sanity flags, and the reviewer checklist that reports carry.

A plan is flagged when its figures need a reviewer's eye before anyone quotes them:

- **extreme benefit-cost ratio** (`extreme_bcr`): the plan averts more than `EXTREME_BCR`
  (50) times its cost, or costs nothing and averts something. Real contingency plans rarely
  return fifty times their cost; such a ratio usually means a cost left out, an effect too
  strong or a trigger that fires too often.
- **fires in most scenarios** (`fires_mostly`): the trigger fires in more than half
  (`MOST_SCENARIOS`) of the scenarios, counted one by one or weighted by their annual
  probabilities. A plan that fires almost always is a standing measure, not a contingency:
  budget and judge it as one.
- **fires in the status quo** (`fires_in_status_quo`): the trigger fires in a scenario with
  no shocks (today's conditions), so it is already firing now.
- **group trigger** (`group_trigger`): a factor level is set on a region group; it fires
  when *any one* member country reaches the level, not the group as a whole.
- **never fires** (`never_fires`): the trigger fires in no scenario, so the plan averts
  nothing in this assessment.
- **covers no asset** (`covers_nothing`): the coverage matches no asset of the register.

Retired plans are not checked. Flags of severity "warning" question a figure; "note" flags
say how to read it. A report or page that headlines a plan's figure (the best value, the
plan to put in place) prefers a plan without warnings and prints the plan's flags next to
the figure whenever it has any. Every report carries a reviewer checklist: each flag with
its plan and numbers, then the generic checks (probabilities, triggers, costs, effects).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from riskapp.domain.plans import PlanStatus

if TYPE_CHECKING:
    from riskapp.assessment.core import Assessment

EXTREME_BCR = 50.0
"""A benefit-cost ratio above this is flagged (free plans that avert something too)."""
MOST_SCENARIOS = 0.5
"""A trigger firing in more than this share of the scenarios (by count or by probability)."""

WARNING = "warning"
NOTE = "note"

FLAG_LABELS: dict[str, str] = {
    "extreme_bcr": "extreme benefit-cost ratio",
    "fires_mostly": "fires in most scenarios",
    "fires_in_status_quo": "fires in the status quo",
    "covers_nothing": "covers no asset",
    "never_fires": "never fires",
    "group_trigger": "group trigger",
}
WARNING_CODES = ("extreme_bcr", "fires_mostly", "fires_in_status_quo", "covers_nothing")


def has_warning(flags_text: str) -> bool:
    """Whether a plan's flag labels (`flag_text`) include a warning."""
    labels = set(flags_text.split("; "))
    return any(FLAG_LABELS[c] in labels for c in WARNING_CODES)


FLAG_COLUMNS = ["plan_id", "plan_title", "code", "label", "severity", "message"]


def plan_flags(a: Assessment) -> pd.DataFrame:
    """One row per (plan, flag): plan_id, plan_title, code, label, severity ("warning" or
    "note") and a plain-language message with the numbers; plan-book order, warnings first
    within a plan. Empty (with these columns) when nothing is flagged."""
    ws, ev, fmt = a.ws, a.plans, a.fmt
    factor_names = {f.id: f.name for f in ws.factors.factors}
    group_names = {g.id: g.name for g in ws.regions.groups}
    plans = ev.plans
    if not plans:
        return pd.DataFrame(columns=FLAG_COLUMNS)
    live = np.array([p.status is not PlanStatus.RETIRED for p in plans], dtype=bool)
    trig = ev.triggered  # (S, P)
    freq = np.asarray(ev.frequencies, dtype=float)
    n_s = trig.shape[0]
    count = trig.sum(axis=0)
    total_p = float(freq.sum())
    weighted = (freq @ trig) / total_p if total_p > 0 else np.zeros(len(plans))
    quo = np.array([not s.shocks for s in ws.scenarios], dtype=bool)
    in_quo = trig[quo].any(axis=0) if quo.any() else np.zeros(len(plans), dtype=bool)
    quo_titles = [s.title for s in ws.scenarios if not s.shocks]
    bcr, cost, averted = ev.benefit_cost_ratio(), ev.cost_npv(), ev.averted_npv()
    covered = ev.coverage.sum(axis=0)

    rows: list[dict[str, str]] = []

    def add(p: int, code: str, severity: str, message: str) -> None:
        rows.append(
            {
                "plan_id": plans[p].id,
                "plan_title": plans[p].title,
                "code": code,
                "label": FLAG_LABELS[code],
                "severity": severity,
                "message": message,
            }
        )

    for p, plan in enumerate(plans):
        if not live[p]:
            continue
        fires = f"its trigger fires in {int(count[p])} of {n_s} scenarios"
        if averted[p] > 0 and (bcr[p] > EXTREME_BCR):
            why = (
                "it costs nothing"
                if cost[p] <= 0
                else f"it returns {fmt.ratio(float(bcr[p]))} its cost"
            )
            add(
                p,
                "extreme_bcr",
                WARNING,
                f"Extreme benefit-cost ratio: {why} (averts {fmt.money(float(averted[p]))} "
                f"net present value for {fmt.money(float(cost[p]))}; flagged above "
                f"{EXTREME_BCR:g}x); {fires}. Check that the cost is complete and the effect "
                "and trigger are realistic before quoting the ratio.",
            )
        if count[p] > MOST_SCENARIOS * n_s or weighted[p] > MOST_SCENARIOS:
            add(
                p,
                "fires_mostly",
                WARNING,
                f"Fires in most scenarios: {fires} ({fmt.percent(float(weighted[p]))} of the "
                "scenario probability). A plan that almost always fires is a standing measure, "
                "not a contingency: budget and judge it as one.",
            )
        if in_quo[p]:
            names = "; ".join(t for t, q in zip(quo_titles, trig[quo, p], strict=True) if bool(q))
            add(
                p,
                "fires_in_status_quo",
                WARNING,
                f"Fires in the status quo: its trigger fires in '{names}', a scenario with "
                "no shocks, so it is already firing under today's conditions.",
            )
        if covered[p] == 0:
            add(
                p,
                "covers_nothing",
                WARNING,
                "Covers no asset: its coverage matches no asset in the register, so it "
                "averts nothing. Check the asset ids, types, tags and regions it names.",
            )
        if count[p] == 0:
            add(
                p,
                "never_fires",  # a note: it quotes no figure (it averts nothing)
                NOTE,
                f"Never fires: its trigger fires in none of the {n_s} scenarios, so it "
                "averts nothing in this assessment.",
            )
        for level in plan.trigger.factor_levels:
            if ws.regions.is_group(level.region):
                members = ws.regions.members(level.region)
                add(
                    p,
                    "group_trigger",
                    NOTE,
                    f"Group trigger: {factor_names.get(level.factor, level.factor)} at least "
                    f"{fmt.number(level.at_least, 1)} in "
                    f"{group_names.get(level.region, level.region)} fires when any one of its "
                    f"{len(members)} member countries reaches the level, not the group as a "
                    "whole.",
                )
    frame = pd.DataFrame(rows, columns=FLAG_COLUMNS)
    if len(frame):
        rank = {pid: i for i, pid in enumerate(ev.plan_ids)}
        frame = (
            frame.assign(
                _p=frame["plan_id"].map(rank), _s=(frame["severity"] != WARNING).astype(int)
            )
            .sort_values(["_p", "_s"], kind="stable")
            .drop(columns=["_p", "_s"])
            .reset_index(drop=True)
        )
    return frame


def flag_text(flags: pd.DataFrame, plan_id: str) -> str:
    """The plan's flag labels joined by '; ' ("" when it has none)."""
    mine = flags[flags["plan_id"] == plan_id]
    return "; ".join(dict.fromkeys(str(v) for v in mine["label"]))


def warned(flags: pd.DataFrame) -> set[str]:
    """Ids of the plans with at least one warning flag."""
    return {str(v) for v in flags.loc[flags["severity"] == WARNING, "plan_id"]}


def headline_suffix(flags: pd.DataFrame, plan_id: str) -> str:
    """What a headline naming the plan's figure must carry: ' [flagged: ...]' or ''."""
    text = flag_text(flags, plan_id)
    return f" [flagged: {text}]" if text else ""


GENERIC_CHECKS: tuple[tuple[str, str], ...] = (
    (
        "Probabilities",
        "Check that the scenarios' annual probabilities are sensible together: "
        "overlapping scenarios are not double counted and the status-quo scenario's "
        "probability is meant.",
    ),
    (
        "Triggers",
        "Check each plan's trigger (in the plans table) fires in the scenarios it is "
        "meant for, and that group triggers are meant to fire on any one member country.",
    ),
    (
        "Costs",
        "Check that one-off and annual costs are complete for every action (staff, "
        "contracts, stock, running costs).",
    ),
    (
        "Effects",
        "Check that each plan's damage multipliers and intensity reductions are backed by "
        "evidence, not hopes.",
    ),
)
CHECKLIST_COLUMNS = ["item", "plan", "finding"]


def reviewer_checklist(a: Assessment, flags: pd.DataFrame | None = None) -> pd.DataFrame:
    """The reviewer checklist: one row per flag (item "Flag: <label>", the plan's title, the
    message), then the generic checks with this assessment's numbers."""
    flags = plan_flags(a) if flags is None else flags
    ws, ev, fmt = a.ws, a.plans, a.fmt
    rows = [
        {
            "item": f"Flag: {r.label} ({r.severity})",
            "plan": str(r.plan_title),
            "finding": str(r.message),
        }
        for r in flags.itertuples(index=False)
    ]
    freq = np.asarray(ev.frequencies, dtype=float)
    live = [p for p in ev.plans if p.status is not PlanStatus.RETIRED]
    free = [p.title for p in live if p.one_off_cost == 0 and p.annual_cost == 0]
    facts = {
        "Probabilities": f"{len(ws.scenarios)} scenarios; annual probabilities sum to "
        f"{fmt.number(float(freq.sum()), 2)}.",
        "Triggers": f"{len(live)} plans checked; {len(warned(flags))} carry a warning.",
        "Costs": (
            f"{len(free)} plans have no cost at all: " + "; ".join(free) + "."
            if free
            else "Every plan has a cost."
        ),
        "Effects": "",
    }
    for item, check in GENERIC_CHECKS:
        rows.append(
            {"item": f"Check: {item.lower()}", "plan": "", "finding": f"{facts[item]} {check}"}
        )
    frame = pd.DataFrame(rows, columns=CHECKLIST_COLUMNS)
    frame["finding"] = frame["finding"].str.strip()
    return frame
