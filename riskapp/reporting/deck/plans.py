"""Contingency plans: plan book, cost against benefit, readiness gaps, triggers, waterfall."""

from __future__ import annotations

from typing import TYPE_CHECKING

from riskapp.reporting.deck.charts import bar_chart
from riskapp.reporting.deck.common import GREY, ORANGE, Deck, picture
from riskapp.reporting.deck.tables import TableSpec, table
from riskapp.reporting.planflags import best_value_headline

if TYPE_CHECKING:
    pass


def plans_slide(deck: Deck) -> None:
    report = deck.report
    t = report.tables.plans
    frame = t.frame
    headline = best_value_headline(report)
    notes = "Columns:\n" + "\n".join(
        f"- {c.label}: {c.definition}" for c in t.columns if c.definition
    )
    notes += "\nTriggers:\n" + "\n".join(
        f"- {r['title']}: {r['trigger']}" for _, r in frame.iterrows() if "trigger" in frame
    )
    slide = deck.slide("Contingency plans", headline, notes)
    table(
        deck,
        slide,
        t,
        [
            TableSpec("title", 2.6, 50),
            TableSpec("status", 1.0, 12),
            TableSpec("lead_time_days", 0.9),
            TableSpec("cost_npv", 1.1),
            TableSpec("averted_eal", 1.1),
            TableSpec("averted_npv", 1.1),
            TableSpec("benefit_cost_ratio", 1.1),
            TableSpec("flags", 1.8, 60),
        ],
        size=12,
    )


def checklist_slide(deck: Deck) -> None:
    """The reviewer checklist: each sanity flag with its plan, then the generic checks."""
    report = deck.report
    t = report.tables.checklist
    frame = t.frame
    n_flags = int(frame["item"].str.startswith("Flag:").sum()) if len(frame) else 0
    headline = (
        f"Reviewer checklist: {n_flags} plan flags to clear before quoting plan figures"
        if n_flags
        else "Reviewer checklist: no plan flags; the generic checks remain"
    )
    notes = "\n".join(
        f"- {r['item']}{' - ' + str(r['plan']) if r['plan'] else ''}: {r['finding']}"
        for _, r in frame.iterrows()
    )
    slide = deck.slide("Reviewer checklist", headline, notes)
    table(
        deck,
        slide,
        t,
        [TableSpec("item", 2.4, 60), TableSpec("plan", 2.0, 40), TableSpec("finding", 7.0, 240)],
        size=10,
    )


def cost_benefit_slide(deck: Deck) -> None:
    report = deck.report
    frame = report.tables.plans.frame
    if not {"title", "cost_npv", "averted_npv"} <= set(frame.columns):
        return
    cost = [float(v) for v in frame["cost_npv"]]
    averted = [float(v) for v in frame["averted_npv"]]
    paying = sum(1 for c, a in zip(cost, averted, strict=True) if a >= c)
    headline = f"{paying} of {len(frame)} plans avert more loss than they cost"
    divisor, unit = report.fmt.unit(cost + averted)
    horizon = ""
    inputs = report.tables.inputs.frame
    if len(inputs) and "setting" in inputs:
        match = inputs[inputs["setting"].astype(str).str.contains("horizon", case=False)]
        horizon = f" over {match['value'].iloc[0]} years" if len(match) else ""
    notes = (
        f"Net present values{horizon}. Cost (NPV): one-off cost plus annual cost times the "
        "annuity factor. Averted (NPV): expected annual loss the plan averts on its own, "
        "discounted over the same horizon. A plan pays for itself when averted NPV is at least "
        "its cost NPV (benefit-cost ratio of 1 or more)."
    )
    slide = deck.slide("Contingency plans", headline, notes)
    bar_chart(
        deck,
        slide,
        [str(x) for x in frame["title"]],
        [
            ("Cost (NPV)", [v / divisor for v in cost], ORANGE),
            ("Averted loss (NPV)", [v / divisor for v in averted], deck.accent),
        ],
        f"Net present value ({unit})",
    )


