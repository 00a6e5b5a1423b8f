"""The HTML report: the same pages as the PDF in one self-contained file (CSS inlined, no external links),
for reading in a browser or attaching to an e-mail."""

from __future__ import annotations

from pathlib import Path

from reports.files import base_name, write_atomic
from reports.model import ReportModel
from reports.render import render_document


def write_html(model: ReportModel, out_dir: Path) -> list[Path]:
    """Write ``<base>.html`` into ``out_dir``."""
    path = out_dir / f"{base_name(model.context)}.html"
    return [write_atomic(path, render_document(model, "html").encode("utf-8"))]
