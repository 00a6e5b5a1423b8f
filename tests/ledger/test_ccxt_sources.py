"""ccxt unified records into ledger transactions: recorded exchange responses replayed, then the mapping rules.

The replay tests run ccxt's own recorded responses (shared/fixtures/ccxt-static) through the real ccxt 4.5
parsers: once with floats, to show the replay reproduces ccxt's expected output, and once with
``number = str``, as the importer runs it, feeding the result to the normalizers. The expected legs were worked
out by hand from the raw exchange rows, not copied from the code's output.
"""

from __future__ import annotations

import json
from decimal import Decimal as D
from typing import Any

import pytest

from taxsync.ledger.records import Transaction, TxKind
from taxsync.ledger.sources import NORMALIZERS, FieldError
from taxsync.ledger.sources.ccxt import normalize_ccxt_ledger, normalize_ccxt_trade, normalize_ccxt_transaction
from taxsync.problems import ProblemKind, Severity
from taxsync.types import Role
from tests.ledger import ccxt_replay

IN, OUT, FEE = Role.IN, Role.OUT, Role.FEE
SKIPPED = "skipped"  # a derivatives record: no transaction, one UNSUPPORTED warning

# (exchange, entry description) -> per returned record: (kind, [(asset, amount, role)], txhash) or SKIPPED
EXPECTED: dict[tuple[str, str], list[Any]] = {
    # LTC/USDT sell 0.2 at 69.63 = 13.926 USDT, commission 0.013926 USDT
    ("binance", "Spot private trade"): [
        (TxKind.TRADE, [("LTC", "-0.2", OUT), ("USDT", "13.926", IN), ("USDT", "-0.013926", FEE)], "")],
    ("binance", "Swap private trade"): [SKIPPED],
    # LTC/USDT sell 0.173 at 69.39 = 12.00447 USDT, commission 0.01200447 USDT
    ("binance", "spot porfolioMargin private trade"): [
        (TxKind.TRADE, [("LTC", "-0.173", OUT), ("USDT", "12.00447", IN), ("USDT", "-0.01200447", FEE)], "")],
    # 9 USDT sent, transactionFee 1 USDT on top
    ("binance", "fetchWithdrawals"): [
        (TxKind.WITHDRAWAL, [("USDT", "-9", OUT), ("USDT", "-1", FEE)], "FDSJHFKDSHFJ4KR5H4KJH3454JHK")],
    ("binance", "fetchDeposits"): [(TxKind.DEPOSIT, [("USDT", "10", IN)], "435kl435jh4354j3k5")],
    # fee "0.00000000": no fee leg
    ("kraken", "fetchDeposits"): [(TxKind.DEPOSIT, [("USDT", "9", IN)], "534jh34jk5h34jk")],
    ("kraken", "fetchWithdrawals"): [(TxKind.WITHDRAWAL, [("USDT", "-10", OUT), ("USDT", "-3", FEE)], "45j43kh54jk3h")],
    # ADA/USDT sell 10 at 0.392 = 3.92 USDT, commission 0.03136 USDT
    ("coinbase", "Spot trade"): [
        (TxKind.TRADE, [("ADA", "-10", OUT), ("USDT", "3.92", IN), ("USDT", "-0.03136", FEE)], "")],
    ("coinbase", "swap trade"): [SKIPPED],
    # 2.01 USDT in, then a send of -2.01 USDT whose network fee 1.530199 USDT is inside the 2.01: 0.479801 left
    ("coinbase", "spot"): [
        (TxKind.DEPOSIT, [("USDT", "2.01", IN)],
         "432e6504d28630c9fbe44ea0aeb6c8f2ff60d271d92045b24b02d65a8b0c2e3a"),
        (TxKind.WITHDRAWAL, [("USDT", "-0.479801", OUT), ("USDT", "-1.530199", FEE)],
         "123485af495b4a19521e989b3c67c14cd36e38e7eda755faf8aa4321c8f41be8")],
    # LTC/USDT buy 0.1 at 67.84 = 6.784 USDT; OKX fee "-0.0001" LTC means charged (ccxt: cost 0.0001)
    ("okx", "Fetch spot trade"): [
        (TxKind.TRADE, [("USDT", "-6.784", OUT), ("LTC", "0.1", IN), ("LTC", "-0.0001", FEE)], "")],
    # BTC/USDT buy 0.000336 at 29708.7 = 9.9821232 USDT, execFee 0.000000336 BTC
    ("bybit", "spot private trade"): [
        (TxKind.TRADE, [("USDT", "-9.9821232", OUT), ("BTC", "0.000336", IN), ("BTC", "-0.000000336", FEE)], "")],
    ("bybit", "Swap private trade"): [SKIPPED],  # execType Funding
    # ETH/USDT buy 0.001 at 2453.65 = 2.45365 USDT, execFee 0.000001 ETH
    ("bybit", "spot trades without symbol"): [
        (TxKind.TRADE, [("USDT", "-2.45365", OUT), ("ETH", "0.001", IN), ("ETH", "-0.000001", FEE)], "")],
    ("bybit", "swap trades without symbol"): [SKIPPED],
}
KIND = {"fetchMyTrades": "trade", "fetchDeposits": "transaction", "fetchWithdrawals": "transaction",
        "fetchDepositsWithdrawals": "transaction", "fetchLedger": "ledger"}