def gaps_slide(deck: Deck) -> None:
    report = deck.report
    t = report.tables.readiness_gaps
    frame = t.frame
    if not len(frame):
        deck.slide(
            "Contingency plans",
            "Every triggered plan can be ready within its scenario's warning time",
            "Readiness gap: lead time of a plan's slowest action minus the warning time of the "
            "scenario that triggers it. There is none.",
        )
        return
    plans = frame["plan_id"].nunique() if "plan_id" in frame else len(frame)
    worst = frame.iloc[0]
    headline = (
        f"{plans} plans would not be ready in time; '{worst['plan_title']}' is "
        f"{report.fmt.days(float(worst['gap_days']))} late"
    )
    notes = (
        "Readiness gap: lead time of the plan's slowest action minus the warning time of the "
        "scenario that triggers it. A plan that is not ready in time averts nothing in that "
        "scenario (the workspace requires readiness)."
    )
    slide = deck.slide("Readiness gaps", headline, notes)
    table(
        deck,
        slide,
        t,
        [
            TableSpec("plan_title", 2.6, 60),
            TableSpec("scenario_title", 3.0, 90),
            TableSpec("lead_time_days", 1.1),
            TableSpec("warning_days", 1.1),
            TableSpec("gap_days", 1.0),
            TableSpec("gross_loss", 1.4),
        ],
        size=12,
    )


def trigger_slide(deck: Deck, png: bytes) -> None:
    report = deck.report
    triggered = report.figure_text("plans_triggered")
    late = report.figure_text("plans_not_ready")
    figure = report.figures["trigger_matrix"]
    slide = deck.slide(
        "Contingency plans",
        f"{triggered} plans fire in at least one scenario; {late} are not ready in time",
        f"{figure.caption}\nA plan fires in a scenario when any of its trigger conditions "
        "holds: the scenario is listed, a factor reaches its level in a region, or the gross "
        "loss of the covered assets reaches the amount.",
    )
    picture(slide, png)


def waterfall_slide(deck: Deck) -> None:
    report = deck.report
    t = report.tables.waterfall
    frame = t.frame
    if len(frame) < 2:
        return
    amounts = [float(v) for v in frame["amount"]]
    after = [float(v) for v in frame["after_step"]]
    gross, residual = after[0], after[-1]
    headline = (
        f"Plans cut the loss of '{report.worst_scenario_title}' from "
        f"{report.money(gross)} to {report.money(residual)}"
    )
    divisor, unit = report.fmt.unit([gross])
    base, step, total = [], [], []
    last = len(frame) - 1
    for i, (amount, level) in enumerate(zip(amounts, after, strict=True)):
        if i in (0, last):  # gross and residual: bars from zero
            base.append(0.0)
            step.append(0.0)
            total.append(level / divisor)
        else:  # the loss a plan averts: a floating bar from `level` up
            base.append(level / divisor)
            step.append(abs(amount) / divisor)
            total.append(0.0)
    notes = f"{t.title}. {t.order}.\n" + "\n".join(
        f"- {label}: {report.money(a)} (loss after step {report.money(level)})"
        for label, a, level in zip(frame["label"], amounts, after, strict=True)
    )
    slide = deck.slide("Contingency plans", headline, notes)
    bar_chart(
        deck,
        slide,
        [str(x) for x in frame["label"]],
        [
            ("base", base, None),
            ("Averted by the plan", step, deck.accent),
            ("Gross and residual loss", total, GREY),
        ],
        f"Loss in the scenario ({unit})",
        stacked=True,
        labels=False,
        legend=False,  # the invisible base series would show in it
        point_labels={
            1: [
                "" if i in (0, last) else "-" + report.money(abs(a)) for i, a in enumerate(amounts)
            ],
            2: [report.money(level) if i in (0, last) else "" for i, level in enumerate(after)],
        },
    )
