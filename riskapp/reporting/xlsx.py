"""Excel workbook of a report (xlsxwriter): one sheet per table, raw numbers with formats.

Sheets: Summary (title page facts, every key figure with its note and definition, the run the
simulated ones come from, the three actions), Scenarios (with a native bar chart of gross and
residual loss by scenario), Scale limits, Return periods (simulated annual loss with its band,
native line chart), Tail by factor (native bar chart) and Tail by asset (parts of the expected
shortfall), Factors (with a native bar chart), Regions, Countries, Region x factor (3-colour heat
map), Assets (every asset; data bars on EAL), Plans, Plan BCR (simulated), Readiness gaps,
Waterfall, Inputs, Reviewer checklist, Provenance.

Every table sheet has a frozen header row, an autofilter and number formats by column kind
(money as `NumberFormat.excel_money`: "EUR "#,##0 or #,##0" EUR", the cell stays a number;
shares as 0.0%, ratios as 0.0"x"). Excel shows the separators of the reader's own locale; the
report's NumberFormat writes the text cells (key figures, actions) as every other format does.

Safety: no cell is ever written as a formula. Text is written with `write_string`; text that
a spreadsheet would run as a formula when retyped or exported (starts with = + - @, tab or CR)
keeps its characters and gets Excel's quote-prefix flag, which shows it as text and keeps it
text when edited.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from riskapp.assessment.actions import ACTION_RULE
from riskapp.format import ColumnKind, NumberFormat
from riskapp.io.export import formula_like
from riskapp.reporting.logo import checked_logo
from riskapp.reporting.model import Report
from riskapp.reporting.tables import Column, Table

NUMBER_FORMATS: dict[ColumnKind, str] = {
    "int": "#,##0",
    "number": "#,##0.0",
    "money": "#,##0",  # replaced by the report's NumberFormat.excel_money
    "ratio": '0.0"x"',
    "percent": "0.0%",
    "probability": "0.0%",
    "days": "#,##0",
    "intensity": "0.0",
}
SHEETS = {
    "scenarios": "Scenarios",
    "clamps": "Scale limits",
    "return_periods": "Return periods",
    "factor_tail": "Tail by factor",
    "asset_tail": "Tail by asset",
    "factors": "Factors",
    "regions": "Regions",
    "countries": "Countries",
    "region_factor": "Region x factor",
    "assets": "Assets",
    "plans": "Plans",
    "plan_bcr": "Plan BCR (simulated)",
    "readiness_gaps": "Readiness gaps",
    "waterfall": "Waterfall",
    "inputs": "Inputs",
    "checklist": "Reviewer checklist",
}
MAX_WIDTH = 60
WIDTH_SAMPLE = 300  # rows read to size a column


class _Styles:
    def __init__(self, wb: Workbook, accent: str, money: str) -> None:
        self.wb = wb
        self.header = wb.add_format(
            {"bold": True, "font_color": "#FFFFFF", "bg_color": accent, "text_wrap": True}
        )
        self.header.set_align("top")
        self.title = wb.add_format({"bold": True, "font_size": 16, "font_color": accent})
        self.subtitle = wb.add_format({"bold": True, "font_size": 12})
        self.label = wb.add_format({"bold": True})
        self.note = wb.add_format({"italic": True, "font_color": "#555555"})
        self.wrap = wb.add_format({"text_wrap": True})
        self.wrap.set_align("top")
        self.text = wb.add_format({})
        self.quoted = wb.add_format({"quote_prefix": True})
        self.quoted_label = wb.add_format({"quote_prefix": True, "bold": True})
        self.numbers = {
            kind: wb.add_format({"num_format": money if kind == "money" else f})
            for kind, f in NUMBER_FORMATS.items()
        }


def _text(
    ws: Worksheet, row: int, col: int, value: object, styles: _Styles, fmt: Format | None = None
) -> None:
    """A text cell: never a formula, even if the text looks like one."""
    text = "" if value is None else str(value)
    if formula_like(text):
        ws.write_string(
            row, col, text, styles.quoted_label if fmt is styles.label else styles.quoted
        )
    else:
        ws.write_string(row, col, text, fmt or styles.text)


def _number(
    ws: Worksheet, row: int, col: int, value: Any, kind: ColumnKind, styles: _Styles
) -> None:
    if value is None:
        return
    try:
        number = float(value)
    except (TypeError, ValueError):
        _text(ws, row, col, value, styles)
        return
    if math.isnan(number):
        ws.write_string(row, col, "n/a", styles.text)
    elif math.isinf(number):
        ws.write_string(
            row, col, "free" if kind == "ratio" and number > 0 else str(number), styles.text
        )
    else:
        ws.write_number(row, col, number, styles.numbers[kind])


def _header(column: Column, currency: str) -> str:
    if column.kind == "money":
        return f"{column.label} ({currency})"
    return f"{column.label} (days)" if column.kind == "days" else column.label


def write_table(
    ws: Worksheet,
    table: Table,
    styles: _Styles,
    currency: str,
    first_row: int = 0,
) -> tuple[int, int]:
    """Header at `first_row`, then the rows; frozen header, autofilter, column widths.

    Returns (first data row, last data row) (last < first when the table is empty)."""
    columns = table.columns
    for c, column in enumerate(columns):
        _text(ws, first_row, c, _header(column, currency), styles, styles.header)
        if column.definition:
            ws.write_comment(first_row, c, column.definition)
    frame = table.frame
    values = [frame[c.key].tolist() for c in columns]
    n = len(frame)
    for c, column in enumerate(columns):
        col_values = values[c]
        if column.kind == "text":
            for r, v in enumerate(col_values):
                _text(ws, first_row + 1 + r, c, v, styles)
        else:
            for r, v in enumerate(col_values):
                _number(ws, first_row + 1 + r, c, v, column.kind, styles)
        width = max(
            [len(_header(column, currency)) * 0.9]
            + [len(_shown(v, column.kind)) for v in col_values[:WIDTH_SAMPLE]]
        )
        ws.set_column(c, c, min(MAX_WIDTH, max(8.0, width + 2)))
    ws.freeze_panes(first_row + 1, 0)
    last = first_row + n
    ws.autofilter(first_row, 0, max(last, first_row), len(columns) - 1)
    if table.note:
        ws.write_string(last + 2, 0, table.note, styles.note)
    return first_row + 1, last


def _shown(value: object, kind: ColumnKind) -> str:
    if kind == "text":
        return "" if value is None else str(value)
    if kind == "money":
        try:
            return NumberFormat().money_full(float(value))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return str(value)
    return "0000000"


def _summary(wb: Workbook, report: Report, styles: _Styles) -> None:
    ws = wb.add_worksheet("Summary")
    b = report.branding
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 22)
    ws.set_column(2, 2, 44)
    ws.set_column(3, 3, 100)
    ws.hide_gridlines(2)
    row = 0
    logo = checked_logo(b.logo)
    if logo is not None and not logo.is_svg:
        ws.set_row(0, 60)
        ws.insert_image(
            0,
            2,
            "logo.png",
            {
                "image_data": io.BytesIO(logo.data),
                "y_scale": 0.5,
                "x_scale": 0.5,
                "object_position": 3,
            },
        )
    _text(ws, row, 0, b.title, styles, styles.title)
    row += 1
    facts = [
        ("Client", report.client),
        ("Author", b.author),
        ("Date", report.generated_on),
        ("Classification", b.confidentiality),
        ("Workspace", report.workspace_name),
        ("Currency", report.currency),
        ("Loss basis", report.basis_text),
    ]
    for label, value in facts:
        _text(ws, row, 0, label, styles, styles.label)
        _text(ws, row, 1, value, styles)
        row += 1
    row += 1
    _text(ws, row, 0, "Key figures", styles, styles.subtitle)
    row += 1
    for c, label in enumerate(("Figure", "Value", "Note", "How it is computed")):
        ws.write_string(row, c, label, styles.header)
    row += 1
    for k in report.key_figures:
        _text(ws, row, 0, k.label, styles, styles.label)
        _text(ws, row, 1, k.text, styles)
        _text(ws, row, 2, k.note, styles, styles.wrap)
        _text(ws, row, 3, k.definition, styles, styles.wrap)
        row += 1
    _text(ws, row, 0, report.headline_note, styles, styles.note)
    row += 2
    _text(ws, row, 0, "Three things to act on", styles, styles.subtitle)
    row += 1
    for i, action in enumerate(report.actions, 1):
        _text(ws, row, 0, f"{i}. {action.title}", styles, styles.label)
        ws.merge_range(row, 1, row, 2, "", styles.wrap)
        _text(ws, row, 1, action.detail, styles, styles.wrap)
        ws.set_row(row, 32)
        row += 1
    row += 1
    _text(
        ws,
        row,
        0,
        "How each action was chosen: " + "; ".join(dict.fromkeys(a.rule for a in report.actions)),
        styles,
        styles.note,
    )
    ws.activate()


def _axis_format(fmt: NumberFormat) -> str:
    """Excel axis numbers in millions, labelled as the report writes them (m / Mio.)."""
    return '#,##0,," Mio."' if fmt.locale == "de" else '#,##0,,"m"'


def _chart_scenarios(
    wb: Workbook, ws: Worksheet, table: Table, rows: tuple[int, int], fmt: NumberFormat
) -> None:
    first, last = rows
    if last < first:
        return
    name = ws.get_name()
    keys = table.keys
    label_col = keys.index("title")
    chart = wb.add_chart({"type": "bar"})
    for key, colour in (("gross_loss", "#D55E00"), ("residual_loss", "#0072B2")):
        col = keys.index(key)
        chart.add_series(
            {
                "name": [name, first - 1, col],
                "categories": [name, first, label_col, last, label_col],
                "values": [name, first, col, last, col],
                "fill": {"color": colour},
            }
        )
    chart.set_title({"name": "Loss by scenario: gross and with plans"})
    chart.set_x_axis({"name": f"Loss ({fmt.currency})", "num_format": _axis_format(fmt)})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 760, "height": 60 + 34 * (last - first + 1)})
    ws.insert_chart(last + 4, 1, chart)


def _ranked_bars(
    wb: Workbook,
    ws: Worksheet,
    table: Table,
    rows: tuple[int, int],
    fmt: NumberFormat,
    *,
    value: str,
    series: str,
    title: str,
    axis: str,
    colour: str,
) -> None:
    """One bar per row of `table` (its "name" column), largest first, below the table."""
    first, last = rows
    if last < first:
        return
    name = ws.get_name()
    label, col = table.keys.index("name"), table.keys.index(value)
    chart = wb.add_chart({"type": "bar"})
    chart.add_series(
        {
            "name": series,
            "categories": [name, first, label, last, label],
            "values": [name, first, col, last, col],
            "fill": {"color": colour},
        }
    )
    chart.set_title({"name": title})
    chart.set_x_axis({"name": f"{axis} ({fmt.currency})", "num_format": _axis_format(fmt)})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"none": True})
    chart.set_size({"width": 640, "height": 80 + 30 * (last - first + 1)})
    ws.insert_chart(last + 4, 1, chart)


def _chart_return_periods(
    wb: Workbook, ws: Worksheet, table: Table, rows: tuple[int, int], fmt: NumberFormat
) -> None:
    """Annual loss against return period (log axis), with the band's two edges."""
    first, last = rows
    if last < first:
        return
    name = ws.get_name()
    keys = table.keys
    x = keys.index("return_period_years")
    chart = wb.add_chart({"type": "scatter", "subtype": "straight_with_markers"})
    for key, colour, dash in (
        ("loss", "#D55E00", "solid"),
        ("lower", "#999999", "dash"),
        ("upper", "#999999", "dash"),
    ):
        col = keys.index(key)
        chart.add_series(
            {
                "name": [name, first - 1, col],
                "categories": [name, first, x, last, x],
                "values": [name, first, col, last, col],
                "line": {"color": colour, "dash_type": dash},
                "marker": {"type": "circle" if key == "loss" else "none"},
            }
        )
    chart.set_title({"name": "Annual loss against return period (simulated)"})
    chart.set_x_axis({"name": "Return period (years)", "log_base": 10, "min": 1})
    chart.set_y_axis({"name": f"Annual loss ({fmt.currency})", "num_format": _axis_format(fmt)})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 720, "height": 400})
    ws.insert_chart(last + 4, 1, chart)


