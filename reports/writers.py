"""The writer registry: one function per output format, all with the same signature.

A writer takes the report model and an existing folder and returns the files it wrote. ``write_report``
checks every requested format before writing anything, so a typo in ``--format`` fails fast instead of
after the slow PDF.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from reports.csv_writer import write_csv
from reports.html_writer import write_html
from reports.json_writer import write_json
from reports.model import ReportModel
from reports.pdf_writer import write_pdf
from reports.tax_software import write_form8949_boxes, write_taxact, write_turbotax
from taxsync.perf import collector_paused
from taxsync.progress import Progress, silent

Writer = Callable[[ReportModel, Path], list[Path]]

WRITERS: dict[str, Writer] = {
    "json": write_json,
    "csv": write_csv,
    "pdf": write_pdf,
    "html": write_html,
    "form8949-boxes": write_form8949_boxes,
    "turbotax": write_turbotax,
    "taxact": write_taxact,
}


def write_report(model: ReportModel, out_dir: Path, formats: Iterable[str], progress: Progress = silent
                 ) -> list[Path]:
    """Write ``model`` in each of ``formats`` (keys of ``WRITERS``) into ``out_dir``, creating it; ``progress``
    hears of each format written.

    ``formats`` may also be one comma-separated string (``"pdf,csv"``). Raises ``ValueError`` naming the
    known formats when one is unknown; nothing is written then.
    """
    if isinstance(formats, str):
        formats = formats.split(",")
    wanted = list(dict.fromkeys(f.strip().lower() for f in formats))
    unknown = [f for f in wanted if f not in WRITERS]
    if unknown:
        known = ", ".join(WRITERS)
        raise ValueError(f"unknown report format {', '.join(map(repr, unknown))}; choose from {known}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with collector_paused():  # a million rows of short-lived, acyclic strings and lists
        for done, name in enumerate(wanted):
            progress(f"writing {name}", done, len(wanted))
            written.extend(WRITERS[name](model, out_dir))
        progress("formats written", len(wanted), len(wanted))
    return written
