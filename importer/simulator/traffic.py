"""Request weight accounting and deterministic fault injection for the simulator.

Binance limits each client by request *weight* per clock minute (6000 for /api, a separate budget for
/sapi) and answers 429 with ``Retry-After`` beyond it; ``WeightLimiter`` reproduces that, and the used
weight goes back in ``X-MBX-USED-WEIGHT-1M``. ``FaultPlan`` decides, per request and reproducibly for a
seed, whether to answer 429, a 5xx, slowly, or with a truncated body, so an importer's retry logic can
be tested against exactly the same failure sequence every run.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importer.simulator.server import Faults

# (path, weight) per Binance's docs; myTrades with orderId weighs 5.
WEIGHTS: dict[str, int] = {
    "/api/v3/ping": 1, "/api/v3/time": 1, "/api/v3/exchangeInfo": 20, "/api/v3/klines": 2,
    "/api/v3/account": 20, "/api/v3/myTrades": 20, "/sapi/v1/capital/deposit/hisrec": 1,
    "/sapi/v1/capital/withdraw/history": 1, "/sapi/v1/account/apiRestrictions": 1,
}
# ccxt's sync throttle spaces requests by whole milliseconds, so at Binance's own budget it can land one
# request more in a minute than the budget allows; this allowance absorbs that rounding.
ROUNDING_ALLOWANCE = 0.01


def weight_of(path: str, has_order_id: bool) -> int:
    if path == "/api/v3/myTrades" and has_order_id:
        return 5
    return WEIGHTS.get(path, 1)


class WeightLimiter:
    """Used weight per (bucket, clock minute); thread-safe."""

    def __init__(self, limit_per_minute: int, clock: Callable[[], float] = time.time) -> None:
        self.limit = limit_per_minute
        self._clock = clock
        self._lock = threading.Lock()
        self._used: dict[str, tuple[int, int]] = {}  # bucket -> (minute, used weight)

    def charge(self, bucket: str, weight: int, limit: int | None = None) -> tuple[bool, int, int]:
        """Charge ``weight``: (accepted, used weight this minute, seconds until the minute resets)."""
        cap = self.limit if limit is None else limit
        now = self._clock()
        minute = int(now // 60)
        retry_after = max(1, int(60 - now % 60 + 0.999))
        with self._lock:
            last_minute, used = self._used.get(bucket, (minute, 0))
            if last_minute != minute:
                used = 0
            if used + weight > cap * (1 + ROUNDING_ALLOWANCE):
                self._used[bucket] = (minute, used)
                return False, used, retry_after
            used += weight
            self._used[bucket] = (minute, used)
            return True, used, retry_after

    def reset(self) -> None:
        with self._lock:
            self._used.clear()


@dataclass(frozen=True, slots=True)
class Fault:
    """What to do to one request (all empty = answer normally)."""

    status: int = 0  # 429 or 5xx instead of the real answer
    slow_seconds: float = 0.0
    truncate: bool = False


NO_FAULT = Fault()


class FaultPlan:
    """Draws faults from ``Faults`` rates; the n-th eligible request always gets the same fate."""

    def __init__(self, faults: Faults | None) -> None:
        self.faults = faults
        self._lock = threading.Lock()
        self._n = 0

    def reset(self) -> None:
        with self._lock:
            self._n = 0

    def draw(self, path: str) -> Fault:
        f = self.faults
        if f is None or not (f.rate_429 or f.rate_5xx or f.rate_slow or f.rate_truncated):
            return NO_FAULT
        if f.fail_paths and not any(p in path for p in f.fail_paths):
            return NO_FAULT
        with self._lock:
            n = self._n
            self._n += 1
        rng = random.Random(f"{f.seed}:{n}")
        roll = rng.random()
        status = 0
        if roll < f.rate_429:
            status = 429
        elif roll < f.rate_429 + f.rate_5xx:
            status = rng.choice((500, 502, 503))
        slow = f.slow_seconds if rng.random() < f.rate_slow else 0.0
        truncate = not status and rng.random() < f.rate_truncated
        return Fault(status=status, slow_seconds=slow, truncate=truncate)


FAULT_BODIES: dict[int, tuple[str, bytes]] = {
    429: ("application/json;charset=UTF-8",
          b'{"code":-1003,"msg":"Too many requests; current limit of IP is 6000 request weight per 1 MINUTE. '
          b'Please use WebSocket Streams for live updates to avoid polling the API."}'),
    500: ("text/html", b"<html><head><title>500 Internal Server Error</title></head>"
                       b"<body><h1>500 Internal Server Error</h1></body></html>"),
    502: ("text/html", b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
                       b"</h1></center><hr><center>CloudFront</center></body></html>"),
    503: ("text/html", b"<html><head><title>503 Service Temporarily Unavailable</title></head><body><center>"
                       b"<h1>503 Service Temporarily Unavailable</h1></center></body></html>"),
}
