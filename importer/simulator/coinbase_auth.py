"""Coinbase CDP API key authentication: an ES256 JWT per request, checked as Coinbase checks it.

Coinbase App docs, "API Key Authentication" (and Advanced Trade "Authentication"): a CDP key has a *name*
(``organizations/{org_id}/apiKeys/{key_id}``) and an EC P-256 private key (PEM). Each request carries
``Authorization: Bearer <JWT>``, a JWT signed with ES256 whose header has ``kid`` = the key name and a random
``nonce``, and whose claims are ``sub`` = the key name, ``iss`` (``cdp``; ccxt still sends the older
``coinbase-cloud``), ``nbf`` / ``exp`` (valid for at most two minutes) and ``uri`` = ``"<METHOD> <host><path>"``
without the query string. A token for another path, method or host, an expired one, or one not signed by the
key's private key is refused with ``401 Unauthorized``.

Over plain HTTP ccxt leaves the scheme in ``uri`` (``create_auth_token`` strips only ``https://``), so
``METHOD http://host/path`` is accepted too.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

ISSUERS = frozenset({"cdp", "coinbase-cloud"})
MAX_LIFETIME_S = 120
CLOCK_SKEW_S = 5


class AuthFailure(Exception):
    """Why a token was refused (kept for tests and debugging; the client only sees ``Unauthorized``)."""


def public_key_of(pem: str) -> ec.EllipticCurvePublicKey:
    """The public half of a CDP key's PEM private key; ValueError if it is not an EC P-256 key."""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError("a Coinbase CDP secret is an EC private key in PEM form") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("a Coinbase CDP key must be an EC P-256 (secp256r1) key")
    return key.public_key()


def _b64(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as exc:
        raise AuthFailure("token is not base64url") from exc


def _json(part: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64(part))
    except ValueError as exc:
        raise AuthFailure("token part is not JSON") from exc
    if not isinstance(value, dict):
        raise AuthFailure("token part is not an object")
    return value


def verify_jwt(authorization: str | None, keys: dict[str, ec.EllipticCurvePublicKey], method: str, host: str,
               path: str, now: float) -> str:
    """The key name a request's bearer token was made with; AuthFailure if Coinbase would refuse it."""
    if not authorization or not authorization.startswith("Bearer "):
        raise AuthFailure("no bearer token")
    parts = authorization.removeprefix("Bearer ").strip().split(".")
    if len(parts) != 3:
        raise AuthFailure("not a JWT")
    header, claims = _json(parts[0]), _json(parts[1])
    if header.get("alg") != "ES256":
        raise AuthFailure(f"alg {header.get('alg')!r} is not ES256")
    name = claims.get("sub")
    public = keys.get(name) if isinstance(name, str) else None
    if public is None or header.get("kid") != name:
        raise AuthFailure("unknown key")
    signature = _b64(parts[2])
    if len(signature) != 64:
        raise AuthFailure("an ES256 signature is r || s, 64 bytes")
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public.verify(der, f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise AuthFailure("bad signature") from exc
    if claims.get("iss") not in ISSUERS:
        raise AuthFailure(f"issuer {claims.get('iss')!r}")
    nbf, exp = claims.get("nbf"), claims.get("exp")
    if not isinstance(nbf, int) or not isinstance(exp, int):
        raise AuthFailure("nbf and exp must be unix seconds")
    if exp - nbf > MAX_LIFETIME_S or nbf > now + CLOCK_SKEW_S:
        raise AuthFailure("token not valid yet or valid for too long")
    if exp <= now:
        raise AuthFailure("token expired")
    uri = claims.get("uri")
    if uri not in (f"{method} {host}{path}", f"{method} http://{host}{path}"):
        raise AuthFailure(f"uri {uri!r} is not this request")
    return name


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Requests per second: Advanced Trade allows 30/s per key for private and 10/s per IP for public endpoints
    ("REST API Rate Limits"); the v2 Track APIs allow 10,000 per hour per key (about 2.8/s, modelled as a
    one-hour window)."""

    private_per_second: int = 30
    public_per_second: int = 10
    v2_per_hour: int = 10_000


class WindowLimiter:
    """Sliding-window request counter per bucket; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}

    def allow(self, bucket: str, limit: int, window_s: float) -> bool:
        now = self._clock()
        with self._lock:
            seen = self._seen.setdefault(bucket, deque())
            while seen and seen[0] <= now - window_s:
                seen.popleft()
            if len(seen) >= limit:
                return False
            seen.append(now)
            return True

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()
