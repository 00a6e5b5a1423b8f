"""Reference facts about assets: which codes are fiat money (not tracked as lots)."""

from __future__ import annotations

# ISO 4217 codes of currencies people trade crypto against; fiat legs are cash, not property with lots.
FIAT: frozenset[str] = frozenset({
    "USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "JPY", "CNY", "HKD", "SGD", "KRW", "INR", "BRL", "MXN",
    "ARS", "CLP", "COP", "PEN", "TRY", "ZAR", "NGN", "KES", "UAH", "RUB", "PLN", "CZK", "HUF", "RON", "BGN",
    "DKK", "NOK", "SEK", "ISK", "ILS", "AED", "SAR", "QAR", "KWD", "BHD", "THB", "VND", "IDR", "MYR", "PHP",
    "TWD", "PKR", "BDT", "EGP", "MAD", "GHS",
})
