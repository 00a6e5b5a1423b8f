"""`taxsync schedule`: a systemd user timer or a crontab line, against temporary folders and fake commands."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from taxsync.app.workspace import Workspace
from taxsync.cli import app
from taxsync.errors import UsageError
from taxsync.ops import schedule

runner = CliRunner()

FAKE_CRONTAB = """#!/bin/sh
# a crontab(1) that keeps the table in $FAKE_CRON_FILE
if [ "$1" = "-l" ]; then
  if [ -f "$FAKE_CRON_FILE" ]; then cat "$FAKE_CRON_FILE"; else echo "no crontab for tester" >&2; exit 1; fi
elif [ "$1" = "-" ]; then
  cat > "$FAKE_CRON_FILE"
else
  exit 2
fi
"""
FAKE_SYSTEMCTL = """#!/bin/sh
echo "$@" >> "$FAKE_SYSTEMCTL_LOG"
"""


def _tool(folder: Path, name: str, script: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(script)
    path.chmod(0o755)
    return path


@pytest.fixture
def cron(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake `crontab` first on PATH; the table it keeps, with a line of the user's own."""
    bin_dir = tmp_path / "bin"
    _tool(bin_dir, "crontab", FAKE_CRONTAB)
    table = tmp_path / "crontab.txt"
    table.write_text("15 4 * * 1 /home/me/weekly-report.sh\n")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_CRON_FILE", str(table))
    monkeypatch.setenv("TAXSYNC_SCHEDULER", "cron")
    monkeypatch.setenv("TAXSYNC_CRONTAB", "crontab")  # found on PATH: the fake one
    return table


