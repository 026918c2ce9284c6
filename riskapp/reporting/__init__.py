"""Consultant reports: one `Report` model built from an assessment, one renderer per format.

from riskapp.reporting import ReportOptions, Branding, build_report
report = build_report("demo", ReportOptions(), Branding(client="ACME"))

Its names are imported on first use (riskapp.lazy): importing one light module of the package
(`registry`, which the command line asks first to start the chart browser) does not load the
report model, pandas and the engine before anything uses them.
"""

from typing import TYPE_CHECKING

from riskapp.lazy import attach

if TYPE_CHECKING:
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

__getattr__ = attach(__name__, __file__)
