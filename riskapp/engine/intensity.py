"""Scenario intensities per place and factor: the baseline modified by a scenario's shocks.

A place is a country, or a country with the zones an asset there lies in (riskapp.engine.
places); shocks on countries and groups act on every place of their countries, then shocks on
zones act on the places in them, weighted (`compile_programs` says how).

The one place of the intensity rules: `clamp_intensity` (the 0-10 scale), `unclamped_shock`
(set, add, scale, toward_max, toward_min) and `apply_shock` (the operation, then the clamp).
Scoring, the Monte Carlo, the sensitivity analyses and the what-if pages all call these;
tests/test_formulas.py checks that no second copy appears.

A clamp loses information: a country already at 10 gains nothing from `add 3`, so a scenario
that adds the same points everywhere ranks the most exposed countries lowest.
`scenario_intensities_with_clamps` therefore also returns every place where a shock ran past
the scale (`ShockClamps`), and the headroom operations `toward_max` / `toward_min` move a
fraction of the distance to the scale's end, so they never clamp.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from riskapp.domain.common import INTENSITY_MAX, INTENSITY_MIN
from riskapp.domain.regions import RegionCatalogue
from riskapp.domain.scenarios import Scenario, Shock, ShockOperation
from riskapp.domain.zones import ZoneCatalogue
from riskapp.engine.places import Places

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# An operation's result beyond the scale by less than this is floating-point rounding (e.g.
# toward_max with value 1 on 9.7), not a clamp worth reporting.
CLAMP_TOLERANCE = 1e-9


def ordered_shocks(scenario: Scenario, regions: RegionCatalogue) -> list[Shock]:
    """Shocks in the order their country parts are applied: group shocks first, then country
    shocks, each in file order. A country shock therefore has the last word for its country.
    Zone shocks (and the zones of a group) come after all of them (`compile_programs`)."""
    group = [s for s in scenario.shocks if regions.is_group(s.target)]
    country = [s for s in scenario.shocks if not regions.is_group(s.target)]
    return group + country


@dataclass(frozen=True)
class ShockStep:
    """One shock's part on one stage, resolved to array positions (application order).

    `unit` is -1 on the country stage (group and country shocks: full effect on `rows`).
    On the zone stage it numbers the shock's target (a zone, or the zones of a group), and
    `weight` holds each row's weight in it."""

    rows: IntArray  # places it hits
    factor: int
    op: ShockOperation
    position: int  # in the flattened shock values (over scenarios, in file order)
    shock: int  # in the scenario's file order
    unit: int = -1
    weight: FloatArray | None = None


def compile_programs(
    scenarios: Sequence[Scenario],
    regions: RegionCatalogue,
    places: Places,
    factors: Sequence[str],
    zones: ZoneCatalogue | None = None,
) -> list[list[ShockStep]]:
    """Each scenario's shocks as steps in application order:

    1. the country stage: group shocks, then country shocks, each in file order, on every
       place of their countries (an asset in a zone still feels its country's shocks);
    2. the zone stage: the shocks whose target is a zone or a group holding zones, on the
       places in those zones. Each target's shocks on a factor act, in file order, on the
       intensity the country stage left (x0), weighted by the place's weight w in the target:

           x <- x + w (op(x) clamped - x)

       and a place reached by several targets on the same factor takes the highest of their
       results: an asset in several zones takes the worst.
    """
    zones = zones or ZoneCatalogue()
    f_index = {f: j for j, f in enumerate(factors)}
    programs: list[list[ShockStep]] = []
    offset = 0
    # where each target reaches, found once (scenarios shock the same targets again and
    # again; the arrays are only read)
    reached: dict[str, tuple[IntArray, IntArray, FloatArray]] = {}
    for scenario in scenarios:
        position = {id(s): offset + k for k, s in enumerate(scenario.shocks)}
        file_order = {id(s): k for k, s in enumerate(scenario.shocks)}
        offset += len(scenario.shocks)
        country_steps: list[ShockStep] = []
        zone_steps: list[tuple[int, int, int, ShockStep]] = []
        units: dict[str, int] = {}
        for shock in ordered_shocks(scenario, regions):
            j = f_index.get(shock.factor)
            if j is None:
                continue
            if shock.target not in reached:
                reached[shock.target] = places.reach(shock.target, regions, zones)
            rows, zone_rows, weight = reached[shock.target]
            k = file_order[id(shock)]
            if len(rows):
                country_steps.append(ShockStep(rows, j, shock.op, position[id(shock)], k))
            if len(zone_rows):
                unit = units.setdefault(shock.target, len(units))
                step = ShockStep(zone_rows, j, shock.op, position[id(shock)], k, unit, weight)
                zone_steps.append((unit, j, k, step))
        zone_steps.sort(key=lambda t: t[:3])
        programs.append(country_steps + [t[3] for t in zone_steps])
    return programs


