"""What an API key may do, asked of the exchange where it can tell (reference/ccxt-notes.md §5).

``importer.key_facts`` asks each exchange's key endpoint; this module reduces the facts to ``KeyPermissions``.
A key that can withdraw (or move funds between accounts) is always refused; a key that can trade is refused
unless the user allowed it when adding the account.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ccxt

from importer.key_facts import KeyFacts, fetch_key_facts
from taxsync.errors import ConfigError


@dataclass(frozen=True, slots=True)
class KeyPermissions:
    can_read: bool | None
    can_trade: bool | None
    can_withdraw: bool | None
    details: dict[str, Any] = field(default_factory=dict)


def permissions_of(facts: KeyFacts) -> KeyPermissions:
    """The allow/refuse view of a key's facts: moving funds internally counts as withdrawing."""
    moving = None if facts.can_withdraw is None and facts.can_transfer is None else bool(
        facts.can_withdraw or facts.can_transfer)
    return KeyPermissions(facts.can_read, facts.can_trade, moving, facts.details)


READ_ONLY_HOWTO = (
    "create a new API key on the exchange with only the read (view) permission — no trading, no withdrawals, "
    "no transfers — ideally restricted to this machine's IP address, then add the account again with it"
)


def check_key(exchange_id: str, exchange: ccxt.Exchange) -> KeyPermissions | None:
    """What the key may do, or None when the exchange offers no way to tell."""
    facts = fetch_key_facts(exchange_id, exchange)
    return None if facts is None else permissions_of(facts)


def enforce(account: str, permissions: KeyPermissions | None, *, allow_trading: bool) -> str:
    """Refuse unsafe keys with a ConfigError; returns a one-line verdict for the user."""
    if permissions is None:
        return f"{account}: this exchange cannot tell what the key may do; make sure it is read-only"
    if permissions.can_withdraw:
        raise ConfigError(f"{account}: the API key can withdraw or transfer funds, so taxsync refuses it: "
                          f"{READ_ONLY_HOWTO}")
    if permissions.can_trade and not allow_trading:
        raise ConfigError(f"{account}: the API key can trade, so taxsync refuses it: {READ_ONLY_HOWTO} "
                          "(or add the account with --allow-trading-key to accept a trading key knowingly)")
    if permissions.can_read is False:
        raise ConfigError(f"{account}: the API key cannot read the account; enable its read permission")
    return f"{account}: key is read-only" if not permissions.can_trade else f"{account}: key can trade (allowed)"
