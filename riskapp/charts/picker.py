"""The scenario editor's target map: every country, click (or box/lasso) to pick shock targets;
the picked ones are shaded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from riskapp.charts.common import esc, layout_props, spec_figure

PICKED = "#5E3C99"
NOT_PICKED = "#dcdcdc"


def target_map(
    countries: Sequence[str], names: Mapping[str, str], picked: Sequence[str]
) -> go.Figure:
    """A choropleth of `countries` (ISO 3166-1 alpha-3), those in `picked` shaded; hovering
    shows a country's name and code. A selection's point_index is the country's position."""
    chosen = set(picked)
    z = np.array([1.0 if c in chosen else 0.0 for c in countries])
    labels = [f"{names.get(c, c)} ({c})" for c in countries]
    spec = {
        "data": [
            {
                "type": "choropleth",
                "locations": list(countries),
                "z": z,
                "zmin": 0,
                "zmax": 1,
                "locationmode": "ISO-3",
                "colorscale": [[0, NOT_PICKED], [1, PICKED]],
                "showscale": False,
                "marker": {"line": {"color": "white", "width": 0.5}},
                "customdata": np.asarray(esc(labels), dtype=object),
                "hovertemplate": "%{customdata}<extra></extra>",
            }
        ],
        "layout": {
            **layout_props(height=380),
            "geo": {
                "projection": {"type": "natural earth"},
                "showcountries": True,
                "countrycolor": "#ffffff",
                "showocean": True,
                "oceancolor": "#eaf2f8",
                "showframe": False,
                "lataxis": {"range": [30, 75]},
                "lonaxis": {"range": [-30, 60]},
            },
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "dragmode": "select",
        },
    }
    return spec_figure(spec, fast=True)