def _provenance(wb: Workbook, report: Report, styles: _Styles) -> None:
    ws = wb.add_worksheet("Provenance")
    ws.set_column(0, 0, 36)
    ws.set_column(1, 1, 120)
    ws.write_string(0, 0, "Item", styles.header)
    ws.write_string(0, 1, "Value", styles.header)
    row = 1
    p = report.provenance
    rows: list[tuple[str, str]] = [
        (label, value)
        for label, value in p.rows()
        if label not in ("Baseline data sources", "Reference data", "Input files")
    ]
    rows += [("Input file", f) for f in p.input_files]
    rows += [("Baseline data source", s) for s in p.data_sources]
    rows += [("Reference data", a) for a in p.attribution]
    rows += [("Three-actions rule", rule) for rule in _rules(report)]
    for label, value in rows:
        _text(ws, row, 0, label, styles, styles.label)
        _text(ws, row, 1, value, styles, styles.wrap)
        row += 1
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, row - 1, 1)


def _rules(report: Report) -> Sequence[str]:
    del report  # the rule is the same for every report
    return ACTION_RULE


def write_workbook(report: Report, path: Path) -> None:
    """Write the workbook at `path`."""
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "nan_inf_to_errors": False,
        },
    )
    wb.set_properties(
        {
            "title": report.branding.title,
            "subject": report.workspace_name,
            "author": report.branding.author,
            "company": report.client,
            "category": report.branding.confidentiality,
            "comments": f"riskapp {report.provenance.riskapp_version}; inputs "
            f"sha256:{report.provenance.input_hash}",
        }
    )
    styles = _Styles(wb, report.branding.accent_colour, report.fmt.excel_money)
    _summary(wb, report, styles)
    cur = report.currency
    for t in report.tables:
        if t.name not in SHEETS:
            continue
        ws = wb.add_worksheet(SHEETS[t.name])
        rows = write_table(ws, t, styles, cur)
        first, last = rows
        if t.name == "scenarios":
            _chart_scenarios(wb, ws, t, rows, report.fmt)
            col = t.keys.index("gross_loss")
            if last >= first:
                ws.conditional_format(
                    first, col, last, col, {"type": "data_bar", "bar_color": "#F4A582"}
                )
        elif t.name == "factors":
            _ranked_bars(
                wb,
                ws,
                t,
                rows,
                report.fmt,
                value="eal",
                series="Expected annual loss",
                title="Expected annual loss by factor",
                axis="EAL",
                colour="#0072B2",
            )
        elif t.name == "factor_tail":
            _ranked_bars(
                wb,
                ws,
                t,
                rows,
                report.fmt,
                value="tail_es_99",
                series="Part of the expected shortfall 99 %",
                title="What drives the worst 1 % of years",
                axis="Part of ES 99 %",
                colour="#D55E00",
            )
        elif t.name == "return_periods":
            _chart_return_periods(wb, ws, t, rows, report.fmt)
        elif t.name == "region_factor" and last >= first:
            ws.conditional_format(
                first,
                2,
                last,
                len(t.columns) - 1,
                {
                    "type": "3_color_scale",
                    "min_color": "#FFFFCC",
                    "mid_color": "#FD8D3C",
                    "max_color": "#BD0026",
                },
            )
            ws.freeze_panes(first, 2)
        elif t.name == "assets" and last >= first:
            col = t.keys.index("eal")
            ws.conditional_format(
                first, col, last, col, {"type": "data_bar", "bar_color": "#F4A582"}
            )
            ws.freeze_panes(first, 2)
        elif t.name == "plans" and last >= first:
            col = t.keys.index("benefit_cost_ratio")
            ws.conditional_format(
                first,
                col,
                last,
                col,
                {
                    "type": "cell",
                    "criteria": ">=",
                    "value": 1,
                    "format": wb.add_format({"bg_color": "#C6EFCE"}),
                },
            )
    _provenance(wb, report, styles)
    wb.close()


def render(report: Report, path: Path) -> None:
    """Registry entry point: the Excel workbook of `report` at `path`."""
    write_workbook(report, path)
