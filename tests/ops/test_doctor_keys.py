"""Doctor's key section: the read-only status of every key, asked of the exchange (importer/permissions.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from importer.permissions import READ_ONLY_HOWTO
from importer.simulator.history import SimHistory
from importer.simulator.server import SimKey, Simulator
from taxsync.app import accounts
from taxsync.app.workspace import Workspace, init_workspace
from taxsync.cli import app
from taxsync.ops.doctor import DoctorContext, Health, run_doctor
from tests.ops.conftest import KEY

WITHDRAWING = SimKey("ops-withdraw-key", "ops-withdraw-secret", can_trade=True, can_withdraw=True)
runner = CliRunner()


@pytest.fixture
def two_keys_ws(tmp_path: Path, small_history: SimHistory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    monkeypatch.setenv("WD_KEY", WITHDRAWING.api_key)
    monkeypatch.setenv("WD_SECRET", WITHDRAWING.secret)
    with Simulator(small_history, [KEY, WITHDRAWING], weight_limit_per_minute=10**9) as sim:
        ws = init_workspace(tmp_path / "ws")
        for name, key, secret in (("good", "OPS_KEY", "OPS_SECRET"), ("risky", "WD_KEY", "WD_SECRET")):
            accounts.add_account(ws, name, exchange="binance", api_key_env=key, secret_env=secret, api_url=sim.url,
                                 since=date(2019, 1, 1))
        yield ws
        ws.engine.dispose()


def test_a_key_that_can_withdraw_is_an_error_with_the_way_to_a_read_only_one(two_keys_ws: Workspace) -> None:
    (keys,) = run_doctor(DoctorContext(two_keys_ws.home, two_keys_ws, retry_delay=0.01), ["keys"])
    found = {f.subject: f for f in keys.findings}
    assert (found["good"].verdict, found["good"].message) == (Health.OK, "key is read-only")
    assert found["risky"].verdict is Health.ERROR and "can withdraw" in found["risky"].message
    assert found["risky"].advice == READ_ONLY_HOWTO
    result = runner.invoke(app, ["doctor", "--section", "keys", "--home", str(two_keys_ws.home)])
    assert result.exit_code == 1 and "ERROR   risky:" in result.stdout
    assert WITHDRAWING.secret not in result.stdout


def test_offline_doctor_reports_when_each_key_was_last_checked(two_keys_ws: Workspace) -> None:
    (keys,) = run_doctor(DoctorContext(two_keys_ws.home, two_keys_ws, online=False), ["keys"])
    assert {(f.subject, f.verdict, f.message) for f in keys.findings} == {
        ("good", Health.WARNING, "the key was never checked"), ("risky", Health.WARNING, "the key was never checked")}
    accounts.check_accounts(two_keys_ws, ["good"])
    (keys,) = run_doctor(DoctorContext(two_keys_ws.home, two_keys_ws, online=False), ["keys"])
    good = next(f for f in keys.findings if f.subject == "good")
    assert good.verdict is Health.OK and good.message.startswith("key last checked ")
