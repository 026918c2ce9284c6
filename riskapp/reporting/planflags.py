"""Plan sanity flags in report headlines: the best value is quoted for a plan without flags
(saying when flagged plans rank higher), a flagged plan's figure only with its flags."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from riskapp.reporting.model import Report


def best_value_headline(report: Report) -> str:
    """The plans slide's headline: the best benefit-cost ratio among plans without a sanity
    warning, with the plan's flags (notes) next to it and saying when plans with warnings rank
    higher; when every plan has a warning, the best one with its flags."""
    from riskapp.assessment.plan_checks import has_warning

    frame = report.tables.plans.frame
    if not {"benefit_cost_ratio", "flags", "title"} <= set(frame.columns) or not len(frame):
        return "Contingency plans: cost against averted loss"
    finite = frame[[math.isfinite(float(v)) for v in frame["benefit_cost_ratio"]]]
    if not len(finite):
        return "Contingency plans: cost against averted loss"
    clean = finite[[not has_warning(str(f)) for f in finite["flags"]]]
    best = clean.iloc[0] if len(clean) else finite.iloc[0]
    # the flags come before the figure: a headline clipped to fit its slide keeps them
    flags = f" [flagged: {best['flags']}]" if best["flags"] else ""
    text = (
        f"Best value{flags}: '{best['title']}' returns "
        f"{report.fmt.ratio(float(best['benefit_cost_ratio']))} its cost"
    )
    above = int((frame.index < best.name).sum())  # each plan ranked above has a warning
    if len(clean) and above:
        text += (
            f" ({above} plan{'s' if above > 1 else ''} with warnings "
            f"rank{'' if above > 1 else 's'} higher)"
        )
    return text


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
