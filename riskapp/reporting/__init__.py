"""Consultant reports: one `Report` model built from an assessment, one renderer per format.

from riskapp.reporting import ReportOptions, Branding, build_report
report = build_report("demo", ReportOptions(), Branding(client="ACME"))
"""

from riskapp.format import NumberFormat
from riskapp.reporting.model import (
    Action,
    Branding,
    Column,
    KeyFigure,
    Provenance,
    Report,
    ReportFigure,
    ReportOptions,
    Table,
    Tables,
    build_report,
    load_branding,
)

__all__ = [
    "Action",
    "Branding",
    "Column",
    "KeyFigure",
    "NumberFormat",
    "Provenance",
    "Report",
    "ReportFigure",
    "ReportOptions",
    "Table",
    "Tables",
    "build_report",
    "load_branding",
]
