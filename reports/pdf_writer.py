"""The PDF report, rendered by WeasyPrint from the same HTML as the HTML report, with no network access.

WeasyPrint fetches every URL a document mentions (stylesheets, images, fonts) through a URL fetcher. The
default one would follow ``http://`` and ``file:///anything``; a tax report rendered nightly from exchange data
must never reach the network or read files it was not meant to. ``TemplatesOnlyFetcher`` serves files from
inside the templates folder and refuses everything else, and a refusal stops the rendering rather than
producing a PDF that silently lacks a part.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from reports.files import base_name, write_atomic
from reports.model import ReportModel
from reports.render import render_document
from taxsync.errors import ExitCode, TaxsyncError
from taxsync.resources import templates_dir


class ResourceRefused(TaxsyncError):
    """A document asked for a URL outside the templates folder (a CLI error with a message, not a traceback)."""

    exit_code = ExitCode.INPUT


def resolve_resource(url: str, root: Path) -> Path:
    """The file ``url`` names if it is a ``file:`` URL of an existing file inside ``root``; else refuse."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        raise ResourceRefused(f"refused to fetch {url!r}: reports only use files from {root}")
    path = Path(url2pathname(parts.path)).resolve()
    if not path.is_relative_to(root.resolve()) or not path.is_file():
        raise ResourceRefused(f"refused to fetch {url!r}: not a file inside {root}")
    return path


def make_url_fetcher(root: Path) -> Any:
    """A WeasyPrint URL fetcher that only serves files inside ``root`` and raises on anything else."""
    try:
        from weasyprint.urls import URLFetcher, URLFetcherResponse
    except ImportError:  # WeasyPrint < 68: fetchers are plain functions returning a dict
        return _legacy_fetcher(root)

    class TemplatesOnlyFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            path = resolve_resource(url, root)
            mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime_type})

    return TemplatesOnlyFetcher(fail_on_errors=True)


def render_pdf(model: ReportModel, *, detail: bool | None = None) -> bytes:
    """The report as PDF bytes; without ``detail`` (default: the context's) the summary report (totals of the
    capital gains detail, no lines)."""
    from weasyprint import HTML  # imported here: loading WeasyPrint is slow and only the PDF needs it
    from weasyprint.urls import FatalURLFetchingError

    root = templates_dir()
    document = HTML(
        string=render_document(model, "pdf", detail=detail),
        base_url=str(root),
        url_fetcher=make_url_fetcher(root),
    )
    try:
        return bytes(document.write_pdf())
    except FatalURLFetchingError as error:  # a BaseException in WeasyPrint: turn the refusal into our error
        refused = error.__cause__ if isinstance(error.__cause__, ResourceRefused) else None
        raise refused or ResourceRefused(f"the PDF renderer refused a resource: {error}") from error


def write_pdf(model: ReportModel, out_dir: Path, *, detail: bool | None = None) -> list[Path]:
    """Write ``<base>.pdf`` into ``out_dir`` (the summary report, without the lines of the capital gains detail,
    when not ``detail``; default: the context's)."""
    path = out_dir / f"{base_name(model.context)}.pdf"
    return [write_atomic(path, render_pdf(model, detail=detail))]


def _legacy_fetcher(root: Path) -> Any:
    def fetch(url: str) -> dict[str, Any]:
        path = resolve_resource(url, root)
        mime_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return {"string": path.read_bytes(), "mime_type": mime_type, "redirected_url": path.as_uri()}

    return fetch
