"""``taxsync account audit`` through the real path: taxsync -> ccxt -> HTTP on 127.0.0.1 -> each exchange's simulator.

Every verdict is produced by a simulated key that the exchange describes the way the real one does: each
permission set, IP allowlists (kept, missing, and one the request's address is not on), key age, expiry and the
Kraken query window. Where an exchange does not report something, the finding says so.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from typer.testing import CliRunner

from importer.simulator.bybit_history import generate_bybit_history
from importer.simulator.bybit_server import BybitSimulator
from importer.simulator.coinbase_generator import generate_coinbase_history
from importer.simulator.coinbase_server import CoinbaseSimulator
from importer.simulator.history import generate_history
from importer.simulator.kraken_history import generate_kraken_history
from importer.simulator.kraken_server import KrakenSimulator
from importer.simulator.kucoin_history import generate_kucoin_history
from importer.simulator.kucoin_server import KucoinSimulator
from importer.simulator.okx_history import generate_okx_history
from importer.simulator.okx_server import OkxSimulator
from importer.simulator.server import SimKey, Simulator
from taxsync.app import accounts
from taxsync.app.key_audit import Finding, KeyVerdict, audit_accounts
from taxsync.app.workspace import init_workspace
from taxsync.cli import app
from taxsync.types import DAY_MS

NOW = int(time.time() * 1000)
SINCE = date(2021, 1, 1)


def days_ago(days: int) -> int:
    return NOW - days * DAY_MS


def kraken_secret(tag: str) -> str:
    return base64.b64encode(tag.encode() * 8).decode()


def pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


@pytest.fixture(autouse=True)
def _fast_clients(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAXSYNC_RATE_LIMIT_MS", "1")


def audit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: str, url: str, key: SimKey, *,
          passphrase: str | None = None, allow_trading: bool = False, max_age_days: int | None = None,
          now: int | None = None) -> dict[str, Finding]:
    """Add one account with ``key`` and audit it; the findings by check."""
    tag = f"{exchange}-{key.api_key}".replace("/", "-")
    monkeypatch.setenv("AUDIT_KEY", key.api_key)
    monkeypatch.setenv("AUDIT_SECRET", key.secret)
    if passphrase:
        monkeypatch.setenv("AUDIT_PASS", passphrase)
    ws = init_workspace(tmp_path / tag)
    accounts.add_account(ws, "acct", exchange=exchange, api_key_env="AUDIT_KEY", secret_env="AUDIT_SECRET",
                         password_env="AUDIT_PASS" if passphrase else None, api_url=url,
                         allow_trading_key=allow_trading, since=SINCE)
    findings = audit_accounts(ws, max_age_days=max_age_days, now=now)
    ws.engine.dispose()
    assert len({f.check for f in findings}) == len(findings), findings
    return {f.check: f for f in findings}


def verdicts(findings: dict[str, Finding]) -> dict[str, str]:
    return {check: f.verdict.value for check, f in findings.items()}


# -- Binance: flags, ipRestrict (no list), createTime; no expiry --------------------------------------------
B_READ = SimKey("b-read", "b-read-secret", created_ms=days_ago(400))
B_TRADE = SimKey("b-trade", "b-trade-secret", can_trade=True, ip_restrict=True, created_ms=days_ago(20))
B_WITHDRAW = SimKey("b-withdraw", "b-withdraw-secret", can_withdraw=True, created_ms=days_ago(20))
B_TRANSFER = SimKey("b-transfer", "b-transfer-secret", can_internal_transfer=True, created_ms=days_ago(20))
B_NO_READ = SimKey("b-noread", "b-noread-secret", can_read=False, ip_restrict=True, created_ms=days_ago(20))
B_ELSEWHERE = SimKey("b-elsewhere", "b-elsewhere-secret", ip_allowlist=("203.0.113.7",))


@pytest.fixture(scope="module")
def binance() -> Iterator[Simulator]:
    history = generate_history(seed=4, trades=20, markets=6, traded=2, years=1, deposits=2, withdrawals=1)
    keys = [B_READ, B_TRADE, B_WITHDRAW, B_TRANSFER, B_NO_READ, B_ELSEWHERE]
    with Simulator(history, keys, weight_limit_per_minute=10**9) as sim:
        yield sim


def test_binance_read_only_key_without_ip_restriction_and_too_old(binance, tmp_path, monkeypatch) -> None:
    found = audit(tmp_path, monkeypatch, "binance", binance.url, B_READ)
    assert verdicts(found) == {"read": "ok", "trade": "ok", "withdraw": "ok", "transfer": "ok", "ip": "warning",
                               "age": "warning", "expiry": "ok", "last_sync": "ok"}
    assert "accepts requests from any IP address" in found["ip"].found
    assert found["ip"].advice == "restrict the key on binance to the address taxsync runs from"
    assert "(400 days ago), more than 365 days" in found["age"].found
    assert "taxsync account rotate acct" in found["age"].advice
    assert not found["expiry"].exchange_can_tell and found["age"].exchange_can_tell
    younger = audit(tmp_path / "again", monkeypatch, "binance", binance.url, B_READ, max_age_days=500)
    assert younger["age"].verdict is KeyVerdict.OK


def test_binance_trading_withdrawing_and_transferring_keys(binance, tmp_path, monkeypatch) -> None:
    trade = audit(tmp_path, monkeypatch, "binance", binance.url, B_TRADE)
    assert (trade["trade"].verdict, trade["withdraw"].verdict) == (KeyVerdict.REFUSE, KeyVerdict.OK)
    assert trade["ip"].verdict is KeyVerdict.OK and "binance does not list" in trade["ip"].found
    allowed = audit(tmp_path / "allowed", monkeypatch, "binance", binance.url, B_TRADE, allow_trading=True)
    assert allowed["trade"].verdict is KeyVerdict.WARNING and "--allow-trading-key" in allowed["trade"].found
    withdraw = audit(tmp_path, monkeypatch, "binance", binance.url, B_WITHDRAW)
    assert (withdraw["withdraw"].verdict, withdraw["transfer"].verdict) == (KeyVerdict.REFUSE, KeyVerdict.OK)
    assert "remove the withdrawal permission" in withdraw["withdraw"].advice
    transfer = audit(tmp_path, monkeypatch, "binance", binance.url, B_TRANSFER)
    assert (transfer["withdraw"].verdict, transfer["transfer"].verdict) == (KeyVerdict.OK, KeyVerdict.REFUSE)
    no_read = audit(tmp_path, monkeypatch, "binance", binance.url, B_NO_READ)
    assert no_read["read"].verdict is KeyVerdict.REFUSE and "enable the read" in no_read["read"].advice


def test_binance_refusal_names_the_address_the_exchange_saw(binance, tmp_path, monkeypatch) -> None:
    """The key is bound to another address: Binance refuses it and says where the request came from."""
    found = audit(tmp_path, monkeypatch, "binance", binance.url, B_ELSEWHERE)
    assert verdicts(found) == {"key": "refuse", "last_sync": "ok"}
    assert "add 127.0.0.1 to the key's IP allowlist on binance" in found["key"].advice
    assert B_ELSEWHERE.secret not in found["key"].found and "signature" not in found["key"].found


# -- Kraken: permission codes, ipAllowlist, createdTime, validUntil, queryFrom/queryTo ------------------------
def _s(ms: int) -> int:
    return ms // 1000


K_READ = SimKey("K" * 56, kraken_secret("kraken-read"), ip_allowlist=("127.0.0.1",), created_ms=days_ago(10),
                valid_until_s=_s(NOW + 10 * DAY_MS), name="taxsync")
K_WINDOW = SimKey("W" * 56, kraken_secret("kraken-window"), created_ms=days_ago(10),
                  query_from_s=int(datetime(2023, 6, 1, tzinfo=UTC).timestamp()),
                  query_to_s=_s(NOW + 400 * DAY_MS))
K_FUNDS = SimKey("F" * 56, kraken_secret("kraken-funds"), created_ms=days_ago(10),
                 kraken_permissions=("query-funds", "query-ledger", "query-closed-trades", "withdraw-funds"))
K_EXPIRED = SimKey("X" * 56, kraken_secret("kraken-expired"), valid_until_s=_s(NOW - DAY_MS))


@pytest.fixture(scope="module")
def kraken() -> Iterator[KrakenSimulator]:
    history = generate_kraken_history(seed=4, trades=10, pairs=2, years=1, deposits=3, withdrawals=1,
                                      staking_rewards=2)
    with KrakenSimulator(history, [K_READ, K_WINDOW, K_FUNDS, K_EXPIRED], tier=None) as sim:
        yield sim


def test_kraken_allowlist_and_expiry_within_30_days(kraken, tmp_path, monkeypatch) -> None:
    found = audit(tmp_path, monkeypatch, "kraken", kraken.url, K_READ)
    assert verdicts(found) == {"read": "ok", "trade": "ok", "withdraw": "ok", "transfer": "ok", "ip": "ok",
                               "age": "ok", "expiry": "warning", "query_window": "ok", "last_sync": "ok"}
    assert found["ip"].found == "the key only accepts requests from 127.0.0.1"
    assert "(in 9 days)" in found["expiry"].found or "(in 10 days)" in found["expiry"].found
    assert found["expiry"].advice.startswith("before then, create a new read-only key on kraken")


def test_kraken_query_window_hides_history(kraken, tmp_path, monkeypatch) -> None:
    found = audit(tmp_path, monkeypatch, "kraken", kraken.url, K_WINDOW)
    window = found["query_window"]
    assert window.verdict is KeyVerdict.WARNING
    assert "history before 2023-06-01 (the account's history starts 2021-01-01)" in window.found
    assert "history after" in window.found and "clear the key's query start and end dates" in window.advice
    assert found["ip"].verdict is KeyVerdict.WARNING and found["expiry"].found == "the key does not expire"


def test_kraken_withdrawal_rights_and_an_expired_key(kraken, tmp_path, monkeypatch) -> None:
    funds = audit(tmp_path, monkeypatch, "kraken", kraken.url, K_FUNDS)
    assert (funds["withdraw"].verdict, funds["transfer"].verdict, funds["trade"].verdict) == (
        KeyVerdict.REFUSE, KeyVerdict.REFUSE, KeyVerdict.OK)
    expired = audit(tmp_path, monkeypatch, "kraken", kraken.url, K_EXPIRED)
    assert expired["key"].verdict is KeyVerdict.REFUSE and "refused the key" in expired["key"].found


# -- Coinbase: can_view / can_trade / can_transfer only -----------------------------------------------------
C_READ = SimKey("organizations/org-1/apiKeys/read", pem())
C_MOVE = SimKey("organizations/org-1/apiKeys/move", pem(), can_internal_transfer=True)


@pytest.fixture(scope="module")
def coinbase() -> Iterator[CoinbaseSimulator]:
    history = generate_coinbase_history(seed=4, fills=10, years=1, staking_rewards=2, interest=1, receives=1, sends=1)
    with CoinbaseSimulator(history, [C_READ, C_MOVE], rate_limits=None) as sim:
        yield sim


def test_coinbase_cannot_tell_address_age_or_expiry(coinbase, tmp_path, monkeypatch) -> None:
    found = audit(tmp_path, monkeypatch, "coinbase", coinbase.url, C_READ)
    assert {c for c, f in found.items() if not f.exchange_can_tell} == {"ip", "age", "expiry"}
    assert found["ip"].verdict is KeyVerdict.WARNING
    assert found["ip"].found == "coinbase does not report whether the key is restricted to IP addresses"
    assert "taxsync has used it since" in found["age"].found and found["age"].verdict is KeyVerdict.OK
    assert "taxsync has used it since" in audit(tmp_path / "later", monkeypatch, "coinbase", coinbase.url, C_READ,
                                                now=NOW + 400 * DAY_MS)["age"].found
    moving = audit(tmp_path, monkeypatch, "coinbase", coinbase.url, C_MOVE)
    assert (moving["withdraw"].verdict, moving["transfer"].verdict) == (KeyVerdict.REFUSE, KeyVerdict.REFUSE)


def test_age_unknown_to_the_exchange_uses_how_long_taxsync_has_had_the_key(coinbase, tmp_path, monkeypatch) -> None:
    later = audit(tmp_path, monkeypatch, "coinbase", coinbase.url, C_READ, now=NOW + 400 * DAY_MS)
    assert later["age"].verdict is KeyVerdict.WARNING and not later["age"].exchange_can_tell
    assert later["last_sync"].verdict is KeyVerdict.WARNING
    assert "never synced successfully" in later["last_sync"].found
    assert "taxsync account remove acct" in later["last_sync"].advice


# -- OKX: perm, ip; no dates ----------------------------------------------------------------------------------
O_READ = SimKey("okx-read", "okx-read-secret", ip_allowlist=("127.0.0.1", "198.51.100.4"))
O_TRADE = SimKey("okx-trade", "okx-trade-secret", can_trade=True)
O_ELSEWHERE = SimKey("okx-elsewhere", "okx-elsewhere-secret", ip_allowlist=("198.51.100.4",))
O_PASS = {k.api_key: f"pass-{k.api_key}" for k in (O_READ, O_TRADE, O_ELSEWHERE)}


@pytest.fixture(scope="module")
def okx() -> Iterator[OkxSimulator]:
    history = generate_okx_history(seed=4, trades=10, days=20, deposits=1, withdrawals=1, interest=1)
    with OkxSimulator(history, [O_READ, O_TRADE, O_ELSEWHERE], passphrases=O_PASS, rate_limits=False) as sim:
        yield sim


def test_okx_allowlist_trade_and_refused_address(okx, tmp_path, monkeypatch) -> None:
    read = audit(tmp_path, monkeypatch, "okx", okx.url, O_READ, passphrase=O_PASS[O_READ.api_key])
    assert read["ip"].found == "the key only accepts requests from 127.0.0.1, 198.51.100.4"
    assert read["transfer"].verdict is KeyVerdict.OK and not read["transfer"].exchange_can_tell
    assert not read["age"].exchange_can_tell and not read["expiry"].exchange_can_tell
    trade = audit(tmp_path, monkeypatch, "okx", okx.url, O_TRADE, passphrase=O_PASS[O_TRADE.api_key])
    assert (trade["trade"].verdict, trade["transfer"].verdict, trade["ip"].verdict) == (
        KeyVerdict.REFUSE, KeyVerdict.WARNING, KeyVerdict.WARNING)
    elsewhere = audit(tmp_path, monkeypatch, "okx", okx.url, O_ELSEWHERE, passphrase=O_PASS[O_ELSEWHERE.api_key])
    assert elsewhere["key"].verdict is KeyVerdict.REFUSE
    assert "add 127.0.0.1 to the key's IP allowlist on okx" in elsewhere["key"].advice


# -- Bybit: readOnly, permissions, ips, createdAt, expiredAt --------------------------------------------------
Y_OPEN = SimKey("BYAUDITOPEN", "bybit-open-secret", created_ms=days_ago(80))  # no IP: expires after 90 days
Y_BOUND = SimKey("BYAUDITBOUND", "bybit-bound-secret", ip_allowlist=("127.0.0.1",), created_ms=days_ago(800))
Y_WALLET = SimKey("BYAUDITWALLET", "bybit-wallet-secret", can_internal_transfer=True, ip_allowlist=("127.0.0.1",))


@pytest.fixture(scope="module")
def bybit() -> Iterator[BybitSimulator]:
    history = generate_bybit_history(seed=4, trades=10, days=10, deposits=1, withdrawals=1, rewards=1, fundings=1)
    with BybitSimulator(history, [Y_OPEN, Y_BOUND, Y_WALLET], rate_limits=None, ip_limit=None) as sim:
        yield sim


def test_bybit_unbound_key_expires_soon_and_bound_key_is_old(bybit, tmp_path, monkeypatch) -> None:
    unbound = audit(tmp_path, monkeypatch, "bybit", bybit.url, Y_OPEN)
    assert (unbound["ip"].verdict, unbound["expiry"].verdict, unbound["age"].verdict) == (
        KeyVerdict.WARNING, KeyVerdict.WARNING, KeyVerdict.OK)
    bound = audit(tmp_path, monkeypatch, "bybit", bybit.url, Y_BOUND)
    assert bound["ip"].found == "the key only accepts requests from 127.0.0.1"
    assert (bound["expiry"].found, bound["age"].verdict) == ("the key does not expire", KeyVerdict.WARNING)
    wallet = audit(tmp_path, monkeypatch, "bybit", bybit.url, Y_WALLET)
    assert (wallet["transfer"].verdict, wallet["withdraw"].verdict) == (KeyVerdict.REFUSE, KeyVerdict.OK)


# -- KuCoin: permission, ipWhitelist, createdAt --------------------------------------------------------------
U_READ = SimKey("kc-audit-read", "kc-audit-read-secret", ip_restrict=True, created_ms=days_ago(30))
U_WITHDRAW = SimKey("kc-audit-wd", "kc-audit-wd-secret", can_withdraw=True, created_ms=days_ago(500))
U_PASS = {U_READ.api_key: "kc-pass-1", U_WITHDRAW.api_key: "kc-pass-2"}


@pytest.fixture(scope="module")
def kucoin() -> Iterator[KucoinSimulator]:
    history = generate_kucoin_history(seed=4, days=10, fills=10, deposits=1, withdrawals=1, rewards=1, end_ms=NOW)
    with KucoinSimulator(history, [U_READ, U_WITHDRAW], U_PASS) as sim:
        yield sim


def test_kucoin_whitelist_age_and_withdrawal(kucoin, tmp_path, monkeypatch) -> None:
    read = audit(tmp_path, monkeypatch, "kucoin", kucoin.url, U_READ, passphrase=U_PASS[U_READ.api_key])
    assert verdicts(read) == {"read": "ok", "trade": "ok", "withdraw": "ok", "transfer": "ok", "ip": "ok",
                              "age": "ok", "expiry": "ok", "last_sync": "ok"}
    withdraw = audit(tmp_path, monkeypatch, "kucoin", kucoin.url, U_WITHDRAW, passphrase=U_PASS[U_WITHDRAW.api_key])
    assert (withdraw["withdraw"].verdict, withdraw["age"].verdict, withdraw["ip"].verdict) == (
        KeyVerdict.REFUSE, KeyVerdict.WARNING, KeyVerdict.WARNING)


# -- an exchange with no key endpoint, and the CLI ------------------------------------------------------------
def test_exchange_without_a_key_endpoint_says_it_cannot_tell(tmp_path, monkeypatch) -> None:
    found = audit(tmp_path, monkeypatch, "bitstamp", "http://127.0.0.1:9", SimKey("k", "s"))
    assert verdicts(found) == {"key": "warning", "last_sync": "ok"}
    assert not found["key"].exchange_can_tell and "bitstamp has no way to tell" in found["key"].found


def test_cli_text_json_and_exit_code(binance, tmp_path, monkeypatch) -> None:
    for key in (B_READ, B_WITHDRAW):
        monkeypatch.setenv(f"KEY_{key.api_key}", key.api_key)
        monkeypatch.setenv(f"SECRET_{key.api_key}", key.secret)
    ws = init_workspace(tmp_path / "ws")
    for name, key in (("main", B_READ), ("risky", B_WITHDRAW)):
        accounts.add_account(ws, name, exchange="binance", api_key_env=f"KEY_{key.api_key}",
                             secret_env=f"SECRET_{key.api_key}", api_url=binance.url)
    runner, home = CliRunner(), ["--home", str(ws.home)]
    text = runner.invoke(app, ["account", "audit", "main", *home])
    assert text.exit_code == 0, text.output
    assert "main (binance)" in text.output and "WARNING  ip: the key accepts requests from any IP" in text.output
    assert "WARNING  age:" in text.output and "risky" not in text.output
    assert "OK       expiry: binance does not report an expiry date for the key" in text.output
    result = runner.invoke(app, ["account", "audit", "--json", "--max-age-days", "1000", *home])
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert set(report) == {"generated_at", "max_age_days", "expiry_warning_days", "unused_days", "summary",
                           "accounts"}
    assert report["max_age_days"] == 1000 and report["summary"]["refuse"] == 1
    main, risky = report["accounts"]
    assert main["key"]["created_ms"] == B_READ.created_ms and main["key"]["ip_restricted"] is False
    assert main["key"]["allowed_ips"] is None and main["key"]["expires_ms"] is None
    assert [f["check"] for f in risky["findings"] if f["verdict"] == "refuse"] == ["withdraw"]
    assert set(risky["findings"][0]) == {"check", "verdict", "found", "advice", "exchange_can_tell"}
    for key in (B_READ, B_WITHDRAW):
        assert key.api_key not in result.stdout and key.secret not in result.stdout
