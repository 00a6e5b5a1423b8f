"""Where the bundled templates and data live, in a source checkout and in an installed wheel.

A wheel carries ``templates/`` and ``data/`` inside the package as ``taxsync/_templates`` and
``taxsync/_data`` (see ``pyproject.toml``); a source checkout or editable install has them at the top level.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def _locate(name: str) -> Path:
    for candidate in (_PACKAGE / f"_{name}", _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"taxsync is installed without its {name}/ folder (looked in {_PACKAGE})")


def templates_dir() -> Path:
    """The folder of Jinja2 templates and CSS used by the HTML and PDF writers."""
    return _locate("templates")


def data_dir() -> Path:
    """The folder of bundled data: the sample history and reference tables."""
    return _locate("data")
