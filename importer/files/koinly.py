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
    numbers=("Sent Amount", "Received Amount", "Fee Amount", "Net Worth Amount"),
    layout="header Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,"
           "Net Worth Amount,Net Worth Currency,Label,Description,TxHash; Date like 2024-03-01 14:25:00 UTC, "
           "amounts positive, like 1234.5",
    variants=("Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,"
              "Net Worth Amount,Net Worth Currency,Label,Description,TxHash",),
)
