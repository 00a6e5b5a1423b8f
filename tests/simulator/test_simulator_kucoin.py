"""An unmodified ccxt.kucoin reads the simulated KuCoin history exactly; auth, windows, paging and faults behave
like KuCoin. ccxt 4.5.90 maps KuCoin's codes: 400003/400004/400005 -> AuthenticationError, 400100 ->
BadRequest, 429000 -> RateLimitExceeded; injected 5xx -> ExchangeNotAvailable."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from importer.ccxt_url import point_ccxt_at, reject_non_json
from importer.simulator.kucoin_history import HF_TRADED, KucoinHistory, generate_kucoin_history
from importer.simulator.kucoin_server import KucoinSimulator
from importer.simulator.server import Faults, SimKey

KEY = SimKey("kc-key", "kc-secret")
TRADER = SimKey("kc-trader", "kc-trader-secret", can_trade=True, can_withdraw=True)
NO_READ = SimKey("kc-noread", "kc-noread-secret", can_read=False)
PASSPHRASES = {KEY.api_key: "pass-1", TRADER.api_key: "pass-2", NO_READ.api_key: "pass-3"}
WEEK = 7 * 86_400_000


@pytest.fixture(scope="module")
def history() -> KucoinHistory:
    return generate_kucoin_history(seed=3, days=60, fills=150, deposits=5, withdrawals=4, rewards=12,
                                   end_ms=int(time.time() * 1000))


@pytest.fixture
def sim(history: KucoinHistory) -> Iterator[KucoinSimulator]:
    with KucoinSimulator(history, [KEY, TRADER, NO_READ], PASSPHRASES) as server:
        yield server
        assert not server.errors


def client(sim: KucoinSimulator, key: SimKey = KEY, password: str | None = None) -> Any:
    ex = ccxt.kucoin({"apiKey": key.api_key, "secret": key.secret, "rateLimit": 1,
                      "password": password or PASSPHRASES[key.api_key],
                      "options": {"fetchMarkets": {"types": ["spot"], "fetchTickersFees": False}}})
    ex.number = str
    point_ccxt_at(ex, sim.url)
    reject_non_json(ex)
    return ex


def test_history_is_funded_and_exact(history: KucoinHistory) -> None:
    assert all(v >= 0 for v in history.wallets().values())
    assert all(isinstance(v, Decimal) for v in history.expected_totals().values())
    counts = history.counts()
    assert counts["trades"] == 150 and counts["income"] == 12 and counts["deposits"] == 8


def test_load_markets_requests(sim: KucoinSimulator) -> None:
    ex = client(sim)
    ex.load_markets(False, {"marginables": False})
    assert set(sim.requests) == {"/api/v3/currencies", "/api/v2/symbols", "/api/v1/hf/accounts/opened",
                                 "/api/ua/v1/account/mode"}
    assert ex.options["hf"] is False and ex.options["uta"] is False and "ETH/BTC" in ex.markets


def test_windows_and_paging_return_every_fill(sim: KucoinSimulator, history: KucoinHistory) -> None:
    ex = client(sim)
    ids: list[str] = []
    start = history.start_ms
    while start <= sim.now_ms():
        page = 1
        while True:
            rows = ex.fetch_my_trades(None, start, None, {"until": start + WEEK - 1, "pageSize": 10,
                                                          "currentPage": page})
            ids += [t["id"] for t in rows]
            if len(rows) < 10:
                break
            page += 1
        start += WEEK
    assert sorted(ids) == sorted(f.trade_id for f in history.fills)
    fill = ex.fetch_my_trades(None, history.fills[0].created_at, None,
                              {"until": history.fills[0].created_at})[0]
    assert fill["amount"] == str(history.fills[0].size.normalize()) and isinstance(fill["fee"]["cost"], str)


def test_a_range_over_seven_days_is_refused(sim: KucoinSimulator, history: KucoinHistory) -> None:
    ex = client(sim)
    for method in (ex.fetch_my_trades, ex.fetch_deposits, ex.fetch_withdrawals, ex.fetch_ledger):
        with pytest.raises(ccxt.BadRequest, match="7 days"):
            method(None, history.start_ms, None, {"until": history.start_ms + WEEK + 1})
    with pytest.raises(ccxt.BadRequest, match="pageSize"):
        ex.fetch_ledger(None, history.start_ms, None, {"pageSize": 501})


def test_ledger_types_and_transfers(sim: KucoinSimulator, history: KucoinHistory) -> None:
    ex = client(sim)
    entries = ex.fetch_ledger(None, history.start_ms, None, {"until": history.start_ms + WEEK - 1,
                                                              "pageSize": 500})
    assert {"transaction", "transfer", "trade"} <= {e["type"] for e in entries}
    deposits = ex.fetch_deposits(None, history.start_ms, 500, {"until": history.start_ms + WEEK - 1})
    assert deposits[0]["type"] == "deposit" and deposits[0]["status"] == "ok" and deposits[0]["txid"]


def test_bad_passphrase_or_signature(sim: KucoinSimulator) -> None:
    with pytest.raises(ccxt.AuthenticationError, match="400004"):
        client(sim, password="wrong").private_get_accounts()
    ex = client(sim)
    sign = ex.sign

    def tampered(*args: Any, **kwargs: Any) -> dict[str, Any]:
        request = sign(*args, **kwargs)
        signature = request["headers"]["KC-API-SIGN"]  # another first character, whatever the signature is
        request["headers"]["KC-API-SIGN"] = ("B" if signature.startswith("A") else "A") + signature[1:]
        return request

    ex.sign = tampered
    with pytest.raises(ccxt.AuthenticationError, match="400005"):
        ex.private_get_accounts()


def test_unknown_key_and_missing_permission(sim: KucoinSimulator) -> None:
    with pytest.raises(ccxt.AuthenticationError, match="400003"):
        client(sim, SimKey("nobody", "x"), password="p").private_get_accounts()
    with pytest.raises(ccxt.AuthenticationError, match="400007"):
        client(sim, NO_READ).private_get_accounts()


def test_api_key_permission(sim: KucoinSimulator) -> None:
    assert client(sim).private_get_user_api_key()["data"]["permission"] == "General"
    assert client(sim, TRADER).private_get_user_api_key()["data"]["permission"] == "General,Spot,Withdrawal"


def test_faults_look_like_kucoin(sim: KucoinSimulator) -> None:
    sim.set_faults(Faults(seed=1, rate_429=1.0))
    with pytest.raises(ccxt.RateLimitExceeded, match="429000"):
        client(sim).private_get_accounts()
    sim.set_faults(Faults(seed=1, rate_5xx=1.0))
    with pytest.raises(ccxt.ExchangeNotAvailable):
        client(sim).private_get_accounts()
    sim.set_faults(Faults(seed=1, rate_truncated=1.0))
    with pytest.raises(ccxt.BadResponse):
        client(sim).private_get_accounts()


# -- high-frequency (HF) accounts --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hf_history() -> KucoinHistory:
    return generate_kucoin_history(seed=4, days=30, fills=120, deposits=4, withdrawals=3, rewards=6,
                                   end_ms=int(time.time() * 1000), hf=True)


@pytest.fixture
def hf_sim(hf_history: KucoinHistory) -> Iterator[KucoinSimulator]:
    with KucoinSimulator(hf_history, [KEY], PASSPHRASES) as server:
        yield server
        assert not server.errors


def test_hf_account_is_detected_and_has_trade_hf_wallets(hf_sim: KucoinSimulator,
                                                         hf_history: KucoinHistory) -> None:
    ex = client(hf_sim)
    ex.load_markets(False, {"marginables": False})
    assert ex.options["hf"] is True
    assert len(ex.markets) > 4 * len(HF_TRADED) and set(HF_TRADED) <= {m["id"] for m in ex.markets.values()}
    assert {f.symbol for f in hf_history.fills} == set(HF_TRADED)
    types = {row["type"] for row in ex.private_get_accounts()["data"]}
    assert types == {"main", "trade_hf"}
    total = ex.fetch_balance({"type": "hf"})["total"]  # ccxt: type trade_hf
    wallets = hf_history.wallets()
    assert all(Decimal(str(total[c])) == v for (a, c), v in wallets.items() if a == "TRADE_HF" and v)


def test_hf_fills_need_a_symbol_and_page_by_last_id(hf_sim: KucoinSimulator, hf_history: KucoinHistory) -> None:
    ex = client(hf_sim)
    ex.load_markets(False, {"marginables": False})
    with pytest.raises(ccxt.BadRequest, match="symbol"):
        ex.private_get_hf_fills({"startAt": hf_history.start_ms, "endAt": hf_history.start_ms + WEEK - 1})
    with pytest.raises(ccxt.ArgumentsRequired):  # ccxt refuses before asking
        ex.fetch_my_trades(None, hf_history.start_ms)
    with pytest.raises(ccxt.BadRequest, match="7 days"):
        ex.fetch_my_trades("ETH/BTC", hf_history.start_ms, None, {"until": hf_history.start_ms + WEEK + 1})
    with pytest.raises(ccxt.BadRequest, match="limit"):
        ex.fetch_my_trades("ETH/BTC", hf_history.start_ms, 101)
    assert ex.fetch_my_trades(None, hf_history.start_ms, None, {"hf": False, "until": hf_history.start_ms
                                                                 + WEEK - 1}) == []  # not in classic fills
    for symbol in HF_TRADED:
        unified = symbol.replace("-", "/")
        ids: list[str] = []
        start = hf_history.start_ms
        while start <= hf_sim.now_ms():
            last_id: int | None = None
            while True:
                params = {"until": start + WEEK - 1} | ({"lastId": last_id} if last_id else {})
                rows = ex.fetch_my_trades(unified, start, 5, params)
                ids += [t["id"] for t in rows]
                if len(rows) < 5:
                    break
                last_id = min(int(t["info"]["id"]) for t in rows)
            start += WEEK
        assert sorted(ids) == sorted(f.trade_id for f in hf_history.fills if f.symbol == symbol)


def test_hf_ledger_pages_by_last_id(hf_sim: KucoinSimulator, hf_history: KucoinHistory) -> None:
    ex = client(hf_sim)
    ex.load_markets(False, {"marginables": False})
    lo, hi = hf_history.start_ms, hf_history.start_ms + WEEK - 1
    seen: list[str] = []
    last_id: int | None = None
    while True:
        rows = ex.fetch_ledger(None, lo, 7, {"until": hi} | ({"lastId": last_id} if last_id else {}))
        seen += [e["id"] for e in rows]
        if len(rows) < 7:
            break
        last_id = min(int(e["id"]) for e in rows)
    expected = [e for e in hf_history.ledger if e.account_type == "TRADE_HF" and lo <= e.created_at <= hi]
    assert sorted(seen) == sorted(e.id for e in expected) and expected
    assert {e["type"] for e in ex.fetch_ledger(None, lo, 200, {"until": hi})} <= {"trade", "transfer"}
    classic = ex.fetch_ledger(None, lo, 500, {"hf": False, "until": hi})
    assert classic and all(e["info"]["accountType"] == "MAIN" for e in classic)
    with pytest.raises(ccxt.BadRequest, match="limit"):
        ex.fetch_ledger(None, lo, 201, {"until": hi})
