"""``taxsync schedule``: run ``taxsync nightly`` every night, by a systemd user timer or a crontab line.

Where systemd runs (``/run/systemd/system`` exists and ``systemctl`` is found) the schedule is a user timer
(``~/.config/systemd/user/taxsync-nightly-<id>.timer`` and its ``.service``; ``Persistent=true`` runs a night
that was missed while the machine was off at the next boot); elsewhere it is one line in the user's crontab,
marked with a comment so that ``schedule remove`` takes out exactly that line and nothing else. ``<id>`` is
derived from the workspace folder, so several workspaces can each have their own schedule.

Everything that touches the system is injectable, for tests and unusual set-ups: ``TAXSYNC_SYSTEMD_USER_DIR``
(the unit folder), ``TAXSYNC_SYSTEMCTL`` and ``TAXSYNC_CRONTAB`` (the commands), ``TAXSYNC_SCHEDULER``
(``systemd`` or ``cron``, instead of detecting). The job reads API keys kept in environment variables from an
``--env-file`` (a file of ``NAME=value`` lines, readable by its owner only) that taxsync never reads or writes.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from taxsync.errors import ConfigError, UsageError
from taxsync.safety import loose_mode, owner_only, private_dir

SYSTEMD, CRON = "systemd", "cron"
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class System:
    """Where schedules live and the commands that manage them."""

    systemd_dir: Path
    systemctl: tuple[str, ...]
    crontab: str
    scheduler: str  # systemd or cron

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> System:
        env = os.environ if environ is None else environ
        config_home = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        systemd_dir = Path(env.get("TAXSYNC_SYSTEMD_USER_DIR") or config_home / "systemd" / "user")
        systemctl = (*shlex.split(env.get("TAXSYNC_SYSTEMCTL", "systemctl")), "--user")
        crontab = env.get("TAXSYNC_CRONTAB", "crontab")
        scheduler = env.get("TAXSYNC_SCHEDULER", "")
        if scheduler and scheduler not in (SYSTEMD, CRON):
            raise ConfigError(f"TAXSYNC_SCHEDULER must be systemd or cron, not '{scheduler}'")
        if not scheduler:
            booted = Path("/run/systemd/system").is_dir() and shutil.which(systemctl[0]) is not None
            scheduler = SYSTEMD if booted else CRON
        return cls(systemd_dir, systemctl, crontab, scheduler)


@dataclass(frozen=True, slots=True)
class Schedule:
    scheduler: str
    at: str  # HH:MM, local time of the machine
    command: str
    where: str  # the unit files or "crontab"


def parse_time(value: str) -> tuple[int, int]:
    match = _TIME.match(value.strip())
    if not match:
        raise UsageError(f"--at takes a time of day such as 02:30 (24-hour clock), not '{value}'")
    return int(match.group(1)), int(match.group(2))


def job_id(home: Path) -> str:
    return hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:8]


def _unit(home: Path) -> str:
    return f"taxsync-nightly-{job_id(home)}"


def _marker(home: Path) -> str:
    return f"# taxsync-nightly {job_id(home)}"


def nightly_command(home: Path, extra: tuple[str, ...] = ()) -> list[str]:
    return [sys.executable, "-m", "taxsync", "nightly", "--home", str(home.resolve()), *extra]


def _run(command: list[str], *, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=60, check=False)
    except FileNotFoundError:
        raise ConfigError(f"'{command[0]}' was not found: install it, or choose the other scheduler with "
                          "TAXSYNC_SCHEDULER=systemd|cron") from None


def _check_env_file(env_file: Path | None) -> Path | None:
    if env_file is None:
        return None
    path = env_file.expanduser().resolve()
    if not path.is_file():
        raise UsageError(f"--env-file {path} does not exist: create it with NAME=value lines (chmod 600)")
    if loose_mode(path):
        raise UsageError(f"--env-file {path} can be read by {loose_mode(path)}; it holds API keys: chmod 600 {path}")
    return path


# -- systemd -------------------------------------------------------------------------------------------------------
def _systemd_quote(argument: str) -> str:
    escaped = argument.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{escaped}"'


def _systemd_units(home: Path, at: tuple[int, int], env_file: Path | None) -> dict[str, str]:
    unit = _unit(home)
    exec_start = " ".join(_systemd_quote(a) for a in nightly_command(home))
    # EnvironmentFile= takes a bare absolute path (no quotes); only specifiers need escaping
    env_line = f"EnvironmentFile={str(env_file).replace('%', '%%')}\n" if env_file else ""
    service = ("[Unit]\n"
               f"Description=taxsync nightly import of {home}\n\n"
               "[Service]\nType=oneshot\n"
               f"{env_line}"
               f"ExecStart={exec_start}\n"
               "Nice=10\n")
    timer = ("[Unit]\n"
             f"Description=Run taxsync nightly for {home} at {at[0]:02d}:{at[1]:02d}\n\n"
             "[Timer]\n"
             f"OnCalendar=*-*-* {at[0]:02d}:{at[1]:02d}:00\n"
             "Persistent=true\n\n"
             "[Install]\nWantedBy=timers.target\n")
    return {f"{unit}.service": service, f"{unit}.timer": timer}


def _install_systemd(system: System, home: Path, at: tuple[int, int], env_file: Path | None) -> Schedule:
    units = _systemd_units(home, at, env_file)
    private_dir(system.systemd_dir)
    with owner_only():
        for name, text in units.items():
            temporary = system.systemd_dir / f".{name}.tmp"
            temporary.write_text(text, encoding="utf-8")
            temporary.replace(system.systemd_dir / name)
    timer = f"{_unit(home)}.timer"
    for step in (["daemon-reload"], ["enable", "--now", timer]):
        done = _run([*system.systemctl, *step])
        if done.returncode != 0:
            raise ConfigError(f"`systemctl --user {' '.join(step)}` failed: {done.stderr.strip() or done.stdout}"
                              f" (the unit files are in {system.systemd_dir})")
    return Schedule(SYSTEMD, f"{at[0]:02d}:{at[1]:02d}", " ".join(shlex.quote(a) for a in nightly_command(home)),
                    str(system.systemd_dir / timer))


def _show_systemd(system: System, home: Path) -> Schedule | None:
    timer = system.systemd_dir / f"{_unit(home)}.timer"
    service = system.systemd_dir / f"{_unit(home)}.service"
    if not timer.is_file():
        return None
    calendar = re.search(r"^OnCalendar=\*-\*-\* (\d\d:\d\d)", timer.read_text(encoding="utf-8"), re.M)
    command = re.search(r"^ExecStart=(.*)$", service.read_text(encoding="utf-8"), re.M) if service.is_file() else None
    return Schedule(SYSTEMD, calendar.group(1) if calendar else "?", command.group(1) if command else "?", str(timer))


def _remove_systemd(system: System, home: Path) -> bool:
    timer = system.systemd_dir / f"{_unit(home)}.timer"
    if not timer.exists():
        return False
    _run([*system.systemctl, "disable", "--now", timer.name])  # an already stopped timer is fine
    for name in (timer.name, f"{_unit(home)}.service"):
        (system.systemd_dir / name).unlink(missing_ok=True)
    _run([*system.systemctl, "daemon-reload"])
    return True


# -- cron ----------------------------------------------------------------------------------------------------------
def _read_crontab(system: System) -> list[str]:
    done = _run([system.crontab, "-l"])
    if done.returncode != 0:
        if "no crontab" in (done.stderr + done.stdout).lower():
            return []
        raise ConfigError(f"`{system.crontab} -l` failed: {done.stderr.strip()}")
    return done.stdout.splitlines()


def _write_crontab(system: System, lines: list[str]) -> None:
    done = _run([system.crontab, "-"], stdin="".join(f"{line}\n" for line in lines))
    if done.returncode != 0:
        raise ConfigError(f"`{system.crontab} -` refused the new crontab: {done.stderr.strip()}")


def _cron_line(home: Path, at: tuple[int, int], env_file: Path | None) -> str:
    command = " ".join(shlex.quote(a) for a in nightly_command(home))
    if env_file:
        command = f"set -a && . {shlex.quote(str(env_file))} && set +a && {command}"
    command = command.replace("%", "\\%")  # cron turns a bare % into a newline
    return f"{at[1]} {at[0]} * * * {command} {_marker(home)}"


def _install_cron(system: System, home: Path, at: tuple[int, int], env_file: Path | None) -> Schedule:
    lines = [line for line in _read_crontab(system) if not line.endswith(_marker(home))]
    line = _cron_line(home, at, env_file)
    _write_crontab(system, [*lines, line])
    return Schedule(CRON, f"{at[0]:02d}:{at[1]:02d}", line, "crontab")


def _show_cron(system: System, home: Path) -> Schedule | None:
    for line in _read_crontab(system):
        if line.endswith(_marker(home)):
            minute, hour = line.split()[:2]
            return Schedule(CRON, f"{int(hour):02d}:{int(minute):02d}", line, "crontab")
    return None


def _remove_cron(system: System, home: Path) -> bool:
    lines = _read_crontab(system)
    kept = [line for line in lines if not line.endswith(_marker(home))]
    if len(kept) == len(lines):
        return False
    _write_crontab(system, kept)
    return True


Installer = Callable[[System, Path, tuple[int, int], Path | None], Schedule]
SCHEDULERS: dict[str, tuple[Installer, Callable[[System, Path], Schedule | None], Callable[[System, Path], bool]]] = {
    SYSTEMD: (_install_systemd, _show_systemd, _remove_systemd),
    CRON: (_install_cron, _show_cron, _remove_cron),
}


def install(home: Path, *, at: str = "02:30", env_file: Path | None = None, system: System | None = None) -> Schedule:
    """Schedule ``taxsync nightly`` for the workspace ``home`` every day at ``at`` (replacing an earlier one)."""
    chosen = system or System.from_environ()
    when = parse_time(at)
    env = _check_env_file(env_file)
    for other in SCHEDULERS:  # one schedule per workspace: switching schedulers takes the old one out
        if other != chosen.scheduler and _installed_elsewhere(chosen, other, home):
            SCHEDULERS[other][2](chosen, home)
    return SCHEDULERS[chosen.scheduler][0](chosen, home, when, env)


def _installed_elsewhere(system: System, scheduler: str, home: Path) -> bool:
    if scheduler == SYSTEMD:
        return (system.systemd_dir / f"{_unit(home)}.timer").exists()
    try:
        return _show_cron(system, home) is not None
    except ConfigError:
        return False  # no crontab command on this machine: nothing of ours there


def show(home: Path, *, system: System | None = None) -> Schedule | None:
    chosen = system or System.from_environ()
    return SCHEDULERS[chosen.scheduler][1](chosen, home)


def remove(home: Path, *, system: System | None = None) -> bool:
    """Take the workspace's schedule out; False when there was none."""
    chosen = system or System.from_environ()
    return SCHEDULERS[chosen.scheduler][2](chosen, home)