# ccxt 4.5.90 is newer than the recordings: these differences are the library's, not the replay's.
KNOWN_DRIFTS = {
    ("binance", "network"),  # binance's network id TRX is now unified as TRC20
    ("coinbase", "datetime"),  # coinbase keeps the exchange's own precision (...552204Z, ...02Z)
}


def _cases() -> list[Any]:
    if not ccxt_replay.available():
        return [pytest.param(None, None, None, marks=pytest.mark.skip(
            reason=f"ccxt fixtures not found at {ccxt_replay.FIXTURES} (the shared folder beside the repository)"))]
    return [pytest.param(exchange, method, entry, id=f"{exchange}-{method}-{entry['description']}")
            for exchange in ccxt_replay.EXCHANGES for method, entry in ccxt_replay.entries(exchange)]


def _legs(tx: Transaction) -> list[tuple[str, D, Role]]:
    return [(leg.asset, leg.amount, leg.role) for leg in tx.legs]


@pytest.mark.parametrize(("exchange", "method", "entry"), _cases())
def test_replay_with_floats_gives_ccxts_recorded_result(exchange: str, method: str, entry: dict[str, Any]) -> None:
    result = ccxt_replay.replay(exchange, method, entry)
    expected = entry["parsedResponse"]
    assert len(result) == len(expected)
    for got, want in zip(result, expected, strict=True):
        for key in sorted(set(got) | set(want)):
            if (exchange, key) not in KNOWN_DRIFTS:
                assert got.get(key) == want.get(key), key


@pytest.mark.parametrize(("exchange", "method", "entry"), _cases())
def test_replay_with_exact_numbers_normalizes_to_the_hand_worked_legs(
    exchange: str, method: str, entry: dict[str, Any]
) -> None:
    result = ccxt_replay.replay(exchange, method, entry, number=str)
    expected = EXPECTED[(exchange, entry["description"])]
    assert len(result) == len(expected)
    kind = KIND[method]
    for index, (item, want) in enumerate(zip(result, expected, strict=True)):
        # stored as JSON, as the importer does: the normalizer sees exactly what the database holds
        payload = json.loads(json.dumps({"exchange": exchange, "kind": kind, **item}))
        ref = f"{exchange}/{method}:{index}"
        normalized = NORMALIZERS[f"ccxt-{kind}"](payload, "acct", ref)
        if want == SKIPPED:
            assert normalized.transaction is None
            assert [(p.kind, p.severity, p.source) for p in normalized.problems] == [
                (ProblemKind.UNSUPPORTED, Severity.WARNING, ref)]
            assert "derivatives" in normalized.problems[0].message
            continue
        tx_kind, legs, txhash = want
        tx = normalized.transaction
        assert tx is not None and normalized.problems == ()
        assert (tx.kind, tx.timestamp, tx.txhash, tx.account, tx.ref) == (tx_kind, item["timestamp"], txhash,
                                                                          "acct", ref)
        assert _legs(tx) == [(asset, D(amount), role) for asset, amount, role in legs]


