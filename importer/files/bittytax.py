"""BittyTax transaction records (CSV), the input of the BittyTax accounting tool.

``Type, Buy Quantity, Buy Asset, Buy Value in GBP, Sell Quantity, Sell Asset, Sell Value in GBP, Fee Quantity,
Fee Asset, Fee Value in GBP, Wallet, Timestamp, Note`` (layout from BittyTax's README; the value columns name the
local currency of the configuration, so ``Buy Value in EUR`` is read too). Older records have no ``Note``.
"""

from importer.files.base import FileFormat

BITTYTAX = FileFormat(
    name="bittytax",
    title="BittyTax records",
    required=("Type", "Buy Quantity", "Buy Asset", "Sell Quantity", "Sell Asset", "Fee Quantity", "Fee Asset",
              "Wallet", "Timestamp"),
    optional=("Buy Value in GBP", "Sell Value in GBP", "Fee Value in GBP", "Note"),
    variants=(  # the layouts of the golden samples (tests/fixtures/exports/bittytax)
        ('Type,Buy Quantity,Buy Asset,Buy Value in GBP,Sell Quantity,Sell Asset,Sell Value in GBP,'
         'Fee Quantity,Fee Asset,Fee Value in GBP,Wallet,Timestamp,Note'),
    ),
)
