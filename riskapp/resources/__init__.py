"""Files riskapp ships inside the package, so that an installed riskapp (a wheel, no checkout)
can score the demo, build a baseline and make reports.

    demo/        the demo workspace (a fictional manufacturer; `riskapp score demo` in a checkout)
    scenarios/   the scenario library the demo workspace points at (paths.scenarios: ../scenarios,
                 allowed by allow_paths_outside: [../scenarios])
    methods/     baseline methodology files (default.yaml)
    methodology/ the client methodology, one Markdown file per topic (riskapp.methodology)
    refdata/     public reference data the baseline is built from (see refdata/SOURCES.md)
    geo/         the shipped sea areas, sea_areas.geojson (Natural Earth; see geo/SOURCES.md),
                 read by riskapp.io.zones

In a checkout the top-level folders demo/, scenarios/, methods/ and data/refdata are symlinks
to these, so README commands keep working from the project root.
"""

from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent
DEMO = RESOURCES / "demo"
SCENARIOS = RESOURCES / "scenarios"
METHODS = RESOURCES / "methods"
DEFAULT_METHOD = METHODS / "default.yaml"
REFDATA = RESOURCES / "refdata"
GEO = RESOURCES / "geo"

__all__ = ["DEFAULT_METHOD", "DEMO", "GEO", "METHODS", "REFDATA", "RESOURCES", "SCENARIOS"]