def test_exact_numbers_stay_decimal_text_in_every_replayed_field() -> None:
    """With ``number = str`` no amount of any recorded entry comes out as a float (ints: only timestamps)."""
    if not ccxt_replay.available():
        pytest.skip(f"ccxt fixtures not found at {ccxt_replay.FIXTURES}")

    def numbers(value: Any, path: str) -> list[tuple[str, Any]]:
        if isinstance(value, dict):
            return [n for k, v in value.items() if k != "info" for n in numbers(v, f"{path}.{k}")]
        if isinstance(value, list):
            return [n for i, v in enumerate(value) for n in numbers(v, f"{path}[{i}]")]
        return [(path, value)] if isinstance(value, int | float) and not isinstance(value, bool) else []

    found = [n for exchange in ccxt_replay.EXCHANGES for method, entry in ccxt_replay.entries(exchange)
             for n in numbers(ccxt_replay.replay(exchange, method, entry, number=str), exchange)]
    assert found and all(path.endswith(".timestamp") and isinstance(v, int) for path, v in found)


def test_the_three_normalizers_are_registered() -> None:
    assert NORMALIZERS["ccxt-trade"] is normalize_ccxt_trade
    assert NORMALIZERS["ccxt-transaction"] is normalize_ccxt_transaction
    assert NORMALIZERS["ccxt-ledger"] is normalize_ccxt_ledger


# -- trades ---------------------------------------------------------------------------------------------------
def trade(**fields: Any) -> dict[str, Any]:
    base = {"exchange": "binance", "kind": "trade", "id": "7", "order": "70", "timestamp": 1_700_000_000_000,
            "symbol": "ETH/USDT", "side": "buy", "amount": "0.5", "price": "2000", "cost": "1000",
            "fee": None, "fees": [], "info": {}}
    return {**base, **fields}


def legs_of(payload: dict[str, Any], normalize: Any = normalize_ccxt_trade) -> list[tuple[str, D, Role]]:
    tx = normalize(payload, "a", "r").transaction
    assert tx is not None
    return _legs(tx)


def test_buy_pays_the_quote_and_receives_the_base() -> None:
    tx = normalize_ccxt_trade(trade(), "a", "a/t:7").transaction
    assert tx is not None and tx.kind is TxKind.TRADE
    assert _legs(tx) == [("USDT", D("-1000"), OUT), ("ETH", D("0.5"), IN)]
    assert (tx.timestamp, tx.txhash, tx.description) == (1_700_000_000_000, "", "binance trade 7 (order 70)")


def test_sell_gives_the_base_and_receives_the_quote() -> None:
    assert legs_of(trade(side="sell")) == [("ETH", D("-0.5"), OUT), ("USDT", D("1000"), IN)]


def test_fee_in_a_third_asset_is_its_own_fee_leg() -> None:
    fee = {"cost": "0.00075", "currency": "BNB"}
    assert legs_of(trade(fee=fee, fees=[fee])) == [
        ("USDT", D("-1000"), OUT), ("ETH", D("0.5"), IN), ("BNB", D("-0.00075"), FEE)]


def test_the_fees_list_wins_over_fee_and_zero_fees_are_dropped() -> None:
    fees = [{"cost": "0.1", "currency": "USDT"}, {"cost": "0.001", "currency": "BNB"}, {"cost": "0", "currency": "ETH"}]
    legs = legs_of(trade(fee={"cost": "0.1", "currency": "USDT"}, fees=fees))
    assert legs[2:] == [("USDT", D("-0.1"), FEE), ("BNB", D("-0.001"), FEE)]
    assert legs_of(trade(fee={"cost": "0.2", "currency": "USDT"}, fees=[]))[2:] == [("USDT", D("-0.2"), FEE)]


