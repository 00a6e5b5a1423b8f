"""An unmodified ccxt.coinbase reads the simulated Coinbase history exactly; auth, paging, limits and faults behave
like Coinbase.

ccxt 4.5.90 maps the simulator's answers as follows: v3 ``401 Unauthorized`` (plain text) and v2 ``401
authentication_error`` -> AuthenticationError; v3 ``403 PERMISSION_DENIED`` -> PermissionDenied; v2 ``403
invalid_scope`` -> AuthenticationError; ``429 rate_limit_exceeded`` -> RateLimitExceeded; Cloudflare 5xx pages ->
ExchangeNotAvailable; v2 ``400 invalid_request`` / ``404 not_found`` -> ExchangeError; a truncated body ->
BadResponse with ``reject_non_json``.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ccxt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from importer.ccxt_url import point_ccxt_at, reject_non_json
from importer.simulator.coinbase_generator import generate_coinbase_activity, generate_coinbase_history
from importer.simulator.coinbase_history import CURRENCIES, CoinbaseHistory, iso_us
from importer.simulator.coinbase_server import CoinbaseSimulator, RateLimits
from importer.simulator.server import Faults, SimKey


def pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


READ = SimKey("organizations/org-1/apiKeys/read-1", pem())
TRADE = SimKey("organizations/org-1/apiKeys/trade-1", pem(), can_trade=True)
MOVE = SimKey("organizations/org-1/apiKeys/move-1", pem(), can_withdraw=True)
BLIND = SimKey("organizations/org-1/apiKeys/blind-1", pem(), can_read=False)
CAPS = {"v3_accounts": 2, "fills": 40, "v2": 30}


@pytest.fixture(scope="module")
def history() -> CoinbaseHistory:
    return generate_coinbase_history(seed=5, fills=120, years=1, staking_rewards=20, interest=6)


@pytest.fixture(scope="module")
def sim(history: CoinbaseHistory) -> Iterator[CoinbaseSimulator]:
    with CoinbaseSimulator(history, [READ, TRADE, MOVE, BLIND], rate_limits=None, page_caps=CAPS) as running:
        yield running


def make(url: str, key: SimKey = READ, secret: str | None = None) -> Any:
    """An unmodified ``ccxt.coinbase`` aimed at ``url``: exact decimal strings, a 1 ms rateLimit."""
    ex = ccxt.coinbase({"apiKey": key.api_key, "secret": secret or key.secret, "rateLimit": 1})
    point_ccxt_at(ex, url)
    ex.number = str
    return ex


@pytest.fixture
def ex(sim: CoinbaseSimulator) -> Any:
    exchange = make(sim.url)
    exchange.load_markets()
    return exchange


def all_fills(ex: Any, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    trades, cursor = [], None
    while True:
        page = ex.fetch_my_trades(None, None, 250, {**(params or {}), **({"cursor": cursor} if cursor else {})})
        trades += page
        cursor = next((t["info"]["cursor"] for t in page if t["info"].get("cursor")), None)
        if not cursor:
            return trades


def all_ledger(ex: Any, account: str, order: str = "asc") -> list[dict[str, Any]]:
    entries, after = [], None
    while True:
        page = ex.fetch_ledger(None, None, 100, {"account_id": account, "order": order,
                                                 **({"starting_after": after} if after else {})})
        entries += page if order == "asc" else page[::-1]
        after = next((e["info"]["next_starting_after"] for e in page if e["info"].get("next_starting_after")), None)
        if not after:
            return entries


# -- the history ------------------------------------------------------------------------------------------------
def test_history_is_deterministic_exact_and_never_negative(history: CoinbaseHistory) -> None:
    assert generate_coinbase_history(seed=5, fills=120, years=1, staking_rewards=20, interest=6) == history
    assert generate_coinbase_history(seed=6, fills=120, years=1).fills != history.fills
    running = dict.fromkeys(CURRENCIES, Decimal(0))
    for tx in sorted(history.transactions, key=lambda t: (t.created_s, t.seq)):
        assert "E" not in tx.amount and "E" not in tx.network_amount
        running[tx.currency] += tx.change
        assert running[tx.currency] >= 0, tx
    assert {c: v for c, v in running.items() if v} == history.expected_totals()
    fill_changes: dict[str, Decimal] = {}
    for fill in history.fills:
        for asset, change in fill.changes.items():
            fill_changes[asset] = fill_changes.get(asset, Decimal(0)) + change
    rows = [t for t in history.transactions if t.type == "advanced_trade_fill"]
    assert len(rows) == 2 * len(history.fills)
    assert {c: sum((t.change for t in rows if t.currency == c), Decimal(0)) for c in fill_changes} == fill_changes
    for send in (t for t in history.transactions if t.type == "send"):
        assert -send.change == Decimal(send.network_amount) + Decimal(send.network_fee)
    assert any(f.size_in_quote for f in history.fills) and history.counts()["staking_reward"] > 0


# -- public data and accounts -----------------------------------------------------------------------------------
def test_load_markets_asks_what_ccxt_asks(sim: CoinbaseSimulator) -> None:
    sim.reset_counts()
    exchange = make(sim.url)
    exchange.load_markets()
    assert dict(sim.requests) == {"/v2/currencies": 1, "/v2/currencies/crypto": 1, "/v2/exchange-rates": 1,
                                  "/api/v3/brokerage/market/products": 2,  # spot, then product_type=FUTURE
                                  "/api/v3/brokerage/transaction_summary": 1}
    market = exchange.market("SOL/USDC")
    assert market["id"] == "SOL-USDC" and market["spot"] and exchange.currencies["USDC"]["type"] == "crypto"


def test_accounts_page_by_cursor_and_carry_balances(ex: Any, history: CoinbaseHistory) -> None:
    wallets, cursor, pages = [], None, 0
    while True:
        page = ex.fetch_accounts({"cursor": cursor} if cursor else {})
        wallets, pages = wallets + page, pages + 1
        cursor = next((w["info"]["cursor"] for w in page if w["info"].get("cursor")), None)
        if not cursor:
            break
    assert pages == 3 and [w["id"] for w in wallets] == [a.uuid for a in history.accounts]
    assert {w["code"]: Decimal(w["info"]["available_balance"]["value"]) for w in wallets} == {
        c: history.balance(c) for c in CURRENCIES}
    total = ex.fetch_balance()["total"]  # ccxt's default: GET /v2/accounts
    assert {c: Decimal(v) for c, v in total.items() if Decimal(v)} == history.expected_totals()


# -- fills ------------------------------------------------------------------------------------------------------
def test_fills_are_served_exactly_newest_first_by_cursor(ex: Any, history: CoinbaseHistory,
                                                         sim: CoinbaseSimulator) -> None:
    sim.reset_counts()
    trades = all_fills(ex)
    assert sim.requests["/api/v3/brokerage/orders/historical/fills"] == 3  # 120 fills, 40 a page
    by_entry = {t["info"]["entry_id"]: t for t in trades}
    assert len(by_entry) == len(history.fills)
    for fill in history.fills:
        trade = by_entry[fill.entry_id]
        assert trade["symbol"] == fill.product_id.replace("-", "/") and trade["side"] == fill.side.lower()
        assert Decimal(trade["amount"]) == fill.base_amount and Decimal(trade["cost"]) == fill.cost
        assert Decimal(trade["fee"]["cost"]) == Decimal(fill.commission) and trade["fee"]["currency"] == fill.quote
        assert trade["timestamp"] == fill.timestamp_ms
    newest = history.fills[-1]
    again = ex.fetch_my_trades(None, None, 250, {"start_sequence_timestamp": iso_us(newest.sequence_us)})
    assert [t["info"]["entry_id"] for t in again] == [newest.entry_id]  # the start is inclusive
    older = ex.fetch_my_trades(None, None, 250, {"end_sequence_timestamp": iso_us(history.fills[1].sequence_us)})
    assert [t["info"]["entry_id"] for t in older] == [history.fills[0].entry_id]  # the end is exclusive


# -- v2 transactions --------------------------------------------------------------------------------------------
def test_ledgers_page_both_ways_and_add_up(ex: Any, history: CoinbaseHistory) -> None:
    for account in history.accounts:
        expected = [t.id for t in history.transactions_of(account.uuid)]
        ascending = all_ledger(ex, account.uuid)
        assert [e["id"] for e in ascending] == expected
        newest_first = all_ledger(ex, account.uuid, "desc")  # ccxt re-sorts each page by time: compare as sets
        assert sorted(e["id"] for e in newest_first) == sorted(expected)
        assert [e["timestamp"] for e in newest_first] == sorted((e["timestamp"] for e in newest_first), reverse=True)
        total = sum((Decimal(e["amount"]) * (1 if e["direction"] == "in" else -1) for e in ascending), Decimal(0))
        assert total == history.expected_totals().get(account.currency, Decimal(0))
    send = next(t for t in history.transactions if t.type == "send")
    entry = next(e for e in all_ledger(ex, send.account) if e["id"] == send.id)
    assert entry["type"] == "transaction" and entry["direction"] == "out" and entry["status"] == "ok"
    assert Decimal(entry["amount"]) == Decimal(send.network_amount) + Decimal(entry["fee"]["cost"])


def test_v2_pagination_follows_the_pagination_page(ex: Any, history: CoinbaseHistory) -> None:
    usd = next(a for a in history.accounts if a.currency == "USD").uuid
    rows = [t.id for t in history.transactions_of(usd)]
    first = ex.v2PrivateGetAccountsAccountIdTransactions({"account_id": usd, "limit": 500})
    assert [d["id"] for d in first["data"]] == rows[::-1][:30]  # newest first, capped
    pagination = first["pagination"]
    assert pagination["next_starting_after"] == rows[::-1][29] and pagination["order"] == "desc"
    assert pagination["next_uri"].startswith(f"/v2/accounts/{usd}/transactions?") and "starting_after=" in (
        pagination["next_uri"])
    before = ex.v2PrivateGetAccountsAccountIdTransactions({"account_id": usd, "order": "asc", "limit": 3,
                                                          "ending_before": rows[5]})
    assert [d["id"] for d in before["data"]] == rows[2:5]
    with pytest.raises(ccxt.ExchangeError, match="invalid_request"):
        ex.fetch_ledger(None, None, 10, {"account_id": usd, "starting_after": "no-such-id"})
    with pytest.raises(ccxt.ExchangeError, match="not_found"):
        ex.fetch_ledger(None, None, 10, {"account_id": "no-such-account"})


def test_new_activity_and_a_pending_send_completing(history: CoinbaseHistory) -> None:
    activity = generate_coinbase_activity(history, 1, fills=3, pending_sends=1)
    pending = next(t for t in activity.transactions if t.status == "pending")
    with CoinbaseSimulator(history, [READ], rate_limits=None) as sim:
        sim.add_activity(activity)
        ex = make(sim.url)
        assert len(all_fills(ex)) == len(history.fills) + 3
        entry = next(e for e in all_ledger(ex, pending.account) if e["id"] == pending.id)
        assert entry["status"] == "pending"
        assert sim.history.balance(pending.currency) == history.balance(pending.currency) + sum(
            (t.change for t in activity.transactions if t.currency == pending.currency), Decimal(0))
        sim.set_status(pending.id, "completed")
        assert next(e for e in all_ledger(ex, pending.account) if e["id"] == pending.id)["status"] == "ok"


# -- keys and authentication ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("key", "flags"), [(READ, (True, False, False)), (TRADE, (True, True, False)),
                                            (MOVE, (True, False, True)), (BLIND, (False, False, False))])
def test_key_permissions(sim: CoinbaseSimulator, key: SimKey, flags: tuple[bool, bool, bool]) -> None:
    answer = make(sim.url, key).v3_private_get_brokerage_key_permissions()
    assert (answer["can_view"], answer["can_trade"], answer["can_transfer"]) == flags
    assert answer["portfolio_type"] == "DEFAULT"


def test_a_key_without_view_permission_reads_nothing(sim: CoinbaseSimulator) -> None:
    blind = make(sim.url, BLIND)
    with pytest.raises(ccxt.PermissionDenied):  # load_markets already asks the private transaction_summary
        blind.fetch_my_trades()
    with pytest.raises(ccxt.AuthenticationError, match="invalid_scope"):
        blind.v2PrivateGetAccountsAccountIdTransactions({"account_id": sim.history.accounts[0].uuid})


def test_tokens_are_verified_like_coinbase(sim: CoinbaseSimulator) -> None:
    forged = make(sim.url, READ, secret=pem())  # the right key name, another private key
    with pytest.raises(ccxt.AuthenticationError):
        forged.v3_private_get_brokerage_key_permissions()
    assert sim.auth_failures[-1] == "bad signature"
    stranger = make(sim.url, SimKey("organizations/org-1/apiKeys/unknown", pem()))
    with pytest.raises(ccxt.AuthenticationError, match="authentication_error"):  # v2 error body
        stranger.v2PrivateGetAccountsAccountIdTransactions({"account_id": sim.history.accounts[0].uuid})
    assert sim.auth_failures[-1] == "unknown key"
    ex = make(sim.url)
    token = ex.create_auth_token(ex.seconds(), "GET", sim.url + "/api/v3/brokerage/accounts")
    for path, header in (("/api/v3/brokerage/key_permissions", f"Bearer {token}"),  # signed for another path
                         ("/api/v3/brokerage/accounts", None)):
        request = urllib.request.Request(sim.url + path, headers={"Authorization": header} if header else {})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 401 and refused.value.read() == b"Unauthorized\n"
    assert sim.auth_failures[-2].startswith("uri ") and sim.auth_failures[-1] == "no bearer token"


def test_an_expired_token_is_refused(history: CoinbaseHistory) -> None:
    with CoinbaseSimulator(history, [READ], rate_limits=None, clock=lambda: time.time() + 600) as late:
        with pytest.raises(ccxt.AuthenticationError):
            make(late.url).v3_private_get_brokerage_key_permissions()
        assert late.auth_failures == ["token expired"]


# -- limits and faults ------------------------------------------------------------------------------------------
def test_rate_limits_answer_429(history: CoinbaseHistory) -> None:
    with CoinbaseSimulator(history, [READ], rate_limits=RateLimits(private_per_second=3, public_per_second=2)) as sim:
        ex = make(sim.url)
        with pytest.raises(ccxt.RateLimitExceeded):
            for _ in range(4):
                ex.fetch_accounts()
        sim.reset_rate_limits()
        with pytest.raises(ccxt.RateLimitExceeded):
            for _ in range(3):
                ex.v3PublicGetBrokerageMarketProducts()


@pytest.mark.parametrize(("faults", "error"), [
    (Faults(rate_5xx=1.0, fail_paths=("fills",)), ccxt.ExchangeNotAvailable),
    (Faults(rate_429=1.0, fail_paths=("fills",)), ccxt.RateLimitExceeded),
    (Faults(rate_truncated=1.0, fail_paths=("fills",)), ccxt.BadResponse),
])
def test_faults_map_to_retryable_ccxt_errors(ex: Any, sim: CoinbaseSimulator, faults: Faults,
                                             error: type[Exception]) -> None:
    reject_non_json(ex)
    sim.set_faults(faults)
    try:
        with pytest.raises(error):
            ex.fetch_my_trades()
        ex.fetch_accounts()  # other paths are untouched
    finally:
        sim.set_faults(None)
    assert not sim.errors
