"""Plan sanity flags in report headlines: the best value is quoted for a plan without flags
(saying when flagged plans rank higher), a flagged plan's figure only with its flags."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from riskapp.reporting.model import Report


def best_value_headline(report: Report) -> str:
    """The plans slide's headline: the best benefit-cost ratio among plans without sanity
    flags, saying when flagged plans rank higher; a flagged plan only with its flags."""
    frame = report.tables.plans.frame
    if not {"benefit_cost_ratio", "flags", "title"} <= set(frame.columns) or not len(frame):
        return "Contingency plans: cost against averted loss"
    finite = frame[[math.isfinite(float(v)) for v in frame["benefit_cost_ratio"]]]
    if not len(finite):
        return "Contingency plans: cost against averted loss"
    clean = finite[finite["flags"] == ""]
    if len(clean):
        best = clean.iloc[0]
        above = int((frame.index < best.name).sum())  # every plan ranked above is flagged
        text = (
            f"Best value: '{best['title']}' returns "
            f"{report.fmt.ratio(float(best['benefit_cost_ratio']))} its cost"
        )
        if above:
            text += (
                f" ({above} flagged plan{'s rank' if above > 1 else ' ranks'} higher: see the "
                "reviewer checklist)"
            )
        return text
    best = finite.iloc[0]
    return (
        f"Best value [flagged: {best['flags']}]: '{best['title']}' returns "
        f"{report.fmt.ratio(float(best['benefit_cost_ratio']))} its cost"
    )


def plans_flag_sentence(report: Report) -> str:
    """The plans chapter's word on sanity flags: the best value among unflagged plans, and
    how many plans carry flags (the figures of a flagged plan are never quoted here)."""
    plans = report.tables.plans.frame
    if "flags" not in plans or not len(plans):
        return ""
    flagged = int((plans["flags"] != "").sum())
    best = best_value_headline(report)
    lead = best + ". " if best.startswith("Best value") else ""
    if not flagged:
        return lead + "No plan carries a sanity flag."
    return (
        lead + f"{flagged} of {len(plans)} plans carry sanity flags (Flags column); the "
        "reviewer checklist gives each with its numbers."
    )
