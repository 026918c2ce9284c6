"""The riskapp command line: every action of the product, scriptable.

One module per concern (`main`: validate, score, plans, schema, methodology; `simulate`;
`report`; `serve`: the dashboard server; `baseline`; `store`: the team workspace), sharing
`common` (consoles, the problem printer, the workspace loader). Commands are thin: read the
input, call one function, print.
"""

from riskapp.cli.main import app, main

__all__ = ["app", "main"]
