"""The three things to act on: derived from an assessment's numbers by one rule, shown by the
Overview page, every report format and `riskapp methodology`.

    for action in three_actions(a):  # numbers in a.fmt (the assessment's currency and locale)
        print(action.title, action.detail)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from riskapp.assessment.core import Assessment


@dataclass(frozen=True)
class Action:
    """One of the three things to act on.

    kind        "plan" (put the best plan in place), "readiness" (close the largest gap),
                "asset", "country" or "scenario" (the largest expected-annual-loss item)
    title       short imperative headline, e.g. "Put 'Dual energy sourcing' in place"
    detail      one or two sentences with the numbers behind it
    subject_id  the plan, asset, country or scenario id it is about
    value       the number that ranked it (BCR, gap days or EAL)
    rule        which rule chose it (text of `ACTION_RULE` entry)
    """

    kind: str
    title: str
    detail: str
    subject_id: str
    value: float
    rule: str


ACTION_RULE: tuple[str, ...] = (
    "plan: the plan not yet in place (proposed or approved) that averts expected annual loss "
    "with the best benefit-cost ratio (a free plan ranks first; ties: larger averted EAL), "
    "preferring plans without sanity warnings and naming the flags of the plan chosen; "
    "below a ratio of 1 the action says that no such plan pays for itself",
    "readiness: the largest readiness gap, lead time of a triggered plan minus the warning "
    "time of the scenario (ties: larger gross loss of the scenario)",
    "asset: the asset with the largest expected annual loss",
    "country: the country with the largest expected annual loss (used when a rule above "
    "finds nothing)",
    "scenario: the scenario contributing most to expected annual loss (used when a rule "
    "above finds nothing)",
)


def three_actions(a: Assessment) -> list[Action]:
    """The three things to act on, derived from the numbers (rules in `ACTION_RULE`).

    Candidates in this order, at most one per kind, first three kept:
    1. plan: the plan not yet in place (proposed or approved, not retired) with averted
       expected annual loss > 0 and the best benefit-cost ratio (free plans first; ties:
       larger averted EAL, then plan-book order), preferring plans without a sanity warning
       (see the plan sanity flags); a chosen plan with flags has them next to its name, and the
       detail says how many flagged plans ranked higher; with a ratio below 1 the action asks
       to rethink those plans instead of putting one in place;
    2. readiness: the (plan, scenario) with the largest readiness gap among triggered plans
       not ready in time (ties: larger gross loss of the scenario, then plan-book order);
    3. asset: the asset with the largest expected annual loss (ties: register order);
    4. country: the country with the largest expected annual loss;
    5. scenario: the scenario with the largest contribution to expected annual loss.
    4 and 5 only fill in when a rule above finds nothing (no plans, no gaps, no loss).
    """
    from riskapp.domain import country_name
    from riskapp.domain.plans import PlanStatus
    from riskapp.engine import losses_by

    fmt = a.fmt

    ev, r = a.plans, a.result
    out: list[Action] = []

    def money(value: float) -> str:
        return fmt.money(value)

    years = a.ws.settings.plan_horizon_years

    averted, bcr, cost = ev.averted_eal(), ev.benefit_cost_ratio(), ev.cost_npv()
    candidates = [
        p
        for p, plan in enumerate(ev.plans)
        if not plan.in_place and plan.status is not PlanStatus.RETIRED and averted[p] > 0
    ]
    if candidates:
        from riskapp.assessment.plan_checks import headline_suffix, plan_flags, warned

        flags = plan_flags(a)
        held = warned(flags)

        def rank(p: int) -> tuple[float, float, int]:
            return (-bcr[p], -averted[p], p)

        clean = [p for p in candidates if ev.plans[p].id not in held]
        best = min(clean or candidates, key=rank)
        skipped = sum(1 for p in candidates if rank(p) < rank(best))
        plan = ev.plans[best]
        pays = bool(bcr[best] >= 1)
        flagged = headline_suffix(flags, plan.id)
        out.append(
            Action(
                "plan",
                f"Put '{plan.title}' in place{flagged}"
                if pays
                else "Rethink the plans not yet in place",
                (
                    f"It is {plan.status.value} but not yet in place; on its own it averts "
                    if pays
                    else f"None pays for itself as designed. The best, '{plan.title}'"
                    f"{flagged} ({plan.status.value}), averts "
                )
                + f"{money(averted[best])} of expected annual loss a year for "
                f"{money(cost[best])} over {years} years (net present value), a "
                f"benefit-cost ratio of {fmt.ratio(bcr[best])}."
                + (
                    f" {skipped} plan{'s' if skipped > 1 else ''} with a higher ratio "
                    f"{'carry' if skipped > 1 else 'carries'} sanity warnings: see the "
                    "reviewer checklist."
                    if skipped
                    else ""
                ),
                plan.id,
                float(bcr[best]),
                ACTION_RULE[0],
            )
        )
    late = ev.triggered & ~ev.ready
    if late.any():
        s_idx, p_idx = np.nonzero(late)
        gaps = ev.gap_days[s_idx, p_idx]
        order = np.lexsort((p_idx, -ev.gross_loss[s_idx], -gaps))
        s, p = int(s_idx[order[0]]), int(p_idx[order[0]])
        plan, scenario = ev.plans[p], a.ws.scenario(ev.scenario_ids[s])
        out.append(
            Action(
                "readiness",
                f"Shorten the lead time of '{plan.title}'",
                f"Its slowest action takes {fmt.days(plan.lead_time_days)} but "
                f"'{scenario.title}' gives {fmt.days(scenario.warning_time_days)} of warning: "
                f"{fmt.days(ev.gap_days[s, p])} too late, so it averts nothing there "
                f"(gross loss {money(ev.gross_loss[s])}).",
                plan.id,
                float(ev.gap_days[s, p]),
                ACTION_RULE[1],
            )
        )
    eal = r.asset_eal()
    total = r.expected_annual_loss()
    if len(eal) and eal.max() > 0:
        i = int(np.argmax(eal))
        row = a.ws.portfolio.frame.iloc[i]
        out.append(
            Action(
                "asset",
                f"Reduce the exposure of '{row['name']}'",
                f"It carries the largest expected annual loss of any asset, "
                f"{money(eal[i])} ({fmt.percent(eal[i] / total)} of the portfolio), "
                f"in {country_name(row['country'])}.",
                str(row["id"]),
                float(eal[i]),
                ACTION_RULE[2],
            )
        )
    if len(out) < 3 and total > 0:
        by_country = losses_by(a.ws, r, "country")["eal"]
        c = str(by_country.idxmax())
        out.append(
            Action(
                "country",
                f"Review the footprint in {country_name(c)}",
                f"Assets there carry {money(by_country[c])} of expected annual loss "
                f"({fmt.percent(by_country[c] / total)} of the portfolio).",
                c,
                float(by_country[c]),
                ACTION_RULE[3],
            )
        )
    if len(out) < 3:
        contribution = r.eal_contribution()
        s = int(np.argmax(contribution))
        scenario = a.ws.scenarios[s]
        out.append(
            Action(
                "scenario",
                f"Prepare for '{scenario.title}'",
                f"It contributes {money(contribution[s])} a year to expected annual loss, "
                f"with a loss of {money(r.scenario_loss()[s])} when it happens.",
                scenario.id,
                float(contribution[s]),
                ACTION_RULE[4],
            )
        )
    return out[:3]
