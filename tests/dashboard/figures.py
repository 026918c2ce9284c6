"""Fast figures (`spec_figure(fast=True)`: plotly's checks skipped, for charts the dashboard
draws) held equal to checked ones (what reports use)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def no_empty(value: object) -> object:
    if isinstance(value, dict):
        return {k: no_empty(v) for k, v in value.items() if v != {}}
    if isinstance(value, list):
        return [no_empty(v) for v in value]
    return value


def same_figure(build: Callable[[bool], Any]) -> Any:
    """The chart built fast (spec_figure(fast=True): for the dashboard, drawn on every widget
    change) and checked by plotly (what reports use) give the same JSON (plotly's checks
    drop the empty title the shared layout sets; the fast figure's template keeps the trace
    defaults of its own trace types only); a checked construction of the fast figure's own
    dict accepts every property."""
    import json

    import plotly.graph_objects as go
    import plotly.io as pio

    fast, checked = build(True), build(False)
    want = json.loads(pio.to_json(checked))
    got = no_empty(json.loads(pio.to_json(fast)))
    # the fast figure's template: plotly's default with trace defaults for its own types only
    # (plotly's "plotly" template, or Streamlit's own once Streamlit has set it as the default)
    template = want["layout"].pop("template")
    types = {t["type"] for t in want["data"]}
    template["data"] = {k: v for k, v in template.get("data", {}).items() if k in types}
    assert got["layout"].pop("template") == no_empty(template)
    assert got == want
    rebuilt = json.loads(pio.to_json(go.Figure(fast.to_dict())))
    rebuilt["layout"].pop("template")
    assert rebuilt == want
    return fast
