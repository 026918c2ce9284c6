"""Where the loss is: world map, scenarios, exceedance, factors, region x factor, assets."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from riskapp.reporting.deck.charts import bar_chart, money_bars
from riskapp.reporting.deck.common import GREY, Deck, picture
from riskapp.reporting.deck.tables import TableSpec, fit, table
from riskapp.reporting.tables import Table

if TYPE_CHECKING:
    pass


def _first(table: Table, column: str) -> Any:
    frame = table.frame
    return frame[column].iloc[0] if len(frame) and column in frame else None


def map_slide(deck: Deck, png: bytes) -> None:
    report = deck.report
    countries = report.tables.countries
    name, eal, share = (
        _first(countries, "country_name"),
        _first(countries, "eal"),
        _first(countries, "share_of_eal"),
    )
    headline = (
        f"{name} carries the largest expected annual loss: {report.money(float(eal))} "
        f"({report.fmt.percent(float(share))})"
        if name is not None and eal is not None and share is not None
        else "Where the expected annual loss is"
    )
    figure = report.figures["world_map"]
    notes = (
        f"{figure.caption}\nExpected annual loss: the sum over scenarios of annual probability "
        f"x loss ({report.basis_text}). Countries by expected annual loss:\n"
        + "\n".join(
            f"- {r['country_name']}: {report.money(float(r['eal']))}"
            for _, r in countries.frame.head(10).iterrows()
        )
    )
    slide = deck.slide("Portfolio and map", headline, notes)
    picture(slide, png)


def scenario_slide(deck: Deck) -> None:
    report = deck.report
    t = report.tables.scenarios
    frame = t.frame
    worst_loss = report.money(float(frame["gross_loss"].iloc[0]))
    headline = f"{report.worst_scenario_title} would cost {worst_loss}"
    gross = [float(v) for v in frame["gross_loss"]]
    residual = [float(v) for v in frame["residual_loss"]]
    divisor, unit = report.fmt.unit(gross)
    definitions = {c.key: c.definition for c in t.columns if c.definition}
    notes = (
        f"Portfolio loss in each scenario ({report.basis_text}), in {unit}.\n"
        f"Gross loss: {definitions.get('gross_loss', 'portfolio loss with no plan.')}\n"
        f"Residual loss: {definitions.get('residual_loss', 'loss with every effective plan.')}"
        "\nAnnual probabilities:\n"
        + "\n".join(
            f"- {r['title']}: {report.fmt.percent(float(r['frequency']))} a year, "
            f"gross {report.money(float(r['gross_loss']))}"
            for _, r in frame.iterrows()
        )
    )
    slide = deck.slide("Scenario results", headline, notes)
    rows = frame.head(12)
    bar_chart(
        deck,
        slide,
        [str(x) for x in rows["title"]],
        [
            ("Gross loss", [v / divisor for v in gross[: len(rows)]], deck.accent),
            ("Residual loss (with plans)", [v / divisor for v in residual[: len(rows)]], GREY),
        ],
        f"Loss in the scenario ({unit})",
    )


def factor_slide(deck: Deck) -> None:
    report = deck.report
    t = report.tables.factors
    frame = t.frame
    if not len(frame):
        return
    top, share = str(frame["name"].iloc[0]), float(frame["share_of_eal"].iloc[0])
    headline = f"{top} drives {report.fmt.percent(share)} of the expected annual loss"
    notes = (
        "Expected annual loss by factor. Where several factors hit one asset, the loss is "
        "shared among them by their share of the log-survival, -ln(1 - d_f), so the parts add "
        "up to the total.\n"
        + "\n".join(
            f"- {r['name']}: {report.money(float(r['eal']))} "
            f"({report.fmt.percent(float(r['share_of_eal']))})"
            for _, r in frame.iterrows()
        )
    )
    slide = deck.slide("Region x factor", headline, notes)
    money_bars(
        deck,
        slide,
        [str(x) for x in frame["name"]],
        "Expected annual loss",
        [float(v) for v in frame["eal"]],
    )


def heatmap_slide(deck: Deck, png: bytes) -> None:
    report = deck.report
    regions = report.tables.regions
    name, eal = _first(regions, "name"), _first(regions, "eal")
    headline = (
        f"Most expected annual loss sits in {name}: {report.money(float(eal))} a year"
        if name is not None and eal is not None
        else "Expected annual loss by region group and factor"
    )
    figure = report.figures["region_factor_heatmap"]
    slide = deck.slide(
        "Region x factor",
        headline,
        f"{figure.title}. {figure.caption} {regions.note}".strip(),
    )
    picture(slide, png)


def assets_slide(deck: Deck) -> None:
    report = deck.report
    t = report.tables.top_assets
    frame = t.frame
    columns = [
        TableSpec("name", 3.2, 48),
        TableSpec("type", 1.1, 16),
        TableSpec("country_name", 1.3, 20),
        TableSpec("exposed_value", 1.3),
        TableSpec("eal", 1.3),
        TableSpec("share_of_eal", 1.0),
        TableSpec("dominant_factor", 2.6, 40),
    ]
    shown = len(fit(deck, t, columns).rows)  # the headline speaks of the rows on the slide
    share = float(frame["share_of_eal"].head(shown).sum()) if "share_of_eal" in frame else 0.0
    headline = (
        f"{report.fmt.number(shown)} of {report.fmt.number(t.total_rows)} assets carry "
        f"{report.fmt.percent(share)} of the expected annual loss"
    )
    notes = (
        f"{t.title}. {t.note}\n"
        "Exposed value: replacement value plus annual revenue at stake.\n"
        f"Expected annual loss: {report.key_figure('expected_annual_loss').definition}\n"
        "Main factor: the factor behind most of the asset's expected annual loss."
    )
    slide = deck.slide("Top assets", headline, notes)
    table(deck, slide, t, columns)


def clamp_slide(deck: Deck) -> None:
    """Shocks that hit the scale's limit (only when some did): where a scenario gives less
    than it says."""
    report = deck.report
    t = report.tables.clamps
    frame = t.frame
    if not len(frame):
        return
    held = int((frame["assets"] > 0).sum())
    headline = (
        f"{len(frame)} shocked intensities hit the scale's limit, {held} where assets are"
        if len(frame) != 1
        else f"One shocked intensity hit the scale's limit, {held} where assets are"
    )
    slide = deck.slide("Scenario results", headline, t.note)
    short = "Each gives less than its scenario says; headroom ops (toward_max) never clamp."
    table(
        deck,
        slide,
        replace(t, note=short),  # the whole note is in the speaker notes
        [
            TableSpec("scenario", 2.6, 50),
            TableSpec("shock_text", 2.2, 40),
            TableSpec("country_name", 1.6, 30),
            TableSpec("factor", 2.0, 40),
            TableSpec("before", 0.9),
            TableSpec("unclamped", 0.9),
            TableSpec("lost", 0.9),
            TableSpec("assets", 0.8),
        ],
        size=11,
    )
