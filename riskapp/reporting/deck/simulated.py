"""Slides of the simulated annual losses: every key figure with its note, the annual-loss
exceedance curve, return-period losses with their bands, what drives the bad years (factors
and assets, Euler parts of the expected shortfall) and each plan's benefit-cost ratio across
simulated horizons. All from the report's headline simulation."""

from __future__ import annotations

from dataclasses import replace

from riskapp.assessment.headline import BAND, years_phrase
from riskapp.assessment.plan_checks import has_warning
from riskapp.reporting.deck.charts import money_bars
from riskapp.reporting.deck.common import Deck, picture
from riskapp.reporting.deck.tables import TableSpec, fit, table
from riskapp.reporting.keyfigures import definition_lines, key_figure_table

SECTION = "Simulated annual losses"


def key_figures_slide(deck: Deck) -> None:
    """Every key figure in one table (value and note); definitions in the speaker notes."""
    report = deck.report
    t = key_figure_table(report.key_figures, report.headline_note)
    headline = (
        f"In 1 year out of 100 the loss exceeds {report.figure_text('var_99')}; those years "
        f"average {report.figure_text('es_99')}"
    )
    notes = f"{report.headline_note}\n{definition_lines(report.key_figures)}"
    slide = deck.slide("Key figures", headline, notes)
    table(
        deck,
        slide,
        t,
        [TableSpec("label", 2.2, 40), TableSpec("text", 1.2, 24), TableSpec("note", 4.6, 140)],
        max_rows=len(t),
        size=10,
    )


def exceedance_slide(deck: Deck, png: bytes) -> None:
    report = deck.report
    rp100 = report.figure_text("loss_at_100y")
    figure = report.figures["exceedance"]
    definition = report.key_figure("loss_at_100y").definition if rp100 != "n/a" else ""
    slide = deck.slide(
        SECTION,
        f"A 1-in-100-year annual loss of {rp100}",
        f"{figure.caption}\n1-in-100-year loss: {definition}\nReturn period: the average "
        "number of years between annual losses of at least this size (1 / annual exceedance "
        f"probability).\n{report.headline_note}",
    )
    picture(slide, png)


def return_period_slide(deck: Deck) -> None:
    report = deck.report
    t = report.tables.return_periods
    if not len(t):
        return
    longest = t.frame.iloc[-1]
    headline = (
        f"Once in {report.fmt.number(float(longest['return_period_years']))} years the annual "
        f"loss reaches {report.money(float(longest['loss']))}"
    )
    slide = deck.slide(SECTION, headline, f"{t.title}. {t.note}")
    short = f"Band: {BAND:.0%} confidence interval, from {years_phrase(report.headline)}."
    table(
        deck,
        slide,
        replace(t, note=short),  # the whole note is in the speaker notes
        [
            TableSpec("return_period_years", 1.4),
            TableSpec("exceedance_probability", 1.4),
            TableSpec("loss", 1.6),
            TableSpec("lower", 1.6),
            TableSpec("upper", 1.6),
        ],
    )


def factor_tail_slide(deck: Deck) -> None:
    """Each factor's part of the expected shortfall at 99 %, as a native bar chart."""
    report = deck.report
    t = report.tables.factor_tail
    frame = t.frame
    if not len(frame):
        return
    top, share = str(frame["name"].iloc[0]), float(frame["share"].iloc[0])
    headline = f"{top} makes {report.fmt.percent(share)} of the loss in the worst 1 % of years"
    notes = f"{t.title}. {t.note}\n" + "\n".join(
        f"- {r['name']}: {report.money(float(r['tail_es_99']))} "
        f"({report.fmt.percent(float(r['share']))}); mean annual loss "
        f"{report.money(float(r['mean']))}"
        for _, r in frame.iterrows()
    )
    slide = deck.slide(SECTION, headline, notes)
    money_bars(
        deck,
        slide,
        [str(x) for x in frame["name"]],
        "Part of the expected shortfall 99 %",
        [float(v) for v in frame["tail_es_99"]],
    )


def asset_tail_slide(deck: Deck) -> None:
    report = deck.report
    t = report.tables.asset_tail
    if not len(t):
        return
    columns = [
        TableSpec("name", 3.0, 48),
        TableSpec("country", 1.0, 12),
        TableSpec("tail_es_99", 1.6),
        TableSpec("share", 1.0),
        TableSpec("mean", 1.6),
    ]
    shown = fit(deck, t, columns).rows
    share = float(t.frame["share"].head(len(shown)).sum())
    headline = (
        f"{report.fmt.number(len(shown))} assets make {report.fmt.percent(share)} of the loss "
        "in the worst 1 % of years"
    )
    slide = deck.slide(SECTION, headline, f"{t.title}. {t.note}")
    table(deck, slide, replace(t, note=""), columns)


def plan_bcr_slide(deck: Deck) -> None:
    report = deck.report
    t = report.tables.plan_bcr
    if not len(t):
        return
    frame = t.frame
    most = int((frame["prob_bcr_at_least_1"] > 0.5).sum())
    plans = report.tables.plans.frame
    flags = dict(zip(plans["plan_id"], plans["flags"], strict=True)) if "flags" in plans else {}
    ranked = frame.sort_values(["prob_bcr_at_least_1", "plan_id"], ascending=[False, True])
    clean = ranked[[not has_warning(str(flags.get(p, ""))) for p in ranked["plan_id"]]]
    best = (clean if len(clean) else ranked).iloc[0]
    flag = flags.get(best["plan_id"], "")
    # a flagged plan's figure is quoted only with its flags, and they come first (clipping)
    headline = (
        f"{most} of {len(frame)} plans pay for themselves in most simulated horizons; "
        + (f"[flagged: {flag}] " if flag else "")
        + f"'{best['name']}' in {report.fmt.percent(float(best['prob_bcr_at_least_1']))}"
    )
    slide = deck.slide("Contingency plans", headline, f"{t.title}. {t.note}")
    table(
        deck,
        slide,
        replace(t, note=""),
        [
            TableSpec("name", 3.0, 48),
            TableSpec("bcr_deterministic", 1.1),
            TableSpec("bcr_p5", 1.1),
            TableSpec("bcr_p50", 1.1),
            TableSpec("bcr_p95", 1.1),
            TableSpec("prob_bcr_at_least_1", 1.3),
        ],
    )
