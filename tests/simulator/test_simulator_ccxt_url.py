"""``point_ccxt_at`` works for any ccxt exchange; ``python -m importer.simulator`` serves until SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import ccxt
import pytest

from importer.ccxt_url import point_ccxt_at, rewrite_url

REPO = Path(__file__).resolve().parents[2]


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []


@pytest.mark.parametrize("name", ["binance", "okx", "bybit", "kraken", "coinbase", "kucoin", "gemini", "bitstamp"])
def test_every_api_url_is_rewritten(name: str) -> None:
    ex = getattr(ccxt, name)()
    before = _strings(ex.urls["api"])
    point_ccxt_at(ex, "http://127.0.0.1:8123/")
    after = _strings(ex.urls["api"])
    assert len(after) == len(before)
    for old, new in zip(before, after, strict=True):
        if old.startswith("http"):
            _host, slash, path = old.split("://", 1)[1].partition("/")
            assert new == "http://127.0.0.1:8123" + slash + path and "{hostname}" not in new
        else:
            assert new == old


def test_rewrite_url_keeps_paths_and_prefixes() -> None:
    assert rewrite_url("https://api.binance.com/sapi/v1", "http://h:1") == "http://h:1/sapi/v1"
    assert rewrite_url("https://{hostname}", "http://h:1/") == "http://h:1"
    assert rewrite_url("https://api.{hostname}/v5", "https://proxy/x") == "https://proxy/x/v5"
    assert rewrite_url("wss://stream.binance.com:9443/ws", "http://h:1") == "wss://stream.binance.com:9443/ws"
    with pytest.raises(ValueError):
        point_ccxt_at(ccxt.binance(), "127.0.0.1:8000")


def test_module_runs_until_sigterm_and_writes_its_url(tmp_path: Path) -> None:
    url_file = tmp_path / "url"
    proc = subprocess.Popen([sys.executable, "-m", "importer.simulator", "--exchange", "binance", "--seed", "1",
                             "--trades", "50", "--port", "0", "--url-file", str(url_file)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while not url_file.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        url = url_file.read_text().strip()
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "/api/v3/time", timeout=5) as reply:
            assert "serverTime" in json.loads(reply.read())
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert proc.stderr is not None and proc.stderr.read() == b""  # quiet: no request log
    finally:
        if proc.poll() is None:
            proc.kill()