Found = list[tuple[int, int, int, IntArray, FloatArray, FloatArray]]


def run_program(
    start: FloatArray,
    program: Sequence[ShockStep],
    value_of: Callable[[ShockStep], float | FloatArray],
    found: Found | None = None,
    scenario: int = 0,
) -> FloatArray:
    """One scenario's intensities (..., P, F) from `start` (the baseline over places, with any
    leading axes, e.g. trials): the steps of `compile_programs` with the shock values
    `value_of(step)` gives (a number, or an array broadcasting against the leading axes).
    Each step is appended to `found` if given (scenario, shock, factor, rows, values before,
    the operation's result before the clamp)."""
    out = start.copy()
    x0: FloatArray | None = None
    touched: npt.NDArray[np.bool_] | None = None
    k = 0
    while k < len(program):
        step = program[k]
        if step.unit < 0:
            before = out[..., step.rows, step.factor]
            raw = unclamped_shock(before, step.op, value_of(step))
            out[..., step.rows, step.factor] = clamp_intensity(raw)
            if found is not None:
                found.append((scenario, step.shock, step.factor, step.rows, before, raw))
            k += 1
            continue
        if x0 is None or touched is None:
            x0 = out.copy()
            touched = np.zeros(out.shape[-2:], dtype=bool)
        end = k
        while (
            end < len(program)
            and program[end].unit == step.unit
            and program[end].factor == step.factor
        ):
            end += 1
        rows, f = step.rows, step.factor
        candidate = x0[..., rows, f]
        for part in program[k:end]:
            raw = unclamped_shock(candidate, part.op, value_of(part))
            if found is not None:
                found.append((scenario, part.shock, f, rows, candidate, raw))
            assert part.weight is not None
            candidate = candidate + part.weight * (clamp_intensity(raw) - candidate)
        hit = touched[rows, f]
        out[..., rows, f] = np.where(hit, np.maximum(out[..., rows, f], candidate), candidate)
        touched[rows, f] = True
        k = end
    return out


def clamp_intensity(values: npt.ArrayLike) -> FloatArray:
    """Intensities held to the scale, INTENSITY_MIN to INTENSITY_MAX (0-10)."""
    result: FloatArray = np.clip(np.asarray(values, dtype=np.float64), INTENSITY_MIN, INTENSITY_MAX)
    return result


def unclamped_shock(
    values: FloatArray, op: ShockOperation, value: float | FloatArray
) -> FloatArray:
    """One shock's operation on an array of intensities, before the clamp to 0-10:
    `set` replaces, `add` adds, `scale` multiplies, `toward_max` moves the fraction `value` of
    the way to 10 (x + value (10 - x)), `toward_min` the fraction `value` of the way to 0
    (x - value x). With `values` on the scale and `value` in 0-1, the last two stay on the
    scale (up to rounding, see CLAMP_TOLERANCE). `value` is a number or an array that
    broadcasts against `values` (e.g. one value per Monte Carlo trial, shape (n, 1))."""
    out: FloatArray
    if op is ShockOperation.SET:
        out = np.broadcast_to(np.asarray(value, dtype=np.float64), values.shape).copy()
    elif op is ShockOperation.ADD:
        out = values + value
    elif op is ShockOperation.SCALE:
        out = values * value
    elif op is ShockOperation.TOWARD_MAX:
        out = values + value * (INTENSITY_MAX - values)
    else:  # TOWARD_MIN
        out = values - value * (values - INTENSITY_MIN)
    return np.asarray(out, dtype=np.float64)


def apply_shock(values: FloatArray, op: ShockOperation, value: float | FloatArray) -> FloatArray:
    """One shock on an array of intensities (`unclamped_shock`), clamped to 0-10 after the
    operation. Returns a new array."""
    return clamp_intensity(unclamped_shock(values, op, value))


@dataclass(frozen=True)
class ShockClamps:
    """Where shocks ran past the 0-10 scale, one entry per (scenario, shock, country) clamped:
    indices of the scenario, of the shock in the scenario's file order, of the country and
    of the factor in the arrays scored, the intensity before the shock, the operation's result
    and the clamped intensity used. `lost` is what the clamp took away: positive when a shock
    ran past 10, negative when it ran below 0."""

    scenario: IntArray
    shock: IntArray
    country: IntArray
    factor: IntArray
    before: FloatArray
    unclamped: FloatArray
    clamped: FloatArray
    place: IntArray  # the place (riskapp.engine.places); the country's own place is its index

    def __len__(self) -> int:
        return int(self.scenario.shape[0])

    @property
    def lost(self) -> FloatArray:
        result: FloatArray = self.unclamped - self.clamped
        return result


