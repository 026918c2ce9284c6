"""Baseline factor intensities built from published indicators through a methodology file.

    from riskapp.baseline import build, load_method, compute, load_sources_for
    result = build(as_of=datetime.date(2025, 12, 31))   # shipped method and data
    result.baseline()            # country, factor, intensity, source (baseline.csv)
    result.nodes                 # every node's score, weight, coverage, reliability, provenance
    result.breakdown("FIN")      # one country, indicators up to the factor scores
    result.hierarchy()           # the method tree with its weights

Layers: `method` (the methodology file's models, no I/O), `operators` and `compose`
(the maths, vectorised: aggregation operators and rounding; transformations, normalisation and
the tree), `indicators` (windows and adjustments on loaded series), `sources` (one loader per
source; reading helpers in `source_text`, the user's own tables in `table_source`),
`build` (putting it together, writing files), `cli` (`riskapp baseline ...`).
"""

from riskapp.baseline.build import (
    DEFAULT_DATA_DIR,
    DEFAULT_METHOD,
    BaselineResult,
    build,
    compute,
    load_method,
    load_sources_for,
    method_tree,
    write_baseline,
    write_details,
)
from riskapp.baseline.method import Method, method_json_schema

__all__ = [
    "DEFAULT_DATA_DIR",
    "DEFAULT_METHOD",
    "BaselineResult",
    "Method",
    "build",
    "compute",
    "load_method",
    "load_sources_for",
    "method_json_schema",
    "method_tree",
    "write_baseline",
    "write_details",
]
