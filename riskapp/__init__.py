"""riskapp: geopolitical risk assessment for businesses.

Python API (the CLI and dashboard are thin layers over these functions)::

    import riskapp
    ws = riskapp.load_workspace("demo")
    result = riskapp.score(ws)                 # losses per asset and scenario
    result.expected_annual_loss()
    riskapp.losses_by(ws, result, "country")   # aggregations that add up
    plans = riskapp.evaluate_plans(ws, result) # triggers, residual loss, BCR, readiness
"""

from riskapp.engine import evaluate_plans, key_figures, loss_table, losses_by, score
from riskapp.io import InputError, load_workspace

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "__version__",
    "evaluate_plans",
    "key_figures",
    "load_workspace",
    "loss_table",
    "losses_by",
    "score",
]
