"""Where the world map looks: the groups of assets that hold most of the loss, widened to the
map's shape (riskapp.charts.maps draws it)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

FRAME_SHARE = 0.9  # the map frames the groups of assets that hold this much of the loss


FRAME_CELL_DEGREES = 10.0  # assets in neighbouring cells of this size are one group


def frame_weight(located: pd.DataFrame) -> npt.NDArray[np.float64]:
    """What the frame weighs assets by: expected annual loss, or exposed value when there is
    no loss, or 1 each when neither is there."""
    for column in ("eal", "exposed_value"):
        if column in located:
            w: npt.NDArray[np.float64] = np.clip(
                located[column].to_numpy(dtype=float, na_value=0.0), 0.0, None
            )
            if w.sum() > 0:
                return w
    return np.ones(len(located))


def framed(located: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Which of the located assets the map frames: the groups of assets (assets in touching
    cells of FRAME_CELL_DEGREES, longitude wrapping round; groups are some 1,000-2,000 km
    apart) that hold FRAME_SHARE of the expected annual loss (`frame_weight`), the largest
    group first. A portfolio in Europe with a few suppliers in Asia is framed on Europe; one
    spread over three continents, on all three. The others are still drawn, off the frame."""
    n = len(located)
    if not n:
        return np.zeros(0, dtype=bool)
    rows, cols = int(180 / FRAME_CELL_DEGREES), int(360 / FRAME_CELL_DEGREES)
    lon = located["lon"].to_numpy(dtype=float)
    lat = located["lat"].to_numpy(dtype=float)
    ix = np.floor((lon + 180.0) / FRAME_CELL_DEGREES).astype(np.int64) % cols
    iy = np.clip(np.floor((lat + 90.0) / FRAME_CELL_DEGREES).astype(np.int64), 0, rows - 1)
    occupied = np.zeros((rows, cols), dtype=bool)
    occupied[iy, ix] = True
    # label every occupied cell with the largest cell number of its group: spread the
    # largest label over neighbours until nothing changes (at most a few hundred rounds)
    label = np.where(occupied, np.arange(rows * cols).reshape(rows, cols), -1)
    while True:
        spread = label.copy()
        for dy in (-1, 0, 1):
            shifted = np.roll(label, dy, axis=0)
            if dy == 1:
                shifted[0] = -1  # no wrap over the poles
            elif dy == -1:
                shifted[-1] = -1
            for dx in (-1, 0, 1):
                spread = np.maximum(spread, np.roll(shifted, dx, axis=1))
        spread = np.where(occupied, spread, -1)
        if (spread == label).all():
            break
        label = spread
    group = label[iy, ix]
    weight = frame_weight(located)
    ids, inverse = np.unique(group, return_inverse=True)
    totals = np.bincount(inverse, weights=weight, minlength=len(ids))
    order = np.argsort(-totals, kind="stable")
    needed = int(np.searchsorted(np.cumsum(totals[order]), FRAME_SHARE * totals.sum() - 1e-9))
    chosen = np.zeros(len(ids), dtype=bool)
    chosen[order[: needed + 1]] = True
    result: npt.NDArray[np.bool_] = chosen[inverse]
    return result


def frame_spec(located: pd.DataFrame) -> dict[str, Any]:
    """The map's geo ranges around the framed assets (with a margin), widened to the map's
    shape (`fit_aspect`), or the whole world."""
    if located.empty:
        return {
            "lonaxis": {"range": [-180.0, 180.0]},
            "lataxis": {"range": [-60.0, 85.0]},
            "projection": {"type": "natural earth", "rotation": {"lon": 0.0}},
        }
    lat, lon = located["lat"].astype(float), located["lon"].astype(float)
    lon_range, lat_range = fit_aspect(
        (max(-180.0, float(lon.min()) - 12), min(180.0, float(lon.max()) + 12)),
        (max(-60.0, float(lat.min()) - 8), min(85.0, float(lat.max()) + 8)),
    )
    middle = (lon_range[0] + lon_range[1]) / 2
    return {
        "lonaxis": {"range": list(lon_range)},
        "lataxis": {"range": list(lat_range)},
        "projection": {"type": "natural earth", "rotation": {"lon": middle}},
        "center": {"lon": middle, "lat": (lat_range[0] + lat_range[1]) / 2},
    }


MAP_ASPECT = 1.8  # width / height of the map's drawing area: 560 px high with its legend below


def _natural_earth_x(lat: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Natural Earth (plotly's projection; Šavrič et al. 2011): x = longitude (radians) x this
    factor of the latitude."""
    p2 = np.radians(lat) ** 2
    result: npt.NDArray[np.float64] = (
        0.8707 - 0.131979 * p2 - 0.013791 * p2**2 + 0.003971 * p2**5 - 0.001529 * p2**6
    )
    return result


def _natural_earth_y(lat: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    p = np.radians(lat)
    p2 = p * p
    result: npt.NDArray[np.float64] = p * (
        1.007226 + 0.015085 * p2 - 0.044475 * p2**3 + 0.028874 * p2**4 - 0.005916 * p2**5
    )
    return result


def fit_aspect(
    lon_range: tuple[float, float], lat_range: tuple[float, float], aspect: float = MAP_ASPECT
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Longitude and latitude ranges that hold the given ones and have the map's shape once
    projected (plotly fits the ranges into the map keeping the projection's proportions, and
    leaves the rest blank): the narrower side is widened about its middle, longitude within
    -180..180 and latitude within -60..85 (as far as they allow)."""
    (west, east), (south, north) = lon_range, lat_range

    def width(s: float, n: float, span: float) -> float:
        widest = 0.0 if s <= 0 <= n else min(abs(s), abs(n))  # the latitude nearest the equator
        return float(np.radians(span) * _natural_earth_x(np.array(widest)))

    def height(s: float, n: float) -> float:
        return float(_natural_earth_y(np.array(n)) - _natural_earth_y(np.array(s)))

    w, h = width(south, north, east - west), height(south, north)
    if w < aspect * h:
        span = min(360.0, east - west + (aspect * h - w) / (w / max(east - west, 1e-9)))
        middle = (west + east) / 2
        west, east = middle - span / 2, middle + span / 2
        if west < -180.0:
            west, east = -180.0, min(180.0, east - 180.0 - west)
        if east > 180.0:
            west, east = max(-180.0, west - (east - 180.0)), 180.0
    elif w > aspect * h:
        # widen the latitudes a tenth of a degree at a time: the first that is tall enough
        # (nearer the equator the map widens too)
        grow = np.arange(0.0, 145.1, 0.1)
        s = np.maximum(-60.0, south - grow)
        n = np.minimum(85.0, north + grow)
        widest = np.where((s <= 0) & (n >= 0), 0.0, np.minimum(np.abs(s), np.abs(n)))
        wide = np.radians(east - west) * _natural_earth_x(widest)
        tall = aspect * (_natural_earth_y(n) - _natural_earth_y(s)) >= wide
        k = int(np.argmax(tall)) if tall.any() else len(grow) - 1
        south, north = float(s[k]), float(n[k])
    return (west, east), (south, north)
