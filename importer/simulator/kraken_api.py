"""Request parameters and error replies shared by the simulated Kraken endpoints.

Kraken answers almost everything with HTTP 200 and an envelope: ``{"error": [], "result": ...}`` on success,
``{"error": ["EAPI:Invalid nonce"]}`` on failure (its docs: "HTTP status codes are generally not used by our
API"). ccxt's ``kraken.handle_errors`` maps the error strings to exception classes. Endpoints raise
``KrakenError`` with Kraken's exact strings and read their parameters through ``Form`` (query string for
public GETs, form-encoded or JSON body for private POSTs).
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

INVALID_ARGUMENTS = "EGeneral:Invalid arguments"
UNKNOWN_PAIR = "EQuery:Unknown asset pair"
UNKNOWN_ASSET = "EQuery:Unknown asset"
PERMISSION_DENIED = "EGeneral:Permission denied"
INVALID_KEY = "EAPI:Invalid key"
INVALID_SIGNATURE = "EAPI:Invalid signature"
INVALID_NONCE = "EAPI:Invalid nonce"
RATE_LIMIT = "EAPI:Rate limit exceeded"
UNKNOWN_METHOD = "EGeneral:Unknown method"


class KrakenError(Exception):
    """An error reply: HTTP 200 with ``{"error": [message]}``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def body(self) -> dict[str, list[str]]:
        return {"error": [self.message]}


class Form:
    """The parameters of one request; values are strings, as Kraken receives them."""

    def __init__(self, text: str, content_type: str = "") -> None:
        self.raw = text
        self.values: dict[str, str] = {}
        if content_type.startswith("application/json") and text.strip():
            try:
                decoded = json.loads(text)
            except ValueError as exc:
                raise KrakenError(INVALID_ARGUMENTS) from exc
            if not isinstance(decoded, dict):
                raise KrakenError(INVALID_ARGUMENTS)
            self.values = {k: v if isinstance(v, str) else json.dumps(v) for k, v in decoded.items()}
        else:
            self.values = dict(parse_qsl(text, keep_blank_values=True))

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.values.get(key)
        return default if value is None or value == "" else value

    def integer(self, key: str, default: int = 0, minimum: int = 0) -> int:
        value = self.text(key)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError as exc:
            raise KrakenError(INVALID_ARGUMENTS) from exc
        if number < minimum:
            raise KrakenError(INVALID_ARGUMENTS)
        return number

    def flag(self, key: str) -> bool:
        return (self.text(key) or "").lower() in ("true", "1")

    def items(self, key: str) -> list[str] | None:
        """A comma-delimited list parameter, or None when absent or ``all``."""
        value = self.text(key)
        if value is None or value == "all":
            return None
        return [v.strip() for v in value.split(",") if v.strip()]


def seconds_to_t4(value: str) -> int | None:
    """A unix timestamp parameter ("1714923561", "1714923561.123") as floor(seconds * 1e4); None if not a number."""
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    return int((number * 10_000).to_integral_value(rounding="ROUND_FLOOR"))


def envelope(result: object) -> dict[str, object]:
    return {"error": [], "result": result}