def test_missing_cost_is_amount_times_price_exactly() -> None:
    legs = legs_of(trade(amount="0.1", price="3.3", cost=None))
    assert legs[0] == ("USDT", D("-0.33"), OUT)  # a float product would be 0.33000000000000004


def test_rebate_is_netted_into_the_leg_of_its_asset() -> None:
    tx = normalize_ccxt_trade(trade(fees=[{"cost": "-0.2", "currency": "USDT"}]), "a", "r").transaction
    assert tx is not None and _legs(tx) == [("USDT", D("-999.8"), OUT), ("ETH", D("0.5"), IN)]
    assert "rebate 0.2 USDT netted" in tx.description


def test_rebate_in_a_third_asset_is_left_out_with_a_warning() -> None:
    result = normalize_ccxt_trade(trade(fees=[{"cost": "-0.01", "currency": "BNB"}]), "a", "r")
    assert result.transaction is not None and len(result.transaction.legs) == 2
    assert [(p.kind, p.severity) for p in result.problems] == [(ProblemKind.UNSUPPORTED, Severity.WARNING)]
    assert "0.01 BNB" in result.problems[0].message


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"symbol": "BTC/USDT:USDT"}, "'BTC/USDT:USDT' is a derivatives market"),
        ({"symbol": "BTC/USD:BTC-240329-60000-C"}, "derivatives market"),
        ({"exchange": "bybit", "symbol": "LTC/USDT", "info": {"execType": "Funding"}}, "execution type is 'Funding'"),
    ],
)
def test_derivatives_are_refused_with_a_warning(fields: dict[str, Any], why: str) -> None:
    result = normalize_ccxt_trade(trade(**fields), "a", "acct/trades:9")
    assert result.transaction is None
    assert [(p.kind, p.severity, p.source) for p in result.problems] == [
        (ProblemKind.UNSUPPORTED, Severity.WARNING, "acct/trades:9")]
    assert why in result.problems[0].message and "not supported yet" in result.problems[0].message


def test_an_okx_exec_type_is_not_a_bybit_funding_execution() -> None:
    assert normalize_ccxt_trade(trade(exchange="okx", info={"execType": "T"}), "a", "r").transaction is not None


@pytest.mark.parametrize(
    ("fields", "column"),
    [
        ({"amount": 0.5}, "amount"),  # a float is refused, never parsed
        ({"cost": 1000.0}, "cost"),
        ({"fee": {"cost": 0.1, "currency": "USDT"}}, "fee.cost"),
        ({"fees": [{"cost": "0.1", "currency": "USDT"}, {"cost": 1e-06, "currency": "BNB"}]}, "fees[1].cost"),
        ({"fees": [{"cost": "0.1", "currency": None}]}, "fees[0].currency"),
        ({"amount": None}, "amount"),
        ({"amount": "1,5"}, "amount"),
        ({"amount": "-0.5"}, "amount"),
        ({"cost": None, "price": None}, "price"),
        ({"timestamp": "1700000000000"}, "timestamp"),
        ({"timestamp": 1.7e12}, "timestamp"),
        ({"symbol": "ETHUSDT"}, "symbol"),
        ({"side": "long"}, "side"),
        ({"exchange": None}, "exchange"),
        ({"kind": "ledger"}, "kind"),
    ],
)
def test_unreadable_fields_name_their_column(fields: dict[str, Any], column: str) -> None:
    with pytest.raises(FieldError) as error:
        normalize_ccxt_trade(trade(**fields), "a", "r")
    assert error.value.column == column


def test_float_error_says_how_to_fix_it() -> None:
    with pytest.raises(FieldError, match=r"exchange\.number = str"):
        normalize_ccxt_trade(trade(amount=0.5), "a", "r")


def test_an_int_is_exact_and_accepted() -> None:
    assert legs_of(trade(amount=2, cost=4000, fee={"cost": 0, "currency": "USDT"})) == [
        ("USDT", D("-4000"), OUT), ("ETH", D("2"), IN)]


