"""`riskapp signposts`: every scenario's signposts with their latest value and state
(riskapp.assessment.signposts)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from riskapp.cli.common import DEMO, WorkspaceArg, load, out
from riskapp.cli.store_common import DatabaseOpt, open_store

STYLE = {"red": "bold red", "amber": "yellow", "green": "green"}


def signposts(workspace: WorkspaceArg = DEMO, database: DatabaseOpt = None) -> None:
    """Every scenario's signposts: the latest value of the indicator each watches, against
    its threshold, its state (green, amber, red) and since when."""
    from riskapp.assessment.signposts import board, counts

    ws = load(Path(workspace), None)
    store = open_store(database)
    try:
        statuses = board(ws, store)
    finally:
        store.close()
    for scenario_id in dict.fromkeys(st.scenario_id for st in statuses):
        mine = [st for st in statuses if st.scenario_id == scenario_id]
        table = Table(
            "Signpost",
            "State",
            "Value",
            "Threshold",
            "Since",
            title_justify="left",
            title=escape(mine[0].scenario),
        )
        for col in (1, 2, 4):
            table.columns[col].no_wrap = True
        for st in mine:
            s = st.signpost
            value = "" if st.value is None else f"{st.value:,.4g} ({st.period})"
            rule = f"{s.direction.value} {s.threshold:,.4g}"
            if s.amber_band:
                rule += f", amber {s.amber_band:,.4g}"
            state = f"[{STYLE[st.state]}]{st.state}[/]" if st.state in STYLE else st.state
            table.add_row(escape(s.name), state, value, rule, st.since or "")
        out.print(table)
    n = counts(statuses)
    out.print(", ".join(f"{v} {k}" for k, v in n.items() if v), highlight=False)


def register(app: typer.Typer) -> None:
    app.command("signposts")(signposts)
