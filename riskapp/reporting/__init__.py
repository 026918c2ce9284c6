"""Consultant reports: one `Report` model built from an assessment, one renderer per format.

from riskapp.reporting import ReportOptions, Branding, build_report
report = build_report("demo", ReportOptions(), Branding(client="ACME"))
"""

from riskapp.assessment.actions import Action
from riskapp.format import NumberFormat
from riskapp.reporting.figures import ReportFigure
from riskapp.reporting.keyfigures import KeyFigure
from riskapp.reporting.model import Report, build_report
from riskapp.reporting.options import Branding, ReportOptions, load_branding
from riskapp.reporting.provenance import Provenance
from riskapp.reporting.tables import Column, Table, Tables

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
