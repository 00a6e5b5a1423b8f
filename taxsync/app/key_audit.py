"""Key hygiene: review every account's API key the way a careful security reviewer would.

The practices exchanges and security guides repeat: a key should only read (no trading, no withdrawals, no
transfers), be restricted to known IP addresses, be replaced regularly, not run into its expiry unnoticed, and
be revoked when it is no longer used. ``audit`` is a pure function from what is known about each account's key
(``KeyState``: the exchange's ``KeyFacts`` plus taxsync's own records) to findings; ``gather`` asks the
exchanges; ``audit_accounts`` does both (the entry point for ``taxsync account audit`` and for a doctor check).

Each ``Finding`` has a verdict (ok / warning / refuse), what was found, and one sentence on what to change on
the exchange. Where the exchange does not report something, the finding says so (``exchange_can_tell`` false)
instead of guessing. The address taxsync's requests come from is shown only when the exchange itself reported
it (in a refusal); no other service is asked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import ccxt
from sqlalchemy.orm import Session

from importer.key_facts import KeyFacts, fetch_key_facts, reported_address
from taxsync.app import accounts
from taxsync.app.workspace import Workspace
from taxsync.errors import TaxsyncError, UsageError
from taxsync.types import DAY_MS, now_ms


class KeyVerdict(StrEnum):
    OK = "ok"
    WARNING = "warning"
    REFUSE = "refuse"


@dataclass(frozen=True, slots=True)
class Policy:
    max_age_days: int = 365
    expiry_warning_days: int = 30
    unused_days: int = 30


@dataclass(frozen=True, slots=True)
class KeyState:
    """Everything the audit of one account looks at. ``facts`` is None when the exchange has no way to describe
    a key or could not be asked (then ``error`` says why; ``refused`` if it rejected the key itself)."""

    account: str
    exchange: str
    facts: KeyFacts | None
    allow_trading: bool
    history_since_ms: int  # the start of the account's history (its --since)
    key_since_ms: int  # when taxsync was given this key (account added or key rotated)
    added_ms: int
    last_success_ms: int | None  # the last import that finished without error
    error: str | None = None
    refused: bool = False
    request_address: str | None = None  # as the exchange reported it in a refusal, else None


@dataclass(frozen=True, slots=True)
class Finding:
    account: str
    check: str
    verdict: KeyVerdict
    found: str  # what the exchange (or taxsync's own record) says
    advice: str  # one sentence on what to change on the exchange; empty when nothing needs changing
    exchange_can_tell: bool = True


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).date().isoformat()


def _rotate(state: KeyState) -> str:
    return (f"create a new read-only key on {state.exchange}, run `taxsync account rotate {state.account}`, "
            "then delete the old key on the exchange")


def _flag(state: KeyState, check: str, value: bool | None, *, what: str, bad: KeyVerdict, advice: str) -> Finding:
    if value is None:
        return Finding(state.account, check, KeyVerdict.WARNING, f"{state.exchange} does not report whether the key "
                       f"may {what}", f"check on {state.exchange}'s API key page that the key may not {what}",
                       exchange_can_tell=False)
    if value:
        return Finding(state.account, check, bad, f"the key may {what}", advice)
    return Finding(state.account, check, KeyVerdict.OK, f"the key may not {what}", "")


def check_read(state: KeyState, facts: KeyFacts, policy: Policy, now: int) -> Finding:
    if facts.can_read is False:
        return Finding(state.account, "read", KeyVerdict.REFUSE, "the key may not read the account",
                       f"enable the read (view / query) permission of the key on {state.exchange}")
    if facts.can_read is None:
        return Finding(state.account, "read", KeyVerdict.WARNING, f"{state.exchange} does not report whether the key "
                       "may read", f"check on {state.exchange} that the key has the read permission",
                       exchange_can_tell=False)
    return Finding(state.account, "read", KeyVerdict.OK, "the key may read the account", "")


def check_trade(state: KeyState, facts: KeyFacts, policy: Policy, now: int) -> Finding:
    if facts.can_trade and state.allow_trading:
        return Finding(state.account, "trade", KeyVerdict.WARNING, "the key may trade (accepted with "
                       "--allow-trading-key)", f"taxsync never trades: {_rotate(state)} without trading rights")
    return _flag(state, "trade", facts.can_trade, what="trade", bad=KeyVerdict.REFUSE,
                 advice=f"remove the trading permission of the key on {state.exchange} (or {_rotate(state)})")


def check_withdraw(state: KeyState, facts: KeyFacts, policy: Policy, now: int) -> Finding:
    return _flag(state, "withdraw", facts.can_withdraw, what="withdraw funds", bad=KeyVerdict.REFUSE,
                 advice=f"remove the withdrawal permission of the key on {state.exchange} (or {_rotate(state)})")


def check_transfer(state: KeyState, facts: KeyFacts, policy: Policy, now: int) -> Finding:
    if facts.can_transfer is None and facts.can_trade is False and facts.can_withdraw is False:
        return Finding(state.account, "transfer", KeyVerdict.OK, f"{state.exchange} reports no transfer permission "
                       "of its own; without trade or withdraw rights the key cannot move funds", "",
                       exchange_can_tell=False)
    return _flag(state, "transfer", facts.can_transfer, what="transfer funds between accounts", bad=KeyVerdict.REFUSE,
                 advice=f"remove the internal / universal transfer permission of the key on {state.exchange}")


def check_ip(state: KeyState, facts: KeyFacts, policy: Policy, now: int) -> Finding:
    seen = (f" ({state.exchange} reports that taxsync's requests come from {state.request_address})"
            if state.request_address else "")
    if facts.ip_restricted is None:
        return Finding(state.account, "ip", KeyVerdict.WARNING, f"{state.exchange} does not report whether the key is "
                       "restricted to IP addresses", f"check on {state.exchange}'s API key page that the key only "
                       f"accepts the address taxsync runs from{seen}", exchange_can_tell=False)
    if not facts.ip_restricted:
        return Finding(state.account, "ip", KeyVerdict.WARNING, "the key accepts requests from any IP address",
                       f"restrict the key on {state.exchange} to the address taxsync runs from{seen}")
    if not facts.allowed_ips:
        return Finding(state.account, "ip", KeyVerdict.OK, f"the key is restricted to IP addresses ({state.exchange} "
                       "does not list them)", "")
    return Finding(state.account, "ip", KeyVerdict.OK, f"the key only accepts requests from "
                   f"{', '.join(facts.allowed_ips)}", "")


def check_age(state: KeyState, facts: KeyFacts, policy: Policy, now: int) -> Finding:
    limit = policy.max_age_days
    if facts.created_ms:
        days = (now - facts.created_ms) // DAY_MS
        found = f"the key was created on {_day(facts.created_ms)} ({days} days ago)"
        if days > limit:
            return Finding(state.account, "age", KeyVerdict.WARNING, f"{found}, more than {limit} days",
                           _rotate(state))
        return Finding(state.account, "age", KeyVerdict.OK, found, "")
    days = (now - state.key_since_ms) // DAY_MS
    found = (f"{state.exchange} does not report when the key was created; taxsync has used it since "
             f"{_day(state.key_since_ms)} ({days} days)")
    if days > limit:
        return Finding(state.account, "age", KeyVerdict.WARNING, f"{found}, more than {limit} days", _rotate(state),
                       exchange_can_tell=False)
    return Finding(state.account, "age", KeyVerdict.OK, found, "", exchange_can_tell=False)


def check_expiry(state: KeyState, facts: KeyFacts, policy: Policy, now: int) -> Finding:
    if facts.expires_ms is None:
        return Finding(state.account, "expiry", KeyVerdict.OK, f"{state.exchange} does not report an expiry date for "
                       "the key", "", exchange_can_tell=False)
    if facts.expires_ms == 0:
        return Finding(state.account, "expiry", KeyVerdict.OK, "the key does not expire", "")
    when = _day(facts.expires_ms)
    if facts.expires_ms <= now:
        return Finding(state.account, "expiry", KeyVerdict.REFUSE, f"the key expired on {when}", _rotate(state))
    days = (facts.expires_ms - now) // DAY_MS
    if days < policy.expiry_warning_days:
        return Finding(state.account, "expiry", KeyVerdict.WARNING, f"the key expires on {when} (in {days} days)",
                       f"before then, {_rotate(state)}")
    return Finding(state.account, "expiry", KeyVerdict.OK, f"the key expires on {when} (in {days} days)", "")


def check_query_window(state: KeyState, facts: KeyFacts, policy: Policy, now: int) -> Finding | None:
    """Kraken keys can be limited to a date range; history outside it is silently missing from every answer."""
    if facts.query_from_ms is None and facts.query_to_ms is None:
        return None  # the exchange has no such limit
    start, end = facts.query_from_ms or 0, facts.query_to_ms or 0
    hidden = []
    if start > state.history_since_ms:
        hidden.append(f"history before {_day(start)} (the account's history starts {_day(state.history_since_ms)})")
    if end:
        hidden.append(f"history after {_day(end)}")
    if not hidden:
        return Finding(state.account, "query_window", KeyVerdict.OK, "the key may query the whole history", "")
    return Finding(state.account, "query_window", KeyVerdict.WARNING, "the key may not query "
                   f"{' nor '.join(hidden)}, so taxsync silently misses it",
                   f"on {state.exchange}, clear the key's query start and end dates (or create a new key without "
                   f"them and run `taxsync account rotate {state.account}`), then run `taxsync import --full`")


KeyCheck = Callable[[KeyState, KeyFacts, Policy, int], Finding | None]
KEY_CHECKS: dict[str, KeyCheck] = {
    "read": check_read, "trade": check_trade, "withdraw": check_withdraw, "transfer": check_transfer,
    "ip": check_ip, "age": check_age, "expiry": check_expiry, "query_window": check_query_window,
}


def check_unused(state: KeyState, policy: Policy, now: int) -> Finding:
    """An account that has not synced for a while holds a key nobody watches (taxsync's own record)."""
    advice = (f"if the account is no longer used, delete the key on {state.exchange} and run "
              f"`taxsync account remove {state.account}`; otherwise run `taxsync import {state.account}`")
    if state.last_success_ms is None:
        days = (now - state.added_ms) // DAY_MS
        found = f"the account has never synced successfully (added on {_day(state.added_ms)})"
        return Finding(state.account, "last_sync", KeyVerdict.WARNING if days > policy.unused_days else KeyVerdict.OK,
                       found, advice if days > policy.unused_days else "")
    days = (now - state.last_success_ms) // DAY_MS
    found = f"the last successful sync was on {_day(state.last_success_ms)} ({days} days ago)"
    if days > policy.unused_days:
        return Finding(state.account, "last_sync", KeyVerdict.WARNING, found, advice)
    return Finding(state.account, "last_sync", KeyVerdict.OK, found, "")


def _unanswered(state: KeyState) -> Finding:
    if state.refused:
        found = f"{state.exchange} refused the key: {state.error}"
        advice = (f"add {state.request_address} to the key's IP allowlist on {state.exchange}, or run taxsync from "
                  "an address on it" if state.request_address else
                  f"check on {state.exchange} that the key exists and is enabled, or {_rotate(state)}")
        return Finding(state.account, "key", KeyVerdict.REFUSE, found, advice)
    if state.error:
        return Finding(state.account, "key", KeyVerdict.WARNING, f"{state.exchange} could not be asked about the key: "
                       f"{state.error}", "run the audit again when the exchange answers", exchange_can_tell=False)
    return Finding(state.account, "key", KeyVerdict.WARNING, f"{state.exchange} has no way to tell what a key may "
                   "do, where from, or since when",
                   f"check on {state.exchange}'s API key page that the key may only read, is restricted to the "
                   "address taxsync runs from, and is less than a year old", exchange_can_tell=False)


def audit(states: Sequence[KeyState], policy: Policy, now: int) -> list[Finding]:
    """The findings for each account's key, in account order then check order; pure."""
    findings: list[Finding] = []
    for state in states:
        if state.facts is None:
            findings.append(_unanswered(state))
        else:
            findings += [f for check in KEY_CHECKS.values() if (f := check(state, state.facts, policy, now))]
        findings.append(check_unused(state, policy, now))
    return findings


def _ms(day: str | None, fallback: int) -> int:
    if not day:
        return fallback
    start = date.fromisoformat(day)
    return int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp() * 1000)