# -- deposits and withdrawals ---------------------------------------------------------------------------------
def movement(**fields: Any) -> dict[str, Any]:
    base = {"exchange": "kraken", "kind": "transaction", "id": "R1", "txid": "0xabc", "timestamp": 1_714_923_602_000,
            "type": "deposit", "currency": "ETH", "amount": "1.5", "status": "ok", "network": "ERC20",
            "address": "0x9f", "tag": None, "internal": None, "fee": None, "info": {}}
    return {**base, **fields}


def test_deposit_is_an_in_leg_with_its_hash_network_and_address() -> None:
    tx = normalize_ccxt_transaction(movement(), "a", "r").transaction
    assert tx is not None and tx.kind is TxKind.DEPOSIT and _legs(tx) == [("ETH", D("1.5"), IN)]
    assert tx.txhash == "0xabc" and tx.description == "kraken deposit R1, network ERC20, address 0x9f"


def test_withdrawal_fee_is_paid_on_top_of_the_amount_sent() -> None:
    tx = normalize_ccxt_transaction(
        movement(type="withdrawal", fee={"cost": "0.005", "currency": "ETH"}), "a", "r").transaction
    assert tx is not None and tx.kind is TxKind.WITHDRAWAL
    assert _legs(tx) == [("ETH", D("-1.5"), OUT), ("ETH", D("-0.005"), FEE)]


def test_a_fee_without_currency_is_in_the_moved_currency() -> None:
    payload = movement(type="withdrawal", fee={"cost": "0.005", "currency": None})
    assert legs_of(payload, normalize_ccxt_transaction)[1] == ("ETH", D("-0.005"), FEE)


@pytest.mark.parametrize(
    ("network", "legs"),
    [
        ({"hash": "0x1"}, [("USDC", D("-10"), OUT), ("USDC", D("-4.008308"), FEE)]),  # amount includes the fee
        ({"hash": "0x1", "transaction_amount": {"amount": "10.000000", "currency": "USDC"}},  # ccxt took the net
         [("USDC", D("-14.008308"), OUT), ("USDC", D("-4.008308"), FEE)]),
    ],
)
def test_coinbase_send_amount_includes_the_network_fee_unless_ccxt_took_the_net(
    network: dict[str, Any], legs: list[Any]
) -> None:
    payload = movement(exchange="coinbase", type="withdrawal", currency="USDC", amount="14.008308",
                       fee={"cost": "4.008308", "currency": "USDC"}, info={"type": "send", "network": network})
    assert legs_of(payload, normalize_ccxt_transaction) == legs


def test_internal_transfers_are_still_deposits_and_withdrawals() -> None:
    tx = normalize_ccxt_transaction(movement(exchange="binance", internal=True, txid="51376627901"), "a",
                                    "r").transaction
    assert tx is not None and tx.kind is TxKind.DEPOSIT and tx.description.endswith("internal transfer")


@pytest.mark.parametrize("status", ["failed", "canceled"])
def test_failed_and_canceled_movements_moved_nothing(status: str) -> None:
    result = normalize_ccxt_transaction(movement(status=status), "a", "r")
    assert (result.transaction, result.problems) == (None, ())


@pytest.mark.parametrize("status", ["pending", None])
def test_pending_movements_wait_with_an_info_problem(status: str | None) -> None:
    result = normalize_ccxt_transaction(movement(status=status), "a", "acct/deposits:R1")
    assert result.transaction is None
    assert [(p.severity, p.source) for p in result.problems] == [(Severity.INFO, "acct/deposits:R1")]
    assert "pending, will be imported when complete" in result.problems[0].message


def test_an_unknown_status_is_a_warning() -> None:
    result = normalize_ccxt_transaction(movement(status="rejected"), "a", "r")
    assert result.transaction is None and result.problems[0].kind is ProblemKind.UNKNOWN_LABEL


