"""``taxsync transfers``: list what was matched, link and unlink by hand, give a deposit's cost; the decisions
hold when the same files are imported again, and even when an account is imported anew from a renamed file."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from taxsync.cli.common import out
from tests.conftest import write_koinly

# exchange: buys 1 BTC, sends 0.5 BTC (+0.0005 fee) that arrives three weeks later, sends 0.2 BTC with a hash
EXCHANGE = (
    "2024-01-10 10:00:00 UTC,40000,USD,1,BTC,,,,,,Buy BTC,",
    "2024-02-01 10:00:00 UTC,0.5,BTC,,,0.0005,BTC,21000,USD,,Send BTC to wallet,",
    "2024-03-01 10:00:00 UTC,0.2,BTC,,,,,,,,Send BTC to wallet,0xabc",
)
WALLET = (
    "2024-02-20 10:00:00 UTC,,,0.4995,BTC,,,,,,Arrived late,",
    "2024-03-01 10:05:00 UTC,,,0.2,BTC,,,,,,From the exchange,0xabc",
    "2024-05-01 10:00:00 UTC,,,2,ETH,,,,,,Bought on an exchange not imported,",
)
LATE = ("exchange/exchange.csv:3", "wallet/wallet.csv:2")  # too late for the rules
HASHED = ("exchange/exchange.csv:4", "wallet/wallet.csv:3")  # matched by the rules on its hash
ETH_IN = "wallet/wallet.csv:4"


@pytest.fixture
def files(cli, home: Path, tmp_path: Path) -> tuple[Path, Path]:
    exchange = write_koinly(tmp_path / "exchange.csv", *EXCHANGE)
    wallet = write_koinly(tmp_path / "wallet.csv", *WALLET)
    cli("init", "--home", home, "--jurisdiction", "us", "--currency", "USD", "--method", "fifo",
        "--tracking", "per-wallet")
    import_both(cli, home, exchange, wallet)
    return exchange, wallet


def import_both(cli, home: Path, exchange: Path, wallet: Path) -> None:
    cli("import-file", exchange, "--account", "exchange", "--home", home)
    cli("import-file", wallet, "--account", "wallet", "--home", home)


def listed(cli, home: Path, *options: str) -> list[tuple[str | None, str | None, str | None]]:
    rows = json.loads(cli("transfers", "list", "--json", "--home", home, *options).stdout)
    return [(r["matched_by"], r["withdrawal"] and r["withdrawal"]["ref"], r["deposit"] and r["deposit"]["ref"])
            for r in rows]


def holdings(cli, home: Path) -> dict[tuple[str, str], tuple[D, D]]:
    rows = json.loads(cli("holdings", "--json", "--home", home).stdout)
    return {(h["asset"], h["account"]): (D(h["amount"]), D(h["cost"])) for h in rows}


def problems(cli, home: Path) -> set[tuple[str, str]]:
    return {(p["kind"], p["source"]) for p in json.loads(cli("problems", "--json", "--home", home).stdout)}


def table(home: Path, name: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(home / "taxsync.db") as connection:
        return connection.execute(f"select * from {name} order by id").fetchall()


def test_list_shows_what_was_matched_and_how_and_what_was_not(cli, home: Path, files, monkeypatch) -> None:
    assert listed(cli, home) == [(None, LATE[0], None), (None, None, LATE[1]), ("txhash", *HASHED),
                                 (None, None, ETH_IN)]
    assert listed(cli, home, "--unmatched") == [(None, LATE[0], None), (None, None, LATE[1]), (None, None, ETH_IN)]
    assert listed(cli, home, "--year", "2023") == []
    rows = json.loads(cli("transfers", "list", "--json", "--home", home).stdout)
    assert rows[2] == {
        "status": "matched", "matched_by": "txhash", "asset": "BTC", "cost": None,
        "withdrawal": {"ref": HASHED[0], "account": "exchange", "amount": "0.2", "time": "2024-03-01T10:00:00Z"},
        "deposit": {"ref": HASHED[1], "account": "wallet", "amount": "0.2", "time": "2024-03-01T10:05:00Z"}}
    monkeypatch.setattr(out, "_width", 200)  # a wide terminal: one line per row
    text = cli("transfers", "list", "--home", home).stdout
    assert "txhash" in text and "unmatched" in text and HASHED[1] in text


def test_a_link_moves_the_lots_and_holds_across_reimports(cli, home: Path, files) -> None:
    assert {("unmatched_withdrawal", LATE[0]), ("unmatched_deposit", LATE[1])} <= problems(cli, home)
    assert "Linked exchange/exchange.csv:3 -> wallet/wallet.csv:2" in cli("transfers", "link", *LATE,
                                                                           "--home", home).stdout
    moved = {("BTC", "exchange"): (D("0.2995"), D("11980")), ("BTC", "wallet"): (D("0.6995"), D("27980"))}

    def check() -> None:
        assert listed(cli, home)[:2] == [("manual", *LATE), ("txhash", *HASHED)]
        assert {k: v for k, v in holdings(cli, home).items() if k[0] == "BTC"} == moved
        assert not {("unmatched_withdrawal", LATE[0]), ("unmatched_deposit", LATE[1])} & problems(cli, home)

    check()
    import_both(cli, home, *files)  # the ledger is rebuilt with new transaction ids
    check()
    assert [row[5] for row in table(home, "transfer_links")] == ["link"]
    cli("transfers", "link", *LATE, "--home", home)  # the same decision twice is kept once
    assert len(table(home, "transfer_links")) == 1


def test_an_unlinked_match_stays_apart_after_reimport(cli, home: Path, files) -> None:
    assert "(they were paired by txhash)" in cli("transfers", "unlink", *HASHED, "--home", home).stdout
    for _ in range(2):
        assert (None, HASHED[0], None) in listed(cli, home) and (None, None, HASHED[1]) in listed(cli, home)
        assert {("unmatched_withdrawal", HASHED[0]), ("unmatched_deposit", HASHED[1])} <= problems(cli, home)
        import_both(cli, home, *files)
    cli("transfers", "link", *HASHED, "--home", home)  # changed their mind: the newest decision counts
    assert ("manual", *HASHED) in listed(cli, home)


def test_a_link_survives_its_account_being_imported_anew_from_a_renamed_file(cli, home: Path, files,
                                                                              tmp_path: Path) -> None:
    cli("transfers", "link", *LATE, "--home", home)
    cli("account", "remove", "wallet", "--home", home)
    assert ("ignored_manual_entry", LATE[0]) in problems(cli, home)  # its deposit is gone: a problem, no crash
    renamed = write_koinly(tmp_path / "wallet-2024.csv", *WALLET)
    cli("import-file", renamed, "--account", "wallet", "--home", home)
    assert listed(cli, home)[0] == ("manual", LATE[0], "wallet/wallet-2024.csv:2")  # same rows, new refs
    assert "ignored_manual_entry" not in {kind for kind, _ in problems(cli, home)}


def test_decisions_about_rows_that_are_gone_are_problems_until_ended(cli, home: Path, files) -> None:
    cli("transfers", "link", *LATE, "--home", home)
    cli("transfers", "cost", ETH_IN, "5000", "--home", home)
    cli("account", "remove", "wallet", "--home", home)
    found = {p["source"]: p["message"] for p in json.loads(cli("problems", "--json", "--home", home).stdout)
             if p["kind"] == "ignored_manual_entry"}
    assert f"end it with `taxsync transfers unlink {LATE[0]} {LATE[1]}`" in found[LATE[0]]
    assert f"end it with `taxsync transfers cost {ETH_IN} --clear`" in found[ETH_IN]
    assert "(they were not paired)" in cli("transfers", "unlink", *LATE, "--home", home).stdout
    cli("transfers", "cost", ETH_IN, "--clear", "--home", home)
    assert "ignored_manual_entry" not in {kind for kind, _ in problems(cli, home)}


def test_a_deposit_cost_is_kept_and_shown(cli, home: Path, files) -> None:
    cli("transfers", "cost", ETH_IN, "5000.00", "--note", "Kraken invoice 17", "--home", home)
    row = json.loads(cli("transfers", "list", "--json", "--unmatched", "--home", home).stdout)[-1]
    assert (row["deposit"]["ref"], row["cost"]) == (ETH_IN, {"amount": "5000", "currency": "USD", "acquired": None})
    cli("transfers", "cost", ETH_IN, "5100", "--home", home)  # replaces
    import_both(cli, home, *files)
    assert [(r[2], r[3], r[4], r[5]) for r in table(home, "deposit_costs")] == [(ETH_IN, "5100", "USD", "")]
    note = cli("transfers", "cost", LATE[1], "1", "--home", home).stdout
    assert "part of the transfer" not in note
    cli("transfers", "link", *LATE, "--home", home)
    assert "part of the transfer exchange/exchange.csv:3 -> wallet/wallet.csv:2 (manual)" in cli(
        "transfers", "cost", LATE[1], "2", "--home", home).stdout
    cli("transfers", "cost", LATE[1], "--clear", "--home", home)
    assert [r[2] for r in table(home, "deposit_costs")] == [ETH_IN]


def test_a_deposit_cost_becomes_the_cost_of_its_units(cli, home: Path, files) -> None:
    cli("transfers", "cost", ETH_IN, "5000", "--home", home)
    assert holdings(cli, home)[("ETH", "wallet")] == (D("2"), D("5000"))
    assert ("unmatched_deposit", ETH_IN) not in problems(cli, home)


@pytest.mark.parametrize("jurisdiction", ["us", "de"])
def test_units_acquired_before_they_arrived_are_held_from_that_day(cli, home: Path, tmp_path: Path,
                                                                   jurisdiction: str) -> None:
    """1 ETH bought here in April 2024, 1 ETH bought elsewhere in January 2022 and deposited in May, 1 ETH sold
    in July. Told when the deposited ETH was acquired, FIFO sells it first (the oldest), held two and a half
    years: long-term in the US (IRC s.1222), and in Germany tax-free after a year (s.23 EStG). Not told, the
    sale takes April's ETH, short-term."""
    currency = "USD" if jurisdiction == "us" else "EUR"
    exchange = write_koinly(tmp_path / "exchange.csv", f"2024-04-01 10:00:00 UTC,3300,{currency},1,ETH,,,,,,Buy,",
                            f"2024-07-01 10:00:00 UTC,1,ETH,3400,{currency},,,,,,Sell,")
    wallet = write_koinly(tmp_path / "wallet.csv", "2024-05-01 10:00:00 UTC,,,1,ETH,,,,,,From elsewhere,")
    cli("init", "--home", home, "--jurisdiction", jurisdiction, "--currency", currency, "--method", "fifo",
        "--tracking", "universal")
    import_both(cli, home, exchange, wallet)
    deposit = "wallet/wallet.csv:2"

    def sale() -> tuple[str, str, str]:
        report = cli("report", "--year", "2024", "--format", "json", "--out", tmp_path / "out", "--home", home)
        written = next(line.split(" ", 1)[1] for line in report.stdout.splitlines() if line.endswith(".json"))
        (row,) = json.loads(Path(written).read_text())["disposals"]
        return row["acquired"], row["cost"], row["term"]

    cli("transfers", "cost", deposit, "1000", "--home", home)
    assert sale() == ("2024-04-01", "3300", "short")
    said = cli("transfers", "cost", deposit, "1000", "--acquired", "2022-01-15", "--home", home).stdout
    assert f"Cost of {deposit}: 1000 {currency}, acquired 2022-01-15" in said
    assert sale() == ("2022-01-15", "1000", "long")
    (row,) = json.loads(cli("transfers", "list", "--json", "--unmatched", "--home", home).stdout)
    start = "2022-01-15T05:00:00Z" if jurisdiction == "us" else "2022-01-14T23:00:00Z"  # the local day's start
    assert row["cost"] == {"amount": "1000", "currency": currency, "acquired": start}
    assert "is after the deposit arrived" in cli("transfers", "cost", deposit, "1000", "--acquired", "2024-05-02",
                                                 "--home", home, code=2).output
    assert "not a day such as 2023-04-30" in cli("transfers", "cost", deposit, "1000", "--acquired", "15.01.2022",
                                                 "--home", home, code=2).output