def gather(ws: Workspace, names: Sequence[str] = ()) -> list[KeyState]:
    """Ask each exchange account's exchange about its key (one request each); failures become states too."""
    found = accounts.exchange_accounts(ws, names)
    if files := [a.name for a in found if a.kind != "exchange"]:
        raise UsageError(f"{', '.join(files)}: file accounts have no API key to audit")
    with Session(ws.engine) as session:
        synced = accounts.last_synced(session)  # a ledger rebuild uses no key
    states = []
    for account in found:
        options = json.loads(account.options)
        facts, error, refused, address = None, None, False, None
        secrets: tuple[str, ...] = ()
        try:
            exchange, creds = accounts.connect(ws, account)
            secrets = creds.values()
            facts = fetch_key_facts(account.exchange or "", exchange)
        except (TaxsyncError, ccxt.BaseError) as failure:
            error = accounts.error_message(failure, secrets)
            refused = isinstance(failure, ccxt.AuthenticationError | ccxt.PermissionDenied)
            address = reported_address(str(failure))
        states.append(KeyState(
            account.name, account.exchange or "", facts, bool(options.get("allow_trading_key")),
            _ms(options.get("since"), accounts.DEFAULT_SINCE_MS), int(options.get("key_since") or account.created_at),
            account.created_at, options.get("last_synced_at") or synced.get(account.id), error, refused, address))
    return states


