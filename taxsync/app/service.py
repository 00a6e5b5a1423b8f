"""The Python API behind the commands: each command is one call here (tests and scripts call it directly).

The calls live in the application modules beside this one; this module only names them in one place.
"""

from __future__ import annotations

from taxsync.app.export import export_ledger
from taxsync.app.file_import import ImportSummary, file_formats, import_files
from taxsync.app.pipeline import Analysis, analyze, rules_for, settings_for, tax_result
from taxsync.app.report import build_report, data_sources, methodology
from taxsync.app.views import holdings, problems

__all__ = ["Analysis", "ImportSummary", "analyze", "build_report", "data_sources", "export_ledger", "file_formats",
           "holdings", "import_files", "methodology", "problems", "rules_for", "settings_for", "tax_result"]
