"""Request parameters and error replies shared by the simulated Binance endpoints.

Binance answers a bad request with an HTTP 4xx and a JSON body ``{"code": -1121, "msg": "Invalid symbol."}``;
ccxt maps the code to an exception class (``BadSymbol`` here). Endpoints raise ``ApiError`` with the real
code and message, and parse parameters through ``Params``, which reproduces Binance's validation errors for
malformed, missing or duplicated parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

_INT = re.compile(r"^-?[0-9]{1,20}$")


@dataclass(slots=True)
class ApiError(Exception):
    """An error reply: HTTP ``status`` with body ``{"code": code, "msg": msg}``."""

    status: int
    code: int
    msg: str

    def body(self) -> dict[str, object]:
        return {"code": self.code, "msg": self.msg}


def invalid_symbol() -> ApiError:
    return ApiError(400, -1121, "Invalid symbol.")


def bad_combination() -> ApiError:
    return ApiError(400, -1128, "Combination of optional parameters invalid.")


class Params:
    """The query string of one request, as Binance validates it."""

    def __init__(self, query: str) -> None:
        self.raw = query
        pairs = parse_qsl(query, keep_blank_values=True)
        self.values: dict[str, str] = {}
        for key, value in pairs:
            if key in self.values:
                raise ApiError(400, -1101, "Duplicate values for a parameter detected.")
            self.values[key] = value

    def __contains__(self, key: str) -> bool:
        return key in self.values

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.values.get(key)
        return default if value in (None, "") else value

    def required(self, key: str) -> str:
        value = self.values.get(key)
        if value is None or value == "":
            raise ApiError(400, -1102, f"Mandatory parameter '{key}' was not sent, was empty/null, or malformed.")
        return value

    def integer(self, key: str, default: int | None = None) -> int | None:
        value = self.values.get(key)
        if value is None or value == "":
            return default
        if not _INT.match(value):
            raise ApiError(400, -1100, f"Illegal characters found in parameter '{key}'; "
                                       "legal range is '^[0-9]{1,20}$'.")
        return int(value)

    def limit(self, default: int, maximum: int) -> int:
        """``limit`` within 1..maximum; larger values are capped like Binance does."""
        value = self.integer("limit", default)
        assert value is not None
        if value <= 0:
            raise ApiError(400, -1100, "Illegal characters found in parameter 'limit'; legal range is '1'.")
        return min(value, maximum)

    def flag(self, key: str) -> bool:
        return (self.values.get(key) or "").lower() == "true"

    def without_signature(self) -> str:
        """The signed payload: the raw query string minus its ``signature`` parameter."""
        return "&".join(p for p in self.raw.split("&") if not p.startswith("signature="))
