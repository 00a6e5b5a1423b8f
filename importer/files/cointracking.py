"""CoinTracking "Trade List" CSV export and CoinTracking's own CSV import layout.

Trade List: ``Type, Buy, Cur., Sell, Cur., Fee, Cur., Exchange, Group, Comment, Date``. Its three ``Cur.``
columns are told apart by position (``base.FileFormat.canonical``: the second is ``Cur.#2``, the third
``Cur.#3``) and read as the buy, sell and fee currency. Exports with values add ``Buy value in USD`` and
``Sell value in USD`` (any currency code); the extended export adds ``Trade ID``, ``Imported From`` and
``Add Date``. CoinTracking's import layout names the same columns ``Buy Amount, Buy Currency, Sell Amount, Sell
Currency, Fee, Fee Currency, Exchange, Trade-Group, Comment, Date, Tx-ID``.
"""

from importer.files.base import FileFormat

COINTRACKING = FileFormat(
    name="cointracking",
    title="CoinTracking trade list",
    required=("Type", "Buy", "Buy Currency", "Sell", "Sell Currency", "Fee", "Fee Currency", "Date"),
    optional=("Exchange", "Group", "Comment", "Trade ID", "Imported From", "Add Date", "Tx-ID"),
    aliases=(
        ("Cur.", "Buy Currency"), ("Cur.#2", "Sell Currency"), ("Cur.#3", "Fee Currency"),
        ("Buy Amount", "Buy"), ("Sell Amount", "Sell"), ("Fee Amount", "Fee"),
        ("Trade-Group", "Group"), ("Trade Group", "Group"), ("Trade Date", "Date"),
    ),
    variants=(  # the layouts of the golden samples (tests/fixtures/exports/cointracking)
        ('"Type","Buy","Cur.","Buy value in USD","Sell","Cur.","Sell value in USD","Fee","Cur.","Exchange",'
         '"Group","Comment","Trade ID","Imported From","Add Date","Date"'),
        '"Type","Buy","Cur.","Sell","Cur.","Fee","Cur.","Exchange","Group","Comment","Date"',
    ),
)