@pytest.mark.parametrize(
    ("fields", "column"),
    [({"amount": 1.5}, "amount"), ({"type": "transfer"}, "type"), ({"currency": ""}, "currency"),
     ({"fee": {"cost": 0.01, "currency": "ETH"}}, "fee.cost"), ({"timestamp": None}, "timestamp"),
     ({"exchange": "coinbase", "type": "withdrawal", "amount": "1", "fee": {"cost": "2", "currency": "ETH"},
       "info": {"type": "send"}}, "fee.cost")],
)
def test_unreadable_movement_fields_name_their_column(fields: dict[str, Any], column: str) -> None:
    with pytest.raises(FieldError) as error:
        normalize_ccxt_transaction(movement(**fields), "a", "r")
    assert error.value.column == column


# -- ledger entries -------------------------------------------------------------------------------------------
def entry(**fields: Any) -> dict[str, Any]:
    base = {"exchange": "kraken", "kind": "ledger", "id": "L-1", "timestamp": 1_710_000_000_000, "direction": "in",
            "type": "staking", "currency": "DOT", "amount": "0.0421", "status": "ok", "referenceId": "RS-9",
            "fee": {"cost": "0", "currency": "DOT"}, "info": {"type": "staking", "subtype": ""}}
    return {**base, **fields}


def test_staking_reward_is_income() -> None:
    tx = normalize_ccxt_ledger(entry(), "a", "r").transaction
    assert tx is not None and (tx.kind, tx.subkind, tx.label) == (TxKind.INCOME, "staking", "staking")
    assert _legs(tx) == [("DOT", D("0.0421"), IN)]


@pytest.mark.parametrize(
    ("kind", "subkind"),
    [("earn", "staking"), ("dividend", "interest"), ("interest", "interest"), ("rebate", "reward"),
     ("cashback", "reward"), ("referral", "reward"), ("Prize", "reward")],
)
def test_income_types_and_their_subkinds(kind: str, subkind: str) -> None:
    tx = normalize_ccxt_ledger(entry(type=kind, info={"type": kind, "subtype": "reward"}), "a", "r").transaction
    assert tx is not None and (tx.kind, tx.subkind) == (TxKind.INCOME, subkind)


@pytest.mark.parametrize(
    "fields",
    [{"type": "trade"}, {"type": "transaction", "exchange": "bybit"}, {"type": "transfer"}, {"status": "canceled"},
     {"type": "earn", "info": {"type": "earn", "subtype": "allocation"}}],
)
def test_entries_booked_elsewhere_or_between_own_wallets_give_nothing(fields: dict[str, Any]) -> None:
    result = normalize_ccxt_ledger(entry(**fields), "a", "r")
    assert (result.transaction, result.problems) == (None, ())


def test_unknown_type_is_a_warning_naming_it() -> None:
    result = normalize_ccxt_ledger(entry(type="spend"), "a", "acct/ledger:L-1")
    assert result.transaction is None
    assert [(p.kind, p.severity, p.source) for p in result.problems] == [
        (ProblemKind.UNKNOWN_LABEL, Severity.WARNING, "acct/ledger:L-1")]
    assert "'spend'" in result.problems[0].message


def test_income_type_taking_units_out_is_a_warning() -> None:
    result = normalize_ccxt_ledger(entry(direction="out"), "a", "r")
    assert result.transaction is None and result.problems[0].kind is ProblemKind.UNSUPPORTED


def test_fee_entry_is_a_spend_of_a_fee_leg_and_a_credited_one_a_rebate() -> None:
    paid = normalize_ccxt_ledger(entry(type="fee", direction="out", amount="1.2", currency="USDT"), "a", "r")
    assert paid.transaction is not None and (paid.transaction.kind, paid.transaction.subkind) == (TxKind.SPEND, "fee")
    assert _legs(paid.transaction) == [("USDT", D("-1.2"), FEE)]
    credited = normalize_ccxt_ledger(entry(type="fee", amount="0.3", currency="USDT"), "a", "r")
    assert credited.transaction is not None and credited.transaction.subkind == "reward"
    assert [p.severity for p in credited.problems] == [Severity.INFO]


