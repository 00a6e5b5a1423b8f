"""Exports of the normalized ledger for other tools: Koinly universal CSV, TurboTax universal CSV, beancount.

Every exporter takes the same ``LedgerExport`` (the ledger after transfer matching, as the report sees it, with
its valued events and the tax engine's result and lot journal) and a destination path, and returns the files it
wrote; ``EXPORTERS`` is the registry the CLI chooses from. Files are written whole or not at all
(``reports.files.write_atomic``); CSV cells pass through ``reports.safe``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reports.exports.beancount import write_beancount
from reports.exports.data import LedgerExport
from reports.exports.koinly import write_koinly
from reports.exports.turbotax import write_turbotax_universal

Exporter = Callable[[LedgerExport, Path], list[Path]]

EXPORTERS: dict[str, Exporter] = {
    "koinly": write_koinly,
    "turbotax-universal": write_turbotax_universal,
    "beancount": write_beancount,
}
SUFFIXES = {"koinly": ".csv", "turbotax-universal": ".csv", "beancount": ".beancount"}

__all__ = ["EXPORTERS", "SUFFIXES", "Exporter", "LedgerExport"]
