"""The riskapp command line: every action of the product, scriptable.

One module per concern (`assess`: validate, score, plans, schema, methodology; `simulate`;
`report`; `serve`: the dashboard server; `baseline`; `store`: the team workspace), each adding
its commands with `register(app)`, sharing `common` (consoles, the problem printer, the
workspace loader). `main` holds the app: it lists the commands from a table and imports a
command's module only when that command runs. Commands are thin: read the input, call one
function, print.
"""

from riskapp.cli.main import app, main

__all__ = ["app", "main"]