def scenario_intensities_with_clamps(
    baseline: FloatArray,
    countries: Sequence[str],
    factors: Sequence[str],
    scenarios: Sequence[Scenario],
    regions: RegionCatalogue,
    shock_values: FloatArray | None = None,
    places: Places | None = None,
    zones: ZoneCatalogue | None = None,
) -> tuple[FloatArray, ShockClamps]:
    """`scenario_intensities` and every clamp it made (`ShockClamps`).

    Each shock is one vectorised step over the countries it reaches; a clamp is recorded where
    the operation's result lies beyond the scale by more than CLAMP_TOLERANCE, found in one
    pass over every shocked value. Clamps are per scenario x country x factor, not per asset
    (assets feel the country's intensity).
    """
    found: Found = []
    places = places or Places.of_countries(countries)
    out = _shocked(
        baseline, countries, factors, scenarios, regions, shock_values, found, places, zones
    )
    return out, _clamps(found, places)


def _shocked(
    baseline: FloatArray,
    countries: Sequence[str],
    factors: Sequence[str],
    scenarios: Sequence[Scenario],
    regions: RegionCatalogue,
    shock_values: FloatArray | None,
    found: Found | None,
    places: Places | None = None,
    zones: ZoneCatalogue | None = None,
) -> FloatArray:
    """The shocks applied in order (`compile_programs`, `run_program`) on every scenario."""
    places = places or Places.of_countries(countries)
    baseline = np.asarray(baseline, dtype=float)
    # by country (C, F), spread over the places; or already by place (P, F)
    start = baseline if baseline.shape[0] == places.count else places.expand(baseline)
    programs = compile_programs(scenarios, regions, places, factors, zones)
    out = np.empty((len(scenarios), *start.shape))

    def value_of(step: ShockStep) -> float:
        if shock_values is not None:
            return float(shock_values[step.position])
        return float(values[step.position])

    values = [s.value for scenario in scenarios for s in scenario.shocks]
    for s_i, program in enumerate(programs):
        out[s_i] = run_program(start, program, value_of, found, s_i)
    return out


def _clamps(found: Found, places: Places) -> ShockClamps:
    """The clamps of the shocks that left the scale somewhere, selected in one pass."""
    if not found:
        empty_i, empty_f = np.zeros(0, dtype=np.int64), np.zeros(0)
        return ShockClamps(empty_i, empty_i, empty_i, empty_i, empty_f, empty_f, empty_f, empty_i)
    counts = np.array([len(f[3]) for f in found], dtype=np.int64)

    def per_shock(k: int) -> IntArray:
        return np.repeat(np.array([f[k] for f in found], dtype=np.int64), counts)

    raw = np.concatenate([f[5] for f in found])
    clamped = clamp_intensity(raw)
    hit = np.abs(raw - clamped) > CLAMP_TOLERANCE
    place = np.concatenate([f[3] for f in found])[hit]
    return ShockClamps(
        scenario=per_shock(0)[hit],
        shock=per_shock(1)[hit],
        country=places.country[place],
        factor=per_shock(2)[hit],
        before=np.concatenate([f[4] for f in found])[hit],
        unclamped=raw[hit],
        clamped=clamped[hit],
        place=place,
    )


def scenario_intensities(
    baseline: FloatArray,
    countries: Sequence[str],
    factors: Sequence[str],
    scenarios: Sequence[Scenario],
    regions: RegionCatalogue,
    shock_values: FloatArray | None = None,
    places: Places | None = None,
    zones: ZoneCatalogue | None = None,
) -> FloatArray:
    """Intensity array of shape (scenarios, places, factors); without `places`, one place per
    country (see riskapp.engine.places). `baseline` is by country (C, F) or already by place
    (P, F: `ScoreInputs.place_baseline`, with the zones' baseline rows).

    `baseline` has shape (countries, factors). Shocks that target countries or factors outside
    the arrays are ignored (no asset can feel them). `shock_values`, if given, replaces each
    shock's value (flattened over scenarios in file order) - used to sample uncertainty ranges.
    Where the shocks clamped: `scenario_intensities_with_clamps`.
    """
    return _shocked(
        baseline, countries, factors, scenarios, regions, shock_values, None, places, zones
    )


def region_max_intensity(
    intensities: FloatArray,
    places: Places,
    target: str,
    regions: RegionCatalogue,
    zones: ZoneCatalogue,
    factor_index: int,
) -> FloatArray:
    """Highest intensity of one factor over the places a region (a country, a group or a
    zone) reaches, per scenario (0 if none). A zone is read where the portfolio's assets in
    it lie."""
    rows, zone_rows, _ = places.reach(target, regions, zones)
    every = np.union1d(rows, zone_rows)
    if not len(every):
        return np.zeros(intensities.shape[0])
    result: FloatArray = intensities[:, every, factor_index].max(axis=1)
    return result
