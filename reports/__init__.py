"""Reports: one view model of a tax result for one tax year, rendered as PDF, HTML, CSV and JSON.

``build_report_model(result, ctx)`` selects and totals the period's rows once; every writer in ``WRITERS``
renders that same model, so the formats cannot disagree. ``write_report(model, out_dir, formats)`` writes the
requested formats atomically, named ``taxsync-{jurisdiction}-{tax_year}-{method}`` plus a suffix.
"""

from reports.model import ReportContext, ReportModel, build_report_model
from reports.writers import WRITERS, write_report

__all__ = ["WRITERS", "ReportContext", "ReportModel", "build_report_model", "write_report"]