def test_bad_requests_say_what_is_wrong(cli, home: Path, files) -> None:
    def error(*args: str) -> str:
        return cli("transfers", *args, "--home", home, code=2).output

    assert "no transaction 'exchange/nope.csv:9'" in error("link", "exchange/nope.csv:9", LATE[1])
    assert "give the withdrawal first, then the deposit" in error("link", LATE[1], LATE[0])
    assert "is a trade, not a withdrawal" in error("link", "exchange/exchange.csv:2", LATE[1])
    assert "the withdrawal moves BTC but the deposit ETH" in error("link", LATE[0], ETH_IN)
    assert "is more than was withdrawn" in error("link", HASHED[0], LATE[1])
    cli("transfers", "link", *LATE, "--home", home)
    assert f"{LATE[0]} is already linked by hand ({LATE[0]} -> {LATE[1]}): run `taxsync transfers unlink" in error(
        "link", LATE[0], HASHED[1])
    assert "not a number" in error("cost", ETH_IN, "five")
    assert "zero or more" in cli("transfers", "cost", "--home", home, ETH_IN, "--", "-1", code=2).output
    assert error("cost", LATE[0], "1").strip().endswith("is a withdrawal, not a deposit")
    assert "no cost was given" in error("cost", ETH_IN, "--clear")
    assert "not a tax year" in error("list", "--year", "twenty")
