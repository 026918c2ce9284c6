"""The one set of headline figures every surface shows: the Overview, `riskapp score`, the Python
API and all four report formats.

The expected annual loss is exact (scoring). The tail comes from simulated years: the
workspace's headline simulation (`simulation_years` and `simulation_seed` in workspace.yaml),
run once per assessment, with the source's dependency links. The simulated mean is reported
twice:

- the **check**: the mean over the same simulated years of the model the exact figure uses
  (each scenario at its shocks' values, no cascades). It estimates the expected annual loss
  without bias, so the two must agree within `CHECK_SE` standard errors; when they do not, the
  figures say so.
- the **simulated mean annual loss** of the whole model: shock ranges and dependency cascades
  included, the mean of the same years the VaR, expected shortfall and return-period losses
  are read from. It differs from the expected annual loss by what the ranges and cascades add,
  and the figures say by how much.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from riskapp.domain import LossBasis
from riskapp.format import NumberFormat

if TYPE_CHECKING:
    from riskapp.assessment.core import Assessment
    from riskapp.engine.montecarlo import SimulationResult

CHECK_SE = 3.0  # the simulated mean of the exact model agrees when within this many SEs
BAND = 0.90  # confidence of the return-period loss bands
LEVELS = ("95", "99")
HEADLINE_RETURN_PERIOD = 100.0  # the return period a one-line summary leads with


@dataclass(frozen=True)
class ReturnPeriodLoss:
    """The simulated annual loss exceeded once in `years` years on average, with its band."""

    years: float
    loss: float
    lower: float
    upper: float


@dataclass(frozen=True)
class HeadlineFigure:
    """A headline number: `value` raw (None when not a number), `text` formatted in the
    assessment's locale, `definition` how it is computed (tooltip, footnote), `note` a short
    line shown under it (a check, a band, the scenario it comes from)."""

    key: str
    label: str
    value: float | None
    text: str
    definition: str
    note: str = ""


@dataclass(frozen=True)
class Headline:
    """The headline numbers of an assessment, unformatted (`figures` formats them)."""

    basis: LossBasis
    trials: int
    seed: int
    cascades: bool  # the simulation included dependency cascades
    ranged: bool  # some shock is drawn from a range
    assets: int
    exposed_value: float
    eal: float  # exact
    check_mean: float  # simulated mean of the exact model (shock values, no cascades)
    check_se: float
    mean: float  # simulated mean annual loss, whole model
    mean_se: float
    range_effect: float  # what shock ranges add to the simulated mean
    cascade_effect: float  # what dependency cascades add to it
    var: dict[str, float]  # "95", "99"
    es: dict[str, float]
    return_periods: tuple[ReturnPeriodLoss, ...]
    beyond_trials: tuple[float, ...]  # return periods asked for but longer than the run
    worst_scenario_id: str
    worst_scenario_title: str
    worst_scenario_loss: float
    residual_eal: float  # exact, every effective plan applied
    residual_mean: float | None  # simulated, None without plans
    plans_triggered: int
    plans_not_ready: int
    plans: int
    band: float = BAND

    @property
    def check_z(self) -> float:
        """How many standard errors the check lies from the exact expected annual loss."""
        gap = abs(self.check_mean - self.eal)
        if self.check_se > 0:
            return gap / self.check_se
        return 0.0 if gap <= 1e-9 * max(1.0, abs(self.eal)) else math.inf

    @property
    def agrees(self) -> bool:
        return self.check_z <= CHECK_SE

    def loss_at(self, years: float) -> ReturnPeriodLoss | None:
        for rp in self.return_periods:
            if rp.years == years:
                return rp
        return None

    def as_dict(self) -> dict[str, float]:
        """The numbers, keyed as the figures are (saved assessments, JSON output)."""
        out = {
            "assets": float(self.assets),
            "exposed_value": self.exposed_value,
            "expected_annual_loss": self.eal,
            "simulated_mean_exact_model": self.check_mean,
            "simulated_mean_exact_model_se": self.check_se,
            "simulated_mean": self.mean,
            "simulated_mean_se": self.mean_se,
            "worst_scenario_loss": self.worst_scenario_loss,
            "residual_eal": self.residual_eal,
            "simulation_years": float(self.trials),
            "simulation_seed": float(self.seed),
        }
        for level in LEVELS:
            out[f"var_{level}"] = self.var[level]
            out[f"es_{level}"] = self.es[level]
        for rp in self.return_periods:
            out[f"loss_at_{rp.years:g}y"] = rp.loss
            out[f"loss_at_{rp.years:g}y_lower"] = rp.lower
            out[f"loss_at_{rp.years:g}y_upper"] = rp.upper
        return out


def portfolio_row(result: SimulationResult, key: str = "gross") -> dict[str, float]:
    """The run's portfolio statistics (mean, its standard error, VaR, ES, ...) of the gross
    loss, or with `key` "residual" of the loss with every effective plan applied (a run with
    plans only)."""
    table = result.portfolio_table()
    row = table[table["key"] == key].iloc[0]
    return {str(k): float(v) for k, v in row.items() if k not in ("dimension", "key")}


def compute(a: Assessment) -> Headline:
    """The headline numbers of `a`, from its exact scoring and its headline simulation
    (`a.simulation`, run once per assessment)."""
    run = a.simulation
    r, sim = run.result, run.sim
    m = sim.model
    # the check: the same years, each occurring scenario at its shocks' values, no cascades
    status_quo = float((m.status_quo_damage * m.group_value).sum())
    exact_model = status_quo + r.occurs.astype(float) @ m.nominal_loss
    cascade = r.cascade
    direct = r.loss - cascade
    trials = r.trials
    root = math.sqrt(trials)
    sd = float(exact_model.std(ddof=1)) if trials > 1 else 0.0
    gross = portfolio_row(r)
    bands = r.exceedance(a.ws.settings.return_periods, confidence=BAND)
    rps = tuple(
        ReturnPeriodLoss(float(y), float(loss), float(lo), float(hi))
        for y, loss, lo, hi in zip(
            bands["return_period_years"], bands["loss"], bands["lower"], bands["upper"], strict=True
        )
    )
    shown = {rp.years for rp in rps}
    losses = a.result.scenario_loss()
    worst = int(np.argmax(losses)) if len(losses) else -1
    ev = a.plans
    return Headline(
        basis=a.result.basis,
        trials=trials,
        seed=r.seed,
        cascades=bool(m.n_dependents),
        ranged=bool(len(m.sampling.ranged)),
        assets=len(a.ws.portfolio),
        exposed_value=a.result.total_exposed_value,
        eal=a.result.expected_annual_loss(),
        check_mean=float(exact_model.mean()),
        check_se=sd / root,
        mean=gross["mean"],
        mean_se=gross["se_mean"],
        range_effect=float(direct.mean() - exact_model.mean()),
        cascade_effect=float(cascade.mean()),
        var={level: gross[f"var_{level}"] for level in LEVELS},
        es={level: gross[f"es_{level}"] for level in LEVELS},
        return_periods=rps,
        beyond_trials=tuple(
            float(y) for y in a.ws.settings.return_periods if float(y) not in shown and y > 1
        ),
        worst_scenario_id=a.result.scenario_ids[worst] if worst >= 0 else "",
        worst_scenario_title=a.ws.scenarios[worst].title if worst >= 0 else "",
        worst_scenario_loss=float(losses[worst]) if worst >= 0 else 0.0,
        residual_eal=float(ev.residual_eal()),
        residual_mean=portfolio_row(r, "residual")["mean"] if m.plans is not None else None,
        plans_triggered=int(ev.triggered.any(axis=0).sum()),
        plans_not_ready=int((ev.triggered & ~ev.ready).any(axis=0).sum()),
        plans=len(ev.plans),
    )


def basis_phrase(basis: LossBasis) -> str:
    return "above today's baseline" if basis is LossBasis.INCREMENTAL else "at scenario intensity"


def eal_definition(basis: LossBasis) -> str:
    """What the expected annual loss is, in one sentence for a tooltip or a footnote (the
    methodology's section on it says more)."""
    if basis is LossBasis.INCREMENTAL:
        return (
            "Sum over scenarios of annual probability x the loss each adds above today's "
            "baseline (never below 0)."
        )
    return (
        "Today's loss, borne every year, plus the sum over scenarios of annual probability x "
        "the loss each adds to it (never below 0)."
    )


def years_phrase(h: Headline) -> str:
    return run_phrase(h.trials, h.seed)


def run_phrase(trials: int, seed: int) -> str:
    """A simulation's years in words: "10,000 simulated years (seed 0)"."""
    return f"{trials:,} simulated years (seed {seed})"


def check_note(h: Headline, fmt: NumberFormat) -> str:
    """The check beside the exact expected annual loss, in words."""
    sim = f"{fmt.money(h.check_mean)} ± {fmt.money(h.check_se)}"
    if h.agrees:
        return f"Check: simulated {sim}, within {CHECK_SE:g} standard errors"
    return (
        f"Check FAILED: simulated {sim} is {h.check_z:.1f} standard errors away; "
        "the scenario probabilities and the simulation disagree"
    )


def mean_note(h: Headline, fmt: NumberFormat) -> str:
    """What the simulated mean adds to the expected annual loss, in words."""
    parts = []
    if h.ranged:
        parts.append(f"shock ranges {fmt.money_change(h.range_effect)}")
    if h.cascades:
        parts.append(f"dependency cascades {fmt.money_change(h.cascade_effect)}")
    return ("Of which " + ", ".join(parts)) if parts else "No ranges or cascades: the same model"


def money_figure(
    fmt: NumberFormat, key: str, label: str, value: float, definition: str, note: str = ""
) -> HeadlineFigure:
    """A headline figure that is an amount of money, written in `fmt`."""
    return HeadlineFigure(key, label, float(value), fmt.money(value), definition, note)


def simulated_figures(
    mean: float,
    mean_se: float,
    var: Mapping[str, float],
    es: Mapping[str, float],
    *,
    years: str,
    basis: LossBasis,
    cascades: bool,
    fmt: NumberFormat,
    of_which: str = "",
) -> list[HeadlineFigure]:
    """The simulated mean annual loss (± its standard error, then `of_which`), the values at
    risk and the expected shortfalls of a run of `years` (`run_phrase`): the figures the
    Overview leads its tail with and the Risk distribution page shows for any run, in the same
    words."""
    what = "shock ranges" + (" and dependency cascades" if cascades else "")
    phrase = basis_phrase(basis)
    rel = f" ({fmt.percent(mean_se / mean)} of the mean)" if mean > 0 else ""
    out = [
        money_figure(
            fmt,
            "simulated_mean",
            "Simulated mean annual loss",
            mean,
            f"Average annual loss of the {years}, {phrase}, with {what}: the mean of the years "
            "the value at risk and the return-period losses are read from. It differs from the "
            "expected annual loss by what the ranges and cascades add. The standard error"
            f"{rel} shrinks as more years are simulated.",
            f"± {fmt.money(mean_se)} (SE)" + (f". {of_which}" if of_which else ""),
        )
    ]
    for level in LEVELS:
        out.append(
            money_figure(
                fmt,
                f"var_{level}",
                f"Value at risk {level} %",
                var[level],
                f"Annual loss exceeded in {100 - int(level)} year(s) out of 100: the {level}th "
                f"percentile of the {years}, {phrase}.",
                f"exceeded 1 year in {round(100 / (100 - int(level)))}",
            )
        )
    for level in LEVELS:
        out.append(
            money_figure(
                fmt,
                f"es_{level}",
                f"Expected shortfall {level} %",
                es[level],
                f"Average annual loss of the worst {100 - int(level)} % of the {years}: how bad "
                f"the years beyond the {level} % value at risk are.",
                f"average of the worst {100 - int(level)} % of years",
            )
        )
    return out


def figures(h: Headline, fmt: NumberFormat) -> list[HeadlineFigure]:
    """Every headline figure, formatted, with its definition and note, in the order every
    surface shows them."""
    years = years_phrase(h)
    mean, *tail = simulated_figures(
        h.mean,
        h.mean_se,
        h.var,
        h.es,
        years=years,
        basis=h.basis,
        cascades=h.cascades,
        fmt=fmt,
        of_which=mean_note(h, fmt),
    )
    out = [
        money_figure(
            fmt,
            "exposed_value",
            "Portfolio value",
            h.exposed_value,
            f"Replacement value plus annual revenue at stake of every asset, in {fmt.currency}.",
            f"{fmt.number(h.assets)} assets",
        ),
        money_figure(
            fmt,
            "expected_annual_loss",
            "Expected annual loss",
            h.eal,
            eal_definition(h.basis)
            + f" Exact, from the scenarios at their shocks' values. Checked against the mean "
            f"of the same model over the {years}: they must agree within {CHECK_SE:g} standard "
            "errors.",
            check_note(h, fmt),
        ),
        mean,
        money_figure(
            fmt,
            "worst_scenario_loss",
            "Largest single-scenario loss",
            h.worst_scenario_loss,
            "The loss of a year in which the most damaging scenario occurs alone (status quo "
            "plus its increment), whatever its probability; not a return-period loss.",
            h.worst_scenario_title,
        ),
        *tail,
    ]
    for rp in h.return_periods:
        out.append(
            money_figure(
                fmt,
                f"loss_at_{rp.years:g}y",
                f"1-in-{rp.years:g}-year loss",
                rp.loss,
                f"Annual loss reached or exceeded once in {rp.years:g} years on average, read "
                f"from the {years} (several scenarios can occur in one year). The band is a "
                f"{h.band:.0%} confidence interval given the number of simulated years.",
                f"{fmt.percent(h.band, 0)} band {fmt.money(rp.lower)} - {fmt.money(rp.upper)}",
            )
        )
    out.append(
        money_figure(
            fmt,
            "residual_eal",
            "Expected annual loss with plans",
            h.residual_eal,
            "Expected annual loss with every plan that fires and is ready in time applied "
            "together.",
            f"{fmt.money(h.eal - h.residual_eal)} averted",
        )
    )
    out.append(
        HeadlineFigure(
            "plans_triggered",
            "Plans triggered",
            float(h.plans_triggered),
            f"{h.plans_triggered} of {h.plans}",
            "Contingency plans whose trigger fires in at least one scenario.",
        )
    )
    out.append(
        HeadlineFigure(
            "plans_not_ready",
            "Plans not ready in time",
            float(h.plans_not_ready),
            f"{h.plans_not_ready} of {h.plans}",
            "Triggered plans whose slowest action takes longer than the scenario's warning "
            "time (and that are not already in place).",
        )
    )
    return out


def footnote(h: Headline) -> str:
    """One line under a set of headline figures: where the simulated figures come from."""
    beyond = (
        f" Return periods longer than the run ({', '.join(f'{y:g}' for y in h.beyond_trials)} "
        "years) are not shown."
        if h.beyond_trials
        else ""
    )
    return (
        f"Simulated figures: {years_phrase(h)}, losses {basis_phrase(h.basis)}"
        + (", dependency cascades included" if h.cascades else "")
        + f"; set simulation_years and simulation_seed in workspace.yaml.{beyond}"
    )


def nothing_to_count(a: Assessment) -> str | None:
    """Why every loss is nought on a new workspace: losses are counted above today's baseline
    and no scenario shocks anything yet (None when that is not so)."""
    if a.result.basis is not LossBasis.INCREMENTAL or any(s.shocks for s in a.ws.scenarios):
        return None
    return (
        "every loss is 0: losses are counted above today's baseline and no scenario shocks "
        "anything yet. Add scenarios (scenarios/*.yaml), or score with --basis absolute for the "
        "losses at today's intensities"
    )


def figure_rows(figures: list[HeadlineFigure]) -> list[list[HeadlineFigure]]:
    """The figures in the rows every card layout uses: money at stake and its averages, the
    tail, the return-period losses, the plans (empty rows left out)."""
    first = ("exposed_value", "expected_annual_loss", "simulated_mean", "worst_scenario_loss")
    groups: list[list[HeadlineFigure]] = [[], [], [], []]
    for f in figures:
        if f.key in first:
            groups[0].append(f)
        elif f.key.startswith(("var_", "es_")):
            groups[1].append(f)
        elif f.key.startswith("loss_at_"):
            groups[2].append(f)
        else:
            groups[3].append(f)
    return [g for g in groups if g]
