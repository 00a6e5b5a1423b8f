"""The audit's rules as a pure function: what is known about a key in, findings out (no exchange, no database).

Each row is one situation a reviewer would judge, with the verdict expected for one check.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from importer.key_facts import KeyFacts, reported_address
from taxsync.app.key_audit import KeyState, KeyVerdict, Policy, audit
from taxsync.app.workspace import init_workspace, open_workspace
from taxsync.errors import ConfigError
from taxsync.types import DAY_MS

NOW = 1_780_000_000_000
SAFE = KeyFacts("kraken", True, False, False, False, ip_restricted=True, allowed_ips=("192.0.2.10",),
                created_ms=NOW - 100 * DAY_MS, expires_ms=0, query_from_ms=0, query_to_ms=0)
STATE = KeyState("main", "kraken", SAFE, allow_trading=False, history_since_ms=NOW - 900 * DAY_MS,
                 key_since_ms=NOW - 100 * DAY_MS, added_ms=NOW - 100 * DAY_MS, last_success_ms=NOW - DAY_MS)


def findings(state: KeyState, policy: Policy = Policy()) -> dict[str, tuple[KeyVerdict, str, str, bool]]:
    return {f.check: (f.verdict, f.found, f.advice, f.exchange_can_tell) for f in audit([state], policy, NOW)}


def test_a_well_kept_key_is_ok_everywhere() -> None:
    result = findings(STATE)
    assert list(result) == ["read", "trade", "withdraw", "transfer", "ip", "age", "expiry", "query_window",
                            "last_sync"]
    assert {v for v, _, _, _ in result.values()} == {KeyVerdict.OK}
    assert all(advice == "" for _, _, advice, _ in result.values())


@pytest.mark.parametrize(("facts", "state", "check", "verdict", "words"), [
    ({"can_read": None}, {}, "read", KeyVerdict.WARNING, "does not report whether the key may read"),
    ({"can_trade": True}, {}, "trade", KeyVerdict.REFUSE, "the key may trade"),
    ({"can_trade": True}, {"allow_trading": True}, "trade", KeyVerdict.WARNING, "accepted with --allow-trading-key"),
    ({"can_trade": None}, {}, "trade", KeyVerdict.WARNING, "does not report whether the key may trade"),
    ({"can_withdraw": True}, {}, "withdraw", KeyVerdict.REFUSE, "the key may withdraw funds"),
    ({"can_transfer": True}, {}, "transfer", KeyVerdict.REFUSE, "may transfer funds between accounts"),
    ({"ip_restricted": False, "allowed_ips": ()}, {}, "ip", KeyVerdict.WARNING, "from any IP address"),
    ({"ip_restricted": None, "allowed_ips": None}, {}, "ip", KeyVerdict.WARNING, "does not report whether"),
    ({"created_ms": NOW - 366 * DAY_MS}, {}, "age", KeyVerdict.WARNING, "(366 days ago), more than 365 days"),
    ({"created_ms": NOW - 365 * DAY_MS}, {}, "age", KeyVerdict.OK, "(365 days ago)"),
    ({"created_ms": None}, {"key_since_ms": NOW - 400 * DAY_MS}, "age", KeyVerdict.WARNING, "taxsync has used it"),
    ({"expires_ms": NOW - DAY_MS}, {}, "expiry", KeyVerdict.REFUSE, "the key expired on"),
    ({"expires_ms": NOW + 29 * DAY_MS}, {}, "expiry", KeyVerdict.WARNING, "(in 29 days)"),
    ({"expires_ms": NOW + 30 * DAY_MS}, {}, "expiry", KeyVerdict.OK, "(in 30 days)"),
    ({"expires_ms": None}, {}, "expiry", KeyVerdict.OK, "does not report an expiry date"),
    ({"query_from_ms": NOW - 10 * DAY_MS}, {}, "query_window", KeyVerdict.WARNING, "may not query history before"),
    ({"query_from_ms": NOW - 950 * DAY_MS}, {}, "query_window", KeyVerdict.OK, "the whole history"),
    ({"query_to_ms": NOW + DAY_MS}, {}, "query_window", KeyVerdict.WARNING, "may not query history after"),
    ({}, {"last_success_ms": NOW - 31 * DAY_MS}, "last_sync", KeyVerdict.WARNING, "(31 days ago)"),
    ({}, {"last_success_ms": None, "added_ms": NOW - 40 * DAY_MS}, "last_sync", KeyVerdict.WARNING, "never synced"),
    ({}, {"last_success_ms": None, "added_ms": NOW - 2 * DAY_MS}, "last_sync", KeyVerdict.OK, "never synced"),
])
def test_each_rule(facts: dict[str, object], state: dict[str, object], check: str, verdict: KeyVerdict,
                   words: str) -> None:
    situation = replace(STATE, facts=replace(SAFE, **facts), **state)  # type: ignore[arg-type]
    got, found, advice, _ = findings(situation)[check]
    assert (got, words in found) == (verdict, True), found
    assert (advice == "") == (verdict is KeyVerdict.OK), advice  # anything not ok says what to change


def test_max_age_is_a_policy() -> None:
    old = replace(STATE, facts=replace(SAFE, created_ms=NOW - 200 * DAY_MS))
    assert findings(old)["age"][0] is KeyVerdict.OK
    assert findings(old, Policy(max_age_days=180))["age"][0] is KeyVerdict.WARNING


def test_exchanges_without_a_query_window_have_no_such_check() -> None:
    binance = replace(STATE, exchange="binance", facts=replace(SAFE, query_from_ms=None, query_to_ms=None))
    assert "query_window" not in findings(binance)


def test_unanswered_keys() -> None:
    refused = replace(STATE, facts=None, error="PermissionDenied: ip", refused=True, request_address="198.51.100.7")
    verdict, found, advice, _ = findings(refused)["key"]
    assert "refused the key: PermissionDenied: ip" in found
    assert verdict is KeyVerdict.REFUSE and "add 198.51.100.7 to the key's IP allowlist on kraken" in advice
    down = findings(replace(STATE, facts=None, error="NetworkError: timed out"))
    assert down["key"][0] is KeyVerdict.WARNING and not down["key"][3] and "could not be asked" in down["key"][1]
    assert list(down) == ["key", "last_sync"]


def test_addresses_are_read_only_from_the_exchanges_own_refusals() -> None:
    assert reported_address('binance {"code":-2015,"msg":"Invalid API-key, IP, or permissions for action, '
                            'request ip: 203.0.113.5"}') == "203.0.113.5"
    okx = "okx 50110 Your IP 2001:db8::1 is not included in your API key's IP whitelist."
    assert reported_address(okx) == "2001:db8::1"
    assert reported_address("bybit 10010 Unmatched IP, please check your API key's bound IP addresses.") is None


def test_max_age_comes_from_the_workspace_settings(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws")
    assert ws.settings.key_max_age_days == 365 and "[keys]\nmax_age_days = 365" in (
        ws.home / "taxsync.toml").read_text()
    config = ws.home / "taxsync.toml"
    config.write_text(config.read_text().replace("max_age_days = 365", "max_age_days = 90"))
    assert open_workspace(ws.home).settings.key_max_age_days == 90
    config.write_text(config.read_text().replace("max_age_days = 90", 'max_age_days = "a year"'))
    with pytest.raises(ConfigError, match=r"keys\.max_age_days must be a whole number of days"):
        open_workspace(ws.home)
    config.write_text(config.read_text().replace('max_age_days = "a year"', "max_age_days = 0"))
    with pytest.raises(ConfigError, match="from 1 to 36500"):
        open_workspace(ws.home)