def as_json(states: Sequence[KeyState], findings: Sequence[Finding], policy: Policy, now: int) -> dict[str, Any]:
    """The documented JSON shape of an audit (README, "Key hygiene"); never holds a key or a secret."""
    by_account: dict[str, list[Finding]] = {}
    for finding in findings:
        by_account.setdefault(finding.account, []).append(finding)
    counts = {v.value: sum(f.verdict == v for f in findings) for v in KeyVerdict}
    return {
        "generated_at": datetime.fromtimestamp(now / 1000, UTC).isoformat().replace("+00:00", "Z"),
        "max_age_days": policy.max_age_days, "expiry_warning_days": policy.expiry_warning_days,
        "unused_days": policy.unused_days, "summary": counts,
        "accounts": [{
            "account": s.account, "exchange": s.exchange, "key": _facts_json(s.facts), "error": s.error,
            "request_address": s.request_address, "last_success_ms": s.last_success_ms,
            "findings": [{"check": f.check, "verdict": f.verdict.value, "found": f.found, "advice": f.advice,
                          "exchange_can_tell": f.exchange_can_tell} for f in by_account.get(s.account, [])],
        } for s in states],
    }


def _facts_json(facts: KeyFacts | None) -> dict[str, Any] | None:
    if facts is None:
        return None
    return {"can_read": facts.can_read, "can_trade": facts.can_trade, "can_withdraw": facts.can_withdraw,
            "can_transfer": facts.can_transfer, "ip_restricted": facts.ip_restricted,
            "allowed_ips": None if facts.allowed_ips is None else list(facts.allowed_ips),
            "created_ms": facts.created_ms, "expires_ms": facts.expires_ms, "query_from_ms": facts.query_from_ms,
            "query_to_ms": facts.query_to_ms, "label": facts.label}


def policy_for(ws: Workspace, max_age_days: int | None = None) -> Policy:
    return Policy(max_age_days=max_age_days or ws.settings.key_max_age_days)


def audit_accounts(ws: Workspace, names: Sequence[str] = (), *, max_age_days: int | None = None,
                   now: int | None = None) -> list[Finding]:
    """Findings for the named exchange accounts' keys (all by default): the entry point for other checks."""
    return audit(gather(ws, names), policy_for(ws, max_age_days), now if now is not None else now_ms())