@pytest.fixture
def systemd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A temporary unit folder and a fake `systemctl` that logs its arguments."""
    units, log = tmp_path / "units", tmp_path / "systemctl.log"
    monkeypatch.setenv("TAXSYNC_SYSTEMD_USER_DIR", str(units))
    monkeypatch.setenv("TAXSYNC_SYSTEMCTL", str(_tool(tmp_path / "bin", "systemctl", FAKE_SYSTEMCTL)))
    monkeypatch.setenv("FAKE_SYSTEMCTL_LOG", str(log))
    monkeypatch.setenv("TAXSYNC_SCHEDULER", "systemd")
    return units, log


def test_cron_install_show_remove_keeps_the_users_other_lines(workspace: Workspace, cron: Path) -> None:
    home = str(workspace.home)
    result = runner.invoke(app, ["schedule", "install", "--at", "03:05", "--home", home])
    assert result.exit_code == 0, result.output
    lines = cron.read_text().splitlines()
    assert lines[0] == "15 4 * * 1 /home/me/weekly-report.sh"
    assert lines[1].startswith("5 3 * * * ") and "-m taxsync nightly --home" in lines[1] and home in lines[1]
    assert lines[1].endswith(f"# taxsync-nightly {schedule.job_id(workspace.home)}")

    runner.invoke(app, ["schedule", "install", "--at", "01:00", "--home", home])  # again: replaces, not adds
    lines = cron.read_text().splitlines()
    assert len(lines) == 2 and lines[1].startswith("0 1 * * * ")

    shown = runner.invoke(app, ["schedule", "show", "--home", home])
    assert shown.exit_code == 0 and "cron: every day at 01:00" in shown.stdout

    removed = runner.invoke(app, ["schedule", "remove", "--home", home])
    assert removed.exit_code == 0 and "Removed" in removed.stdout
    assert cron.read_text().splitlines() == ["15 4 * * 1 /home/me/weekly-report.sh"]
    assert "There was no schedule" in runner.invoke(app, ["schedule", "remove", "--home", home]).stdout


def test_cron_line_escapes_percent_signs_and_sources_the_env_file(tmp_path: Path, cron: Path) -> None:
    home = tmp_path / "100% taxes"
    env_file = tmp_path / "keys.env"
    env_file.write_text("OPS_KEY=x\n")
    env_file.chmod(0o600)
    schedule.install(home, at="2:30", env_file=env_file)
    line = cron.read_text().splitlines()[-1]
    assert "100\\% taxes" in line and "%" not in line.replace("\\%", "")
    assert line.startswith("30 2 * * * set -a && . ") and str(env_file) in line


def test_an_env_file_others_can_read_is_refused(tmp_path: Path, cron: Path) -> None:
    env_file = tmp_path / "keys.env"
    env_file.write_text("OPS_KEY=x\n")
    env_file.chmod(0o644)
    with pytest.raises(UsageError, match="chmod 600"):
        schedule.install(tmp_path, env_file=env_file)


@pytest.mark.parametrize("bad", ["24:00", "2:3", "noon", "02:60"])
def test_bad_times_are_usage_errors(workspace: Workspace, cron: Path, bad: str) -> None:
    result = runner.invoke(app, ["schedule", "install", "--at", bad, "--home", str(workspace.home)])
    assert result.exit_code == 2 and "--at takes a time of day" in result.output


def test_systemd_timer_and_service_are_written_enabled_and_removed(workspace: Workspace,
                                                                   systemd: tuple[Path, Path]) -> None:
    units, log = systemd
    result = runner.invoke(app, ["schedule", "install", "--at", "02:30", "--home", str(workspace.home)])
    assert result.exit_code == 0, result.output
    name = f"taxsync-nightly-{schedule.job_id(workspace.home)}"
    timer, service = (units / f"{name}.timer").read_text(), (units / f"{name}.service").read_text()
    assert "OnCalendar=*-*-* 02:30:00" in timer and "Persistent=true" in timer
    assert "Type=oneshot" in service and '"-m" "taxsync" "nightly" "--home"' in service
    assert stat.S_IMODE((units / f"{name}.service").stat().st_mode) == 0o600
    assert log.read_text().splitlines() == ["--user daemon-reload", f"--user enable --now {name}.timer"]

    shown = runner.invoke(app, ["schedule", "show", "--home", str(workspace.home)])
    assert "systemd: every day at 02:30" in shown.stdout

    assert runner.invoke(app, ["schedule", "remove", "--home", str(workspace.home)]).exit_code == 0
    assert not list(units.iterdir())
    assert log.read_text().splitlines()[-2:] == [f"--user disable --now {name}.timer", "--user daemon-reload"]


def test_a_failing_systemctl_is_a_clear_configuration_error(workspace: Workspace, systemd: tuple[Path, Path],
                                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    failing = _tool(tmp_path / "bin2", "systemctl", "#!/bin/sh\necho 'Failed to connect to bus' >&2\nexit 1\n")
    monkeypatch.setenv("TAXSYNC_SYSTEMCTL", str(failing))
    result = runner.invoke(app, ["schedule", "install", "--home", str(workspace.home)])
    assert result.exit_code == 3 and "Failed to connect to bus" in result.output


def test_env_var_keys_without_an_env_file_get_a_note(workspace: Workspace, cron: Path) -> None:
    from taxsync.app import accounts

    accounts.add_account(workspace, "b", exchange="binance", api_key_env="K", secret_env="S")
    result = runner.invoke(app, ["schedule", "install", "--home", str(workspace.home)])
    assert result.exit_code == 0 and "--env-file" in result.output


def test_the_installed_cron_line_runs_the_nightly_job_with_the_keys_from_the_env_file(
        tmp_path: Path, cron: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    from importer.simulator.history import generate_history
    from importer.simulator.server import Simulator
    from tests.ops.conftest import KEY, make_workspace

    env_file = tmp_path / "keys.env"
    env_file.write_text(f"OPS_KEY={KEY.api_key}\nOPS_SECRET={KEY.secret}\n")
    env_file.chmod(0o600)
    history = generate_history(seed=4, trades=30, markets=8, traded=2, years=1, deposits=3, withdrawals=1)
    with Simulator(history, [KEY], weight_limit_per_minute=10**9) as sim:
        ws = make_workspace(tmp_path / "my taxes", sim.url)
        assert runner.invoke(app, ["schedule", "install", "--env-file", str(env_file), "--home",
                                   str(ws.home)]).exit_code == 0
        line = cron.read_text().splitlines()[-1]
        command = line.split(" ", 5)[5]  # what cron hands to /bin/sh, after the five time fields
        monkeypatch.delenv("OPS_KEY")
        monkeypatch.delenv("OPS_SECRET")  # as under cron: only the env file has them
        done = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, timeout=300,
                              check=False, env={k: v for k, v in os.environ.items() if not k.startswith("OPS_")})
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("taxsync nightly OK: 1/1 accounts imported (+")


def test_systemd_units_quote_the_command_and_name_the_env_file(tmp_path: Path, systemd: tuple[Path, Path]) -> None:
    units, _ = systemd
    home = tmp_path / 'my "100%" taxes'
    env_file = tmp_path / "keys.env"
    env_file.write_text("OPS_KEY=x\n")
    env_file.chmod(0o600)
    schedule.install(home, at="23:59", env_file=env_file)
    service = (units / f"taxsync-nightly-{schedule.job_id(home)}.service").read_text()
    assert f"EnvironmentFile={env_file}\n" in service
    assert '"--home" "' + str(home.resolve()).replace('"', '\\"').replace("%", "%%") + '"' in service
