"""Koinly universal CSV, the de-facto interchange format (reference/formats.md)."""

from importer.files.base import FileFormat

KOINLY = FileFormat(
    name="koinly",
    title="Koinly universal CSV",
    required=(
        "Date", "Sent Amount", "Sent Currency", "Received Amount", "Received Currency",
        "Fee Amount", "Fee Currency", "Net Worth Amount", "Net Worth Currency",
    ),
    optional=("Label", "Description", "TxHash"),
)