def test_kraken_entry_fee_is_paid_on_top_of_the_amount() -> None:
    payload = entry(fee={"cost": "0.001", "currency": "DOT"})
    assert legs_of(payload, normalize_ccxt_ledger) == [("DOT", D("0.0421"), IN), ("DOT", D("-0.001"), FEE)]


def test_okx_balance_change_is_signed_and_includes_the_fee() -> None:
    payload = entry(exchange="okx", type="fee", direction=None, amount="-0.5", currency="USDT",
                    fee={"cost": "0.1", "currency": "USDT"}, info={"type": "8"})
    assert legs_of(payload, normalize_ccxt_ledger) == [("USDT", D("-0.4"), FEE), ("USDT", D("-0.1"), FEE)]


@pytest.mark.parametrize(
    ("fields", "why"),
    [({"exchange": "okx", "type": "rebate", "info": {"type": "4"}}, "auto token conversion"),
     ({"exchange": "binance", "type": "rebate", "info": {"incomeType": "COMMISSION_REBATE"}}, "derivatives"),
     ({"type": "margin"}, "margin or derivatives")],
)
def test_ledger_entries_that_are_not_what_their_type_says_are_refused(fields: dict[str, Any], why: str) -> None:
    result = normalize_ccxt_ledger(entry(**fields), "a", "r")
    assert result.transaction is None and result.problems[0].kind is ProblemKind.UNSUPPORTED
    assert why in result.problems[0].message


@pytest.mark.parametrize(
    ("fields", "column"),
    [({"amount": 0.0421}, "amount"), ({"direction": "in", "amount": "-1"}, "direction"),
     ({"direction": "sideways"}, "direction"), ({"fee": {"cost": 0.5, "currency": "DOT"}}, "fee.cost")],
)
def test_unreadable_ledger_fields_name_their_column(fields: dict[str, Any], column: str) -> None:
    with pytest.raises(FieldError) as error:
        normalize_ccxt_ledger(entry(**fields), "a", "r")
    assert error.value.column == column


def test_kraken_ledger_books_deposits_and_withdrawals() -> None:
    """Kraken's movements are imported from its ledger (importer/adapters/kraken.py), so there they count."""
    from taxsync.ledger.sources.ccxt import normalize_ccxt_ledger

    base = {"exchange": "kraken", "kind": "ledger", "timestamp": 1700000000000, "currency": "BTC",
            "info": {"type": "withdrawal"}}
    out = normalize_ccxt_ledger({**base, "id": "L1", "type": "transaction", "direction": "out", "amount": "0.5",
                                 "fee": {"cost": "0.0001", "currency": "BTC"}}, "k", "r").transaction
    assert out is not None and out.kind.value == "withdrawal"
    assert [(leg.asset, str(leg.amount), leg.role.value) for leg in out.legs] == [
        ("BTC", "-0.5", "out"), ("BTC", "-0.0001", "fee")]
    into = normalize_ccxt_ledger({**base, "id": "L2", "type": "transaction", "direction": "in", "amount": "1"},
                                 "k", "r").transaction
    assert into is not None and into.kind.value == "deposit"
    elsewhere = normalize_ccxt_ledger({**base, "exchange": "okx", "id": "L3", "type": "transaction",
                                     "direction": "in", "amount": "1"}, "k", "r")
    assert elsewhere.transaction is None and elsewhere.problems == ()


@pytest.mark.parametrize(
    ("log_type", "category", "expected"),
    [("BONUS", "spot", ("income", "reward")), ("AIRDRP", "spot", ("income", "airdrop")),
     ("INTEREST", "spot", ("fee", "")), ("TRADE", "spot", ("skip", "")),
     ("TRADE", "linear", ("unsupported", "the fee and PnL of a derivatives trade are not supported yet"))],
)
def test_bybit_transaction_log_types(log_type: str, category: str, expected: tuple[str, str]) -> None:
    from taxsync.ledger.sources.ccxt import _ledger_rule

    assert _ledger_rule("bybit", "whatever-ccxt-says", {"type": log_type, "category": category}) == expected
